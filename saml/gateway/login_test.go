package gateway_test

import (
	"bytes"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
)

func TestGatewaySPInitiatedLogin(t *testing.T) {
	for _, redirect := range []bool{false, true} {
		name := "HTTP-POST"
		if redirect {
			name = "HTTP-Redirect"
		}
		t.Run(name, func(t *testing.T) {
			e := newGwEnv(t, gwOptions{connMod: func(c *saml.ConnectionConfig) { c.IdPSSORedirect = redirect }})
			b := e.browser()

			// The app sends the browser to the login page.
			res := b.get(gwHost+"/app/x?y=1", gwBrowserAccept)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("unauthenticated GET: status %d", res.StatusCode)
			}
			loc, _ := url.Parse(res.Header.Get("Location"))
			if loc.Path != "/login" || loc.Query().Get("connection") != "acme" || loc.Query().Get("return_to") != "/app/x?y=1" {
				t.Fatalf("redirect to %s", loc)
			}

			id, acs, relay := e.startLogin(b, loc.RawQuery)
			if acs != gwACS("acme") {
				t.Errorf("AuthnRequest ACS URL %q", acs)
			}
			if n := b.requestCookies(); n != 1 {
				t.Fatalf("%d request cookies at the ACS path, want 1", n)
			}
			r := e.response("acme")
			r.InResponseTo = id
			res = b.post(acs, e.mint(r), relay)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("ACS: status %d: %s", res.StatusCode, gwBody(t, res))
			}
			if got := res.Header.Get("Location"); got != "/app/x?y=1" {
				t.Errorf("ACS redirected to %q, want the return_to", got)
			}
			if ev := e.lastEvent(); ev.Code != "" || ev.IdPInitiated || ev.Connection != "acme" || ev.Duration <= 0 {
				t.Errorf("event %+v", ev)
			}
			// The request cookie is spent.
			for _, h := range res.Header.Values("Set-Cookie") {
				if strings.HasPrefix(h, gwRequestCookiePrefix) && !strings.Contains(h, "Max-Age=0") {
					t.Errorf("request cookie not cleared: %s", h)
				}
			}
			if n := b.requestCookies(); n != 0 {
				t.Errorf("%d request cookies left after the login", n)
			}
			res = b.get(gwHost+"/app/x?y=1", gwBrowserAccept)
			if got := gwBody(t, res); res.StatusCode != 200 || got != "hello alice@example.com groups=2 roles= path=/app/x?y=1" {
				t.Fatalf("after login: %d %q", res.StatusCode, got)
			}
			ident, err := e.gw.Identity(func() *http.Request {
				req := httptest.NewRequest(http.MethodGet, gwHost+"/", nil)
				for _, c := range b.jar.Cookies(req.URL) {
					req.AddCookie(c)
				}
				return req
			}())
			if err != nil || ident == nil || ident.Email != gwEmail || !ident.EmailVerified || ident.GivenName != "Alice" || ident.Connection != "acme" || ident.SessionIndex == "" {
				t.Fatalf("Identity: %+v, %v", ident, err)
			}
		})
	}
}

func TestGatewayRequestCookieAttributes(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	res := e.browser().get(gwHost+"/login?connection=acme", gwBrowserAccept)
	var h string
	for _, v := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, gwRequestCookiePrefix) {
			h = v
		}
	}
	// What the __Host- prefix requires: Secure, Path=/, no Domain.
	for _, want := range []string{"Path=/;", "Max-Age=600", "HttpOnly", "Secure", "SameSite=None"} {
		if !strings.Contains(h, want) {
			t.Errorf("request cookie %q lacks %s", h, want)
		}
	}
	if strings.Contains(h, "Domain=") {
		t.Errorf("request cookie %q has a Domain", h)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'nonce-") {
		t.Errorf("login form CSP %q", csp)
	}

	// InsecureCookies: no __Host- prefix; Lax without Secure, except on
	// localhost, where browsers keep Secure cookies over http.
	for _, tc := range []struct{ acs, want string }{
		{"http://demo.internal:8080/login/callback?connection=acme", "Path=/; Max-Age=600; HttpOnly; SameSite=Lax"},
		{"http://localhost:8080/login/callback?connection=acme", "Path=/; Max-Age=600; HttpOnly; Secure; SameSite=None"},
		{"http://127.0.0.1:8080/login/callback?connection=acme", "Path=/; Max-Age=600; HttpOnly; Secure; SameSite=None"},
	} {
		clk := &gwClock{t: gwPinned}
		idp := gwIdP(t, "idp", clk)
		conn := gwConn(t, "acme", idp, clk, func(c *saml.ConnectionConfig) { c.ACSURL = tc.acs })
		e = newGwEnv(t, gwOptions{clk: clk, idp: idp, conns: []*saml.Connection{conn}, cfgMod: func(c *gateway.Config) { c.InsecureCookies = true }})
		res = e.browser().get(gwHost+"/login?connection=acme", gwBrowserAccept)
		found := false
		for _, v := range res.Header.Values("Set-Cookie") {
			if strings.HasPrefix(v, "__Host-") {
				t.Errorf("%s: InsecureCookies cookie with the __Host- prefix (browsers refuse it without Secure): %q", tc.acs, v)
			}
			if strings.HasPrefix(v, "samlgate_req_") {
				found = true
				if !strings.HasSuffix(v, tc.want) {
					t.Errorf("%s: request cookie %q, want it to end with %q", tc.acs, v, tc.want)
				}
			}
		}
		if !found {
			t.Errorf("%s: no request cookie", tc.acs)
		}
	}
}

func TestGatewayIdPInitiatedLogin(t *testing.T) {
	e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.DefaultReturnTo = "/home" }})
	for _, tc := range []struct{ relay, want string }{
		{"", "/home"},
		{"/reports?q=1", "/reports?q=1"},
		{"https://evil.example/", "/home"},
		{"some-jumpcloud-text", "/home"},
	} {
		b := e.browser()
		res := b.post(gwACS("acme"), e.mint(e.response("acme")), tc.relay)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != tc.want {
			t.Errorf("RelayState %q: %d %q, want 303 %q", tc.relay, res.StatusCode, res.Header.Get("Location"), tc.want)
		}
		if ev := e.lastEvent(); ev.Code != "" || !ev.IdPInitiated {
			t.Errorf("event %+v", ev)
		}
		if res := b.get(gwHost+"/", "application/json"); res.StatusCode != 200 {
			t.Errorf("no session after IdP-initiated login: %d", res.StatusCode)
		}
	}
}

func TestGatewayReplay(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	form := e.mint(e.response("acme"))
	if res := e.browser().post(gwACS("acme"), form, ""); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("first POST: %d", res.StatusCode)
	}
	b := e.browser()
	res := b.post(gwACS("acme"), form, "")
	page := gwBody(t, res)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(page, "replayed") {
		t.Fatalf("second POST: %d %s", res.StatusCode, page)
	}
	if ev := e.lastEvent(); ev.Code != saml.CodeReplayed || ev.Connection != "acme" {
		t.Errorf("event %+v", ev)
	}
	if gwSetCookie(res, gateway.DefaultCookieName) != "" {
		t.Error("a session cookie was set for a replayed response")
	}
}

func TestGatewayUnknownConnection(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(gwLockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.Logger = logger }})
	b := e.browser()
	for _, tc := range []struct {
		name, value string
		do          func(target string) *http.Response
		path        string
	}{
		{"login, markup", "<script>alert(1)</script>", func(u string) *http.Response { return b.get(u, gwBrowserAccept) }, "/login"},
		{"login, text", "Please call +1 555 0100 to verify your account", func(u string) *http.Response { return b.get(u, gwBrowserAccept) }, "/login"},
		{"callback, markup", "<script>alert(1)</script>", func(u string) *http.Response { return b.post(u, e.mint(e.response("acme")), "") }, "/login/callback"},
		{"callback, text", "Your account is locked: visit evil.example", func(u string) *http.Response { return b.post(u, e.mint(e.response("acme")), "") }, "/login/callback"},
		{"metadata, markup", "<script>alert(1)</script>", func(u string) *http.Response { return b.get(u, "") }, "/saml/metadata"},
		{"metadata, text", "phishing-text-here", func(u string) *http.Response { return b.get(u, "") }, "/saml/metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.do(gwHost + tc.path + "?connection=" + url.QueryEscape(tc.value))
			page := gwBody(t, res)
			if res.StatusCode != http.StatusNotFound || !strings.Contains(page, "does not name a connection") || !strings.Contains(page, "unknown_connection") {
				t.Errorf("status %d:\n%s", res.StatusCode, page)
			}
			// The page never echoes the name, escaped or not.
			for _, echo := range []string{tc.value, html.EscapeString(tc.value), "alert", "evil.example", "555", "phishing"} {
				if strings.Contains(page, echo) {
					t.Errorf("the page echoes %q:\n%s", echo, page)
				}
			}
			// The Debug log has it, for the admin.
			mu.Lock()
			defer mu.Unlock()
			if !strings.Contains(logs.String(), `"connection":`+strconv.Quote(tc.value)) &&
				!strings.Contains(logs.String(), strings.ReplaceAll(strconv.Quote(tc.value), "<", `\u003c`)) {
				t.Errorf("the Debug log lacks the name %q:\n%s", tc.value, logs.String())
			}
		})
	}
	if ev := e.lastEvent(); ev.Code != gateway.CodeUnknownConnection || ev.Connection != "" {
		t.Errorf("event %+v: the connection label must not take attacker-chosen values", ev)
	}
	// The callback without ?connection= is no connection either.
	if res := b.post(gwHost+"/login/callback", e.mint(e.response("acme")), ""); res.StatusCode != http.StatusNotFound {
		t.Errorf("callback without connection: %d", res.StatusCode)
	}
}

// gwLockedWriter serializes writes to w.
type gwLockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l gwLockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestGatewayResponseForAnotherConnection(t *testing.T) {
	e := newGwEnv(t, gwOptions{connNames: []string{"acme", "beta"}})
	b := e.browser()
	res := b.post(gwACS("beta"), e.mint(e.response("acme")), "")
	page := gwBody(t, res)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(page, string(saml.CodeDestinationMismatch)) {
		t.Fatalf("acme's response at beta's ACS: %d\n%s", res.StatusCode, page)
	}
	// Right destination, wrong audience.
	r := e.response("acme")
	r.Destination = gwACS("beta")
	res = b.post(gwACS("beta"), e.mint(r), "")
	if page := gwBody(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, string(saml.CodeAudienceMismatch)) {
		t.Fatalf("acme's audience at beta's ACS: %d\n%s", res.StatusCode, page)
	}
	if ev := e.lastEvent(); ev.Connection != "beta" || ev.Code != saml.CodeAudienceMismatch {
		t.Errorf("event %+v", ev)
	}
}

func TestGatewayOpenRedirect(t *testing.T) {
	e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.DefaultReturnTo = "/home" }})
	for _, tc := range []struct{ returnTo, want string }{
		{"//evil.com", "/home"},
		{"//evil.com/path", "/home"},
		{"https://evil.com", "/home"},
		{"http:/evil.com", "/home"},
		{`/\evil.com`, "/home"},
		{`/\/evil.com`, "/home"},
		{"javascript:alert(1)", "/home"},
		{"%2F%2Fevil.com", "/home"},
		{"\t//evil", "/home"},
		{"/\t/evil.com", "/home"},
		{" /x", "/home"},
		{"/x\r\nSet-Cookie: a=b", "/home"},
		{"evil", "/home"},
		{"evil.com/x", "/home"},
		{"", "/home"},
		{"/" + strings.Repeat("a", 3000), "/home"},
		{"/reports?q=1&r=2", "/reports?q=1&r=2"},
		{"/%2F%2Fevil.com", "/%2F%2Fevil.com"}, // a path on this site
		{"/", "/"},
	} {
		// SP-initiated: return_to given to /login, carried in the RelayState.
		b := e.browser()
		id, acs, relay := e.startLogin(b, url.Values{"connection": {"acme"}, "return_to": {tc.returnTo}}.Encode())
		r := e.response("acme")
		r.InResponseTo = id
		res := b.post(acs, e.mint(r), relay)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != tc.want {
			t.Errorf("SP-initiated return_to %q: %d %q, want %q", tc.returnTo, res.StatusCode, res.Header.Get("Location"), tc.want)
		}
		// IdP-initiated: the same value as the IdP's RelayState.
		res = e.browser().post(gwACS("acme"), e.mint(e.response("acme")), tc.returnTo)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != tc.want {
			t.Errorf("IdP-initiated RelayState %q: %d %q, want %q", tc.returnTo, res.StatusCode, res.Header.Get("Location"), tc.want)
		}
		// Logout: return_to goes to the signed-out page's "Sign in
		// again" link, only when it is a local path.
		req := httptest.NewRequest(http.MethodPost, gwHost+"/logout", strings.NewReader(url.Values{"return_to": {tc.returnTo}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res = b.do(req)
		q := url.Values{"connection": {"acme"}}
		if tc.want != "/home" {
			q.Set("return_to", tc.want)
		}
		if want := "/logout?" + q.Encode(); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Errorf("logout return_to %q: %d %q, want %q", tc.returnTo, res.StatusCode, res.Header.Get("Location"), want)
		}
		page := gwBody(t, b.get(gwHost+res.Header.Get("Location"), "text/html"))
		if want := `href="` + html.EscapeString("/login?"+q.Encode()) + `"`; !strings.Contains(page, want) {
			t.Errorf("logout return_to %q: the signed-out page has no link %s:\n%s", tc.returnTo, want, page)
		}
	}
}

func TestGatewayRelayStateWithoutCookie(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	victim, attacker := e.browser(), e.browser()

	// The attacker starts a login, signs in as themselves, and has the
	// victim's browser post the result with the attacker's RelayState.
	id, acs, relay := e.startLogin(attacker, "connection=acme")
	r := e.response("acme")
	r.InResponseTo = id
	form := e.mint(r)
	res := victim.post(acs, form, relay)
	page := gwBody(t, res)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(page, string(saml.CodeInResponseToMismatch)) || !strings.Contains(page, "did not send back the cookie") {
		t.Fatalf("RelayState without its cookie: %d\n%s", res.StatusCode, page)
	}
	if ev := e.lastEvent(); ev.Code != saml.CodeInResponseToMismatch || ev.IdPInitiated {
		t.Errorf("event %+v", ev)
	}
	if victim.get(gwHost+"/", "application/json").StatusCode != http.StatusUnauthorized {
		t.Error("the victim got a session")
	}
	// The refusal did not consume the assertion: its own browser still
	// completes the login.
	if res := attacker.post(acs, form, relay); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the legitimate browser: %d %s", res.StatusCode, gwBody(t, res))
	}

	// A cookie from another login in the same browser does not match.
	b := e.browser()
	_, _, relay1 := e.startLogin(b, "connection=acme")
	id2, _, _ := e.startLogin(attacker, "connection=acme")
	r = e.response("acme")
	r.InResponseTo = id2
	if res := b.post(acs, e.mint(r), relay1); res.StatusCode != http.StatusBadRequest || e.lastEvent().Code != saml.CodeInResponseToMismatch {
		t.Errorf("response to another browser's request: %d, code %q", res.StatusCode, e.lastEvent().Code)
	}
}

// A connection without an IdP URL cannot start SP-initiated logins: the
// login page says so with config_invalid, and IdP-initiated logins still
// work.
func TestGatewayLoginWithoutIdPSSOURL(t *testing.T) {
	clk := &gwClock{t: gwPinned}
	idp := gwIdP(t, "idp", clk)
	conn := gwConn(t, "acme", idp, clk, func(c *saml.ConnectionConfig) { c.IdPSSOURL = "" })
	e := newGwEnv(t, gwOptions{clk: clk, idp: idp, conns: []*saml.Connection{conn}})
	res := e.browser().get(gwHost+"/login", gwBrowserAccept)
	if page := gwBody(t, res); res.StatusCode != http.StatusInternalServerError || !strings.Contains(page, "config_invalid") {
		t.Errorf("GET /login without IdPSSOURL: %d\n%s", res.StatusCode, page)
	}
	if res := e.login(e.browser(), e.response("acme")); res.StatusCode != http.StatusSeeOther {
		t.Errorf("IdP-initiated login without IdPSSOURL: %d", res.StatusCode)
	}
}

func TestGatewayTwoTabs(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	b := e.browser()
	id1, acs, relay1 := e.startLogin(b, "connection=acme&return_to=/one")
	id2, _, relay2 := e.startLogin(b, "connection=acme&return_to=/two")
	for _, tc := range []struct{ id, relay, want string }{{id2, relay2, "/two"}, {id1, relay1, "/one"}} {
		r := e.response("acme")
		r.InResponseTo = tc.id
		res := b.post(acs, e.mint(r), tc.relay)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != tc.want {
			t.Errorf("tab %s: %d %q", tc.want, res.StatusCode, res.Header.Get("Location"))
		}
	}
}

func TestGatewayLoginRequestExpires(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	b := e.browser()
	id, acs, relay := e.startLogin(b, "connection=acme")
	e.clk.Advance(gateway.LoginRequestLifetime + time.Second)
	r := e.response("acme")
	r.InResponseTo = id
	res := b.post(acs, e.mint(r), relay)
	if page := gwBody(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, "took too long") {
		t.Fatalf("expired login request: %d\n%s", res.StatusCode, page)
	}
}

func TestGatewayPurposeSeparation(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	b := e.browser()
	id, acs, relay := e.startLogin(b, "connection=acme")

	// A RelayState presented as a session cookie is no session.
	req := httptest.NewRequest(http.MethodGet, gwHost+"/", nil)
	req.AddCookie(&http.Cookie{Name: gateway.DefaultCookieName, Value: relay})
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("RelayState as a session cookie: %d", rec.Code)
	}

	// A session cookie presented as a RelayState is not a tracked request.
	other := e.browser()
	res := e.login(other, e.response("acme"))
	session := res.Cookies()[len(res.Cookies())-1].Value
	r := e.response("acme")
	r.InResponseTo = id
	res = b.post(acs, e.mint(r), session)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(gwBody(t, res), string(saml.CodeInResponseToMismatch)) {
		t.Fatalf("session cookie as a RelayState: %d", res.StatusCode)
	}
}
