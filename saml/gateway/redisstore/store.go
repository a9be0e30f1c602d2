package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of Options.
const (
	// DefaultPrefix starts every key the store writes.
	DefaultPrefix = "samlgate:"
	// DefaultTimeout bounds each call to Redis (a session load, a replay
	// check): in one data centre Redis answers in about a millisecond, so a
	// call that takes longer is a Redis that is down, paused or
	// overloaded (or a gateway starved of CPU), and the request gets 503
	// instead of hanging.
	DefaultTimeout = 500 * time.Millisecond
	// DefaultIdleTimeout is how long New's client keeps an idle
	// connection: below any server-side `timeout` you are likely to set,
	// so that the client never reuses a connection the server has closed
	// (oauth2-proxy#1690). A URL parameter conn_max_idle_time (or
	// idle_timeout) overrides it.
	DefaultIdleTimeout = time.Minute
	// DefaultReplayWaitTimeout is Options.ReplayWaitTimeout's default.
	DefaultReplayWaitTimeout = 100 * time.Millisecond
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// Prefix starts every key, so that several applications (or gateways
	// with different session keys) can share one Redis; default
	// DefaultPrefix. Replicas of one gateway must use the same prefix.
	Prefix string
	// Timeout bounds each call; default DefaultTimeout. New also uses it
	// as the client's dial, read and write timeout unless the URL sets
	// them.
	Timeout time.Duration
	// Now is the clock TTLs are computed from: expiries come from the
	// gateway and from assertions, judged by their clock, and Redis is
	// given the remaining time (PX), so Redis's own clock does not matter.
	// nil means time.Now; give it the clock of Config.Now and
	// ConnectionConfig.Now when you set those.
	Now func() time.Time
	// ReplayReplicas, when above zero, makes Consume wait (WAIT
	// ReplayReplicas ReplayWaitTimeout) until that many replicas have the
	// replay marker, and refuse the login (unavailable) when fewer
	// acknowledge: a failover then cannot lose a marker the primary had
	// acknowledged alone. It costs a replication round trip per login.
	// Not for Redis Cluster clients (WAIT must reach the primary that took
	// the write): NewFromClient refuses the combination.
	ReplayReplicas int
	// ReplayWaitTimeout bounds that wait; default
	// DefaultReplayWaitTimeout. It must be below Timeout.
	ReplayWaitTimeout time.Duration
	// OnError, if set, is called with each Redis failure: the operation
	// (OpSave, OpLoad, ...) and the error. Not for "not found", a
	// replayed assertion, or a caller that gave up (its context
	// cancelled); a call that ran out of Timeout is a failure. For
	// metrics: it must not block.
	OnError func(op string, err error)
}

// Operations reported to Options.OnError.
const (
	OpSave           = "session_save"
	OpLoad           = "session_load"
	OpDelete         = "session_delete"
	OpDeleteUser     = "session_delete_user"
	OpReplay         = "replay"
	OpLoginStateSave = "login_state_save"
	OpLoginStateTake = "login_state_take"
	OpPing           = "ping"
)

// Store is a gateway.SessionStore and gateway.UserSessionStore, a
// saml.ReplayCache and a gateway.LoginStateStore in Redis. It is safe for
// concurrent use.
type Store struct {
	c      redis.UniversalClient
	own    bool // New made the client: Close closes it
	prefix string
	opts   Options
	now    func() time.Time
}

// NewFromClient returns a Store using c, which stays the caller's to
// close. Set c's options as New does: ContextTimeoutEnabled (or the
// per-call Timeout cannot interrupt a read on a stalled connection, which
// then waits out ReadTimeout), and ConnMaxIdleTime below the server's
// `timeout`.
func NewFromClient(c redis.UniversalClient, opts Options) (*Store, error) {
	if c == nil {
		return nil, errors.New("redisstore: nil client")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Timeout < 0 || opts.ReplayReplicas < 0 || opts.ReplayWaitTimeout < 0 {
		return nil, errors.New("redisstore: Timeout, ReplayReplicas and ReplayWaitTimeout must not be negative")
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.ReplayWaitTimeout == 0 {
		opts.ReplayWaitTimeout = DefaultReplayWaitTimeout
	}
	if opts.ReplayReplicas > 0 {
		if _, cluster := c.(*redis.ClusterClient); cluster {
			return nil, errors.New("redisstore: ReplayReplicas needs a single-node or Sentinel client: on Redis Cluster, WAIT cannot be sent to the primary that took the write")
		}
		if opts.ReplayWaitTimeout >= opts.Timeout {
			return nil, fmt.Errorf("redisstore: ReplayWaitTimeout %s must be below Timeout %s", opts.ReplayWaitTimeout, opts.Timeout)
		}
	}
	s := &Store{c: c, prefix: opts.Prefix, opts: opts, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Client returns the store's Redis client.
func (s *Store) Client() redis.UniversalClient { return s.c }

// Close closes the client if New made it; a client given to NewFromClient
// stays open.
func (s *Store) Close() error {
	if s.own {
		return s.c.Close()
	}
	return nil
}

// Ping checks that Redis answers within the store's Timeout, for a
// health check.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.fail(ctx, OpPing, s.c.Ping(ctx).Err())
}

// bound gives a call the store's Timeout.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.Timeout)
}

// fail reports err (nil and redis.Nil are not failures) to OnError, and
// returns it wrapped with the operation; never a key or a value.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, redis.Nil) {
		return err
	}
	if s.opts.OnError != nil && !callerGaveUp(ctx) {
		s.opts.OnError(op, err)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

// callerGaveUp reports a context cancelled by the caller (the browser went
// away), which is no failure of Redis; a deadline of the store's own
// Timeout is.
func callerGaveUp(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), context.Canceled)
}

// ttl is the time left until at, rounded up to a millisecond; 0 when at
// has passed.
func (s *Store) ttl(at time.Time) int64 {
	d := at.Sub(s.now())
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

func (s *Store) key(kind, id string) string {
	var b strings.Builder
	b.Grow(len(s.prefix) + len(kind) + 1 + len(id))
	b.WriteString(s.prefix)
	b.WriteString(kind)
	b.WriteByte(':')
	b.WriteString(id)
	return b.String()
}

// isWrongType reports a reply refusing a command on a key of another type:
// a foreign value under one of our keys, which the store treats as absent.
func isWrongType(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "WRONGTYPE")
}
