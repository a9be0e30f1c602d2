package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMemorySessionStoreBound(t *testing.T) {
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := NewMemorySessionStore(MemorySessionLimits{MaxSessions: 3}, clock)
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

// checkInvariants verifies what the bounds rely on: bytes is the sum of
// the sizes held, every user list names live sessions of that user, and
// every session of a user is in its list once.
func (m *MemorySessionStore) checkInvariants(t *testing.T) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var sum int64
	indexed := 0
	for id, s := range m.entries {
		sum += s.size
		if s.user != "" {
			indexed++
			if n := slices.Index(m.users[s.user], id); n < 0 {
				t.Errorf("session %s of %s is not in its user's list", id, s.user)
			}
		}
	}
	if sum != m.bytes {
		t.Errorf("bytes = %d, the sessions held sum to %d", m.bytes, sum)
	}
	listed := 0
	for user, ids := range m.users {
		if len(ids) == 0 {
			t.Errorf("user %s has an empty list", user)
		}
		for _, id := range ids {
			listed++
			if s, ok := m.entries[id]; !ok || s.user != user {
				t.Errorf("user %s lists %s, which is not one of its sessions", user, id)
			}
		}
	}
	if listed != indexed {
		t.Errorf("the user lists name %d sessions, %d sessions have a user", listed, indexed)
	}
}

func TestMemorySessionStoreBytes(t *testing.T) {
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ctx := context.Background()
	big := make([]byte, 1000)
	size := int64(len("s0")+len(big)) + memoryEntryOverhead
	for _, tc := range []struct {
		name     string
		maxBytes int64
		saves    int
		want     []bool // which of s0..s(saves-1) load afterwards
	}{
		{"fits", 3 * size, 3, []bool{true, true, true}},
		// Over budget: the sessions closest to expiry (the first saved)
		// make room, however many it takes.
		{"one over", 3 * size, 4, []bool{false, true, true, true}},
		{"budget of one", size, 3, []bool{false, false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewMemorySessionStore(MemorySessionLimits{MaxBytes: tc.maxBytes}, clock)
			for i := range tc.saves {
				if err := s.Save(ctx, fmt.Sprint("s", i), big, now.Add(time.Duration(i+1)*time.Hour)); err != nil {
					t.Fatal(err)
				}
				if s.Bytes() > tc.maxBytes {
					t.Fatalf("after save %d: %d bytes held, over the budget of %d", i, s.Bytes(), tc.maxBytes)
				}
			}
			for i, want := range tc.want {
				if got, _ := s.Load(ctx, fmt.Sprint("s", i)); (got != nil) != want {
					t.Errorf("s%d loaded = %v, want %v", i, got != nil, want)
				}
			}
			s.checkInvariants(t)
		})
	}

	// A session larger than the whole budget is refused with a typed
	// error, and evicts nothing.
	s := NewMemorySessionStore(MemorySessionLimits{MaxBytes: size}, clock)
	if err := s.Save(ctx, "s0", big, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	err := s.Save(ctx, "huge", make([]byte, 2000), now.Add(time.Hour))
	if !errors.Is(err, CodeSessionTooLarge) {
		t.Errorf("a session over the whole budget: %v, want CodeSessionTooLarge", err)
	}
	if got, _ := s.Load(ctx, "s0"); got == nil || s.Len() != 1 {
		t.Error("refusing a session over the budget evicted another")
	}

	// Deletes, re-saves, expiries and user caps keep the accounting exact.
	s = NewMemorySessionStore(MemorySessionLimits{MaxSessions: 20, MaxBytes: 30 * size}, clock)
	for i := range 2000 {
		id := fmt.Sprint("r", i%37)
		switch i % 5 {
		case 0:
			_ = s.Delete(ctx, fmt.Sprint("r", (i*7)%37))
		case 1:
			_ = s.DeleteUser(ctx, fmt.Sprint("u", i%3))
		case 2:
			now = now.Add(time.Minute)
			fallthrough
		default:
			if err := s.SaveUser(ctx, id, fmt.Sprint("u", i%4), make([]byte, i%1500), now.Add(time.Duration(i%90)*time.Minute), 4); err != nil {
				t.Fatal(err)
			}
		}
		if s.Len() > 20 || s.Bytes() > 30*size {
			t.Fatalf("step %d: %d sessions, %d bytes: over the limits", i, s.Len(), s.Bytes())
		}
	}
	s.checkInvariants(t)
}

// TestSealerOneSpelling: a sealed value whose last character differs only
// in its unused bits does not open (non-strict base64 would decode it to
// the same bytes).
func TestSealerOneSpelling(t *testing.T) {
	s, err := newSealer([][]byte{make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for n := range 3 {
		// Payload lengths that leave 0, 4 and 2 unused bits at the end.
		v := s.seal(purposeSession, make([]byte, 10+n))
		last := strings.IndexByte(alphabet, v[len(v)-1])
		for bit := 0; bit < 6; bit++ {
			changed := v[:len(v)-1] + string(alphabet[last^(1<<bit)])
			if _, ok := s.open(purposeSession, changed); ok {
				t.Errorf("payload of %d bytes: flipping bit %d of the last character still opens", 10+n, bit)
			}
		}
		if _, ok := s.open(purposeSession, v); !ok {
			t.Errorf("payload of %d bytes: the value as sealed does not open", 10+n)
		}
	}
}
