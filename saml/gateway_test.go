package saml_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

// Test helpers of the gateway tests are prefixed gw, to stay clear of the
// other test files of package saml_test.

const (
	gwHost     = "https://auth.example.com"
	gwEntityID = "https://sso.jumpcloud.com/saml2/acme"
	gwEmail    = "alice@example.com"
)

// gwPinned is inside the validity of testdata/keys/idp.crt.pem.
var gwPinned = time.Date(2026, 1, 15, 10, 0, 30, 0, time.UTC)

func gwACS(name string) string { return gwHost + "/login/callback?connection=" + name }

// gwClock is a settable clock shared by the IdP, the connections and the
// gateway.
type gwClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *gwClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *gwClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func gwKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func gwDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// gwIdP is the JumpCloud-shaped test IdP signing with testdata/keys/NAME.
func gwIdP(t testing.TB, name string, clk *gwClock) *samltest.IdP {
	t.Helper()
	dir := filepath.Join("..", "testdata", "keys")
	keyPEM, err := os.ReadFile(filepath.Join(dir, name+".key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, name+".crt.pem"))
	if err != nil {
		t.Fatal(err)
	}
	key, cert, err := samltest.LoadKeyPair(keyPEM, certPEM)
	if err != nil {
		t.Fatal(err)
	}
	idp := samltest.New(key, cert, gwEntityID)
	idp.Now = clk.Now
	return idp
}

func gwConn(t testing.TB, name string, idp *samltest.IdP, clk *gwClock, mod func(*saml.ConnectionConfig)) *saml.Connection {
	t.Helper()
	cfg := saml.ConnectionConfig{
		Name:               name,
		SPEntityID:         "urn:samlgate:" + name,
		ACSURL:             gwACS(name),
		IdPEntityID:        idp.EntityID,
		IdPSSOURL:          idp.SSOURL,
		IdPCertificatesPEM: [][]byte{idp.CertificatePEM()},
		Now:                clk.Now,
		Logger:             gwDiscard(),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := saml.NewConnection(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// gwEnv is a gateway in front of a small app:
//
//	/        RequireLogin: "hello <subject> groups=<n> roles=<roles>"
//	/admin   RequireLogin + RequireGroup("Admins")
//	/ops     RequireLogin + RequireRole("operator")
type gwEnv struct {
	t       testing.TB
	clk     *gwClock
	idp     *samltest.IdP
	conns   []*saml.Connection
	gw      *saml.Gateway
	handler http.Handler

	mu     sync.Mutex
	events []saml.LoginEvent
}

type gwOptions struct {
	connNames []string
	connMod   func(*saml.ConnectionConfig)
	cfgMod    func(*saml.GatewayConfig)
	clk       *gwClock
	conns     []*saml.Connection
	idp       *samltest.IdP
}

func newGwEnv(t testing.TB, o gwOptions) *gwEnv {
	t.Helper()
	e := &gwEnv{t: t, clk: o.clk, idp: o.idp, conns: o.conns}
	if e.clk == nil {
		e.clk = &gwClock{t: gwPinned}
	}
	if e.idp == nil {
		e.idp = gwIdP(t, "idp", e.clk)
	}
	if e.conns == nil {
		if o.connNames == nil {
			o.connNames = []string{"acme"}
		}
		for _, n := range o.connNames {
			e.conns = append(e.conns, gwConn(t, n, e.idp, e.clk, o.connMod))
		}
	}
	cfg := saml.GatewayConfig{
		Connections: e.conns,
		SessionKeys: [][]byte{gwKey(1)},
		Now:         e.clk.Now,
		Logger:      gwDiscard(),
		Observer: func(ev saml.LoginEvent) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		},
	}
	if o.cfgMod != nil {
		o.cfgMod(&cfg)
	}
	gw, err := saml.NewGateway(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.gw = gw
	e.handler = gwApp(gw)
	return e
}

func gwApp(gw *saml.Gateway) http.Handler {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := saml.IdentityFromContext(r.Context())
		if !ok {
			http.Error(w, "no identity in context", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "hello %s groups=%d roles=%s path=%s", id.Subject, len(id.Groups), strings.Join(id.Roles, ","), r.URL.RequestURI())
	})
	mux := http.NewServeMux()
	for _, p := range []string{"/login", "/login/callback", "/saml/metadata", "/logout"} {
		mux.Handle(p, gw)
	}
	mux.Handle("/", gw.RequireLogin(app))
	mux.Handle("/admin", gw.RequireLogin(saml.RequireGroup("Admins")(app)))
	mux.Handle("/ops", gw.RequireLogin(saml.RequireRole("operator")(app)))
	return mux
}

func (e *gwEnv) lastEvent() saml.LoginEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.events) == 0 {
		e.t.Fatal("Observer was not called")
	}
	return e.events[len(e.events)-1]
}

func (e *gwEnv) eventCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.events)
}

// response returns the standard response options for connection name.
func (e *gwEnv) response(name string) samltest.Response {
	return samltest.Response{
		Audience:      "urn:samlgate:" + name,
		Destination:   gwACS(name),
		NameID:        gwEmail,
		Email:         gwEmail,
		EmailVerified: "true",
		GivenName:     "Alice",
		FamilyName:    "Liddell",
		Groups:        []string{"Engineering", "Everyone"},
	}
}

func (e *gwEnv) mint(r samltest.Response) string {
	e.t.Helper()
	v, err := e.idp.FormValue(r)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// gwBrowser keeps cookies like a browser (Secure, Path, Max-Age).
type gwBrowser struct {
	t   testing.TB
	h   http.Handler
	jar *cookiejar.Jar
}

func (e *gwEnv) browser() *gwBrowser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &gwBrowser{t: e.t, h: e.handler, jar: jar}
}

func (b *gwBrowser) do(req *http.Request) *http.Response {
	for _, c := range b.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	res := rec.Result()
	b.jar.SetCookies(req.URL, res.Cookies())
	return res
}

func (b *gwBrowser) get(target, accept string) *http.Response {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return b.do(req)
}

func (b *gwBrowser) post(acs, samlResponse, relayState string) *http.Response {
	return b.do(samltest.NewPostRequest(acs, samlResponse, relayState))
}

// gwRequestCookiePrefix names the login request cookies (without
// InsecureCookies).
const gwRequestCookiePrefix = "__Host-samlgate_req_"

// requestCookies counts the login request cookies the browser would send
// to the ACS.
func (b *gwBrowser) requestCookies() int {
	b.t.Helper()
	n := 0
	u, _ := url.Parse(gwACS("acme"))
	for _, c := range b.jar.Cookies(u) {
		if strings.HasPrefix(c.Name, gwRequestCookiePrefix) {
			n++
		}
	}
	return n
}

const gwBrowserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

func gwBody(t testing.TB, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	gwFormAction = regexp.MustCompile(`action="([^"]*)"`)
	gwFormInput  = regexp.MustCompile(`name="(SAMLRequest|RelayState)" value="([^"]*)"`)
)

// startLogin does GET /login in browser b and plays the IdP's part of an
// SP-initiated login: it returns the AuthnRequest ID, the ACS URL it names
// and the RelayState.
func (e *gwEnv) startLogin(b *gwBrowser, query string) (id, acs, relay string) {
	e.t.Helper()
	res := b.get(gwHost+"/login?"+query, gwBrowserAccept)
	var req *http.Request
	switch res.StatusCode {
	case http.StatusFound: // HTTP-Redirect binding
		req = httptest.NewRequest(http.MethodGet, res.Header.Get("Location"), nil)
	case http.StatusOK: // HTTP-POST binding: submit the auto-posting form
		page := gwBody(e.t, res)
		m := gwFormAction.FindStringSubmatch(page)
		if m == nil {
			e.t.Fatalf("no form in the login page:\n%s", page)
		}
		form := url.Values{}
		for _, in := range gwFormInput.FindAllStringSubmatch(page, -1) {
			form.Set(in[1], html.UnescapeString(in[2]))
		}
		req = httptest.NewRequest(http.MethodPost, html.UnescapeString(m[1]), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	default:
		e.t.Fatalf("GET /login?%s: status %d: %s", query, res.StatusCode, gwBody(e.t, res))
	}
	id, acs, relay, err := e.idp.ParseAuthnRequest(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return id, acs, relay
}

// login does a complete IdP-initiated login in b.
func (e *gwEnv) login(b *gwBrowser, r samltest.Response) *http.Response {
	e.t.Helper()
	res := b.post(r.Destination, e.mint(r), "")
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login: status %d: %s", res.StatusCode, gwBody(e.t, res))
	}
	return res
}

func gwSetCookie(res *http.Response, name string) string {
	for _, h := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, name+"=") {
			return h
		}
	}
	return ""
}

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
		e = newGwEnv(t, gwOptions{clk: clk, idp: idp, conns: []*saml.Connection{conn}, cfgMod: func(c *saml.GatewayConfig) { c.InsecureCookies = true }})
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
	e := newGwEnv(t, gwOptions{cfgMod: func(c *saml.GatewayConfig) { c.DefaultReturnTo = "/home" }})
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
	if gwSetCookie(res, saml.DefaultCookieName) != "" {
		t.Error("a session cookie was set for a replayed response")
	}
}

func TestGatewayUnknownConnection(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(gwLockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newGwEnv(t, gwOptions{cfgMod: func(c *saml.GatewayConfig) { c.Logger = logger }})
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
			if res.StatusCode != http.StatusNotFound || !strings.Contains(page, "unknown connection") || !strings.Contains(page, "unknown_connection") {
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
	if ev := e.lastEvent(); ev.Code != saml.CodeUnknownConnection || ev.Connection != "" {
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
	e := newGwEnv(t, gwOptions{cfgMod: func(c *saml.GatewayConfig) { c.DefaultReturnTo = "/home" }})
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
		// Logout.
		req := httptest.NewRequest(http.MethodPost, gwHost+"/logout", strings.NewReader(url.Values{"return_to": {tc.returnTo}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res = b.do(req)
		want := tc.want
		if want == "/home" {
			want = "/"
		}
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Errorf("logout return_to %q: %d %q, want %q", tc.returnTo, res.StatusCode, res.Header.Get("Location"), want)
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
	if res := b.post(acs, e.mint(r), relay1); res.StatusCode != http.StatusBadRequest {
		t.Errorf("response to another browser's request: %d", res.StatusCode)
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
	e.clk.Advance(saml.LoginRequestLifetime + time.Second)
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
	req.AddCookie(&http.Cookie{Name: saml.DefaultCookieName, Value: relay})
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

func TestGatewayAPIvsBrowser(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	b := e.browser()
	res := b.get(gwHost+"/api/things?x=1", "application/json")
	if got := gwBody(t, res); res.StatusCode != http.StatusUnauthorized || strings.TrimSpace(got) != `{"error":"login_required"}` || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("API client: %d %q", res.StatusCode, got)
	}
	req := httptest.NewRequest(http.MethodPost, gwHost+"/api/things", nil)
	req.Header.Set("Accept", gwBrowserAccept)
	if res := b.do(req); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST from a browser: %d, want 401 (only page loads are redirected)", res.StatusCode)
	}
	res = b.get(gwHost+"/api/things?x=1", gwBrowserAccept)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?connection=acme&return_to=%2Fapi%2Fthings%3Fx%3D1" {
		t.Errorf("browser: %d %q", res.StatusCode, res.Header.Get("Location"))
	}

	// Several connections: the request's ?connection=, else the chooser.
	e = newGwEnv(t, gwOptions{connNames: []string{"acme", "beta"}})
	b = e.browser()
	res = b.get(gwHost+"/app?connection=beta", gwBrowserAccept)
	if loc, _ := url.Parse(res.Header.Get("Location")); loc.Query().Get("connection") != "beta" || loc.Query().Get("return_to") != "/app?connection=beta" {
		t.Errorf("with ?connection=beta: %q", res.Header.Get("Location"))
	}
	res = b.get(gwHost+"/app", gwBrowserAccept)
	loc, _ := url.Parse(res.Header.Get("Location"))
	if loc.Path != "/login" || loc.Query().Has("connection") || loc.Query().Get("return_to") != "/app" {
		t.Fatalf("without a connection: %q", res.Header.Get("Location"))
	}
	res = b.get(gwHost+loc.String(), gwBrowserAccept)
	page := gwBody(t, res)
	if res.StatusCode != http.StatusOK ||
		!strings.Contains(page, `href="/login?connection=acme&amp;return_to=%2Fapp"`) ||
		!strings.Contains(page, `href="/login?connection=beta&amp;return_to=%2Fapp"`) {
		t.Errorf("chooser: %d\n%s", res.StatusCode, page)
	}
}

func TestGatewayRequireGroupAndRole(t *testing.T) {
	e := newGwEnv(t, gwOptions{connMod: func(c *saml.ConnectionConfig) {
		c.Groups = groups.Config{Roles: []groups.RoleMapping{{Group: "Admins", Role: "operator"}}}
	}})
	user := e.browser()
	e.login(user, e.response("acme"))
	admin := e.browser()
	r := e.response("acme")
	r.Groups = []string{"Admins"}
	e.login(admin, r)

	for _, tc := range []struct {
		b      *gwBrowser
		path   string
		accept string
		status int
		want   string
	}{
		{user, "/admin", "application/json", 403, `{"error":"forbidden"}`},
		{user, "/ops", "application/json", 403, `{"error":"forbidden"}`},
		{user, "/admin", gwBrowserAccept, 403, "Access denied"},
		{admin, "/admin", "application/json", 200, "roles=operator"},
		{admin, "/ops", "application/json", 200, "roles=operator"},
		{e.browser(), "/admin", "application/json", 401, "login_required"},
	} {
		res := tc.b.get(gwHost+tc.path, tc.accept)
		if got := gwBody(t, res); res.StatusCode != tc.status || !strings.Contains(got, tc.want) {
			t.Errorf("%s (%s): %d %q, want %d %q", tc.path, tc.accept, res.StatusCode, got, tc.status, tc.want)
		}
	}

	// Without RequireLogin in front: 401, not a panic.
	rec := httptest.NewRecorder()
	saml.RequireGroup("Admins")(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("RequireGroup without an identity: %d", rec.Code)
	}
	// ContextWithIdentity, for handler tests.
	rec = httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req = req.WithContext(saml.ContextWithIdentity(req.Context(), &saml.Identity{Roles: []string{"operator"}}))
	saml.RequireRole("operator")(http.NotFoundHandler()).ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("RequireRole with the role: %d", rec.Code)
	}
}

func TestGatewayOnLoginRefused(t *testing.T) {
	var seen *saml.Identity
	e := newGwEnv(t, gwOptions{cfgMod: func(c *saml.GatewayConfig) {
		c.OnLogin = func(_ context.Context, id *saml.Identity) error {
			seen = id
			return fmt.Errorf("user %s is suspended", id.Email)
		}
	}})
	b := e.browser()
	res := b.post(gwACS("acme"), e.mint(e.response("acme")), "")
	page := gwBody(t, res)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(page, "login_refused") {
		t.Fatalf("OnLogin error: %d\n%s", res.StatusCode, page)
	}
	if strings.Contains(page, "suspended") || strings.Contains(page, gwEmail) {
		t.Errorf("the page shows the OnLogin error or the email:\n%s", page)
	}
	if gwSetCookie(res, saml.DefaultCookieName) != "" {
		t.Error("a session cookie was set")
	}
	if b.get(gwHost+"/", "application/json").StatusCode != http.StatusUnauthorized {
		t.Error("a session exists after a refused login")
	}
	if seen == nil || len(seen.Attributes) == 0 {
		t.Error("OnLogin did not see the full identity with its attributes")
	}
	if ev := e.lastEvent(); ev.Code != saml.CodeLoginRefused {
		t.Errorf("event %+v", ev)
	}
}

func TestGatewayErrorPages(t *testing.T) {
	e := newGwEnv(t, gwOptions{connMod: func(c *saml.ConnectionConfig) {
		c.Groups = groups.Config{AllowedGroups: []string{"Admins"}}
		c.MaxResponseBytes = 20_000
	}})
	b := e.browser()
	reqID := regexp.MustCompile(`Request ID: <code>[0-9a-f]{16}</code>`)

	r := e.response("acme")
	r.Groups = []string{"Engineering", "Secret-Project-X"}
	res := b.post(gwACS("acme"), e.mint(r), "")
	page := gwBody(t, res)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(page, "group_not_allowed") || !reqID.MatchString(page) {
		t.Errorf("group_not_allowed: %d\n%s", res.StatusCode, page)
	}
	for _, secret := range []string{gwEmail, "Secret-Project-X", "Engineering", "urn:samlgate", "sso.jumpcloud.com"} {
		if strings.Contains(page, secret) {
			t.Errorf("the error page shows %q", secret)
		}
	}
	if res.Header.Get("Cache-Control") != "no-store" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("error page headers %v", res.Header)
	}

	r = e.response("acme")
	r.EmailVerified = "false"
	r.Groups = []string{"Admins"}
	if res := b.post(gwACS("acme"), e.mint(r), ""); res.StatusCode != http.StatusForbidden {
		t.Errorf("email_not_verified: %d", res.StatusCode)
	}

	// Body over the connection's limit: too_large, before any parsing.
	res = b.post(gwACS("acme"), strings.Repeat("A", 200_000), "")
	if page := gwBody(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, "too_large") {
		t.Errorf("oversize body: %d\n%s", res.StatusCode, page)
	}
	// No SAMLResponse.
	req := httptest.NewRequest(http.MethodPost, gwACS("acme"), strings.NewReader("RelayState=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res := b.do(req); res.StatusCode != http.StatusBadRequest || !strings.Contains(gwBody(t, res), "malformed") {
		t.Errorf("no SAMLResponse: %d", res.StatusCode)
	}
	if ev := e.lastEvent(); ev.Code != saml.CodeMalformed {
		t.Errorf("event %+v", ev)
	}
}

func TestGatewayMethodsAndPaths(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodGet, "/login/callback?connection=acme", 405, "POST"},
		{http.MethodPost, "/login?connection=acme", 405, "GET"},
		{http.MethodGet, "/logout", 405, "POST"},
		{http.MethodPost, "/saml/metadata?connection=acme", 405, "GET, HEAD"},
	} {
		rec := httptest.NewRecorder()
		e.gw.ServeHTTP(rec, httptest.NewRequest(tc.method, gwHost+tc.path, nil))
		if rec.Code != tc.status || rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"))
		}
	}
	rec := httptest.NewRecorder()
	e.gw.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, gwHost+"/elsewhere", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("other path: %d", rec.Code)
	}
	if e.eventCount() != 0 {
		t.Error("Observer called without a callback POST")
	}
}

func TestGatewayMetadataEndpoint(t *testing.T) {
	e := newGwEnv(t, gwOptions{connNames: []string{"acme", "beta"}})
	res := e.browser().get(gwHost+"/saml/metadata?connection=beta", "")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/samlmetadata+xml" {
		t.Fatalf("metadata: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	md := gwBody(t, res)
	for _, want := range []string{
		`entityID="urn:samlgate:beta"`,
		`Location="https://auth.example.com/login/callback?connection=beta"`,
		`Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"`,
		`WantAssertionsSigned="true"`,
		`AuthnRequestsSigned="false"`,
	} {
		if !strings.Contains(md, want) {
			t.Errorf("metadata lacks %s:\n%s", want, md)
		}
	}
	if strings.Contains(md, "validUntil") {
		t.Error("metadata has a validUntil: an uploaded copy would expire")
	}
	// Several connections and none named: 404.
	if res := e.browser().get(gwHost+"/saml/metadata", ""); res.StatusCode != http.StatusNotFound {
		t.Errorf("metadata without connection: %d", res.StatusCode)
	}
}

func TestGatewayLogout(t *testing.T) {
	store := newGwStore()
	for _, tc := range []struct {
		name  string
		store saml.SessionStore
	}{{"stateless", nil}, {"store", store}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGwEnv(t, gwOptions{cfgMod: func(c *saml.GatewayConfig) { c.SessionStore = tc.store }})
			b := e.browser()
			e.login(b, e.response("acme"))
			if tc.store != nil && store.len() != 1 {
				t.Fatalf("store holds %d sessions", store.len())
			}

			// A cross-site POST cannot log the user out.
			req := httptest.NewRequest(http.MethodPost, gwHost+"/logout", nil)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			if res := b.do(req); res.StatusCode != http.StatusForbidden {
				t.Errorf("cross-site logout: %d", res.StatusCode)
			}
			if b.get(gwHost+"/", "application/json").StatusCode != 200 {
				t.Fatal("logged out by a cross-site POST")
			}

			req = httptest.NewRequest(http.MethodPost, gwHost+"/logout?return_to=/bye", nil)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			res := b.do(req)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/bye" {
				t.Errorf("logout: %d %q", res.StatusCode, res.Header.Get("Location"))
			}
			if h := gwSetCookie(res, saml.DefaultCookieName); !strings.Contains(h, "Max-Age=0") {
				t.Errorf("session cookie not cleared: %q", h)
			}
			if b.get(gwHost+"/", "application/json").StatusCode != http.StatusUnauthorized {
				t.Error("still logged in")
			}
			if tc.store != nil && store.len() != 0 {
				t.Errorf("store still holds %d sessions", store.len())
			}
		})
	}
}

func TestGatewayObserver(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	b := e.browser()
	form := e.mint(e.response("acme"))
	b.post(gwACS("acme"), form, "")
	b.post(gwACS("acme"), form, "")
	id, acs, relay := e.startLogin(b, "connection=acme")
	r := e.response("acme")
	r.InResponseTo = id
	b.post(acs, e.mint(r), relay)
	r.InResponseTo = "id-not-ours"
	b.post(acs, e.mint(r), "")
	b.post(gwACS("nope"), form, "")

	want := []saml.LoginEvent{
		{Connection: "acme", Code: "", IdPInitiated: true},
		{Connection: "acme", Code: saml.CodeReplayed, IdPInitiated: true},
		{Connection: "acme", Code: "", IdPInitiated: false},
		{Connection: "acme", Code: saml.CodeInResponseToMismatch, IdPInitiated: true},
		{Connection: "", Code: saml.CodeUnknownConnection, IdPInitiated: true},
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.events) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(e.events), len(want), e.events)
	}
	for i, ev := range e.events {
		d := ev.Duration
		ev.Duration = 0
		if ev != want[i] {
			t.Errorf("event %d: %+v, want %+v", i, ev, want[i])
		}
		if (i < 4) != (d > 0) {
			t.Errorf("event %d: Duration %s", i, d)
		}
	}
}

func TestGatewaySetConnectionConcurrent(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			e.gw.SetConnection(gwConn(t, "acme", e.idp, e.clk, nil))
		}()
		go func() {
			defer wg.Done()
			b := e.browser()
			if res := b.post(gwACS("acme"), e.mint(e.response("acme")), ""); res.StatusCode != http.StatusSeeOther {
				t.Errorf("login during SetConnection: %d", res.StatusCode)
			}
			if res := b.get(gwHost+"/", "application/json"); res.StatusCode != 200 {
				t.Errorf("session during SetConnection: %d", res.StatusCode)
			}
		}()
	}
	wg.Wait()
	e.gw.SetConnection(gwConn(t, "beta", e.idp, e.clk, nil))
	if _, ok := e.gw.Connection("beta"); !ok {
		t.Error("SetConnection did not add beta")
	}
}

func TestNewGatewayErrors(t *testing.T) {
	clk := &gwClock{t: gwPinned}
	idp := gwIdP(t, "idp", clk)
	acme := gwConn(t, "acme", idp, clk, nil)
	noQuery := gwConn(t, "noq", idp, clk, func(c *saml.ConnectionConfig) { c.ACSURL = gwHost + "/login/callback" })
	wrongPath := gwConn(t, "wp", idp, clk, func(c *saml.ConnectionConfig) { c.ACSURL = gwHost + "/acs?connection=wp" })
	for _, tc := range []struct {
		name string
		cfg  saml.GatewayConfig
		want string
	}{
		{"no keys", saml.GatewayConfig{}, "SessionKeys is empty"},
		{"short key", saml.GatewayConfig{SessionKeys: [][]byte{[]byte("too short")}}, "SessionKeys[0] is 9 bytes"},
		{"unsafe DefaultReturnTo", saml.GatewayConfig{SessionKeys: [][]byte{gwKey(1)}, DefaultReturnTo: "https://evil.com"}, "DefaultReturnTo"},
		{"negative lifetime", saml.GatewayConfig{SessionKeys: [][]byte{gwKey(1)}, SessionLifetime: -time.Second}, "SessionLifetime"},
		{"duplicate names", saml.GatewayConfig{SessionKeys: [][]byte{gwKey(1)}, Connections: []*saml.Connection{acme, acme}}, `two connections are named "acme"`},
		{"nil connection", saml.GatewayConfig{SessionKeys: [][]byte{gwKey(1)}, Connections: []*saml.Connection{nil}}, "Connections[0] is nil"},
		{"ACS without query", saml.GatewayConfig{SessionKeys: [][]byte{gwKey(1)}, Connections: []*saml.Connection{noQuery}}, "must carry ?connection=noq"},
		{"ACS on another path", saml.GatewayConfig{SessionKeys: [][]byte{gwKey(1)}, Connections: []*saml.Connection{wrongPath}}, "is not the gateway's CallbackPath"},
		{"same paths", saml.GatewayConfig{SessionKeys: [][]byte{gwKey(1)}, LoginPath: "/x", LogoutPath: "/x"}, "LoginPath and LogoutPath"},
		{"bad cookie name", saml.GatewayConfig{SessionKeys: [][]byte{gwKey(1)}, CookieName: "a b"}, "CookieName"},
	} {
		_, err := saml.NewGateway(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "config_invalid") {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	if _, err := saml.NewGateway(saml.GatewayConfig{SessionKeys: [][]byte{gwKey(1)}}); err != nil {
		t.Errorf("no connections yet (added later by SetConnection): %v", err)
	}
}

// gwStore is a SessionStore for tests: a map, ignoring expiry, with an
// optional failure.
type gwStore struct {
	mu   sync.Mutex
	m    map[string]*saml.Identity
	fail error
}

func newGwStore() *gwStore { return &gwStore{m: map[string]*saml.Identity{}} }

func (s *gwStore) Save(_ context.Context, id string, ident *saml.Identity, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.m[id] = ident
	return nil
}

func (s *gwStore) Load(_ context.Context, id string) (*saml.Identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	return s.m[id], nil
}

func (s *gwStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
	return nil
}

func (s *gwStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

func (s *gwStore) clear() {
	s.mu.Lock()
	clear(s.m)
	s.mu.Unlock()
}

func (s *gwStore) setFail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}
