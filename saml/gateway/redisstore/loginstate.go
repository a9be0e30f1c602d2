package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

const kindLogin = "login"

// SaveLoginState implements gateway.LoginStateStore: SET with the time
// left until expiresAt (LoginRequestLifetime).
func (s *Store) SaveLoginState(ctx context.Context, handle string, sealed []byte, expiresAt time.Time) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	ms := s.ttl(expiresAt)
	if ms == 0 {
		return nil // already expired: TakeLoginState finds nothing, as it should
	}
	return s.fail(ctx, OpLoginStateSave, s.c.Set(ctx, s.key(kindLogin, handle), sealed, time.Duration(ms)*time.Millisecond).Err())
}

// TakeLoginState implements gateway.LoginStateStore with GETDEL: of two
// callbacks presenting one handle, on any replicas, one gets the state.
func (s *Store) TakeLoginState(ctx context.Context, handle string) ([]byte, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	v, err := s.c.GetDel(ctx, s.key(kindLogin, handle)).Bytes()
	switch {
	case errors.Is(err, redis.Nil), isWrongType(err):
		return nil, nil
	case err != nil:
		return nil, s.fail(ctx, OpLoginStateTake, err)
	}
	return v, nil
}
