package gateway_test

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
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/samltest"
)

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
	dir := filepath.Join("..", "..", "testdata", "keys")
	key, cert, err := samltest.LoadKeyPair(filepath.Join(dir, name+".crt.pem"), filepath.Join(dir, name+".key.pem"))
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
	gw      *gateway.Gateway
	handler http.Handler

	mu     sync.Mutex
	events []gateway.LoginEvent
}

type gwOptions struct {
	connNames []string
	connMod   func(*saml.ConnectionConfig)
	cfgMod    func(*gateway.Config)
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
	cfg := gateway.Config{
		Connections: e.conns,
		SessionKeys: [][]byte{gwKey(1)},
		Now:         e.clk.Now,
		Logger:      gwDiscard(),
		Observer: func(ev gateway.LoginEvent) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		},
	}
	if o.cfgMod != nil {
		o.cfgMod(&cfg)
	}
	gw, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.gw = gw
	e.handler = gwApp(gw)
	return e
}

func gwApp(gw *gateway.Gateway) http.Handler {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := gateway.IdentityFromContext(r.Context())
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
	mux.Handle("/admin", gw.RequireLogin(gateway.RequireGroup("Admins")(app)))
	mux.Handle("/ops", gw.RequireLogin(gateway.RequireRole("operator")(app)))
	return mux
}

func (e *gwEnv) lastEvent() gateway.LoginEvent {
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

// gwStore is a SessionStore for tests: a map, ignoring expiry, with an
// optional failure.
type gwStore struct {
	mu   sync.Mutex
	m    map[string][]byte
	fail error
}

func newGwStore() *gwStore { return &gwStore{m: map[string][]byte{}} }

func (s *gwStore) Save(_ context.Context, id string, ident []byte, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.m[id] = ident
	return nil
}

func (s *gwStore) Load(_ context.Context, id string) ([]byte, error) {
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
