package gateway_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
)

// gwApps are two applications sharing a session key and a connection
// name, "acme", with different SP entity IDs: app A admits everyone, app
// B only members of Admins.
func gwApps(t *testing.T, store gateway.SessionStore) (a, b *gwEnv) {
	t.Helper()
	clk := &gwClock{t: gwPinned}
	idp := gwIdP(t, "idp", clk)
	app := func(entityID string, allowed ...string) *gwEnv {
		conn := gwConn(t, "acme", idp, clk, func(c *saml.ConnectionConfig) {
			c.SPEntityID = entityID
			c.Groups = groups.Config{AllowedGroups: allowed}
		})
		return newGwEnv(t, gwOptions{clk: clk, idp: idp, conns: []*saml.Connection{conn}, cfgMod: func(c *gateway.Config) {
			c.SessionKeys = [][]byte{gwKey(7)}
			c.SessionStore = store
		}})
	}
	return app("urn:app-a"), app("urn:app-b", "Admins")
}

// TestSessionBoundToApplication: a session cookie of app A is no session
// at app B, which shares A's key and connection name but not its SP entity
// ID; otherwise a user B's gate refuses would reach B with A's cookie.
func TestSessionBoundToApplication(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store gateway.SessionStore
	}{
		{"stateless cookie", nil},
		{"shared SessionStore", newGwStore()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := gwApps(t, tc.store)
			r := a.response("acme")
			r.Audience = "urn:app-a"
			cookie := gwSessionCookie(t, a.login(a.browser(), r))
			if rec := gwWithSession(a.handler, cookie); rec.Code != http.StatusOK {
				t.Fatalf("at app A: %d", rec.Code)
			}
			rec := gwWithSession(b.handler, cookie)
			if rec.Code != http.StatusUnauthorized || !gwClearsSession(rec) {
				t.Errorf("app A's cookie at app B: %d %s; want 401 and the cookie cleared", rec.Code, rec.Body)
			}
		})
	}
}

// TestRelayStateBoundToApplication: a login started at app A cannot be
// finished at app B, even by the browser that started it.
func TestRelayStateBoundToApplication(t *testing.T) {
	a, b := gwApps(t, nil)
	browserA := a.browser()
	browserB := &gwBrowser{t: t, h: b.handler, jar: browserA.jar} // one browser, one host
	id, _, relay := a.startLogin(browserA, "connection=acme")
	r := b.response("acme")
	r.Audience, r.InResponseTo, r.Groups = "urn:app-b", id, []string{"Admins"}
	res := browserB.post(gwACS("acme"), b.mint(r), relay)
	if page := gwBody(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, string(saml.CodeInResponseToMismatch)) {
		t.Errorf("app A's RelayState at app B: %d\n%s", res.StatusCode, page)
	}
}

// TestSessionBoundToConnection: the connection a cookie names in the clear
// selects how it is opened, never what it opens as.
func TestSessionBoundToConnection(t *testing.T) {
	e := newGwEnv(t, gwOptions{connNames: []string{"acme", "beta"}})
	cookie := gwSessionCookie(t, e.login(e.browser(), e.response("acme")))
	tag, sealed, ok := strings.Cut(cookie.Value, ".")
	if !ok || tag != base64.RawURLEncoding.EncodeToString([]byte("acme")) {
		t.Fatalf("session cookie %q does not start with the connection's tag", cookie.Value)
	}
	for _, tc := range []struct{ name, value string }{
		{"another connection's tag", base64.RawURLEncoding.EncodeToString([]byte("beta")) + "." + sealed},
		{"an unknown connection's tag", base64.RawURLEncoding.EncodeToString([]byte("gamma")) + "." + sealed},
		{"a tag that is not base64", "ac!me." + sealed},
		{"no tag", sealed},
		{"padded tag", tag + "=." + sealed},
	} {
		rec := gwWithSession(e.handler, &http.Cookie{Name: gateway.DefaultCookieName, Value: tc.value})
		if rec.Code != http.StatusUnauthorized || !gwClearsSession(rec) {
			t.Errorf("%s: %d, want 401 and the cookie cleared", tc.name, rec.Code)
		}
	}
	if rec := gwWithSession(e.handler, cookie); rec.Code != http.StatusOK {
		t.Errorf("the cookie as set: %d", rec.Code)
	}
}
