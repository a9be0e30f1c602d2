package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
)

// TestSessionDecodeCache sends one session cookie many times, so that
// its decoding comes from the gateway's cache, and checks that what the
// cache must not change still holds on every request: a handler that
// changes the identity it receives changes only its own copy; the expiry,
// a session's deletion from its store (logout, RevokeUser) and the
// connection's access rules take effect on the next request.
func TestSessionDecodeCache(t *testing.T) {
	withStore := func(c *gateway.Config) {
		c.SessionStore = gateway.NewMemorySessionStore(gateway.MemorySessionLimits{}, c.Now)
	}
	for _, tc := range []struct {
		name  string
		cfg   func(*gateway.Config)
		after func(t *testing.T, e *gwEnv, cookie *http.Cookie) // what ends the session
	}{
		{name: "cookie, expired", after: func(_ *testing.T, e *gwEnv, _ *http.Cookie) { e.clk.Advance(9 * time.Hour) }},
		{name: "store, expired", cfg: withStore, after: func(_ *testing.T, e *gwEnv, _ *http.Cookie) { e.clk.Advance(9 * time.Hour) }},
		{name: "store, revoked", cfg: withStore, after: func(t *testing.T, e *gwEnv, _ *http.Cookie) {
			if err := e.gw.RevokeUser(context.Background(), "acme", gwEmail); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "store, logged out", cfg: withStore, after: func(t *testing.T, e *gwEnv, c *http.Cookie) {
			req := httptest.NewRequest(http.MethodPost, gwHost+"/logout", nil)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			req.AddCookie(c)
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			if rec.Code >= 400 {
				t.Fatalf("logout: status %d %s", rec.Code, rec.Body)
			}
		}},
		{name: "cookie, gate tightened", after: tightenGate},
		{name: "store, gate tightened", cfg: withStore, after: tightenGate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGwEnv(t, gwOptions{cfgMod: tc.cfg})
			r := e.response("acme")
			r.Groups = []string{"Engineering", "Support"}
			cookie := gwSessionCookie(t, e.login(e.browser(), r))
			var seen []*saml.Identity
			h := e.gw.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id, _ := gateway.IdentityFromContext(r.Context())
				seen = append(seen, &saml.Identity{Subject: id.Subject, Email: id.Email, Groups: slices.Clone(id.Groups)})
				// A careless handler: none of this may reach the next request.
				id.Subject, id.Email = "mallory", "mallory@evil.example"
				id.Groups[0] = "Admins"
				id.Groups = append(id.Groups, "Root")
				id.Roles = append(id.Roles, "admin")
			}))
			for i := range 3 {
				if rec := gwWithSession(h, cookie); rec.Code != http.StatusOK {
					t.Fatalf("request %d: status %d", i, rec.Code)
				}
			}
			for i, id := range seen {
				if id.Subject != gwEmail || id.Email != gwEmail || !slices.Equal(id.Groups, []string{"Engineering", "Support"}) {
					t.Errorf("request %d saw %q %q %v: a change by an earlier handler leaked", i, id.Subject, id.Email, id.Groups)
				}
			}
			tc.after(t, e, cookie)
			if rec := gwWithSession(h, cookie); rec.Code != http.StatusUnauthorized {
				t.Errorf("after the session ended: status %d, want 401", rec.Code)
			}
		})
	}
}

// tightenGate replaces the connection with one whose allowed groups the
// session's user is not in.
func tightenGate(t *testing.T, e *gwEnv, _ *http.Cookie) {
	t.Helper()
	e.gw.SetConnection(gwConn(t, "acme", e.idp, e.clk, func(c *saml.ConnectionConfig) { c.Groups.AllowedGroups = []string{"Admins"} }))
}
