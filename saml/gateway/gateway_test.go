package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
)

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

	// Several connections: the request's ?connection=, else the chooser
	// (an opt-in: TestGatewayNoConnectionOracle has the default).
	e = newGwEnv(t, gwOptions{connNames: []string{"acme", "beta"}, cfgMod: func(c *gateway.Config) { c.ConnectionChooser = true }})
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
	gateway.RequireGroup("Admins")(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("RequireGroup without an identity: %d", rec.Code)
	}
	// ContextWithIdentity, for handler tests.
	rec = httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req = req.WithContext(gateway.ContextWithIdentity(req.Context(), &saml.Identity{Roles: []string{"operator"}}))
	gateway.RequireRole("operator")(http.NotFoundHandler()).ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("RequireRole with the role: %d", rec.Code)
	}
}

func TestGatewayOnLoginRefused(t *testing.T) {
	var seen *saml.Identity
	e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) {
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
	if gwSetCookie(res, gateway.DefaultCookieName) != "" {
		t.Error("a session cookie was set")
	}
	if b.get(gwHost+"/", "application/json").StatusCode != http.StatusUnauthorized {
		t.Error("a session exists after a refused login")
	}
	if seen == nil || len(seen.Attributes) == 0 {
		t.Error("OnLogin did not see the full identity with its attributes")
	}
	if ev := e.lastEvent(); ev.Code != gateway.CodeLoginRefused {
		t.Errorf("event %+v", ev)
	}
}

func TestGatewayErrorPages(t *testing.T) {
	e := newGwEnv(t, gwOptions{connMod: func(c *saml.ConnectionConfig) {
		c.Groups = groups.Config{AllowedGroups: []string{"Admins"}}
		c.MaxResponseBytes = 20_000
	}})
	b := e.browser()
	reqID := regexp.MustCompile(`request ID <code>[0-9a-f]{16}</code>`)

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

	// Body over the connection's limit: too_large, 413 Content Too Large,
	// before any parsing.
	res = b.post(gwACS("acme"), strings.Repeat("A", 200_000), "")
	if page := gwBody(t, res); res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(page, "too_large") {
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
		{http.MethodPut, "/logout", 405, "GET, HEAD, POST"},
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
		`WantAssertionsSigned="false"`, // the default policy, either
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
		store gateway.SessionStore
	}{{"stateless", nil}, {"store", store}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.SessionStore = tc.store }})
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
			// Post/redirect/get to the signed-out page, never to return_to.
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/logout?connection=acme&return_to=%2Fbye" {
				t.Errorf("logout: %d %q", res.StatusCode, res.Header.Get("Location"))
			}
			if h := gwSetCookie(res, gateway.DefaultCookieName); !strings.Contains(h, "Max-Age=0") {
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

	want := []gateway.LoginEvent{
		{Connection: "acme", Code: "", IdPInitiated: true},
		{Connection: "acme", Code: saml.CodeReplayed, IdPInitiated: true},
		{Connection: "acme", Code: "", IdPInitiated: false},
		{Connection: "acme", Code: saml.CodeInResponseToMismatch, IdPInitiated: true},
		{Connection: "", Code: gateway.CodeUnknownConnection, IdPInitiated: true},
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

func TestNewErrors(t *testing.T) {
	clk := &gwClock{t: gwPinned}
	idp := gwIdP(t, "idp", clk)
	acme := gwConn(t, "acme", idp, clk, nil)
	noQuery := gwConn(t, "noq", idp, clk, func(c *saml.ConnectionConfig) { c.ACSURL = gwHost + "/login/callback" })
	wrongPath := gwConn(t, "wp", idp, clk, func(c *saml.ConnectionConfig) { c.ACSURL = gwHost + "/acs?connection=wp" })
	for _, tc := range []struct {
		name string
		cfg  gateway.Config
		want string
	}{
		{"no keys", gateway.Config{}, "SessionKeys is empty"},
		{"short key", gateway.Config{SessionKeys: [][]byte{[]byte("too short")}}, "SessionKeys[0] is 9 bytes"},
		{"unsafe DefaultReturnTo", gateway.Config{SessionKeys: [][]byte{gwKey(1)}, DefaultReturnTo: "https://evil.com"}, "DefaultReturnTo"},
		{"negative lifetime", gateway.Config{SessionKeys: [][]byte{gwKey(1)}, SessionLifetime: -time.Second}, "SessionLifetime"},
		{"duplicate names", gateway.Config{SessionKeys: [][]byte{gwKey(1)}, Connections: []*saml.Connection{acme, acme}}, `two connections are named "acme"`},
		{"nil connection", gateway.Config{SessionKeys: [][]byte{gwKey(1)}, Connections: []*saml.Connection{nil}}, "Connections[0] is nil"},
		{"ACS without query", gateway.Config{SessionKeys: [][]byte{gwKey(1)}, Connections: []*saml.Connection{noQuery}}, "must carry ?connection=noq"},
		{"ACS on another path", gateway.Config{SessionKeys: [][]byte{gwKey(1)}, Connections: []*saml.Connection{wrongPath}}, "is not the gateway's CallbackPath"},
		{"same paths", gateway.Config{SessionKeys: [][]byte{gwKey(1)}, LoginPath: "/x", LogoutPath: "/x"}, "LoginPath and LogoutPath"},
		{"bad cookie name", gateway.Config{SessionKeys: [][]byte{gwKey(1)}, CookieName: "a b"}, "CookieName"},
		{"negative MaxSessionsPerUser", gateway.Config{SessionKeys: [][]byte{gwKey(1)}, MaxSessionsPerUser: -1}, "MaxSessionsPerUser"},
		{"negative overflow limit", gateway.Config{SessionKeys: [][]byte{gwKey(1)}, OverflowLimits: gateway.MemorySessionLimits{MaxBytes: -1}}, "must not be negative"},
		{"overflow limits without an overflow store", gateway.Config{SessionKeys: [][]byte{gwKey(1)}, DisableOverflow: true, OverflowLimits: gateway.MemorySessionLimits{MaxSessions: 10}}, "leaves no in-memory overflow store"},
		{"overflow limits with a SessionStore", gateway.Config{SessionKeys: [][]byte{gwKey(1)}, SessionStore: newGwStore(), OverflowLimits: gateway.MemorySessionLimits{MaxBytes: 1 << 20}}, "leaves no in-memory overflow store"},
	} {
		_, err := gateway.New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "config_invalid") {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	if _, err := gateway.New(gateway.Config{SessionKeys: [][]byte{gwKey(1)}}); err != nil {
		t.Errorf("no connections yet (added later by SetConnection): %v", err)
	}
}
