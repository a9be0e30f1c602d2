package redisstore

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Keys: <prefix>sess:<id> holds a session, <prefix>user:<user> the user
// index (a sorted set of session IDs scored by save time). A session's
// value is a version byte, the user key (uvarint length first; empty for
// Save) and the sealed bytes, so that Delete and a re-save for another
// user find the index to update without a second lookup.
const (
	kindSession = "sess"
	kindUser    = "user"
	valueV1     = 1
	// maxUserKey bounds the user key read back from a value: the gateway's
	// are 64 hex characters.
	maxUserKey = 256
)

func encodeSession(user string, sealed []byte) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(user)+len(sealed))
	b = append(b, valueV1)
	b = binary.AppendUvarint(b, uint64(len(user)))
	b = append(b, user...)
	return append(b, sealed...)
}

// decodeSession splits a stored value; ok is false for anything this
// store did not write (a garbled or foreign value), which loads as no
// session.
func decodeSession(v []byte) (user string, sealed []byte, ok bool) {
	if len(v) < 2 || v[0] != valueV1 {
		return "", nil, false
	}
	n, w := binary.Uvarint(v[1:])
	if w <= 0 || n > maxUserKey || uint64(len(v)-1-w) < n {
		return "", nil, false
	}
	rest := v[1+w:]
	sealed = rest[n:]
	if len(sealed) == 0 {
		return "", nil, false
	}
	return string(rest[:n]), sealed, true
}

// Save implements gateway.SessionStore.
func (s *Store) Save(ctx context.Context, id string, sealed []byte, expiresAt time.Time) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.fail(ctx, OpSave, s.save(ctx, id, "", sealed, expiresAt))
}

// save writes the session and, if the ID belonged to another user, takes
// it out of that user's index.
func (s *Store) save(ctx context.Context, id, user string, sealed []byte, expiresAt time.Time) error {
	if sealed == nil {
		return errors.New("saving a nil session")
	}
	key := s.key(kindSession, id)
	ms := s.ttl(expiresAt)
	if ms == 0 {
		// Already expired: nothing to keep, and nothing older may stay.
		return s.delete(ctx, id)
	}
	old, err := s.c.Do(ctx, "set", key, encodeSession(user, sealed), "px", ms, "get").Text()
	switch {
	case isWrongType(err):
		// A foreign value of another type: SET ... GET refuses it.
		if err := s.c.Del(ctx, key).Err(); err != nil {
			return err
		}
		return s.c.Do(ctx, "set", key, encodeSession(user, sealed), "px", ms).Err()
	case errors.Is(err, redis.Nil):
		return nil
	case err != nil:
		return err
	}
	if prev, _, ok := decodeSession([]byte(old)); ok && prev != "" && prev != user {
		return s.c.ZRem(ctx, s.key(kindUser, prev), id).Err()
	}
	return nil
}

// Load implements gateway.SessionStore.
func (s *Store) Load(ctx context.Context, id string) ([]byte, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	v, err := s.c.Get(ctx, s.key(kindSession, id)).Bytes()
	switch {
	case errors.Is(err, redis.Nil), isWrongType(err):
		return nil, nil
	case err != nil:
		return nil, s.fail(ctx, OpLoad, err)
	}
	_, sealed, ok := decodeSession(v)
	if !ok {
		return nil, nil
	}
	return sealed, nil
}

// Delete implements gateway.SessionStore.
func (s *Store) Delete(ctx context.Context, id string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.fail(ctx, OpDelete, s.delete(ctx, id))
}

func (s *Store) delete(ctx context.Context, id string) error {
	key := s.key(kindSession, id)
	v, err := s.c.GetDel(ctx, key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil
	case isWrongType(err):
		return s.c.Del(ctx, key).Err()
	case err != nil:
		return err
	}
	if user, _, ok := decodeSession(v); ok && user != "" {
		return s.c.ZRem(ctx, s.key(kindUser, user), id).Err()
	}
	return nil
}

// indexScript adds a session to a user's index (ARGV: ID, score, TTL of
// the session in milliseconds), makes the index live at least as long as
// that session (so that RevokeUser finds every live session), and returns
// the index, oldest first. One key: safe on Redis Cluster.
var indexScript = redis.NewScript(`
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local want = tonumber(ARGV[3])
local left = redis.call('PTTL', KEYS[1])
if left < want then redis.call('PEXPIRE', KEYS[1], want) end
return redis.call('ZRANGE', KEYS[1], 0, -1)
`)

// takeScript returns a user's index and deletes it, atomically, so that a
// session indexed after it is not lost with it.
var takeScript = redis.NewScript(`
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return ids
`)

// SaveUser implements gateway.UserSessionStore: the session, then its
// place in the user's index, then the cap: index entries whose session
// has gone (expired or deleted) are dropped, and the oldest live sessions
// beyond max are deleted. Not one transaction (the keys may live on
// different Cluster nodes): two logins of one user at the same instant
// can leave max+1 sessions until the next login.
func (s *Store) SaveUser(ctx context.Context, id, user string, sealed []byte, expiresAt time.Time, max int) error {
	if user == "" || len(user) > maxUserKey || max < 1 {
		return errors.New("redisstore: SaveUser needs a user key (at most 256 bytes) and a max of at least 1")
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.fail(ctx, OpSave, s.saveUser(ctx, id, user, sealed, expiresAt, max))
}

func (s *Store) saveUser(ctx context.Context, id, user string, sealed []byte, expiresAt time.Time, max int) error {
	if err := s.save(ctx, id, user, sealed, expiresAt); err != nil {
		return err
	}
	ms := s.ttl(expiresAt)
	if ms == 0 {
		return nil
	}
	index := s.key(kindUser, user)
	score := float64(s.now().UnixMicro())
	ids, err := indexScript.Run(ctx, s.c, []string{index}, id, score, ms).StringSlice()
	if err != nil {
		return err
	}
	if len(ids) <= max {
		return nil
	}
	live, err := s.live(ctx, ids)
	if err != nil {
		return err
	}
	// Newest first: keep max live sessions, delete the older live ones,
	// and drop every index entry whose session is gone; one round trip.
	var drop, excess []any
	keep := 0
	for i := len(ids) - 1; i >= 0; i-- {
		switch {
		case !live[i]:
			drop = append(drop, ids[i])
		case keep < max:
			keep++
		default:
			drop = append(drop, ids[i])
			excess = append(excess, s.key(kindSession, ids[i]))
		}
	}
	if len(drop) == 0 {
		return nil
	}
	_, err = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range excess {
			p.Del(ctx, k.(string))
		}
		p.ZRem(ctx, index, drop...)
		return nil
	})
	return err
}

// live reports which of ids still have a session.
func (s *Store) live(ctx context.Context, ids []string) ([]bool, error) {
	cmds := make([]*redis.IntCmd, len(ids))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.Exists(ctx, s.key(kindSession, id))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(ids))
	for i, c := range cmds {
		out[i] = c.Val() == 1
	}
	return out, nil
}

// DeleteUser implements gateway.UserSessionStore.
func (s *Store) DeleteUser(ctx context.Context, user string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.fail(ctx, OpDeleteUser, s.deleteUser(ctx, user))
}

func (s *Store) deleteUser(ctx context.Context, user string) error {
	ids, err := takeScript.Run(ctx, s.c, []string{s.key(kindUser, user)}).StringSlice()
	if err != nil || len(ids) == 0 {
		return err
	}
	_, err = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			p.Del(ctx, s.key(kindSession, id))
		}
		return nil
	})
	return err
}
