// Package storetest is the conformance suite for the stores a gateway
// shares between requests and replicas: saml.ReplayCache and
// gateway.SessionStore. Every implementation (memory, Redis, your own)
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
// saml.CodeUnavailable, never as an accepted login or a lost session.
// Each factory call must return an empty store.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	})
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
	if err := s.Save(ctx, "past", []byte("x"), time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
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
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
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
		for range racers {
			wg.Go(func() {
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
