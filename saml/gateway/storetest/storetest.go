// Package storetest is the conformance suite for the stores a gateway
// shares between requests and replicas: saml.ReplayCache,
// gateway.SessionStore and gateway.LoginStateStore (RunLoginStateStore).
// Every implementation (memory, Redis, your own)
// runs the same suite from its tests, as oauth2-proxy's session stores
// do:
//
//	func TestMyStore(t *testing.T) {
//		storetest.RunSessionStore(t, func(t *testing.T) gateway.SessionStore { return newMyStore(t) })
//	}
//
// The suite checks what the gateway relies on: values come back byte for
// byte, expire at the time given (it sleeps briefly, on the wall clock: a
// store under test must judge expiry by time.Now), a replay key is
// consumed exactly once under concurrency, a cancelled context is an
// error (never "not found"), and such errors reach the user as
// saml.CodeUnavailable, never as an accepted login or a lost session. A
// store that implements gateway.UserSessionStore also has its user index
// checked: the per-user cap drops the oldest sessions, DeleteUser deletes
// exactly the user's sessions, and deletions leave the index exact.
// Each factory call must return an empty store. A store (or a test
// wrapper of it) that implements Breakable lets the suite fail its backend
// for real, as a Redis harness does by pausing the server; otherwise
// failures are simulated with a cancelled context only, which cannot catch
// a store that turns a backend error into "not found".
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
)

// ttl is the expiry the suite waits out: long enough for a store on
// loopback to answer well within it, short enough to keep the suite fast.
const ttl = 300 * time.Millisecond

// RunSessionStore runs the SessionStore conformance suite against the
// stores newStore returns.
func RunSessionStore(t *testing.T, newStore func(t *testing.T) gateway.SessionStore) {
	t.Run("SessionStore", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			run  func(*testing.T, gateway.SessionStore)
		}{
			{"save load delete", sessionRoundTrip},
			{"overwrite", sessionOverwrite},
			{"expiry", sessionExpiry},
			{"concurrent", sessionConcurrent},
			{"cancelled context", sessionCancelled},
			{"failure is unavailable", sessionUnavailable},
		} {
			t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
		}
		if _, ok := newStore(t).(gateway.UserSessionStore); !ok {
			return
		}
		// A store that indexes users must keep the index exact: the
		// gateway's per-user cap and RevokeUser rely on it.
		for _, tc := range []struct {
			name string
			run  func(*testing.T, gateway.UserSessionStore)
		}{
			{"user cap drops the oldest", userCap},
			{"delete user", userDelete},
			{"delete and re-save keep the index exact", userIndexExact},
			{"user cancelled context", userCancelled},
		} {
			t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t).(gateway.UserSessionStore)) })
		}
	})
}

// loaded reports which of ids load from s.
func loaded(t *testing.T, s gateway.SessionStore, ids ...string) []bool {
	t.Helper()
	out := make([]bool, len(ids))
	for i, id := range ids {
		got, err := s.Load(context.Background(), id)
		if err != nil {
			t.Fatalf("Load(%s): %v", id, err)
		}
		out[i] = got != nil
	}
	return out
}

func userCap(t *testing.T, s gateway.UserSessionStore) {
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	for i := range 5 {
		if err := s.SaveUser(ctx, fmt.Sprint("u1-", i), "user-1", []byte("x"), exp, 3); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveUser(ctx, "u2-0", "user-2", []byte("x"), exp, 3); err != nil {
		t.Fatal(err)
	}
	got := loaded(t, s, "u1-0", "u1-1", "u1-2", "u1-3", "u1-4", "u2-0")
	if want := []bool{false, false, true, true, true, true}; !slices.Equal(got, want) {
		t.Errorf("after 5 saves of user-1 with max 3 (and one of user-2): loaded %v, want %v (the oldest dropped, other users untouched)", got, want)
	}
	// Saving an ID again makes it the newest, without counting twice.
	if err := s.SaveUser(ctx, "u1-2", "user-1", []byte("y"), exp, 3); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveUser(ctx, "u1-5", "user-1", []byte("x"), exp, 3); err != nil {
		t.Fatal(err)
	}
	if got, want := loaded(t, s, "u1-2", "u1-3", "u1-4", "u1-5"), []bool{true, false, true, true}; !slices.Equal(got, want) {
		t.Errorf("after re-saving u1-2 and saving u1-5: loaded %v, want %v", got, want)
	}
}

func userDelete(t *testing.T, s gateway.UserSessionStore) {
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	for _, sv := range []struct{ id, user string }{{"a1", "alice"}, {"a2", "alice"}, {"b1", "bob"}} {
		if err := s.SaveUser(ctx, sv.id, sv.user, []byte("x"), exp, 10); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Save(ctx, "plain", []byte("x"), exp); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if got, want := loaded(t, s, "a1", "a2", "b1", "plain"), []bool{false, false, true, true}; !slices.Equal(got, want) {
		t.Errorf("after DeleteUser(alice): loaded %v, want %v", got, want)
	}
	if err := s.DeleteUser(ctx, "nobody"); err != nil {
		t.Errorf("DeleteUser of a user without sessions: %v", err)
	}
}

func userIndexExact(t *testing.T, s gateway.UserSessionStore) {
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	// Deleted sessions no longer count against the user's cap.
	for i := range 3 {
		if err := s.SaveUser(ctx, fmt.Sprint("d", i), "user", []byte("x"), exp, 3); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "d0"); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveUser(ctx, "d3", "user", []byte("x"), exp, 3); err != nil {
		t.Fatal(err)
	}
	if got, want := loaded(t, s, "d1", "d2", "d3"), []bool{true, true, true}; !slices.Equal(got, want) {
		t.Errorf("a deleted session still counted against the cap: loaded %v, want %v", got, want)
	}
	// An ID saved again for another user leaves the first user's index.
	if err := s.SaveUser(ctx, "d1", "other", []byte("x"), exp, 3); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "user"); err != nil {
		t.Fatal(err)
	}
	if got, want := loaded(t, s, "d1", "d2", "d3"), []bool{true, false, false}; !slices.Equal(got, want) {
		t.Errorf("DeleteUser deleted a session saved since for another user: loaded %v, want %v", got, want)
	}
}

func userCancelled(t *testing.T, s gateway.UserSessionStore) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.SaveUser(ctx, "sid", "user", []byte("x"), time.Now().Add(time.Hour), 3); err == nil {
		t.Error("SaveUser with a cancelled context succeeded")
	}
	if err := s.DeleteUser(ctx, "user"); err == nil {
		t.Error("DeleteUser with a cancelled context succeeded")
	}
}

// RunReplayCache runs the ReplayCache conformance suite against the caches
// newCache returns.
func RunReplayCache(t *testing.T, newCache func(t *testing.T) saml.ReplayCache) {
	t.Run("ReplayCache", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			run  func(*testing.T, saml.ReplayCache)
		}{
			{"once", replayOnce},
			{"expiry", replayExpiry},
			{"concurrent one-time use", replayConcurrent},
			{"cancelled context", replayCancelled},
			{"failure is unavailable", replayUnavailable},
		} {
			t.Run(tc.name, func(t *testing.T) { tc.run(t, newCache(t)) })
		}
	})
}

func sessionRoundTrip(t *testing.T, s gateway.SessionStore) {
	ctx := context.Background()
	value := make([]byte, 256)
	for i := range value {
		value[i] = byte(i) // every byte value, NUL included
	}
	in := bytes.Clone(value)
	if err := s.Save(ctx, "sid-1", in, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("Save: %v", err)
	}
	in[0] = 0xff // the store keeps its own copy
	got, err := s.Load(ctx, "sid-1")
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("Load = %x, %v; want the saved bytes", got, err)
	}
	got[0] ^= 0xff // and Load hands out a copy
	if again, err := s.Load(ctx, "sid-1"); err != nil || !bytes.Equal(again, value) {
		t.Fatalf("Load after changing what Load returned = %x, %v; want the saved bytes", again, err)
	}
	if got, err := s.Load(ctx, "sid-absent"); got != nil || err != nil {
		t.Errorf("Load of an absent ID = %x, %v; want nil, nil", got, err)
	}
	if err := s.Delete(ctx, "sid-1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got, err := s.Load(ctx, "sid-1"); got != nil || err != nil {
		t.Errorf("Load after Delete = %x, %v; want nil, nil", got, err)
	}
	if err := s.Delete(ctx, "sid-absent"); err != nil {
		t.Errorf("Delete of an absent ID: %v", err)
	}
}

func sessionOverwrite(t *testing.T, s gateway.SessionStore) {
	ctx := context.Background()
	for _, v := range []string{"first", "second"} {
		if err := s.Save(ctx, "sid", []byte(v), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Load(ctx, "sid"); err != nil || string(got) != "second" {
		t.Errorf("Load = %q, %v; want the last value saved", got, err)
	}
}

func sessionExpiry(t *testing.T, s gateway.SessionStore) {
	ctx := context.Background()
	// A store may refuse an expiry in the past (Redis refuses PX <= 0) or
	// accept it; either way it must not load.
	_ = s.Save(ctx, "past", []byte("x"), time.Now().Add(-time.Second))
	if got, err := s.Load(ctx, "past"); got != nil || err != nil {
		t.Errorf("a session saved already expired loads: %q, %v", got, err)
	}
	exp := time.Now().Add(ttl)
	if err := s.Save(ctx, "short", []byte("x"), exp); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx, "short"); err != nil || string(got) != "x" {
		t.Fatalf("Load before expiry = %q, %v", got, err)
	}
	time.Sleep(time.Until(exp) + 100*time.Millisecond)
	if got, err := s.Load(ctx, "short"); got != nil || err != nil {
		t.Errorf("Load after expiry = %q, %v; want nil, nil", got, err)
	}
}

func sessionConcurrent(t *testing.T, s gateway.SessionStore) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 32 {
		wg.Go(func() {
			sid := fmt.Sprintf("sid-%d", i)
			want := []byte(sid)
			if err := s.Save(ctx, sid, want, time.Now().Add(time.Hour)); err != nil {
				errs <- err
				return
			}
			got, err := s.Load(ctx, sid)
			if err != nil || !bytes.Equal(got, want) {
				errs <- fmt.Errorf("%s: Load = %q, %v", sid, got, err)
				return
			}
			if err := s.Delete(ctx, sid); err != nil {
				errs <- err
			}
		})
	}
	// Writers of one key: whichever wins, the value is one of theirs,
	// whole.
	start := make(chan struct{})
	for i := range 16 {
		wg.Go(func() {
			<-start
			v := bytes.Repeat([]byte{byte('a' + i)}, 1024)
			if err := s.Save(ctx, "shared", v, time.Now().Add(time.Hour)); err != nil {
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.Load(ctx, "shared")
	if err != nil || len(got) != 1024 || !bytes.Equal(got, bytes.Repeat(got[:1], 1024)) {
		t.Errorf("one key saved by 16 writers at once: Load = %d bytes, %v; want one writer's value, whole", len(got), err)
	}
}

func sessionCancelled(t *testing.T, s gateway.SessionStore) {
	if err := s.Save(context.Background(), "sid", []byte("x"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := s.Load(ctx, "sid"); err == nil {
		t.Errorf("Load with a cancelled context = %q, nil; want an error (a store that cannot answer must not say \"no session\")", got)
	}
	if err := s.Save(ctx, "sid2", []byte("x"), time.Now().Add(time.Hour)); err == nil {
		t.Error("Save with a cancelled context succeeded")
	}
	if err := s.Delete(ctx, "sid"); err == nil {
		t.Error("Delete with a cancelled context succeeded")
	}
}

func replayOnce(t *testing.T, c saml.ReplayCache) {
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	if err := c.Consume(ctx, "k1", exp); err != nil {
		t.Fatalf("first Consume: %v", err)
	}
	if err := c.Consume(ctx, "k1", exp); !errors.Is(err, saml.CodeReplayed) {
		t.Errorf("second Consume = %v; want an error matching saml.CodeReplayed", err)
	}
	if err := c.Consume(ctx, "k2", exp); err != nil {
		t.Errorf("another key: %v", err)
	}
}

func replayExpiry(t *testing.T, c saml.ReplayCache) {
	ctx := context.Background()
	exp := time.Now().Add(ttl)
	if err := c.Consume(ctx, "k", exp); err != nil {
		t.Fatal(err)
	}
	if err := c.Consume(ctx, "k", exp); !errors.Is(err, saml.CodeReplayed) {
		t.Fatalf("before expiry: %v", err)
	}
	time.Sleep(time.Until(exp) + 100*time.Millisecond)
	// Past its expiry the assertion is refused by its own time bounds, so
	// the cache may forget it.
	if err := c.Consume(ctx, "k", time.Now().Add(time.Hour)); err != nil {
		t.Errorf("after expiry: %v; want the key forgotten", err)
	}
}

func replayConcurrent(t *testing.T, c saml.ReplayCache) {
	ctx := context.Background()
	const rounds, racers = 20, 16
	for round := range rounds {
		key := fmt.Sprintf("race-%d", round)
		var wg sync.WaitGroup
		var mu sync.Mutex
		accepted := 0
		start := make(chan struct{}) // every racer waits, then all go at once
		for range racers {
			wg.Go(func() {
				<-start
				err := c.Consume(ctx, key, time.Now().Add(time.Hour))
				switch {
				case err == nil:
					mu.Lock()
					accepted++
					mu.Unlock()
				case !errors.Is(err, saml.CodeReplayed):
					t.Errorf("Consume: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if accepted != 1 {
			t.Fatalf("round %d: %d of %d concurrent Consumes of one key succeeded; want exactly 1", round, accepted, racers)
		}
	}
}

func replayCancelled(t *testing.T, c saml.ReplayCache) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Consume(ctx, "k", time.Now().Add(time.Hour))
	if err == nil || errors.Is(err, saml.CodeReplayed) {
		t.Errorf("Consume with a cancelled context = %v; want a failure (not success, not replayed)", err)
	}
}
