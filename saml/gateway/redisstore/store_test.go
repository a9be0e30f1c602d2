package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/gateway/redisstore"
	"github.com/samlgate/samlgate/saml/gateway/storetest"
)

// breakable lets the conformance suite fail Redis for real: it pauses the
// server (SIGSTOP), so calls time out on open connections.
type breakable struct {
	*redisstore.Store
	srv *redisServer
}

func (b breakable) Break()  { b.srv.Pause() }
func (b breakable) Repair() { b.srv.Resume() }

func TestConformance(t *testing.T) {
	srv := startRedis(t)
	storetest.RunSessionStore(t, func(t *testing.T) gateway.SessionStore {
		return breakable{newStore(t, srv, redisstore.Options{}), srv}
	})
	storetest.RunReplayCache(t, func(t *testing.T) saml.ReplayCache {
		return breakable{newStore(t, srv, redisstore.Options{}), srv}
	})
	storetest.RunLoginStateStore(t, func(t *testing.T) gateway.LoginStateStore {
		return newStore(t, srv, redisstore.Options{})
	})
}

// TestGarbledValues: whatever sits under a session or login-state key that
// the store did not write (another program's string, a hash, a truncated
// value) is no session, never an error or a panic; Save replaces it.
func TestGarbledValues(t *testing.T) {
	srv := startRedis(t)
	s := newStore(t, srv, redisstore.Options{Prefix: "g:"})
	ctx := context.Background()
	rc := s.Client()
	real := []byte("\x01\x00sealed")
	for _, tc := range []struct {
		name string
		put  func(key string) error
	}{
		{"foreign string", func(k string) error { return rc.Set(ctx, k, "hello", 0).Err() }},
		{"empty", func(k string) error { return rc.Set(ctx, k, "", 0).Err() }},
		{"version only", func(k string) error { return rc.Set(ctx, k, "\x01", 0).Err() }},
		{"user length past the end", func(k string) error { return rc.Set(ctx, k, "\x01\x7fab", 0).Err() }},
		{"huge varint", func(k string) error { return rc.Set(ctx, k, "\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01x", 0).Err() }},
		{"no sealed bytes", func(k string) error { return rc.Set(ctx, k, "\x01\x02ab", 0).Err() }},
		{"hash", func(k string) error { return rc.HSet(ctx, k, "f", "v").Err() }},
		{"list", func(k string) error { return rc.RPush(ctx, k, "a", "b").Err() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.put("g:sess:victim"); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Load(ctx, "victim"); got != nil || err != nil {
				t.Errorf("Load = %q, %v; want nil, nil", got, err)
			}
			if err := s.Delete(ctx, "victim"); err != nil {
				t.Errorf("Delete: %v", err)
			}
			if err := tc.put("g:sess:victim"); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveUser(ctx, "victim", "u", real, time.Now().Add(time.Hour), 3); err != nil {
				t.Fatalf("SaveUser over it: %v", err)
			}
			if got, err := s.Load(ctx, "victim"); err != nil || string(got) != string(real) {
				t.Errorf("Load after SaveUser = %q, %v", got, err)
			}
			_ = rc.Del(ctx, "g:sess:victim", "g:login:h").Err()
			if err := tc.put("g:login:h"); err != nil {
				t.Fatal(err)
			}
			// The gateway cannot open foreign bytes: the login is unknown.
			if _, err := s.TakeLoginState(ctx, "h"); err != nil {
				t.Errorf("TakeLoginState of a foreign value: %v; want no error", err)
			}
		})
	}
}

// TestKeysAndTTLs: the documented keyspace, under the prefix, with TTLs
// computed from Options.Now (a pinned clock far from Redis's own works).
func TestKeysAndTTLs(t *testing.T) {
	srv := startRedis(t)
	pinned := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	s := newStore(t, srv, redisstore.Options{Prefix: "app1:", Now: func() time.Time { return pinned }})
	ctx := context.Background()
	rc := s.Client()
	if err := s.Consume(ctx, "samlgate:assertion:5:urn:x:id-1", pinned.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveUser(ctx, "sid", "user", []byte("x"), pinned.Add(time.Hour), 3); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveLoginState(ctx, "h", []byte("x"), pinned.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key      string
		min, max time.Duration
	}{
		{"app1:replay:samlgate:assertion:5:urn:x:id-1", 4*time.Minute + 50*time.Second, 5 * time.Minute},
		{"app1:sess:sid", 59 * time.Minute, time.Hour},
		{"app1:user:user", 59 * time.Minute, time.Hour},
		{"app1:login:h", 9 * time.Minute, 10 * time.Minute},
	} {
		d, err := rc.PTTL(ctx, tc.key).Result()
		if err != nil || d < tc.min || d > tc.max {
			t.Errorf("PTTL %s = %v, %v; want within [%v, %v]", tc.key, d, err, tc.min, tc.max)
		}
	}
	keys, err := rc.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "app1:") {
			t.Errorf("key %q outside the prefix", k)
		}
	}
	// The user index lives as long as its longest session.
	if err := s.SaveUser(ctx, "sid2", "user", []byte("x"), pinned.Add(3*time.Hour), 3); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveUser(ctx, "sid3", "user", []byte("x"), pinned.Add(time.Minute), 3); err != nil {
		t.Fatal(err)
	}
	if d, _ := rc.PTTL(ctx, "app1:user:user").Result(); d < 2*time.Hour+59*time.Minute {
		t.Errorf("user index PTTL %v after a shorter session; want the longest session's 3h", d)
	}
}

// TestShortTTLsExpire: sessions, login state and replay markers really
// leave Redis at their expiry, on the wall clock.
func TestShortTTLsExpire(t *testing.T) {
	srv := startRedis(t)
	s := newStore(t, srv, redisstore.Options{})
	ctx := context.Background()
	exp := time.Now().Add(300 * time.Millisecond)
	if err := s.SaveUser(ctx, "sid", "user", []byte("x"), exp, 3); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveLoginState(ctx, "h", []byte("x"), exp); err != nil {
		t.Fatal(err)
	}
	if err := s.Consume(ctx, "k", exp); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(exp) + 150*time.Millisecond)
	n, err := s.Client().DBSize(ctx).Result()
	if err != nil || n != 0 {
		keys, _ := s.Client().Keys(ctx, "*").Result()
		t.Errorf("after expiry Redis holds %d keys (%v), %v; want none", n, keys, err)
	}
	if err := s.Consume(ctx, "k", time.Now().Add(time.Minute)); err != nil {
		t.Errorf("Consume after the marker expired: %v", err)
	}
}

// TestFailuresReported: a paused or dead Redis fails each call within the
// store's Timeout, with an error (never "not found" or "replayed"), and
// OnError sees each failure with its operation; a caller that gives up is
// not counted.
func TestFailuresReported(t *testing.T) {
	srv := startRedis(t)
	var mu sync.Mutex
	ops := map[string]int{}
	s := newStore(t, srv, redisstore.Options{Timeout: 300 * time.Millisecond, OnError: func(op string, err error) {
		mu.Lock()
		ops[op]++
		mu.Unlock()
	}})
	ctx := context.Background()
	calls := []struct {
		op   string
		call func() error
	}{
		{redisstore.OpSave, func() error { return s.SaveUser(ctx, "sid", "u", []byte("x"), time.Now().Add(time.Hour), 3) }},
		{redisstore.OpLoad, func() error { _, err := s.Load(ctx, "sid"); return err }},
		{redisstore.OpDelete, func() error { return s.Delete(ctx, "sid") }},
		{redisstore.OpDeleteUser, func() error { return s.DeleteUser(ctx, "u") }},
		{redisstore.OpReplay, func() error { return s.Consume(ctx, "k", time.Now().Add(time.Hour)) }},
		{redisstore.OpLoginStateSave, func() error { return s.SaveLoginState(ctx, "h", []byte("x"), time.Now().Add(time.Hour)) }},
		{redisstore.OpLoginStateTake, func() error { _, err := s.TakeLoginState(ctx, "h"); return err }},
		{redisstore.OpPing, func() error { return s.Ping(ctx) }},
	}
	for _, fault := range []struct {
		name         string
		break_, heal func()
	}{
		{"paused", srv.Pause, srv.Resume},
		{"killed", srv.Kill, srv.Restart},
	} {
		t.Run(fault.name, func(t *testing.T) {
			mu.Lock()
			clear(ops)
			mu.Unlock()
			fault.break_()
			for _, c := range calls {
				start := time.Now()
				err := c.call()
				if err == nil || errors.Is(err, saml.CodeReplayed) || errors.Is(err, redis.Nil) {
					t.Errorf("%s with Redis %s: %v; want a failure", c.op, fault.name, err)
				}
				// Generous: the point is "bounded", not a latency figure.
				if d := time.Since(start); d > 3*time.Second {
					t.Errorf("%s took %v with Redis %s; want about the 300ms Timeout", c.op, d, fault.name)
				}
			}
			mu.Lock()
			for _, c := range calls {
				if ops[c.op] == 0 {
					t.Errorf("OnError did not see %s", c.op)
				}
			}
			mu.Unlock()
			fault.heal()
			for _, c := range calls {
				if err := c.call(); err != nil && !errors.Is(err, saml.CodeReplayed) {
					t.Errorf("%s after Redis is back: %v", c.op, err)
				}
			}
		})
	}
	mu.Lock()
	clear(ops)
	mu.Unlock()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Load(cctx, "sid"); err == nil {
		t.Error("Load with a cancelled context succeeded")
	}
	mu.Lock()
	if len(ops) != 0 {
		t.Errorf("a caller's cancelled context was reported as a Redis failure: %v", ops)
	}
	mu.Unlock()
}

func TestReplayReplicas(t *testing.T) {
	srv := startRedis(t)
	// A server without replicas never acknowledges: every login refused
	// as a failure (fail closed), never accepted.
	s := newStore(t, srv, redisstore.Options{ReplayReplicas: 1, ReplayWaitTimeout: 50 * time.Millisecond})
	err := s.Consume(context.Background(), "k", time.Now().Add(time.Minute))
	if err == nil || errors.Is(err, saml.CodeReplayed) || !strings.Contains(err.Error(), "0 of 1 replicas") {
		t.Errorf("Consume with no replica to acknowledge: %v; want a failure", err)
	}
	if err := s.Consume(context.Background(), "k", time.Now().Add(time.Minute)); !errors.Is(err, saml.CodeReplayed) {
		t.Errorf("the marker was still written: second Consume = %v; want replayed", err)
	}
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{srv.addr()}})
	defer cluster.Close()
	if _, err := redisstore.NewFromClient(cluster, redisstore.Options{ReplayReplicas: 1}); err == nil {
		t.Error("ReplayReplicas with a Cluster client accepted")
	}
}

func TestNewURL(t *testing.T) {
	for _, tc := range []struct {
		url, want string // want: the client type, or an error substring
	}{
		{"redis://127.0.0.1:6379/0", "*redis.Client"},
		{"rediss://user:pw@cache.example.com:6380", "*redis.Client"},
		{"redis://s1:26379?master_name=mymaster&addr=s2:26379", "*redis.Client"},
		{"redis://h1:7000?addr=h2:7000&addr=h3:7000", "*redis.ClusterClient"},
		{"redis://cfg.example.com:6379?cluster=true", "*redis.ClusterClient"},
		{"http://127.0.0.1:6379", "scheme"},
		{"redis://:s3cret@host:6379/notanumber", "database"},
		{"redis://:s3cret@host:6379?bogus=1", "bogus"},
		{"redis://:s3cret@host:bad port", "does not parse"},
		{"redis:///0", "no host"},
	} {
		s, err := redisstore.New(tc.url, redisstore.Options{})
		if err != nil {
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("New(%q): %v; want an error about %q without the password", tc.url, err, tc.want)
			}
			continue
		}
		if got := typeName(s.Client()); got != tc.want {
			t.Errorf("New(%q): %s; want %s", tc.url, got, tc.want)
		}
		_ = s.Close()
	}
}

func typeName(c redis.UniversalClient) string {
	switch c.(type) {
	case *redis.Client:
		return "*redis.Client"
	case *redis.ClusterClient:
		return "*redis.ClusterClient"
	}
	return "other"
}
