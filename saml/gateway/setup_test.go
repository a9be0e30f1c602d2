package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
)

const setupBase = "http://admin.internal:9090/setup/"

// setupGet serves GET setupBase+query on h.
func setupGet(h http.Handler, query string) *http.Response {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, setupBase+query, nil))
	return rec.Result()
}

func allowAll(*http.Request) bool { return true }

func TestSetupHandlerAuthorization(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	var calls atomic.Int32
	cases := []struct {
		name      string
		authorize func(*http.Request) bool
		want      int
	}{
		{"nil check", nil, http.StatusForbidden},
		{"failing check", func(*http.Request) bool { calls.Add(1); return false }, http.StatusForbidden},
		{"check reading a header", func(r *http.Request) bool { return r.Header.Get("X-Admin") == "yes" }, http.StatusForbidden},
		{"passing check", allowAll, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := e.gw.SetupHandler(gateway.SetupConfig{Authorize: tc.authorize})
			for _, q := range []string{"", "?connection=acme", "?connection=acme&action=metadata", "?connection=acme&request_id=x"} {
				res := setupGet(h, q)
				body := gwBody(t, res)
				if res.StatusCode != tc.want {
					t.Errorf("GET %s: status %d, want %d", q, res.StatusCode, tc.want)
				}
				if tc.want == http.StatusForbidden && (strings.Contains(body, "urn:samlgate:acme") || res.Header.Get("Content-Disposition") != "") {
					t.Errorf("GET %s: a refused request shows the configuration: %s", q, body)
				}
			}
			// The test-login action mints no token for a refused request.
			res := setupGet(h, "?connection=acme&action=test")
			if tc.want == http.StatusForbidden && (res.StatusCode != http.StatusForbidden || res.Header.Get("Location") != "") {
				t.Errorf("test action: status %d, Location %q", res.StatusCode, res.Header.Get("Location"))
			}
		})
	}
	if calls.Load() == 0 {
		t.Error("the failing check was never called")
	}
	// Only GET and HEAD, after the check.
	h := e.gw.SetupHandler(gateway.SetupConfig{Authorize: allowAll})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, setupBase+"?connection=acme&action=test", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", rec.Code)
	}
}

func TestSetupPage(t *testing.T) {
	cases := []struct {
		name    string
		connMod func(*saml.ConnectionConfig)
		warn    time.Duration
		want    []string
		notWant []string
	}{{
		name: "jumpcloud",
		connMod: func(c *saml.ConnectionConfig) {
			c.Groups.AllowedGroups = []string{"Engineering"}
			c.IdP = saml.IdPJumpCloud
		},
		want: []string{
			"urn:samlgate:acme", "https://auth.example.com/login/callback?connection=acme",
			`download="samlgate-acme-sp-metadata.xml"`, "https://auth.example.com/saml/metadata?connection=acme",
			`<details id="guide-jumpcloud" open>`, "email_verified = true", "<code>memberOf</code>",
			"bind the allowed groups: Engineering", gwEntityID, "SHA-256", `href="?connection=acme&amp;action=test"`,
			"No refusal recorded",
		},
		notWant: []string{"has expired", "add the IdP&#39;s next certificate"},
	}, {
		name:    "okta with a custom group attribute",
		connMod: func(c *saml.ConnectionConfig) { c.IdP = saml.IdPOkta; c.Groups.AttributeNames = []string{"groups"} },
		want:    []string{`<details id="guide-okta" open>`, "<code>groups</code>", `<details id="guide-jumpcloud">`},
	}, {
		name:    "google requiring email_verified",
		connMod: func(c *saml.ConnectionConfig) { c.IdP = saml.IdPGoogle },
		want:    []string{`<details id="guide-google" open>`, "Google Workspace cannot send email_verified, and this connection requires it"},
	}, {
		name: "certificate close to expiry",
		warn: 100 * 365 * 24 * time.Hour,
		want: []string{"add the IdP&#39;s next certificate", `class="cert warn"`},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newGwEnv(t, gwOptions{connMod: tc.connMod})
			h := e.gw.SetupHandler(gateway.SetupConfig{Authorize: allowAll, CertificateWarning: tc.warn})
			res := setupGet(h, "?connection=acme")
			body := gwBody(t, res)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			certs, _ := e.conns[0].Certificates(context.Background())
			for _, w := range append(tc.want, saml.Fingerprint(certs[0])) {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %q", w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(body, w) {
					t.Errorf("the page has %q", w)
				}
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || res.Header.Get("Referrer-Policy") != "no-referrer" || res.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("headers %v", res.Header)
			}
		})
	}
	t.Run("index and unknown connection", func(t *testing.T) {
		e := newGwEnv(t, gwOptions{connNames: []string{"acme", "beta"}})
		h := e.gw.SetupHandler(gateway.SetupConfig{Authorize: allowAll})
		body := gwBody(t, setupGet(h, ""))
		if !strings.Contains(body, `href="?connection=acme"`) || !strings.Contains(body, `href="?connection=beta"`) {
			t.Errorf("index: %s", body)
		}
		if res := setupGet(h, "?connection=nope"); res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown connection: status %d", res.StatusCode)
		}
	})
}

func TestSetupMetadataDownload(t *testing.T) {
	for _, tc := range []struct{ name, file string }{
		{"acme", "samlgate-acme-sp-metadata.xml"},
		{"Acme Corp/ÉU", "samlgate-Acme_Corp___U-sp-metadata.xml"},
		{"..", "samlgate--sp-metadata.xml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &gwClock{t: gwPinned}
			idp := gwIdP(t, "idp", clk)
			c := gwConn(t, tc.name, idp, clk, func(cfg *saml.ConnectionConfig) {
				cfg.ACSURL = gwHost + "/login/callback?connection=" + url.QueryEscape(tc.name)
			})
			e := newGwEnv(t, gwOptions{clk: clk, idp: idp, conns: []*saml.Connection{c}})
			h := e.gw.SetupHandler(gateway.SetupConfig{Authorize: allowAll})
			res := setupGet(h, "?"+url.Values{"connection": {tc.name}, "action": {"metadata"}}.Encode())
			body := gwBody(t, res)
			want, _ := c.Metadata()
			if res.StatusCode != http.StatusOK || body != string(want) {
				t.Fatalf("status %d, body %q", res.StatusCode, body)
			}
			if got := res.Header.Get("Content-Disposition"); got != `attachment; filename=`+tc.file && got != `attachment; filename="`+tc.file+`"` {
				t.Errorf("Content-Disposition %q, want file %s", got, tc.file)
			}
			if res.Header.Get("Content-Type") != "application/samlmetadata+xml" {
				t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
			}
		})
	}
}

// startTestLogin presses the assistant's Test login button and follows
// the redirect to the public login endpoint in b: it returns the
// AuthnRequest ID, ACS URL and RelayState, as startLogin does.
func (e *gwEnv) startTestLogin(b *gwBrowser, h http.Handler) (id, acs, relay string) {
	e.t.Helper()
	res := setupGet(h, "?connection=acme&action=test")
	loc, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || err != nil {
		e.t.Fatalf("test action: status %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	if loc.Scheme+"://"+loc.Host != gwHost || loc.Path != "/login" || loc.Query().Get("connection") != "acme" || loc.Query().Get("setup_test") == "" {
		e.t.Fatalf("the test login starts at %s, want %s/login?connection=acme&setup_test=...", loc, gwHost)
	}
	return e.startLogin(b, loc.RawQuery)
}

// noSession fails when res sets a session cookie.
func noSession(t *testing.T, res *http.Response) {
	t.Helper()
	for _, c := range res.Cookies() {
		if strings.Contains(c.Name, "samlgate_session") && c.Value != "" {
			t.Errorf("a test login set the session cookie %s", c.Name)
		}
	}
}

func TestTestLogin(t *testing.T) {
	var onLogin atomic.Int32
	e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) {
		c.OnLogin = func(context.Context, *saml.Identity) error { onLogin.Add(1); return nil }
		c.PreviewTeams = func(_ context.Context, id *saml.Identity) ([]string, error) {
			return []string{"team-" + id.Groups[0]}, nil
		}
	}})
	h := e.gw.SetupHandler(gateway.SetupConfig{Authorize: allowAll})
	b := e.browser()
	id, acs, relay := e.startTestLogin(b, h)
	r := e.response("acme")
	r.InResponseTo = id
	resp := e.mint(r)
	res := b.post(acs, resp, relay)
	body := gwBody(t, res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("test login: status %d: %s", res.StatusCode, body)
	}
	noSession(t, res)
	for _, w := range []string{`id="identity"`, gwEmail, "verified, by the IdP", "<code>Engineering</code>", "<code>team-Engineering</code>", "email_verified"} {
		if !strings.Contains(body, w) {
			t.Errorf("the result lacks %q", w)
		}
	}
	if onLogin.Load() != 0 {
		t.Error("a test login ran OnLogin")
	}
	if ev := e.lastEvent(); !ev.Test || ev.Code != "" {
		t.Errorf("event %+v, want a successful test login", ev)
	}
	// The app still needs a login: the test made no session.
	if res := b.get(gwHost+"/", gwBrowserAccept); res.StatusCode != http.StatusSeeOther {
		t.Errorf("after a test login the app answers %d, want a redirect to log in", res.StatusCode)
	}

	// Single use: the same POST again is refused, with no session either.
	res = b.post(acs, resp, relay)
	noSession(t, res)
	if res.StatusCode == http.StatusOK || res.StatusCode == http.StatusSeeOther {
		t.Errorf("the test login's response was accepted twice: status %d", res.StatusCode)
	}
	// Without PreviewTeams the section is absent.
	e2 := newGwEnv(t, gwOptions{})
	b2 := e2.browser()
	id, acs, relay = e2.startTestLogin(b2, e2.gw.SetupHandler(gateway.SetupConfig{Authorize: allowAll}))
	r.InResponseTo = id
	body = gwBody(t, b2.post(acs, e2.mint(r), relay))
	if !strings.Contains(body, `id="identity"`) || strings.Contains(body, `id="teams"`) {
		t.Errorf("without PreviewTeams: %s", body)
	}
}

func TestTestLoginPreviewTeamsError(t *testing.T) {
	e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) {
		c.PreviewTeams = func(context.Context, *saml.Identity) ([]string, error) { return nil, errors.New("directory down") }
	}})
	b := e.browser()
	id, acs, relay := e.startTestLogin(b, e.gw.SetupHandler(gateway.SetupConfig{Authorize: allowAll}))
	r := e.response("acme")
	r.InResponseTo = id
	body := gwBody(t, b.post(acs, e.mint(r), relay))
	if !strings.Contains(body, "the preview failed: directory down") {
		t.Errorf("result: %s", body)
	}
}

var requestIDRe = regexp.MustCompile(`(?i)request ID:? <code>([0-9a-f]+)</code>`)

func TestTestLoginRefusalShowsDiagnosis(t *testing.T) {
	e := newGwEnv(t, gwOptions{connMod: func(c *saml.ConnectionConfig) {
		c.Groups.AllowedGroups = []string{"Admins"}
		c.IdP = saml.IdPJumpCloud
	}})
	h := e.gw.SetupHandler(gateway.SetupConfig{Authorize: allowAll})

	// A test login: the browser that started it sees the diagnosis.
	b := e.browser()
	id, acs, relay := e.startTestLogin(b, h)
	r := e.response("acme")
	r.InResponseTo = id
	res := b.post(acs, e.mint(r), relay)
	body := gwBody(t, res)
	noSession(t, res)
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	if ev := e.lastEvent(); !ev.Test || ev.Code != saml.CodeGroupNotAllowed {
		t.Errorf("event %+v, want a refused test login", ev)
	}
	for _, w := range []string{`id="diagnosis"`, "group_not_allowed", "a member of Admins", `id="hint"`, "JumpCloud"} {
		if !strings.Contains(body, w) {
			t.Errorf("the diagnosis lacks %q:\n%s", w, body)
		}
	}

	// An ordinary login refused the same way shows the code and request
	// ID only.
	b2 := e.browser()
	id, acs, relay = e.startLogin(b2, "connection=acme")
	r.InResponseTo = id
	res = b2.post(acs, e.mint(r), relay)
	body = gwBody(t, res)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "group_not_allowed") {
		t.Fatalf("ordinary refusal: status %d: %s", res.StatusCode, body)
	}
	if strings.Contains(body, "Admins") || strings.Contains(body, "diagnosis") || strings.Contains(body, "hint") {
		t.Errorf("an ordinary refusal shows the diagnosis: %s", body)
	}
	if ev := e.lastEvent(); ev.Test {
		t.Errorf("event %+v: an ordinary login marked as a test", ev)
	}
	m := requestIDRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no request ID on the page: %s", body)
	}

	// Both are recent refusals; the reported request ID leads to the
	// diagnosis on the setup page.
	got := e.gw.RecentRefusals("acme")
	if len(got) != 2 || got[0].RequestID != m[1] || got[0].Test || !got[1].Test || got[0].Code != saml.CodeGroupNotAllowed {
		t.Fatalf("recent refusals %+v", got)
	}
	page := gwBody(t, setupGet(h, "?connection=acme&request_id="+m[1]))
	if !strings.Contains(page, m[1]) || !strings.Contains(page, "a member of Admins") || strings.Count(page, `class="refusal"`) != 1 {
		t.Errorf("setup page for request %s: %s", m[1], page)
	}
	index := gwBody(t, setupGet(h, "?request_id="+m[1]))
	if !strings.Contains(index, "a member of Admins") {
		t.Errorf("index search for request %s: %s", m[1], index)
	}
	for _, rf := range got {
		if s := fmt.Sprintf("%+v", rf); strings.Contains(s, gwEmail) || strings.Contains(s, "Engineering") {
			t.Errorf("a recorded refusal holds an email or a group of the user: %s", s)
		}
	}
}

func TestTestLoginMarkerCannotBeForged(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	h := e.gw.SetupHandler(gateway.SetupConfig{Authorize: allowAll})
	other := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.SessionKeys = [][]byte{gwKey(2)} }})
	tokenOf := func(env *gwEnv) string {
		res := setupGet(env.gw.SetupHandler(gateway.SetupConfig{Authorize: allowAll}), "?connection=acme&action=test")
		loc, _ := url.Parse(res.Header.Get("Location"))
		return loc.Query().Get("setup_test")
	}
	good := tokenOf(e)
	flipped := []byte(good)
	flipped[len(flipped)/2] ^= 1

	t.Run("tokens that do not start a test login", func(t *testing.T) {
		for _, tc := range []struct{ name, query string }{
			{"garbage", "connection=acme&setup_test=abc"},
			{"empty", "connection=acme&setup_test="},
			{"tampered", "connection=acme&setup_test=" + string(flipped)},
			{"another gateway's key", "connection=acme&setup_test=" + tokenOf(other)},
			{"twice", "connection=acme&setup_test=" + good + "&setup_test=" + good},
		} {
			b := e.browser()
			res := b.get(gwHost+"/login?"+tc.query, gwBrowserAccept)
			if res.StatusCode != http.StatusForbidden || b.requestCookies() != 0 {
				t.Errorf("%s: status %d, %d request cookies; want 403 and no login started", tc.name, res.StatusCode, b.requestCookies())
			}
		}
	})
	t.Run("another connection's token", func(t *testing.T) {
		e2 := newGwEnv(t, gwOptions{connNames: []string{"acme", "beta"}})
		tok := tokenOf(e2)
		b := e2.browser()
		if res := b.get(gwHost+"/login?connection=beta&setup_test="+url.QueryEscape(tok), gwBrowserAccept); res.StatusCode != http.StatusForbidden {
			t.Errorf("acme's token at beta: status %d", res.StatusCode)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		tok := tokenOf(e)
		e.clk.Advance(gateway.TestTokenLifetime)
		defer e.clk.Advance(-gateway.TestTokenLifetime)
		b := e.browser()
		if res := b.get(gwHost+"/login?connection=acme&setup_test="+url.QueryEscape(tok), gwBrowserAccept); res.StatusCode != http.StatusForbidden {
			t.Errorf("expired token: status %d", res.StatusCode)
		}
	})
	t.Run("test off cannot be turned on", func(t *testing.T) {
		// An ordinary login stays ordinary: a session.
		b := e.browser()
		id, acs, relay := e.startLogin(b, "connection=acme")
		r := e.response("acme")
		r.InResponseTo = id
		res := b.post(acs, e.mint(r), relay)
		if res.StatusCode != http.StatusSeeOther || gwSetCookie(res, "__Host-samlgate_session") == "" {
			t.Errorf("ordinary login: status %d, no session", res.StatusCode)
		}
	})
	t.Run("test on cannot be turned off", func(t *testing.T) {
		// The test login's response, posted with an ordinary login's
		// RelayState (or none, or a tampered one), creates no session.
		b := e.browser()
		testID, acs, testRelay := e.startTestLogin(b, h)
		_, _, plainRelay := e.startLogin(e.browser(), "connection=acme")
		tampered := []byte(testRelay)
		tampered[len(tampered)/2] ^= 1
		for _, relay := range []string{plainRelay, "", string(tampered)} {
			r := e.response("acme")
			r.InResponseTo = testID
			res := b.post(acs, e.mint(r), relay)
			noSession(t, res)
			if res.StatusCode == http.StatusOK || res.StatusCode == http.StatusSeeOther {
				t.Errorf("RelayState %.20q: status %d", relay, res.StatusCode)
			}
		}
	})
	t.Run("another browser", func(t *testing.T) {
		// The RelayState of a test login, posted by a browser without its
		// request cookie: refused, no detail, no session.
		b := e.browser()
		id, acs, relay := e.startTestLogin(b, h)
		r := e.response("acme")
		r.InResponseTo = id
		res := e.browser().post(acs, e.mint(r), relay)
		body := gwBody(t, res)
		noSession(t, res)
		if res.StatusCode != http.StatusBadRequest || strings.Contains(body, "diagnosis") || strings.Contains(body, gwEmail) {
			t.Errorf("status %d: %s", res.StatusCode, body)
		}
		// An IdP-initiated response (no InResponseTo) with the test
		// login's RelayState, from a browser without its request cookie:
		// the RelayState is an opaque handle whose state that browser
		// does not hold, so the login is an ordinary IdP-initiated one
		// (what the same response without the RelayState gives): never
		// the test result page, never marked as a test.
		r.InResponseTo = ""
		res = e.browser().post(acs, e.mint(r), relay)
		body = gwBody(t, res)
		if res.StatusCode != http.StatusSeeOther || strings.Contains(body, gwEmail) || strings.Contains(body, "Test login") {
			t.Errorf("IdP-initiated with a test RelayState: status %d: %s", res.StatusCode, body)
		}
		if ev := e.lastEvent(); ev.Test || !ev.IdPInitiated {
			t.Errorf("IdP-initiated with a test RelayState: event %+v", ev)
		}
	})
}

func TestRecentRefusalsBounded(t *testing.T) {
	e := newGwEnv(t, gwOptions{connNames: []string{"acme", "beta"}})
	b := e.browser()
	const n = gateway.RecentRefusalsPerConnection + 7
	var ids []string
	for i := range n {
		res := b.post(gwACS("acme"), "", fmt.Sprint(i))
		m := requestIDRe.FindStringSubmatch(gwBody(t, res))
		if m == nil {
			t.Fatal("no request ID on the refusal page")
		}
		ids = append(ids, m[1])
	}
	_ = b.post(gwACS("beta"), "", "")
	got := e.gw.RecentRefusals("acme")
	if len(got) != gateway.RecentRefusalsPerConnection {
		t.Fatalf("%d refusals kept, want %d", len(got), gateway.RecentRefusalsPerConnection)
	}
	for i, rf := range got { // newest first
		if want := ids[n-1-i]; rf.RequestID != want || rf.Code != saml.CodeMalformed || rf.Connection != "acme" {
			t.Fatalf("refusal %d: %+v, want request %s", i, rf, want)
		}
	}
	if beta := e.gw.RecentRefusals("beta"); len(beta) != 1 || beta[0].Connection != "beta" {
		t.Errorf("beta's refusals: %+v", beta)
	}
	if none := e.gw.RecentRefusals("nope"); len(none) != 0 {
		t.Errorf("refusals of an unknown connection: %+v", none)
	}
	// A callback for an unknown connection records nothing anywhere.
	_ = b.post(gwHost+"/login/callback?connection=nope", "", "")
	if len(e.gw.RecentRefusals("nope")) != 0 || len(e.gw.RecentRefusals("")) != 0 {
		t.Error("an unknown connection's refusal was recorded")
	}
}
