package gateway_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
)

// TestSessionRecheckedAgainstConnection logs a user in, replaces the
// connection with SetConnection (as a configuration reload does), and
// sends the session again: settings tightened after the login apply to the
// session that exists, on its next request.
func TestSessionRecheckedAgainstConnection(t *testing.T) {
	gate := func(allowed ...string) func(*saml.ConnectionConfig) {
		return func(c *saml.ConnectionConfig) { c.Groups.AllowedGroups = allowed }
	}
	filtered := func(allowed []string, filter ...string) func(*saml.ConnectionConfig) {
		return func(c *saml.ConnectionConfig) { c.Groups.AllowedGroups, c.Groups.Filter = allowed, filter }
	}
	for _, tc := range []struct {
		name string
		// login is the connection at login; later changes it afterwards
		// (nil: the same configuration, a new Connection all the same).
		login, later func(*saml.ConnectionConfig)
		groups       []string
		verified     string // the email_verified attribute; "" means "true"
		store        bool
		want         int    // the old session's status afterwards
		reason       string // in the Info log when the session ends
		// relogin: after the session ended, a new login under the new
		// connection gets in (the user is not locked out).
		relogin bool
	}{
		{name: "unchanged (a certificate rotation)", login: gate("Engineering"), groups: []string{"Engineering"}, want: 200},
		{name: "gate tightened, user no longer allowed", login: gate("Engineering", "Support"), later: gate("Support"),
			groups: []string{"Engineering"}, want: 401, reason: "allowed groups"},
		{name: "gate tightened, user no longer allowed, SessionStore", login: gate("Engineering", "Support"), later: gate("Support"),
			groups: []string{"Engineering"}, store: true, want: 401, reason: "allowed groups"},
		{name: "gate tightened, user still allowed", login: gate("Engineering", "Support"), later: gate("Support"), groups: []string{"Support"}, want: 200},
		{name: "gate set after the login", later: gate("Admins"), groups: []string{"Engineering"}, want: 401, reason: "allowed groups"},
		{name: "gate by pattern", login: gate("eng-*"), later: gate("eng-core"), groups: []string{"eng-web"}, want: 401, reason: "allowed groups"},
		// The gate sees every group at login, the Filter only trims
		// Identity.Groups: the session keeps what the gate needs.
		{name: "gate group dropped by the Filter", login: filtered([]string{"Engineering"}, "app-*"),
			groups: []string{"Engineering", "app-x"}, want: 200},
		{name: "gate tightened, allowed by a group the Filter dropped", login: filtered([]string{"Engineering", "Support"}, "app-*"),
			later: gate("Engineering"), groups: []string{"Engineering", "app-x"}, want: 200},
		{name: "gate tightened, refused, groups filtered", login: filtered([]string{"Engineering", "Support"}, "app-*"),
			later: gate("Engineering"), groups: []string{"Support", "app-x"}, want: 401, reason: "allowed groups"},
		// The session cannot know a filtered group the old gate did not
		// match: it ends, and the next login, which sees every group,
		// gets in.
		{name: "gate moved to a group the Filter dropped", login: filtered([]string{"Engineering"}, "app-*"),
			later: gate("Ops"), groups: []string{"Engineering", "Ops", "app-x"}, want: 401, reason: "allowed groups", relogin: true},
		{name: "email domain restricted", later: func(c *saml.ConnectionConfig) { c.AllowedEmailDomains = []string{"other.example"} },
			want: 401, reason: "email domains"},
		{name: "email domain still allowed", later: func(c *saml.ConnectionConfig) { c.AllowedEmailDomains = []string{"EXAMPLE.com"} }, want: 200},
		{name: "verified email now required", login: func(c *saml.ConnectionConfig) { c.EmailVerified = saml.EmailVerifiedIgnore },
			later: func(c *saml.ConnectionConfig) { c.EmailVerified = saml.EmailVerifiedRequire }, verified: "false", want: 401, reason: "verified email"},
		{name: "role mapping changed", login: func(c *saml.ConnectionConfig) {
			c.Groups.Roles = []groups.RoleMapping{{Group: "Engineering", Role: "operator"}}
		}, later: func(c *saml.ConnectionConfig) { c.Groups.Roles = nil }, groups: []string{"Engineering"}, want: 401, reason: "role mapping", relogin: true},
		{name: "filter changed", login: filtered(nil, "Engineering"), later: filtered(nil, "Everyone"),
			groups: []string{"Engineering", "Everyone"}, want: 401, reason: "filter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			var mu sync.Mutex
			logger := slog.New(slog.NewJSONHandler(gwLockedWriter{&mu, &logs}, nil))
			store := newGwStore()
			clk := &gwClock{t: gwPinned}
			idp := gwIdP(t, "idp", clk)
			config := func(c *saml.ConnectionConfig) {
				if tc.login != nil {
					tc.login(c)
				}
			}
			e := newGwEnv(t, gwOptions{clk: clk, idp: idp, conns: []*saml.Connection{gwConn(t, "acme", idp, clk, config)}, cfgMod: func(c *gateway.Config) {
				c.Logger = logger
				if tc.store {
					c.SessionStore = store
				}
			}})
			r := e.response("acme")
			if tc.groups != nil {
				r.Groups = tc.groups
			}
			if tc.verified != "" {
				r.EmailVerified = tc.verified
			}
			cookie := gwSessionCookie(t, e.login(e.browser(), r))
			if rec := gwWithSession(e.handler, cookie); rec.Code != http.StatusOK {
				t.Fatalf("before the change: %d %s", rec.Code, rec.Body)
			}

			e.gw.SetConnection(gwConn(t, "acme", idp, clk, func(c *saml.ConnectionConfig) {
				config(c)
				if tc.later != nil {
					tc.later(c)
				}
			}))
			rec := gwWithSession(e.handler, cookie)
			if rec.Code != tc.want {
				t.Fatalf("after the change: %d %s, want %d", rec.Code, rec.Body, tc.want)
			}
			if rec := gwWithSession(e.handler, cookie); rec.Code != tc.want {
				t.Fatalf("a second request: %d, want %d", rec.Code, tc.want)
			}
			mu.Lock()
			log := logs.String()
			mu.Unlock()
			if tc.want == http.StatusOK {
				if strings.Contains(log, "session ended") {
					t.Errorf("a session that still qualifies was ended:\n%s", log)
				}
				return
			}
			if !gwClearsSession(rec) {
				t.Error("the ended session's cookie was not cleared")
			}
			if !strings.Contains(log, `"msg":"samlgate: session ended"`) || !strings.Contains(log, `"connection":"acme"`) || !strings.Contains(log, tc.reason) {
				t.Errorf("the Info log does not say the session ended because of %q:\n%s", tc.reason, log)
			}
			for _, secret := range append([]string{gwEmail, "alice"}, r.Groups...) {
				if strings.Contains(log, secret) {
					t.Errorf("the log shows %q:\n%s", secret, log)
				}
			}
			if tc.store && store.len() != 0 {
				t.Errorf("the ended session is still in the store (%d entries)", store.len())
			}
			if tc.relogin {
				if rec := gwWithSession(e.handler, gwSessionCookie(t, e.login(e.browser(), r))); rec.Code != http.StatusOK {
					t.Errorf("a new login under the new connection: %d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// An email-less user of an EmailOptional connection (an opaque NameID and
// no email, as PingOne and Okta can send) keeps the session: the
// email_verified policy applies only to an email that is present, on every
// request as at login.
func TestSessionWithoutEmail(t *testing.T) {
	e := newGwEnv(t, gwOptions{connMod: func(c *saml.ConnectionConfig) { c.EmailOptional = true }})
	r := e.response("acme")
	r.NameID, r.NameIDFormat = "00u1abcd2EFGH3ijk4l5", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	r.Email, r.EmailVerified = "", ""
	b := e.browser()
	if res := e.login(b, r); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d %s", res.StatusCode, gwBody(t, res))
	}
	for i := range 2 {
		if res := b.get(gwHost+"/", "application/json"); res.StatusCode != http.StatusOK {
			t.Fatalf("request %d with the session: %d %s", i, res.StatusCode, gwBody(t, res))
		}
	}
}
