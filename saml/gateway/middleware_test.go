package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
)

// TestRequireConnection: in a gateway with several connections, every IdP
// can assert any group; RequireConnection keeps one tenant's users out of
// another's handlers.
func TestRequireConnection(t *testing.T) {
	for _, tc := range []struct {
		name       string
		conn       string // the identity's connection; "" = no identity
		names      []string
		accept     string
		wantStatus int
		wantBody   string
	}{
		{"listed", "acme", []string{"acme"}, "application/json", http.StatusOK, "through"},
		{"one of several", "beta", []string{"acme", "beta"}, "application/json", http.StatusOK, "through"},
		{"other connection", "beta", []string{"acme"}, "application/json", http.StatusForbidden, `{"error":"forbidden"}`},
		{"other connection, browser", "beta", []string{"acme"}, gwBrowserAccept, http.StatusForbidden, "Access denied"},
		{"case matters", "ACME", []string{"acme"}, "application/json", http.StatusForbidden, "forbidden"},
		{"empty connection", "-", []string{"acme"}, "application/json", http.StatusForbidden, "forbidden"},
		{"no identity", "", []string{"acme"}, "application/json", http.StatusUnauthorized, "login_required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := gateway.RequireConnection(tc.names...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte("through"))
			}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Accept", tc.accept)
			switch tc.conn {
			case "":
			case "-":
				req = req.WithContext(gateway.ContextWithIdentity(req.Context(), &saml.Identity{Subject: "alice"}))
			default:
				req = req.WithContext(gateway.ContextWithIdentity(req.Context(), &saml.Identity{Subject: "alice", Connection: tc.conn, Groups: []string{"Admins"}}))
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus || !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Errorf("%d %q, want %d %q", rec.Code, rec.Body.String(), tc.wantStatus, tc.wantBody)
			}
		})
	}

	defer func() {
		if recover() == nil {
			t.Error("RequireConnection() with no name did not panic")
		}
	}()
	gateway.RequireConnection()
}

// TestRequireConnectionCrossTenant logs in through a real gateway with two
// connections whose IdPs both map their "Admins" group to the admin role:
// RequireRole alone lets either tenant's admins in; with RequireConnection,
// only the named tenant's.
func TestRequireConnectionCrossTenant(t *testing.T) {
	e := newGwEnv(t, gwOptions{connNames: []string{"acme", "beta"}, connMod: func(c *saml.ConnectionConfig) {
		c.Groups = groups.Config{Roles: []groups.RoleMapping{{Group: "Admins", Role: "admin"}}}
	}})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("acme admin area")) })
	roleOnly := e.gw.RequireLogin(gateway.RequireRole("admin")(ok))
	scoped := e.gw.RequireLogin(gateway.RequireConnection("acme")(gateway.RequireRole("admin")(ok)))

	sessions := map[string]*http.Cookie{}
	for _, conn := range []string{"acme", "beta"} {
		r := e.response(conn)
		r.Groups = []string{"Admins"}
		sessions[conn] = gwSessionCookie(t, e.login(e.browser(), r))
	}
	for _, tc := range []struct {
		name    string
		h       http.Handler
		session string
		want    int
	}{
		{"role only, acme admin", roleOnly, "acme", http.StatusOK},
		{"role only, beta admin (what RequireConnection is for)", roleOnly, "beta", http.StatusOK},
		{"scoped, acme admin", scoped, "acme", http.StatusOK},
		{"scoped, beta admin", scoped, "beta", http.StatusForbidden},
	} {
		if rec := gwWithSession(tc.h, sessions[tc.session]); rec.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, rec.Code, tc.want)
		}
	}
}
