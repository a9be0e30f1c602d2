package main

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/samltest"
)

func TestIsIdentityHeader(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"X-Forwarded-User", true},
		{"x-forwarded-user", true},
		{"X-FORWARDED-EMAIL", true},
		{"X-Forwarded-Groups", true},
		{"X-Forwarded-Roles", true},
		{"X_Forwarded_User", true},  // CGI/WSGI/Rack read it as HTTP_X_FORWARDED_USER
		{"x_forwarded-email", true}, // mixed
		{"X-Forwarded-User-Id", true},
		{"X-Forwarded-Emails", true},
		{"X-Forwarded-Groups-Extra", true},
		{"X-Forwarded-Rolesx", true},
		{"X-Forwarded-Connection", true},
		{"x_forwarded_connection", true},
		{"X-Forwarded-Connection-Name", true},
		{" X-Forwarded-User", true},
		{"X-Forwarded-For", false},
		{"X-Forwarded-Host", false},
		{"X-Forwarded-Proto", false},
		{"X-Forwarded-Prefix", false},
		{"X-User", false},
		{"Forwarded", false},
		{"X-Forwarded-Use", false},
		{"", false},
		{"X-Forwarded-Us\u212Aer", false}, // the Kelvin sign lower-cases to 'k'
		{"\u00a0X_FORWARDED_ROLES", true}, // a Unicode space, trimmed
		{"X-Forwarded-Grou\u00e9s", false},
		{"X-Forwarded-Groups\u00e9", true},
	}
	for _, tt := range tests {
		if got := isIdentityHeader(tt.name); got != tt.want {
			t.Errorf("isIdentityHeader(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestEncodeHeaderValue(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Engineering", "Engineering"},
		{"Domain Users", "Domain Users"},
		{"alice@example.com", "alice@example.com"},
		{"cn=eng,ou=groups", "cn=eng%2Cou=groups"},
		{"100%", "100%25"},
		{"%2C", "%252C"},
		{"a\r\nX-Forwarded-User: root", "a%0D%0AX-Forwarded-User: root"},
		{"tab\there", "tab%09here"},
		{" padded ", "%20padded%20"},
		{"semi;colon", "semi%3Bcolon"},
		{`quo"te`, "quo%22te"},
		{"Ünïcødé", "%C3%9Cn%C3%AFc%C3%B8d%C3%A9"},
		{"nul\x00", "nul%00"},
		{"del\x7f", "del%7F"},
		{"", ""},
	}
	for _, tt := range tests {
		got := encodeHeaderValue(tt.in)
		if got != tt.want {
			t.Errorf("encodeHeaderValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.ContainsAny(got, ",\r\n;\"") {
			t.Errorf("encodeHeaderValue(%q) = %q still holds a separator", tt.in, got)
		}
		back, err := url.PathUnescape(got)
		if err != nil || back != tt.in {
			t.Errorf("PathUnescape(%q) = %q, %v; want %q", got, back, err, tt.in)
		}
	}
	if got := joinHeaderValues([]string{"a,b", "c", ""}); got != "a%2Cb,c," {
		t.Errorf("joinHeaderValues = %q", got)
	}
}

func TestStripCookies(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want string // "" = no Cookie header
	}{
		{"session only", []string{"__Host-samlgate_session=abc"}, ""},
		{"mixed", []string{"theme=dark; __Host-samlgate_session=abc; lang=en"}, "theme=dark; lang=en"},
		{"request cookie", []string{"__Host-samlgate_req_0123=x", "a=1"}, "a=1"},
		{"several request cookies", []string{"__Host-samlgate_req_01=x; a=1; __Host-samlgate_req_02=y"}, "a=1"},
		{"insecure_cookies session", []string{"samlgate_session=abc; a=1"}, "a=1"},
		{"insecure_cookies request cookie", []string{"samlgate_req_0123=x", "a=1"}, "a=1"},
		{"other case and prefix", []string{"__host-SAMLGATE_session=abc; __Secure-samlgate_session=d; a=1"}, "a=1"},
		{"upstream's own __Host- cookie", []string{"__Host-app=1; samlgate_session=x"}, "__Host-app=1"},
		{"none of ours", []string{"a=1; b=2"}, "a=1; b=2"},
		{"none of ours, two lines", []string{"a=1", "b=2"}, "a=1; b=2"},
		{"only ours, two lines", []string{"samlgate_session=x", "__Host-samlgate_req_1=y"}, ""},
		{"empty parts", []string{" ; a=1;; samlgate_session=x ;b=2; "}, "a=1; b=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Cookie": tt.in}
			stripCookies(h, isGatewayCookie)
			if got := h.Get("Cookie"); got != tt.want || len(h.Values("Cookie")) > 1 {
				t.Errorf("Cookie = %q, want %q", h.Values("Cookie"), tt.want)
			}
		})
	}
}

// TestProxyIdentityHeaders logs in through the real gateway and checks what
// the upstream receives when a client forges identity headers.
func TestProxyIdentityHeaders(t *testing.T) {
	e := newTestEnv(t, nil)
	cookies := e.login(t, samltest.Response{
		NameID: "alice@example.com",
		// Names that need encoding. A CR or LF can no longer arrive this
		// way (package groups refuses control characters, and Verify the
		// login); TestEncodeHeaderValue covers them all the same.
		Groups: []string{"Engineering", "Admins", "cn=R&D,ou=groups", `Ünïcødé;"x"`},
	})

	tests := []struct {
		name   string
		header http.Header
	}{
		{"no forged headers", nil},
		{"canonical spelling", http.Header{"X-Forwarded-User": {"root@example.com"}, "X-Forwarded-Email": {"root@example.com"}, "X-Forwarded-Groups": {"Admins"}, "X-Forwarded-Roles": {"admin"}}},
		{"lower case", http.Header{"x-forwarded-user": {"root@example.com"}, "x-forwarded-roles": {"superuser"}}},
		{"upper case", http.Header{"X-FORWARDED-EMAIL": {"root@example.com"}}},
		{"underscores", http.Header{"X_Forwarded_User": {"root@example.com"}, "X_FORWARDED_GROUPS": {"Admins"}}},
		{"prefixed names", http.Header{"X-Forwarded-User-Id": {"0"}, "X-Forwarded-Emails": {"root@example.com"}, "X-Forwarded-Roles-All": {"admin"}}},
		{"connection", http.Header{"X-Forwarded-Connection": {"other-tenant"}, "X_Forwarded_Connection": {"other-tenant"}}},
		{"repeated header", http.Header{"X-Forwarded-Groups": {"Admins", "Root"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.receivedCount()
			rec := e.get("/whoami.json", cookies, tt.header)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if e.receivedCount() != before+1 {
				t.Fatal("the upstream did not receive the request")
			}
			got := e.lastReceived().Header
			for name, vals := range got {
				if isIdentityHeader(name) && !slices.Contains(identityHeaders, name) {
					t.Errorf("forged header %s: %q reached the upstream", name, vals)
				}
			}
			want := map[string]string{
				HeaderUser:   "alice@example.com",
				HeaderEmail:  "alice@example.com",
				HeaderGroups: "Engineering,Admins,cn=R&D%2Cou=groups,%C3%9Cn%C3%AFc%C3%B8d%C3%A9%3B%22x%22",
				HeaderRoles:  "admin",
				// The connection that vouched for alice: upstreams key
				// accounts by (connection, user).
				HeaderConnection: "test",
			}
			for name, w := range want {
				if vals := got.Values(name); len(vals) != 1 || vals[0] != w {
					t.Errorf("%s = %q, want [%q]", name, vals, w)
				}
			}
			// What an upstream decodes.
			id := readIdentityHeaders(e.lastReceived())
			wantGroups := []string{"Engineering", "Admins", "cn=R&D,ou=groups", `Ünïcødé;"x"`}
			if !slices.Equal(id.Groups, wantGroups) || id.User != "alice@example.com" || id.Connection != "test" {
				t.Errorf("upstream decoded user %q groups %q connection %q", id.User, id.Groups, id.Connection)
			}
			// The gateway's cookies stay at the gateway.
			if c := got.Get("Cookie"); strings.Contains(c, "samlgate") {
				t.Errorf("gateway cookie forwarded upstream: %q", c)
			}
			// Standard proxy headers are still set.
			if got.Get("X-Forwarded-For") == "" || got.Get("X-Forwarded-Proto") != "https" {
				t.Errorf("X-Forwarded-For %q, X-Forwarded-Proto %q", got.Get("X-Forwarded-For"), got.Get("X-Forwarded-Proto"))
			}
		})
	}
}

// TestProxyAnonymous checks that requests without a session never reach
// the upstream, forged headers or not.
func TestProxyAnonymous(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, h := range []http.Header{
		nil,
		{"X-Forwarded-User": {"alice@example.com"}, "X-Forwarded-Email": {"alice@example.com"}},
		{"X_Forwarded_User": {"alice@example.com"}},
	} {
		rec := e.get("/private?x=1", nil, h)
		if rec.Code != http.StatusFound && rec.Code != http.StatusSeeOther && rec.Code != http.StatusUnauthorized {
			t.Errorf("anonymous request: status %d, want a redirect to the login or 401", rec.Code)
		}
		if loc := rec.Header().Get("Location"); rec.Code != http.StatusUnauthorized && !strings.HasPrefix(loc, "/login") {
			t.Errorf("anonymous request redirected to %q, want /login...", loc)
		}
	}
	if n := e.receivedCount(); n != 0 {
		t.Fatalf("the upstream received %d anonymous requests", n)
	}
	// A forged cookie is no session either.
	rec := e.get("/private", []*http.Cookie{{Name: gateway.DefaultCookieName, Value: "forged"}}, nil)
	if rec.Code == http.StatusOK || e.receivedCount() != 0 {
		t.Fatalf("a forged session cookie reached the upstream: %d", rec.Code)
	}
}

// TestRequiredGroupsAndRoles checks required_groups and required_roles.
func TestRequiredGroupsAndRoles(t *testing.T) {
	tests := []struct {
		name     string
		groups   []string // required_groups
		roles    []string // required_roles
		user     []string // the user's groups
		wantCode int
	}{
		{"no requirement", nil, nil, []string{"Sales"}, http.StatusOK},
		{"group present", []string{"Engineering", "Support"}, nil, []string{"Engineering"}, http.StatusOK},
		{"group absent", []string{"Engineering"}, nil, []string{"Sales"}, http.StatusForbidden},
		{"role present", nil, []string{"admin"}, []string{"Admins"}, http.StatusOK},
		{"role absent", nil, []string{"admin"}, []string{"Engineering"}, http.StatusForbidden},
		{"both, role absent", []string{"Engineering"}, []string{"admin"}, []string{"Engineering"}, http.StatusForbidden},
		{"both present", []string{"Engineering"}, []string{"admin"}, []string{"Engineering", "Admins"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, func(c *Config) {
				c.RequiredGroups = tt.groups
				c.RequiredRoles = tt.roles
			})
			cookies := e.login(t, samltest.Response{Groups: tt.user})
			rec := e.get("/", cookies, nil)
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantCode)
			}
			if reached := e.receivedCount() > 0; reached != (tt.wantCode == http.StatusOK) {
				t.Fatalf("upstream reached = %v", reached)
			}
		})
	}
}

// TestConnectionsAcrossTenants: two connections, each an IdP of its own
// tenant, both mapping their "Admins" group to the admin role. Any IdP can
// assert any user and group, so the upstream is told which connection
// vouched for the user (X-Forwarded-Connection), and required_connections
// keeps the other tenant's users out.
func TestConnectionsAcrossTenants(t *testing.T) {
	const otherACS = testPublicURL + "/login/callback?connection=other"
	addOther := func(c *Config) {
		other := c.Connections[0]
		other.Name = "other"
		other.SPEntityID = "urn:samlgate:other"
		c.Connections = append(c.Connections, other)
	}
	tests := []struct {
		name     string
		required []string // required_connections
		acs      string   // the connection the user logs in through
		audience string
		wantCode int
		wantConn string // X-Forwarded-Connection the upstream receives
	}{
		{"no requirement, test", nil, testACS, testSPEntity, http.StatusOK, "test"},
		{"no requirement, other (told apart by the header)", nil, otherACS, "urn:samlgate:other", http.StatusOK, "other"},
		{"required test, test", []string{"test"}, testACS, testSPEntity, http.StatusOK, "test"},
		{"required test, other tenant's admin", []string{"test"}, otherACS, "urn:samlgate:other", http.StatusForbidden, ""},
		{"required both, other", []string{"test", "other"}, otherACS, "urn:samlgate:other", http.StatusOK, "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, func(c *Config) {
				addOther(c)
				c.RequiredRoles = []string{"admin"}
				c.RequiredConnections = tt.required
			})
			// The same subject and email at both IdPs: only the
			// connection tells the accounts apart.
			form := e.response(t, samltest.Response{
				Audience: tt.audience, Destination: tt.acs,
				NameID: "ceo@example.com", Email: "ceo@example.com", Groups: []string{"Admins"},
			})
			res := samltest.PostForm(e.handler, tt.acs, form, "")
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("login: %d", res.StatusCode)
			}
			rec := e.get("/whoami.json", res.Cookies(), http.Header{"X-Forwarded-Connection": {"test"}})
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantCode != http.StatusOK {
				if e.receivedCount() != 0 {
					t.Fatal("the upstream was reached")
				}
				return
			}
			got := e.lastReceived().Header
			if vals := got.Values(HeaderConnection); len(vals) != 1 || vals[0] != tt.wantConn {
				t.Errorf("%s = %q, want [%q]", HeaderConnection, vals, tt.wantConn)
			}
		})
	}
}
