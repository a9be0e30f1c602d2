package gateway_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
)

// logoutPost is a same-origin POST /logout, as the application's form sends it.
func logoutPost(b *gwBrowser, query string) *http.Response {
	req := httptest.NewRequest(http.MethodPost, gwHost+"/logout"+query, nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// TestLogoutSignedOutPage: POST /logout ends the session and leads to the
// signed-out page, which names the application and the IdP (JumpCloud,
// detected from the connection) and links to a new login; it does not
// start one. The IdP's session is not the gateway's to end.
func TestLogoutSignedOutPage(t *testing.T) {
	e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.AppName = "Acme Reports" }})
	b := e.browser()
	e.login(b, e.response("acme"))
	res := logoutPost(b, "?return_to=/reports")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	res = b.get(gwHost+res.Header.Get("Location"), gwBrowserAccept)
	page := gwBody(t, res)
	for _, want := range []string{
		"You are signed out of Acme Reports.",
		"You may still be signed in to JumpCloud.",
		`href="/login?connection=acme&amp;return_to=%2Freports"`,
		"Sign in again",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the signed-out page lacks %q:\n%s", want, page)
		}
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("signed-out page: %d %v", res.StatusCode, res.Header)
	}
	if b.get(gwHost+"/", "application/json").StatusCode != http.StatusUnauthorized {
		t.Error("still logged in")
	}
	// Reloading the page (GET) changes nothing and shows it again.
	if page := gwBody(t, b.get(gwHost+"/logout?connection=acme", gwBrowserAccept)); !strings.Contains(page, "You are signed out") {
		t.Errorf("reload:\n%s", page)
	}
}

// TestLogoutConfirm: GET /logout with a session asks to confirm with a
// form that POSTs to /logout (a link cannot log anyone out), keeping a
// local return_to and dropping any other.
func TestLogoutConfirm(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	b := e.browser()
	e.login(b, e.response("acme"))
	for _, tc := range []struct{ query, hidden string }{
		{"", ""},
		{"?return_to=/reports%3Fq%3D1", `<input type="hidden" name="return_to" value="/reports?q=1">`},
		{"?return_to=https://evil.example/", ""},
	} {
		res := b.get(gwHost+"/logout"+tc.query, gwBrowserAccept)
		page := gwBody(t, res)
		if res.StatusCode != http.StatusOK || !strings.Contains(page, "Sign out of this application?") ||
			!strings.Contains(page, `<form class="actions" method="post" action="/logout">`) {
			t.Errorf("GET /logout%s: %d\n%s", tc.query, res.StatusCode, page)
		}
		if tc.hidden != "" && !strings.Contains(page, tc.hidden) || tc.hidden == "" && strings.Contains(page, `name="return_to"`) {
			t.Errorf("GET /logout%s: return_to field, want %q:\n%s", tc.query, tc.hidden, page)
		}
		if strings.Contains(page, "evil") {
			t.Errorf("the page shows a foreign return_to:\n%s", page)
		}
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "form-action 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("CSP %q", csp)
		}
	}
	if b.get(gwHost+"/", "application/json").StatusCode != http.StatusOK {
		t.Error("GET /logout logged the user out")
	}
	// HEAD is GET without a body.
	req := httptest.NewRequest(http.MethodHead, gwHost+"/logout", nil)
	if res := b.do(req); res.StatusCode != http.StatusOK {
		t.Errorf("HEAD /logout: %d", res.StatusCode)
	}
	// Without a session cookie there is nothing to confirm.
	if page := gwBody(t, e.browser().get(gwHost+"/logout", gwBrowserAccept)); !strings.Contains(page, "You are signed out of this application.") {
		t.Errorf("GET /logout without a session:\n%s", page)
	}
}

// TestLogoutURLs: a connection with a LogoutURLs entry sends the browser
// there once the session is over; the URL comes from the configuration
// only (return_to cannot replace it), and another connection still shows
// the signed-out page.
func TestLogoutURLs(t *testing.T) {
	const portal = "https://console.jumpcloud.com/userconsole"
	store := newGwStore()
	e := newGwEnv(t, gwOptions{connNames: []string{"acme", "beta"}, cfgMod: func(c *gateway.Config) {
		c.LogoutURLs = map[string]string{"acme": portal}
		c.SessionStore = store
	}})
	b := e.browser()
	e.login(b, e.response("acme"))
	page := gwBody(t, b.get(gwHost+"/logout", gwBrowserAccept))
	if !strings.Contains(page, "You will then be taken to JumpCloud to sign out there too.") {
		t.Errorf("the confirmation does not say where logout leads:\n%s", page)
	}
	res := logoutPost(b, "?return_to=https://evil.example/")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != portal {
		t.Errorf("logout of acme: %d %q, want %s", res.StatusCode, res.Header.Get("Location"), portal)
	}
	if store.len() != 0 {
		t.Errorf("the store still holds %d sessions", store.len())
	}
	// The confirmation form may be redirected to the portal's origin.
	e.login(b, e.response("acme"))
	if csp := b.get(gwHost+"/logout", gwBrowserAccept).Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://console.jumpcloud.com;") {
		t.Errorf("CSP %q", csp)
	}

	b = e.browser()
	e.login(b, e.response("beta"))
	res = logoutPost(b, "")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/logout?connection=beta" {
		t.Errorf("logout of beta: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestLogoutURLsValidated(t *testing.T) {
	for _, tc := range []struct {
		name    string
		urls    map[string]string
		message string
	}{
		{"unknown connection", map[string]string{"acmee": "https://idp.example/logout"}, `names "acmee", which is not one of Connections`},
		{"relative", map[string]string{"acme": "/logout"}, "is not an absolute URL"},
		{"http", map[string]string{"acme": "http://idp.example/logout"}, "must be https"},
		{"javascript", map[string]string{"acme": "javascript:alert(1)"}, "is not an absolute URL"},
		{"user info", map[string]string{"acme": "https://admin:pw@idp.example/"}, "user name or password"},
		{"no host", map[string]string{"acme": "https:///logout"}, "is not an absolute URL"},
		{"CSP injection", map[string]string{"acme": "https://idp.example;script-src*/"}, "is not an absolute URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGwEnv(t, gwOptions{})
			_, err := gateway.New(gateway.Config{Connections: e.conns, SessionKeys: [][]byte{gwKey(1)}, LogoutURLs: tc.urls, Logger: gwDiscard()})
			var se *saml.Error
			if !errors.As(err, &se) || se.Code != saml.CodeConfigInvalid || !strings.Contains(se.Message, tc.message) {
				t.Errorf("New: %v, want config_invalid %q", err, tc.message)
			}
		})
	}
	// http is accepted on a loopback host, for the demo.
	e := newGwEnv(t, gwOptions{})
	if _, err := gateway.New(gateway.Config{Connections: e.conns, SessionKeys: [][]byte{gwKey(1)}, LogoutURLs: map[string]string{"acme": "http://127.0.0.1:8081/"}, Logger: gwDiscard()}); err != nil {
		t.Errorf("loopback http: %v", err)
	}
}
