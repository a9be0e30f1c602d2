package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/samlconfig"
	"github.com/samlgate/samlgate/saml/samltest"
)

func TestForwardAuthConfig(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"upstream only", func(c *Config) {}, ""},
		{"forward_auth without upstream", func(c *Config) { c.Upstream, c.ForwardAuth = "", true }, ""},
		{"forward_auth with upstream", func(c *Config) { c.ForwardAuth = true }, ""},
		{"neither", func(c *Config) { c.Upstream = "" }, "unless forward_auth: true"},
		{"public_paths without upstream", func(c *Config) {
			c.Upstream, c.ForwardAuth, c.PublicPaths = "", true, []string{"/healthz"}
		}, "leave those paths out of auth_request"},
		{"bad public path", func(c *Config) { c.PublicPaths = []string{"assets/"} }, "public_paths[0]"},
		{"bad upstream scheme", func(c *Config) { c.Upstream = "ftp://x" }, "not http or https"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{
				Upstream:    "http://127.0.0.1:3000",
				PublicURL:   testPublicURL,
				SessionKeys: []string{testKey32},
				Connections: []samlconfig.Connection{{Name: "test", SPEntityID: testSPEntity, IdPEntityID: testIdPEntity, IdPSSOURL: testIdPEntity}},
			}
			tc.mutate(c)
			err := c.validate()
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want one with %q", err, tc.wantErr)
			}
		})
	}
}

func forwardAuthEnv(t *testing.T, mutate func(*Config)) *testEnv {
	t.Helper()
	return newTestEnv(t, func(c *Config) {
		c.ForwardAuth = true
		if mutate != nil {
			mutate(c)
		}
	})
}

func TestForwardAuthEndpoint(t *testing.T) {
	e := forwardAuthEnv(t, func(c *Config) { c.RequiredGroups = []string{"Engineering", "Admins"} })
	html := http.Header{"Accept": {browserAccept}}
	forged := forgedHeaders()

	// No session: 401, never a redirect (nginx would turn it into a 500).
	for _, h := range []http.Header{nil, html, forged} {
		rec := e.get(authPath, nil, h)
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "login_required") {
			t.Fatalf("no session: %d %q", rec.Code, rec.Body.String())
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Error("auth answer may be cached")
		}
		for name := range rec.Header() {
			if isIdentityHeader(name) {
				t.Errorf("401 carries %s", name)
			}
		}
	}
	if rec := e.get(authPath, []*http.Cookie{{Name: gateway.DefaultCookieName, Value: "forged"}}, nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("forged cookie: %d", rec.Code)
	}

	// A session that passes required_groups: 200 and the identity headers,
	// the user's own whatever the request claimed.
	cookies := e.login(t, samltest.Response{NameID: "alice@example.com", Groups: []string{"Engineering", "Admins"}})
	rec := e.get(authPath, cookies, forged)
	if rec.Code != http.StatusOK {
		t.Fatalf("session: %d %s", rec.Code, rec.Body.String())
	}
	want := map[string]string{
		HeaderUser:       "alice@example.com",
		HeaderEmail:      "alice@example.com",
		HeaderGroups:     "Engineering,Admins",
		HeaderRoles:      "admin",
		HeaderConnection: "test",
	}
	// Always set, empty without team sync: the proxy then replaces or
	// deletes a client's copy.
	if got := rec.Header().Values(HeaderTeams); len(got) != 1 || got[0] != "" {
		t.Errorf("%s = %q, want one empty value", HeaderTeams, got)
	}
	want[HeaderTeams] = "-"
	for k, v := range want {
		if v == "-" {
			continue
		}
		if got := rec.Header().Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for name := range rec.Header() {
		if isIdentityHeader(name) && want[name] == "" {
			t.Errorf("unexpected identity header %s in the auth answer", name)
		}
	}
	if n := e.receivedCount(); n != 0 {
		t.Errorf("the auth endpoint proxied %d requests to the upstream", n)
	}

	// A session outside required_groups: 403.
	other := e.login(t, samltest.Response{NameID: "bob@example.com", Email: "bob@example.com", Groups: []string{"Sales"}})
	if rec := e.get(authPath, other, nil); rec.Code != http.StatusForbidden {
		t.Fatalf("not in required_groups: %d", rec.Code)
	}
	if rec := e.get(authPath, other, html); rec.Code != http.StatusForbidden || !strings.Contains(rec.Header().Get("Content-Type"), "html") {
		t.Fatalf("not in required_groups, browser: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
}

// TestForwardAuthRedirect: ?redirect=1 (Traefik, Caddy) sends browser
// navigations to the login with the original URI from X-Forwarded-Uri;
// other requests, and unsafe URIs, do not become redirects elsewhere.
func TestForwardAuthRedirect(t *testing.T) {
	e := forwardAuthEnv(t, nil)
	tests := []struct {
		name     string
		header   http.Header
		query    string
		wantCode int
		wantLoc  string
	}{
		{"navigation", http.Header{"Accept": {browserAccept}, headerForwardedURI: {"/app/page?x=1&y=2"}, headerForwardedMethod: {"GET"}}, "?redirect=1",
			http.StatusFound, "/login?connection=test&return_to=%2Fapp%2Fpage%3Fx%3D1%26y%3D2"},
		{"navigation without redirect=1", http.Header{"Accept": {browserAccept}, headerForwardedURI: {"/app"}}, "",
			http.StatusUnauthorized, ""},
		{"POST", http.Header{"Accept": {browserAccept}, headerForwardedURI: {"/app"}, headerForwardedMethod: {"POST"}}, "?redirect=1",
			http.StatusUnauthorized, ""},
		{"API client", http.Header{"Accept": {"application/json"}, headerForwardedURI: {"/api"}}, "?redirect=true",
			http.StatusUnauthorized, ""},
		{"off-site URI", http.Header{"Accept": {browserAccept}, headerForwardedURI: {"//evil.example/x"}}, "?redirect=1",
			http.StatusFound, "/login?connection=test"},
		{"absolute URI", http.Header{"Accept": {browserAccept}, headerForwardedURI: {"https://evil.example/"}}, "?redirect=1",
			http.StatusFound, "/login?connection=test"},
		{"bad redirect value", nil, "?redirect=maybe", http.StatusBadRequest, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.get(authPath+tc.query, nil, tc.header)
			if rec.Code != tc.wantCode {
				t.Fatalf("status %d, want %d", rec.Code, tc.wantCode)
			}
			if got := rec.Header().Get("Location"); got != tc.wantLoc {
				t.Fatalf("Location %q, want %q", got, tc.wantLoc)
			}
		})
	}
}

func TestSignIn(t *testing.T) {
	e := forwardAuthEnv(t, nil)
	const login = "/login?connection=test"
	tests := []struct {
		name     string
		rd       string
		header   http.Header
		wantCode int
		wantLoc  string
	}{
		{"no rd", "", nil, http.StatusFound, login},
		{"local path", "/app?x=1&y=2", nil, http.StatusFound, login + "&return_to=%2Fapp%3Fx%3D1%26y%3D2"},
		{"public URL", testPublicURL + "/app/x?q=1#frag", nil, http.StatusFound, login + "&return_to=%2Fapp%2Fx%3Fq%3D1"},
		{"public URL, explicit port", "https://GW.example.com:443/app", nil, http.StatusFound, login + "&return_to=%2Fapp"},
		{"public URL, no path", testPublicURL, nil, http.StatusFound, login + "&return_to=%2F"},
		{"connection in rd", "/app?connection=test", nil, http.StatusFound, login + "&return_to=%2Fapp%3Fconnection%3Dtest"},
		{"X-Forwarded-Uri", "", http.Header{headerForwardedURI: {"/deep/link?a=b"}}, http.StatusFound, login + "&return_to=%2Fdeep%2Flink%3Fa%3Db"},
		{"unsafe X-Forwarded-Uri", "", http.Header{headerForwardedURI: {"//evil.example"}}, http.StatusFound, login},
		{"other host", "https://evil.example/app", nil, http.StatusBadRequest, ""},
		{"sibling subdomain", "https://other.example.com/app", nil, http.StatusBadRequest, ""},
		{"suffix host", "https://gw.example.com.evil.example/", nil, http.StatusBadRequest, ""},
		{"other port", "https://gw.example.com:8443/app", nil, http.StatusBadRequest, ""},
		{"http downgrade", "http://gw.example.com/app", nil, http.StatusBadRequest, ""},
		{"user info", "https://gw.example.com@evil.example/", nil, http.StatusBadRequest, ""},
		{"user info on public host", "https://x@gw.example.com/", nil, http.StatusBadRequest, ""},
		{"protocol-relative", "//evil.example/", nil, http.StatusBadRequest, ""},
		{"backslash", `/\evil.example/`, nil, http.StatusBadRequest, ""},
		{"javascript", "javascript:alert(1)", nil, http.StatusBadRequest, ""},
		{"relative", "app", nil, http.StatusBadRequest, ""},
		{"newline", "/app\r\nX: y", nil, http.StatusBadRequest, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := signInPath
			if tc.rd != "" {
				target += "?rd=" + url.QueryEscape(tc.rd)
			}
			rec := e.get(target, nil, tc.header)
			if rec.Code != tc.wantCode {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.wantCode, rec.Body.String())
			}
			if got := rec.Header().Get("Location"); got != tc.wantLoc {
				t.Fatalf("Location %q, want %q", got, tc.wantLoc)
			}
		})
	}
	rec := e.get(signInPath, nil, nil)
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Error("sign-in redirect may be cached")
	}
}

// TestForwardAuthOnly: with forward_auth and no upstream, the gateway
// serves its own endpoints and nothing else.
func TestForwardAuthOnly(t *testing.T) {
	e := forwardAuthEnv(t, func(c *Config) { c.Upstream = "" })
	if rec := e.get("/app", nil, http.Header{"Accept": {browserAccept}}); rec.Code != http.StatusNotFound {
		t.Fatalf("/app without an upstream: %d, want 404", rec.Code)
	}
	if rec := e.get(authPath, nil, nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("%s: %d", authPath, rec.Code)
	}
	cookies := e.login(t, samltest.Response{})
	if rec := e.get(authPath, cookies, nil); rec.Code != http.StatusOK || rec.Header().Get(HeaderConnection) != "test" {
		t.Fatalf("%s with a session: %d", authPath, rec.Code)
	}
	if rec := e.get(healthzPath, nil, nil); rec.Code != http.StatusOK {
		t.Fatalf("/healthz: %d", rec.Code)
	}
}

// TestForwardAuthOff: without forward_auth, /saml/auth is an ordinary
// protected path: it never answers the identity headers to the client.
func TestForwardAuthOff(t *testing.T) {
	e := newTestEnv(t, nil)
	cookies := e.login(t, samltest.Response{})
	rec := e.get(authPath, cookies, nil)
	if rec.Header().Get(HeaderUser) != "" {
		t.Fatal("the auth endpoint answered without forward_auth")
	}
	if e.receivedCount() != 1 {
		t.Fatalf("GET %s was not proxied to the upstream as any other path", authPath)
	}
}
