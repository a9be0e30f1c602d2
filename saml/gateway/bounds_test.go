package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/samltest"
)

// gwUser is e.response("acme") for another user.
func (e *gwEnv) user(name string, nGroups int) samltest.Response {
	r := e.response("acme")
	r.NameID, r.Email = name+"@example.com", name+"@example.com"
	if nGroups > 0 {
		r.Groups = gwManyGroups(nGroups)
	}
	return r
}

// gwOpens reports which cookies still open a session.
func gwOpens(h http.Handler, cookies []*http.Cookie) []bool {
	out := make([]bool, len(cookies))
	for i, c := range cookies {
		out[i] = gwWithSession(h, c).Code == http.StatusOK
	}
	return out
}

// TestSessionsPerUserBounded scripts IdP-initiated logins of one user, each
// from a new browser: the sessions the server keeps for that user stay
// bounded, the oldest going first, and other users keep theirs.
func TestSessionsPerUserBounded(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfgMod   func(c *gateway.Config, clk *gwClock)
		groups   int // of each identity; 200 overflow a cookie
		logins   int
		wantKept int // the newest sessions still open
	}{
		{name: "overflow store, default cap", groups: 200, logins: gateway.DefaultMaxSessionsPerUser + 2, wantKept: gateway.DefaultMaxSessionsPerUser},
		{name: "overflow store, cap 3", cfgMod: func(c *gateway.Config, _ *gwClock) { c.MaxSessionsPerUser = 3 }, groups: 200, logins: 5, wantKept: 3},
		{name: "MemorySessionStore, cap 3", cfgMod: func(c *gateway.Config, clk *gwClock) {
			c.MaxSessionsPerUser = 3
			c.SessionStore = gateway.NewMemorySessionStore(gateway.MemorySessionLimits{}, clk.Now)
		}, logins: 5, wantKept: 3},
		// Documented: a store that does not index users is not capped, and
		// stateless cookies cost the server nothing.
		{name: "SessionStore without a user index", cfgMod: func(c *gateway.Config, _ *gwClock) {
			c.MaxSessionsPerUser = 3
			c.SessionStore = newGwStore()
		}, logins: 5, wantKept: 5},
		{name: "stateless cookies", cfgMod: func(c *gateway.Config, _ *gwClock) { c.MaxSessionsPerUser = 3 }, logins: 5, wantKept: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &gwClock{t: gwPinned}
			e := newGwEnv(t, gwOptions{clk: clk, cfgMod: func(c *gateway.Config) {
				if tc.cfgMod != nil {
					tc.cfgMod(c, clk)
				}
			}})
			bob := gwSessionCookie(t, e.login(e.browser(), e.user("bob", tc.groups)))
			var alice []*http.Cookie
			for range tc.logins {
				alice = append(alice, gwSessionCookie(t, e.login(e.browser(), e.user("alice", tc.groups))))
			}
			got := gwOpens(e.handler, alice)
			for i, open := range got {
				if want := i >= tc.logins-tc.wantKept; open != want {
					t.Errorf("alice's session %d of %d opens: %v, want %v (all: %v)", i+1, tc.logins, open, want, got)
					break
				}
			}
			if rec := gwWithSession(e.handler, bob); rec.Code != http.StatusOK {
				t.Errorf("another user's session: %d", rec.Code)
			}
		})
	}
}

// TestSessionsPerUserAreByConnection: the same subject at two connections
// is two users (each IdP asserts its own subjects).
func TestSessionsPerUserAreByConnection(t *testing.T) {
	e := newGwEnv(t, gwOptions{connNames: []string{"acme", "beta"}, cfgMod: func(c *gateway.Config) { c.MaxSessionsPerUser = 2 }})
	var cookies []*http.Cookie
	for _, conn := range []string{"acme", "acme", "beta", "beta"} {
		r := e.response(conn)
		r.Groups = gwManyGroups(200)
		cookies = append(cookies, gwSessionCookie(t, e.login(e.browser(), r)))
	}
	if got := gwOpens(e.handler, cookies); !equalBools(got, []bool{true, true, true, true}) {
		t.Errorf("two sessions at each of two connections, cap 2: opens %v, want all", got)
	}
}

func equalBools(a, b []bool) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// TestOverflowDisabled: with DisableOverflow, an identity too large for a
// cookie is refused clearly (413, session_too_large, a log line for the
// operator) and nothing is kept; small identities are unaffected.
func TestOverflowDisabled(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(gwLockedWriter{&mu, &logs}, nil))
	e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.DisableOverflow = true; c.Logger = logger }})
	r := e.response("acme")
	r.Groups = gwManyGroups(1000)
	res := e.browser().post(gwACS("acme"), e.mint(r), "")
	page := gwBody(t, res)
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(page, string(gateway.CodeSessionTooLarge)) || !strings.Contains(page, "too many groups") {
		t.Errorf("too large an identity: %d\n%s", res.StatusCode, page)
	}
	if h := gwSetCookie(res, gateway.DefaultCookieName); h != "" {
		t.Errorf("a session cookie was set: %s", h)
	}
	if ev := e.lastEvent(); ev.Code != gateway.CodeSessionTooLarge {
		t.Errorf("event %+v", ev)
	}
	mu.Lock()
	log := logs.String()
	mu.Unlock()
	if !strings.Contains(log, `"level":"INFO","msg":"samlgate: login refused"`) || !strings.Contains(log, `"code":"session_too_large"`) ||
		!strings.Contains(log, "DisableOverflow") || !strings.Contains(log, "1000 groups") {
		t.Errorf("the operator's log line:\n%s", log)
	}
	for _, secret := range []string{gwEmail, "cn=group-0001"} {
		if strings.Contains(log, secret) || strings.Contains(page, secret) {
			t.Errorf("the log or page shows %q", secret)
		}
	}
	if strings.Contains(log, "keeping such sessions in this process's memory") {
		t.Error("the overflow store was created")
	}
	b := e.browser()
	e.login(b, e.response("acme"))
	if res := b.get(gwHost+"/", "application/json"); res.StatusCode != http.StatusOK {
		t.Errorf("a small identity: %d", res.StatusCode)
	}
}

// TestOverflowByteBudget: the overflow store holds at most OverflowLimits'
// bytes; over it, the sessions closest to expiry go, and a session larger
// than the whole budget is refused.
func TestOverflowByteBudget(t *testing.T) {
	// 1,000 groups seal to about 35 KB: two fit in 80,000 bytes, not three.
	e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.OverflowLimits = gateway.MemorySessionLimits{MaxBytes: 80_000} }})
	var cookies []*http.Cookie
	for _, user := range []string{"ann", "ben", "cid"} {
		cookies = append(cookies, gwSessionCookie(t, e.login(e.browser(), e.user(user, 1000))))
		e.clk.Advance(time.Minute) // later logins expire later
	}
	if got := gwOpens(e.handler, cookies); !equalBools(got, []bool{false, true, true}) {
		t.Errorf("three large sessions in a budget of two: opens %v, want the first gone", got)
	}

	e = newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.OverflowLimits = gateway.MemorySessionLimits{MaxBytes: 10_000} }})
	res := e.browser().post(gwACS("acme"), e.mint(e.user("ann", 1000)), "")
	if page := gwBody(t, res); res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(page, string(gateway.CodeSessionTooLarge)) {
		t.Errorf("a session over the whole budget: %d\n%s", res.StatusCode, page)
	}
}

// TestRevokeUser ends a user's server-side sessions, under every session
// key, and only that user's.
func TestRevokeUser(t *testing.T) {
	for _, tc := range []struct {
		name    string
		store   func(*gwClock) gateway.SessionStore
		groups  int
		revoked bool // alice's sessions end
		wantErr error
	}{
		// Without a SessionStore the overflow sessions end, and the error
		// says that sessions in cookies cannot.
		{"overflow store", nil, 200, true, saml.CodeConfigInvalid},
		{"MemorySessionStore", func(clk *gwClock) gateway.SessionStore {
			return gateway.NewMemorySessionStore(gateway.MemorySessionLimits{}, clk.Now)
		}, 2, true, nil},
		{"stateless cookies: nothing kept, an error says so", nil, 2, false, saml.CodeConfigInvalid},
		{"SessionStore without a user index", func(*gwClock) gateway.SessionStore { return newGwStore() }, 2, false, saml.CodeConfigInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &gwClock{t: gwPinned}
			e := newGwEnv(t, gwOptions{clk: clk, cfgMod: func(c *gateway.Config) {
				if tc.store != nil {
					c.SessionStore = tc.store(clk)
				}
			}})
			alice := []*http.Cookie{
				gwSessionCookie(t, e.login(e.browser(), e.user("alice", tc.groups))),
				gwSessionCookie(t, e.login(e.browser(), e.user("alice", tc.groups))),
			}
			bob := gwSessionCookie(t, e.login(e.browser(), e.user("bob", tc.groups)))
			err := e.gw.RevokeUser(context.Background(), "acme", "alice@example.com")
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("RevokeUser: %v, want %v", err, tc.wantErr)
			}
			want := !tc.revoked
			if got := gwOpens(e.handler, alice); !equalBools(got, []bool{want, want}) {
				t.Errorf("alice's sessions open: %v, want %v", got, want)
			}
			if rec := gwWithSession(e.handler, bob); rec.Code != http.StatusOK {
				t.Errorf("bob's session: %d", rec.Code)
			}
		})
	}

	e := newGwEnv(t, gwOptions{})
	if err := e.gw.RevokeUser(context.Background(), "nope", "alice@example.com"); !errors.Is(err, gateway.CodeUnknownConnection) {
		t.Errorf("unknown connection: %v", err)
	}

	// After a key rotation, sessions indexed under the old key are found.
	clk := &gwClock{t: gwPinned}
	store := gateway.NewMemorySessionStore(gateway.MemorySessionLimits{}, clk.Now)
	old := newGwEnv(t, gwOptions{clk: clk, cfgMod: func(c *gateway.Config) { c.SessionKeys = [][]byte{gwKey(1)}; c.SessionStore = store }})
	before := gwSessionCookie(t, old.login(old.browser(), old.user("alice", 0)))
	rotated := newGwEnv(t, gwOptions{clk: old.clk, idp: old.idp, conns: old.conns, cfgMod: func(c *gateway.Config) {
		c.SessionKeys = [][]byte{gwKey(2), gwKey(1)}
		c.SessionStore = store
	}})
	after := gwSessionCookie(t, rotated.login(rotated.browser(), rotated.user("alice", 0)))
	if got := gwOpens(rotated.handler, []*http.Cookie{before, after}); !equalBools(got, []bool{true, true}) {
		t.Fatalf("before revocation: %v", got)
	}
	if err := rotated.gw.RevokeUser(context.Background(), "acme", "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if got := gwOpens(rotated.handler, []*http.Cookie{before, after}); !equalBools(got, []bool{false, false}) {
		t.Errorf("after revocation across a key rotation: opens %v, want none", got)
	}
}

// One tenant's IdP can assert any number of subjects: the overflow store
// is per connection, so its users can evict only each other, never another
// tenant's.
func TestOverflowIsPerConnection(t *testing.T) {
	e := newGwEnv(t, gwOptions{connNames: []string{"acme", "evil"}, cfgMod: func(c *gateway.Config) {
		c.OverflowLimits = gateway.MemorySessionLimits{MaxSessions: 5}
	}})
	alice := gwSessionCookie(t, e.login(e.browser(), e.user("alice", 200)))
	var evil []*http.Cookie
	for i := range 20 {
		r := e.response("evil")
		r.NameID, r.Email = fmt.Sprintf("minted%d@evil.example", i), fmt.Sprintf("minted%d@evil.example", i)
		r.Groups = gwManyGroups(200)
		evil = append(evil, gwSessionCookie(t, e.login(e.browser(), r)))
	}
	if rec := gwWithSession(e.handler, alice); rec.Code != http.StatusOK {
		t.Errorf("another tenant's minted subjects evicted alice: %d", rec.Code)
	}
	// Within the flooding connection, the bound holds: the oldest went.
	if got := gwOpens(e.handler, evil[:1]); got[0] {
		t.Error("the evil connection's store holds more than its bound")
	}
}
