package redisstore

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// New connects to the Redis that rawURL names and returns a Store whose
// Close closes that client. The URL picks the topology, as
// redis.NewUniversalClient would from options:
//
//	redis://[user:password@]host:6379[/db]             one server
//	rediss://...                                        the same over TLS
//	redis://h1:26379?master_name=mymaster&addr=h2:26379 Sentinel (the hosts are sentinels)
//	redis://h1:7000?addr=h2:7000&addr=h3:7000           Cluster (several hosts)
//	redis://config-endpoint:6379?cluster=true          Cluster behind one address
//
// Other query parameters are go-redis's (redis.ParseURL, ParseClusterURL,
// ParseFailoverURL: dial_timeout, pool_size, ...). Unless the URL sets
// them, the dial, read and write timeouts are Options.Timeout and idle
// connections are closed after DefaultIdleTimeout; the client always
// honours context deadlines (ContextTimeoutEnabled). New does not connect:
// call Ping to check the server at startup. Errors never contain the
// password.
func New(rawURL string, opts Options) (*Store, error) {
	c, err := newClient(rawURL, opts)
	if err != nil {
		return nil, err
	}
	s, err := NewFromClient(c, opts)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

func newClient(rawURL string, opts Options) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse quotes the whole URL, password included.
		return nil, errors.New("redisstore: the Redis URL does not parse (expected redis://[user:password@]host:port[/db])")
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("redisstore: the Redis URL scheme is %q; use redis:// or rediss://", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("redisstore: the Redis URL names no host")
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	q := u.Query()
	set := func(name string) bool { return q.Has(name) }
	idleSet := set("conn_max_idle_time") || set("idle_timeout")
	cluster := q.Get("cluster") == "true"
	q.Del("cluster")
	u.RawQuery = q.Encode()
	redact := func(err error) error {
		msg := err.Error()
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
		return errors.New("redisstore: the Redis URL: " + msg)
	}
	str := u.String()
	switch {
	case q.Has("master_name"):
		o, err := redis.ParseFailoverURL(str)
		if err != nil {
			return nil, redact(err)
		}
		o.ContextTimeoutEnabled = true
		defaults(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.ConnMaxIdleTime, timeout, idleSet, set)
		return redis.NewFailoverClient(o), nil
	case cluster || q.Has("addr"):
		o, err := redis.ParseClusterURL(str)
		if err != nil {
			return nil, redact(err)
		}
		o.ContextTimeoutEnabled = true
		defaults(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.ConnMaxIdleTime, timeout, idleSet, set)
		return redis.NewClusterClient(o), nil
	default:
		o, err := redis.ParseURL(str)
		if err != nil {
			return nil, redact(err)
		}
		o.ContextTimeoutEnabled = true
		defaults(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.ConnMaxIdleTime, timeout, idleSet, set)
		return redis.NewClient(o), nil
	}
}

// defaults sets the timeouts the URL left unset.
func defaults(dial, read, write, idle *time.Duration, timeout time.Duration, idleSet bool, set func(string) bool) {
	if !set("dial_timeout") {
		*dial = timeout
	}
	if !set("read_timeout") {
		*read = timeout
	}
	if !set("write_timeout") {
		*write = timeout
	}
	if !idleSet {
		*idle = DefaultIdleTimeout
	}
}
