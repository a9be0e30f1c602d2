package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/samlgate/samlgate/saml"
)

const kindReplay = "replay"

// Consume implements saml.ReplayCache: SET <prefix>replay:<key> 1 NX PX
// <time left until expiresAt>, one atomic command, so that of two
// replicas receiving the same response at the same instant exactly one
// records it. saml.Verify calls it last, after every other check passed.
// A nil reply (the key exists) is saml.CodeReplayed; any failure is an
// error, which Verify reports as unavailable: a login is never accepted
// without its marker. With Options.ReplayReplicas, the marker must also
// reach that many replicas in time.
func (s *Store) Consume(ctx context.Context, key string, expiresAt time.Time) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	// The marker must outlive the assertion; one already past its expiry
	// (Verify refuses those first) still gets a millisecond, so that a
	// concurrent duplicate is caught.
	ms := max(s.ttl(expiresAt), 1)
	k := s.key(kindReplay, key)
	if s.opts.ReplayReplicas == 0 {
		err := s.c.Do(ctx, "set", k, "1", "nx", "px", ms).Err()
		if errors.Is(err, redis.Nil) {
			return saml.CodeReplayed
		}
		return s.fail(ctx, OpReplay, err)
	}
	// SET and WAIT on one connection: WAIT counts the replicas that
	// acknowledged this connection's writes.
	var set *redis.Cmd
	var wait *redis.IntCmd
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		set = p.Do(ctx, "set", k, "1", "nx", "px", ms)
		wait = redis.NewIntCmd(ctx, "wait", s.opts.ReplayReplicas, s.opts.ReplayWaitTimeout.Milliseconds())
		_ = p.Process(ctx, wait)
		return nil
	})
	if errors.Is(set.Err(), redis.Nil) {
		return saml.CodeReplayed
	}
	if err != nil {
		return s.fail(ctx, OpReplay, err)
	}
	if n := wait.Val(); n < int64(s.opts.ReplayReplicas) {
		return s.fail(ctx, OpReplay, fmt.Errorf("the replay marker reached %d of %d replicas within %s", n, s.opts.ReplayReplicas, s.opts.ReplayWaitTimeout))
	}
	return nil
}
