package saml_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

// recordingCache is a ReplayCache that records every call and answers
// with err (nil: accept).
type recordingCache struct {
	mu    sync.Mutex
	keys  []string
	until []time.Time
	err   error
}

func (c *recordingCache) Consume(_ context.Context, key string, expiresAt time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keys = append(c.keys, key)
	c.until = append(c.until, expiresAt)
	return c.err
}

func TestReplay(t *testing.T) {
	idp := newIdP(t, "idp")
	t.Run("same response twice", func(t *testing.T) {
		conn := newConn(t, baseConfig(t))
		form := golden(t, "jumpcloud-default")
		checkAlice(t, mustVerify(t, conn, form))
		e := refuse(t, conn, form, saml.CodeReplayed)
		checkMessage(t, e, goldenAssertionID)
		if !errors.Is(e, saml.CodeReplayed) {
			t.Error("the replayed error does not wrap the cache's CodeReplayed")
		}
		refuse(t, conn, form, saml.CodeReplayed) // and again
	})
	t.Run("same assertion in another response", func(t *testing.T) {
		// Response-level parts are not signed when only the Assertion
		// is: an attacker rewraps the assertion with a new Response ID.
		conn := newConn(t, baseConfig(t))
		r := standard()
		r.AssertionID = uniqueID()
		mustVerify(t, conn, mint(t, idp, r))
		r.ResponseID = "RESPONSE2" + uniqueID()[9:]
		refuse(t, conn, mint(t, idp, r), saml.CodeReplayed)
	})
	t.Run("response-signed and both-signed", func(t *testing.T) {
		for _, sign := range []samltest.Sign{samltest.SignResponse, samltest.SignBoth} {
			conn := newConn(t, baseConfig(t))
			r := standard()
			r.Sign = sign
			form := mint(t, idp, r)
			mustVerify(t, conn, form)
			refuse(t, conn, form, saml.CodeReplayed)
		}
	})
	t.Run("distinct assertions are all accepted", func(t *testing.T) {
		conn := newConn(t, baseConfig(t))
		for range 5 {
			mustVerify(t, conn, mint(t, idp, standard()))
		}
	})
	t.Run("each connection has its own default cache", func(t *testing.T) {
		form := mint(t, idp, standard())
		mustVerify(t, newConn(t, baseConfig(t)), form)
		mustVerify(t, newConn(t, baseConfig(t)), form)
	})
	t.Run("a shared cache refuses the replay at another replica", func(t *testing.T) {
		shared := saml.NewMemoryReplayCache(0, fixedClock(verifyAt))
		cfg := baseConfig(t)
		cfg.ReplayCache = shared
		form := mint(t, idp, standard())
		mustVerify(t, newConn(t, cfg), form)
		refuse(t, newConn(t, cfg), form, saml.CodeReplayed)
	})
	t.Run("concurrent replays: exactly one wins", func(t *testing.T) {
		conn := newConn(t, baseConfig(t))
		form := mint(t, idp, standard())
		var ok, replayed atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := verify(conn, form)
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, saml.CodeReplayed):
					replayed.Add(1)
				default:
					t.Errorf("unexpected error %v", err)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 || replayed.Load() != 15 {
			t.Errorf("%d accepted, %d replayed; want 1 and 15", ok.Load(), replayed.Load())
		}
	})
}

// TestRefusedResponseDoesNotConsume: the cache is consulted last, so a
// response refused for any other reason can still be used once it would
// be accepted.
func TestRefusedResponseDoesNotConsume(t *testing.T) {
	idp := newIdP(t, "idp")
	cache := saml.NewMemoryReplayCache(0, fixedClock(verifyAt))

	gated := baseConfig(t)
	gated.ReplayCache = cache
	gated.Groups = groups.Config{AllowedGroups: []string{"Finance"}}
	open := baseConfig(t)
	open.ReplayCache = cache

	form := mint(t, idp, standard())
	refuse(t, newConn(t, gated), form, saml.CodeGroupNotAllowed)
	if cache.Len() != 0 {
		t.Fatalf("a refused response left %d cache entries", cache.Len())
	}
	mustVerify(t, newConn(t, open), form)
	if cache.Len() != 1 {
		t.Fatalf("cache has %d entries after one login, want 1", cache.Len())
	}
	refuse(t, newConn(t, open), form, saml.CodeReplayed)

	// Refused for its InResponseTo, then accepted with the request ID.
	conn := newConn(t, open)
	r := standard()
	r.InResponseTo = "id-REQUEST-0042"
	form = mint(t, idp, r)
	refuse(t, conn, form, saml.CodeInResponseToMismatch)
	mustVerify(t, conn, form, saml.WithRequestIDs("id-REQUEST-0042"))

	// Refused as not yet valid, accepted when the clock catches up.
	clock := &mutableClock{t: pinned.Add(-10 * time.Minute)}
	cfg := baseConfig(t)
	cfg.Now = clock.now
	conn = newConn(t, cfg)
	form = mint(t, idp, standard())
	refuse(t, conn, form, saml.CodeNotYetValid)
	clock.set(pinned)
	mustVerify(t, conn, form)
	refuse(t, conn, form, saml.CodeReplayed)
}

func TestReplayCacheKeyAndExpiry(t *testing.T) {
	idp := newIdP(t, "idp")
	cache := &recordingCache{}
	cfg := baseConfig(t)
	cfg.ReplayCache = cache
	conn := newConn(t, cfg)
	mustVerify(t, conn, golden(t, "jumpcloud-default"))
	if len(cache.keys) != 1 {
		t.Fatalf("%d Consume calls, want 1", len(cache.keys))
	}
	if want := fmt.Sprintf("samlgate:assertion:%d:%s:%s", len(idpEntityID), idpEntityID, goldenAssertionID); cache.keys[0] != want {
		t.Errorf("key %q, want %q", cache.keys[0], want)
	}
	// The entry must outlive the last instant the assertion is accepted:
	// IssueInstant + MaxIssueDelay + ClockSkew.
	if want := pinned.Add(DefaultEdge); !cache.until[0].Equal(want) {
		t.Errorf("expiresAt %v, want %v", cache.until[0], want)
	}
	// A refused response never reaches the cache.
	refuse(t, conn, golden(t, "unsigned"), saml.CodeSignatureMissing)
	refuse(t, conn, golden(t, "email-verified-false"), saml.CodeEmailNotVerified)
	if len(cache.keys) != 1 {
		t.Errorf("%d Consume calls after refusals, want 1", len(cache.keys))
	}
	// With a short NotOnOrAfter the entry expires with it (plus skew).
	r := standard()
	r.NotOnOrAfter = pinned.Add(time.Minute)
	mustVerify(t, conn, mint(t, idp, r))
	if want := pinned.Add(time.Minute + 3*time.Minute); !cache.until[1].Equal(want) {
		t.Errorf("expiresAt %v, want %v", cache.until[1], want)
	}
	// The Response's IssueInstant narrows the window Verify accepts, not
	// the entry: around an assertion signed alone, the sender may set it
	// earlier, and must not get the entry dropped before the assertion
	// (wrapped anew, with a later one) stops being accepted.
	r = standard()
	r.Mutate = func(doc *etree.Document) { doc.Root().CreateAttr("IssueInstant", "2026-01-15T09:59:30.000Z") }
	mustVerify(t, conn, mint(t, idp, r))
	if want := pinned.Add(DefaultEdge); !cache.until[2].Equal(want) {
		t.Errorf("expiresAt %v, want %v (the assertion's own end)", cache.until[2], want)
	}
}

func TestReplayCacheUnavailable(t *testing.T) {
	down := errors.New("redis: connection refused")
	tests := []struct {
		name   string
		cache  saml.ReplayCache
		want   saml.Code
		cause  error
		detail string
	}{
		{name: "store down", cache: &recordingCache{err: down}, want: saml.CodeUnavailable, cause: down},
		{name: "context deadline", cache: &recordingCache{err: context.DeadlineExceeded}, want: saml.CodeUnavailable, cause: context.DeadlineExceeded},
		{name: "wrapped replay detection", cache: &recordingCache{err: fmt.Errorf("redis SETNX: %w", saml.CodeReplayed)}, want: saml.CodeReplayed, cause: saml.CodeReplayed},
		{name: "memory cache full", cache: fullCache(t), want: saml.CodeUnavailable, detail: "replay cache is full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(t)
			cfg.ReplayCache = tt.cache
			e := refuse(t, newConn(t, cfg), golden(t, "jumpcloud-default"), tt.want)
			if tt.cause != nil && !errors.Is(e, tt.cause) {
				t.Errorf("the error does not wrap its cause %v", tt.cause)
			}
			if !strings.Contains(e.Detail(), tt.detail) {
				t.Errorf("Detail() = %q, want it to say %q", e.Detail(), tt.detail)
			}
		})
	}
}

// fullCache returns a MemoryReplayCache of size 1 that holds an entry.
func fullCache(t *testing.T) *saml.MemoryReplayCache {
	c := saml.NewMemoryReplayCache(1, fixedClock(verifyAt))
	if err := c.Consume(context.Background(), "other", verifyAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMemoryReplayCache(t *testing.T) {
	ctx := context.Background()
	clock := &mutableClock{t: pinned}
	c := saml.NewMemoryReplayCache(2, clock.now)
	if err := c.Consume(ctx, "a", pinned.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := c.Consume(ctx, "a", pinned.Add(time.Hour)); !errors.Is(err, saml.CodeReplayed) {
		t.Fatalf("second Consume of a: %v", err)
	}
	if err := c.Consume(ctx, "b", pinned.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := c.Consume(ctx, "c", pinned.Add(time.Hour)); !errors.Is(err, saml.CodeUnavailable) || !strings.Contains(err.Error(), "full") {
		t.Fatalf("Consume over the limit: %v", err)
	}
	// One millisecond before a expires it is still held; at its expiry it
	// is gone and its room is free.
	clock.set(pinned.Add(time.Minute - time.Millisecond))
	if err := c.Consume(ctx, "a", pinned.Add(time.Hour)); !errors.Is(err, saml.CodeReplayed) {
		t.Fatalf("a before expiry: %v", err)
	}
	clock.set(pinned.Add(time.Minute))
	if err := c.Consume(ctx, "c", pinned.Add(time.Hour)); err != nil {
		t.Fatalf("c after a expired: %v", err)
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d, want 2", c.Len())
	}
	clock.set(pinned.Add(2 * time.Hour))
	if err := c.Consume(ctx, "a", pinned.Add(3*time.Hour)); err != nil {
		t.Fatalf("a after everything expired: %v", err)
	}
	if c.Len() != 1 {
		t.Errorf("Len = %d, want 1", c.Len())
	}
	// Defaults.
	d := saml.NewMemoryReplayCache(0, nil)
	for i := range 3 {
		if err := d.Consume(ctx, fmt.Sprint(i), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
}
