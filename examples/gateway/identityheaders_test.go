package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/samlgate/samlgate/attributes"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

// TestIdentityHeaderNamesCanonical: setIdentityHeaders writes the names
// into the header map directly, which is right only for canonical names
// (http.Header.Get looks them up canonicalized).
func TestIdentityHeaderNamesCanonical(t *testing.T) {
	for _, name := range identityHeaders {
		if c := http.CanonicalHeaderKey(name); c != name {
			t.Errorf("%q is not canonical (%q)", name, c)
		}
	}
}

// TestJoinHeaderValues: the list encoding, on zero, one and several
// values, with and without escaping.
func TestJoinHeaderValues(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{}, ""},
		{[]string{""}, ""},
		{[]string{"Admins"}, "Admins"},
		{[]string{"a,b"}, "a%2Cb"},
		{[]string{"a,b", "c", ""}, "a%2Cb,c,"},
		{[]string{"Domain Users", " x", "é"}, "Domain Users,%20x,%C3%A9"},
	} {
		if got := joinHeaderValues(tc.in); got != tc.want {
			t.Errorf("joinHeaderValues(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSetIdentityHeaders: the six headers, each one value, replacing what
// the map held; an empty email is sent empty, one that is not a plain
// address is withheld.
func TestSetIdentityHeaders(t *testing.T) {
	id := func(email string) *saml.Identity {
		return &saml.Identity{Subject: "alice", Email: email, Connection: "acme", Groups: []string{"Eng", "a,b"}, Roles: []string{}}
	}
	for _, tc := range []struct {
		name      string
		id        *saml.Identity
		teams     []string
		want      map[string]string // absent: no header
		withheld  bool
		emailSent bool
	}{
		{"plain", id("alice@example.com"), []string{"core"}, map[string]string{HeaderUser: "alice", HeaderEmail: "alice@example.com",
			HeaderGroups: "Eng,a%2Cb", HeaderRoles: "", HeaderConnection: "acme", HeaderTeams: "core"}, false, true},
		{"no email", id(""), nil, map[string]string{HeaderUser: "alice", HeaderEmail: "", HeaderGroups: "Eng,a%2Cb", HeaderRoles: "",
			HeaderConnection: "acme", HeaderTeams: ""}, false, true},
		{"not a plain address", id("CEO <ceo@acme.example> x@beta.example"), nil, map[string]string{HeaderUser: "alice",
			HeaderGroups: "Eng,a%2Cb", HeaderRoles: "", HeaderConnection: "acme", HeaderTeams: ""}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{HeaderEmail: {"forged@evil.example", "again"}, HeaderGroups: {"Admins"}, "Accept": {"*/*"}}
			if got := setIdentityHeaders(h, tc.id, tc.teams); got != tc.withheld {
				t.Errorf("withheld = %v", got)
			}
			for _, name := range identityHeaders {
				want, ok := tc.want[name]
				got := h.Values(name)
				if !ok {
					if len(got) != 0 {
						t.Errorf("%s = %q, want none", name, got)
					}
					continue
				}
				if len(got) != 1 || got[0] != want {
					t.Errorf("%s = %q, want [%q]", name, got, want)
				}
			}
			if h.Get("Accept") != "*/*" {
				t.Error("another header changed")
			}
			// Each value is its own: appending to one never shows in another.
			h[HeaderUser] = append(h[HeaderUser], "x")
			if got := h.Values(HeaderConnection); !slices.Equal(got, []string{"acme"}) {
				t.Errorf("an append to %s reached %s: %q", HeaderUser, HeaderConnection, got)
			}
		})
	}
}

// TestEmailVerdicts: the remembered verdict is attributes.PlainEmail's,
// on first and later asks, and the memory stays bounded.
func TestEmailVerdicts(t *testing.T) {
	emails := []string{"alice@example.com", "", "a@b", "CEO <ceo@acme.example>", "x@\u212Aey.example", "bücher@bücher.example", "a b@example.com"}
	c := &emailVerdicts{}
	for range 2 {
		for _, e := range emails {
			if got, want := c.plain(e), attributes.PlainEmail(e); got != want {
				t.Errorf("plain(%q) = %v, PlainEmail = %v", e, got, want)
			}
		}
	}
	for i := range 3 * emailVerdictsMax {
		c.plain(fmt.Sprintf("user%d@example.com", i))
		if len(c.m) > emailVerdictsMax {
			t.Fatalf("%d verdicts kept, over %d", len(c.m), emailVerdictsMax)
		}
	}
}

// TestProxyBodiesThroughBufferPool: response bodies larger than one pooled
// buffer, many at once, each arrive whole and unmixed with another's.
func TestProxyBodiesThroughBufferPool(t *testing.T) {
	body := func(path string) []byte {
		sum := sha256.Sum256([]byte(path))
		return bytes.Repeat(sum[:], 1+(100<<10)/len(sum)) // ~100 KiB, distinct per path
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body(r.URL.Path)) }))
	defer up.Close()
	e := newTestEnv(t, func(c *Config) { c.Upstream = up.URL })
	cookies := e.login(t, samltest.Response{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			path := fmt.Sprintf("/file/%d", i)
			req := httptest.NewRequest(http.MethodGet, testPublicURL+path, nil)
			for _, c := range cookies {
				req.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			got, _ := io.ReadAll(rec.Body)
			if rec.Code != http.StatusOK || !bytes.Equal(got, body(path)) {
				errs <- fmt.Errorf("%s: status %d, %d bytes, body intact %v", path, rec.Code, len(got), bytes.Equal(got, body(path)))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestBufferPool: buffers of the pool are proxyBufferSize long; a buffer
// of another size is not taken back.
func TestBufferPool(t *testing.T) {
	p := &bufferPool{}
	b := p.Get()
	if len(b) != proxyBufferSize {
		t.Fatalf("Get: %d bytes", len(b))
	}
	p.Put(b)
	p.Put(make([]byte, 10)) // not kept, no panic
	if b := p.Get(); len(b) != proxyBufferSize {
		t.Fatalf("Get after Put: %d bytes", len(b))
	}
}
