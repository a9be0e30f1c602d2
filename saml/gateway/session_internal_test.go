package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestMemorySessionStoreBound(t *testing.T) {
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := NewMemorySessionStore(3, clock)
	ctx := context.Background()
	id := []byte("sealed alice")
	for i := range 3 {
		if err := s.Save(ctx, fmt.Sprint(i), id, now.Add(time.Duration(i+1)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// Full: the session closest to expiry (0) makes room.
	if err := s.Save(ctx, "3", id, now.Add(10*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 3 {
		t.Errorf("%d sessions, want 3", s.Len())
	}
	if got, _ := s.Load(ctx, "0"); got != nil {
		t.Error("the soonest-expiring session was not the one dropped")
	}
	if got, _ := s.Load(ctx, "3"); got == nil {
		t.Error("the new session was not kept")
	}
	// Deletes and re-saves leave stale heap entries; the heap stays bounded.
	for i := range 1000 {
		k := fmt.Sprint("x", i%2)
		_ = s.Save(ctx, k, id, now.Add(time.Hour))
		_ = s.Delete(ctx, k)
	}
	if len(s.byTime) > 2*3+16 {
		t.Errorf("heap grew to %d entries", len(s.byTime))
	}
}

func TestSealerPurposes(t *testing.T) {
	s, err := newSealer([][]byte{make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	v := s.seal(purposeSession, []byte("payload"))
	if _, ok := s.open(purposeRelayState, v); ok {
		t.Error("a session value opened as a RelayState")
	}
	if b, ok := s.open(purposeSession, v); !ok || string(b) != "payload" {
		t.Errorf("open: %q %v", b, ok)
	}
	if v2 := s.seal(purposeSession, []byte("payload")); v2 == v {
		t.Error("two seals of one plaintext are equal: the nonce is not random")
	}
}

func TestSafeReturnTo(t *testing.T) {
	for _, p := range []string{"/", "/a", "/a/b?c=d&e=f#frag", "/%2F%2Fevil.com", "/a//b", "/:x", "/é"} {
		if got, ok := safeReturnTo(p); !ok || got != p {
			t.Errorf("safeReturnTo(%q) = %q, %v; want it kept", p, got, ok)
		}
	}
	for _, p := range []string{
		"", "//evil.com", "///evil.com", `/\evil.com`, `/\\evil.com`, "https://evil.com", "HTTPS://evil.com",
		"javascript:alert(1)", "%2F%2Fevil.com", "\t//evil", "/\t/evil", "/\n/evil", "evil", "./x", "../x",
		"/a\\b", "/a b", "/a\x7f", "/" + strings.Repeat("a", maxReturnToLen),
	} {
		if got, ok := safeReturnTo(p); ok {
			t.Errorf("safeReturnTo(%q) = %q: an unsafe value was accepted", p, got)
		}
	}
}
