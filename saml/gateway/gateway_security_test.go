package gateway_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/samltest"
)

// gwTossedRequestCookieName is the name an attacker on a sibling host
// (evil.example.com next to auth.example.com) can plant with
// Domain=example.com: the login-request cookie name without the __Host-
// prefix, which browsers only accept from the gateway's own host.
func gwTossedRequestCookieName(requestID string) string {
	sum := sha256.Sum256([]byte(requestID))
	return "samlgate_req_" + hex.EncodeToString(sum[:8])
}

// doWithPlanted sends req through b with the planted cookies first (as a
// browser lists a Domain cookie of a longer Path, or an older one, before
// the gateway's own), then the cookies of b's jar.
func (b *gwBrowser) doWithPlanted(req *http.Request, planted ...*http.Cookie) *http.Response {
	for _, c := range planted {
		req.AddCookie(c)
	}
	return b.do(req)
}

// gwMallory is the attacker's own, genuine, identity at the IdP.
func (e *gwEnv) mallory() samltest.Response {
	r := e.response("acme")
	r.NameID, r.Email = "mallory@example.com", "mallory@example.com"
	return r
}

// spLogin does a complete SP-initiated login of r in b.
func (e *gwEnv) spLogin(b *gwBrowser, r samltest.Response) *http.Response {
	e.t.Helper()
	id, acs, relay := e.startLogin(b, "connection=acme")
	r.InResponseTo = id
	res := b.post(acs, e.mint(r), relay)
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("SP-initiated login: status %d: %s", res.StatusCode, gwBody(e.t, res))
	}
	return res
}

// TestGatewayCookieTossing plays an attacker who controls another host of
// the site and so can plant cookies (Domain=example.com, any Path) in the
// victim's browser, but cannot set a __Host- cookie: browsers refuse one
// with a Domain attribute or from another host.
func TestGatewayCookieTossing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfgMod func(*gateway.Config)
		// attack returns the gateway's answer to the victim's browser.
		attack     func(t *testing.T, e *gwEnv, victim *gwBrowser) *http.Response
		wantStatus int
		wantBody   string
	}{
		{
			// The attacker starts a login in their own browser, signs in as
			// themselves, plants samlgate_req_<hash(id)>=id in the victim's
			// browser and has it post their response and RelayState: login
			// CSRF, even with IdP-initiated logins disabled.
			name: "planted request cookie",
			attack: func(t *testing.T, e *gwEnv, victim *gwBrowser) *http.Response {
				id, acs, relay := e.startLogin(e.browser(), "connection=acme")
				r := e.mallory()
				r.InResponseTo = id
				req := samltest.NewPostRequest(acs, e.mint(r), relay)
				return victim.doWithPlanted(req, &http.Cookie{Name: gwTossedRequestCookieName(id), Value: id})
			},
			wantStatus: http.StatusBadRequest,
			wantBody:   string(saml.CodeInResponseToMismatch),
		},
		{
			// The attacker plants their own, valid, session cookie under the
			// name the browser sends without a prefix.
			name: "planted session cookie",
			attack: func(t *testing.T, e *gwEnv, victim *gwBrowser) *http.Response {
				attacker := gwSessionCookie(t, e.spLogin(e.browser(), e.mallory()))
				req := httptest.NewRequest(http.MethodGet, gwHost+"/", nil)
				return victim.doWithPlanted(req, &http.Cookie{Name: "samlgate_session", Value: attacker.Value})
			},
			wantStatus: http.StatusUnauthorized,
			wantBody:   "login_required",
		},
		{
			// With a CookieName of one's own, without the prefix, a planted
			// copy sent first no longer hides the victim's session.
			name:   "garbage session cookie before the real one",
			cfgMod: func(c *gateway.Config) { c.CookieName = "app_session" },
			attack: func(t *testing.T, e *gwEnv, victim *gwBrowser) *http.Response {
				e.spLogin(victim, e.response("acme"))
				req := httptest.NewRequest(http.MethodGet, gwHost+"/", nil)
				return victim.doWithPlanted(req, &http.Cookie{Name: "app_session", Value: "planted-garbage"})
			},
			wantStatus: http.StatusOK,
			wantBody:   "hello alice@example.com",
		},
		{
			// Under InsecureCookies (no prefix possible), a planted copy of
			// the request cookie sent first no longer hides the real one.
			name:   "garbage request cookie before the real one",
			cfgMod: func(c *gateway.Config) { c.InsecureCookies = true },
			attack: func(t *testing.T, e *gwEnv, victim *gwBrowser) *http.Response {
				id, acs, relay := e.startLogin(victim, "connection=acme")
				r := e.response("acme")
				r.InResponseTo = id
				req := samltest.NewPostRequest(acs, e.mint(r), relay)
				return victim.doWithPlanted(req, &http.Cookie{Name: gwTossedRequestCookieName(id), Value: "planted-garbage"})
			},
			wantStatus: http.StatusSeeOther,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGwEnv(t, gwOptions{
				connMod: func(c *saml.ConnectionConfig) { c.DisableIdPInitiated = true },
				cfgMod:  tc.cfgMod,
			})
			victim := e.browser()
			res := tc.attack(t, e, victim)
			body := gwBody(t, res)
			if res.StatusCode != tc.wantStatus || !strings.Contains(body, tc.wantBody) {
				t.Fatalf("status %d, want %d with %q:\n%s", res.StatusCode, tc.wantStatus, tc.wantBody, body)
			}
			if tc.wantStatus == http.StatusOK || tc.wantStatus == http.StatusSeeOther {
				return
			}
			// The victim is not logged in as the attacker.
			if res := victim.get(gwHost+"/", "application/json"); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("the victim has a session: %d %s", res.StatusCode, gwBody(t, res))
			}
		})
	}
}

// TestGatewayCookieNames checks the names and the attributes the __Host-
// prefix requires (Secure, Path=/, no Domain), and the names under
// InsecureCookies, where the prefix is impossible.
func TestGatewayCookieNames(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		cfgMod                     func(*gateway.Config)
		wantSession, wantReqPrefix string
		wantSecure                 bool
	}{
		{"default", nil, "__Host-samlgate_session", "__Host-samlgate_req_", true},
		{"InsecureCookies", func(c *gateway.Config) { c.InsecureCookies = true }, "samlgate_session", "samlgate_req_", false},
		{"CookieName as given", func(c *gateway.Config) { c.CookieName = "__Host-app" }, "__Host-app", "__Host-samlgate_req_", true},
		{"CookieName without prefix", func(c *gateway.Config) { c.CookieName = "app_sess" }, "app_sess", "__Host-samlgate_req_", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGwEnv(t, gwOptions{cfgMod: tc.cfgMod})
			b := e.browser()
			res := b.get(gwHost+"/login?connection=acme", gwBrowserAccept)
			var reqCookie string
			for _, h := range res.Header.Values("Set-Cookie") {
				if strings.HasPrefix(h, tc.wantReqPrefix) {
					reqCookie = h
				}
			}
			res = e.login(b, e.response("acme"))
			session := gwSetCookie(res, tc.wantSession)
			for what, h := range map[string]string{"request cookie": reqCookie, "session cookie": session} {
				if h == "" {
					t.Fatalf("no %s: %q", what, res.Header.Values("Set-Cookie"))
				}
				if !strings.Contains(h, "; Path=/;") || strings.Contains(h, "Domain=") || strings.Contains(h, "; Secure") != tc.wantSecure {
					t.Errorf("%s %q: want Path=/, no Domain, Secure=%v", what, h, tc.wantSecure)
				}
			}
			if gateway.DefaultCookieName != "__Host-samlgate_session" || gateway.InsecureCookieName != "samlgate_session" {
				t.Errorf("DefaultCookieName %q, InsecureCookieName %q", gateway.DefaultCookieName, gateway.InsecureCookieName)
			}
		})
	}

	for _, tc := range []struct {
		name string
		cfg  gateway.Config
		want string
	}{
		{"__Host- name without Secure", gateway.Config{CookieName: "__Host-app", InsecureCookies: true}, "__Host-"},
		{"__Secure- name without Secure", gateway.Config{CookieName: "__secure-app", InsecureCookies: true}, "__Secure-"},
		{"request cookie name", gateway.Config{CookieName: "__Host-samlgate_req_x"}, "CookieName"},
		{"insecure request cookie name", gateway.Config{CookieName: "samlgate_req_x"}, "CookieName"},
	} {
		tc.cfg.SessionKeys = [][]byte{gwKey(1)}
		if _, err := gateway.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", tc.name, err, tc.want)
		}
	}
}

// TestGatewayRequestCookieCap starts many logins in one browser: it never
// holds more than 5 login request cookies, the newest logins complete and
// the oldest ask to start again.
func TestGatewayRequestCookieCap(t *testing.T) {
	for _, tc := range []struct {
		name     string
		logins   int
		insecure bool
		want     int // request cookies held after the logins started
	}{
		{"one", 1, false, 1},
		{"four", 4, false, 4},
		{"five", 5, false, 5},
		{"six", 6, false, 5},
		{"twenty", 20, false, 5},
		{"twenty, InsecureCookies", 20, true, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.InsecureCookies = tc.insecure }})
			b := e.browser()
			type login struct{ id, acs, relay string }
			var logins []login
			for range tc.logins {
				id, acs, relay := e.startLogin(b, "connection=acme")
				logins = append(logins, login{id, acs, relay})
			}
			held := 0
			u, _ := url.Parse(gwACS("acme"))
			for _, c := range b.jar.Cookies(u) {
				if strings.HasPrefix(c.Name, "__Host-samlgate_req_") || strings.HasPrefix(c.Name, "samlgate_req_") {
					held++
				}
			}
			if held != tc.want {
				t.Fatalf("the browser holds %d request cookies, want %d", held, tc.want)
			}
			// Newest first, as a user would go back to the latest tab.
			for i := len(logins) - 1; i >= 0; i-- {
				l := logins[i]
				r := e.response("acme")
				r.InResponseTo = l.id
				res := b.post(l.acs, e.mint(r), l.relay)
				kept := i >= len(logins)-tc.want
				if kept && res.StatusCode != http.StatusSeeOther {
					t.Errorf("login %d of %d: %d, want it to complete", i+1, len(logins), res.StatusCode)
				}
				if !kept && (res.StatusCode != http.StatusBadRequest || !strings.Contains(gwBody(t, res), "did not send back the cookie")) {
					t.Errorf("login %d of %d: %d, want in_response_to_mismatch (its cookie was expired)", i+1, len(logins), res.StatusCode)
				}
			}
		})
	}
}

// TestGatewayLogoutRevokesCopies copies the session cookie, logs out in the
// browser, and tries the copy: a server-side session (SessionStore, or the
// in-memory overflow store) is revoked; a stateless cookie cannot be, as
// Config.SessionStore documents.
func TestGatewayLogoutRevokesCopies(t *testing.T) {
	for _, tc := range []struct {
		name       string
		store      gateway.SessionStore
		groups     int
		copyStatus int // the copied cookie after logout
	}{
		{"SessionStore", newGwStore(), 2, http.StatusUnauthorized},
		{"overflow store (no SessionStore, too large a cookie)", nil, 1000, http.StatusUnauthorized},
		{"stateless (documented: not revocable)", nil, 2, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.SessionStore = tc.store }})
			b := e.browser()
			r := e.response("acme")
			r.Groups = gwManyGroups(tc.groups)
			stolen := gwSessionCookie(t, e.login(b, r))
			if rec := gwWithSession(e.handler, stolen); rec.Code != http.StatusOK {
				t.Fatalf("the copy before logout: %d", rec.Code)
			}
			req := httptest.NewRequest(http.MethodPost, gwHost+"/logout", nil)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			if res := b.do(req); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("logout: %d", res.StatusCode)
			}
			if res := b.get(gwHost+"/", "application/json"); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("the browser is still logged in: %d", res.StatusCode)
			}
			if rec := gwWithSession(e.handler, stolen); rec.Code != tc.copyStatus {
				t.Errorf("the copy after logout: %d, want %d", rec.Code, tc.copyStatus)
			}
		})
	}
}
