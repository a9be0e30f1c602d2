package redisstore_test

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/gateway/redisstore"
	"github.com/samlgate/samlgate/saml/samltest"
)

const (
	rHost   = "https://auth.example.com"
	rACS    = rHost + "/login/callback?connection=acme"
	rEntity = "https://sso.jumpcloud.com/saml2/acme"
	rEmail  = "alice@example.com"
)

var idpOnce = sync.OnceValues(func() (*samltest.IdP, error) {
	now := time.Now()
	key, cert, err := samltest.NewKeyPair(2048, now.Add(-time.Hour), now.Add(24*time.Hour), "")
	if err != nil {
		return nil, err
	}
	return samltest.New(key, cert, rEntity), nil
})

func testIdP(t testing.TB) *samltest.IdP {
	t.Helper()
	idp, err := idpOnce()
	if err != nil {
		t.Fatal(err)
	}
	return idp
}

// replica is one gateway process: its own Store (its own connection
// pool) on the shared Redis, its own connection object, the shared keys.
type replica struct {
	name    string
	store   *redisstore.Store
	gw      *gateway.Gateway
	handler http.Handler
}

type replicaOptions struct {
	loginStore bool             // login state in Redis rather than the cookie
	now        func() time.Time // the gateway's and the store's clock
	lifetime   time.Duration    // SessionLifetime
	timeout    time.Duration    // the store's per-call Timeout
}

func newReplica(t testing.TB, name string, srv *redisServer, prefix string, o replicaOptions) *replica {
	t.Helper()
	store := newStore(t, srv, redisstore.Options{Prefix: prefix, Now: o.now, Timeout: o.timeout})
	idp := testIdP(t)
	conn, err := saml.NewConnection(saml.ConnectionConfig{
		Name:               "acme",
		SPEntityID:         "urn:samlgate:acme",
		ACSURL:             rACS,
		IdPEntityID:        idp.EntityID,
		IdPSSOURL:          idp.SSOURL,
		IdPCertificatesPEM: [][]byte{idp.CertificatePEM()},
		ReplayCache:        store,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := gateway.Config{
		Connections:     []*saml.Connection{conn},
		SessionKeys:     [][]byte{bytes.Repeat([]byte{7}, 32)},
		SessionStore:    store,
		SessionLifetime: o.lifetime,
		Now:             o.now,
		Logger:          slog.New(slog.DiscardHandler),
	}
	if o.loginStore {
		cfg.LoginStateStore = store
	}
	gw, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	gw.Mount(mux)
	mux.Handle("/", gw.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := gateway.IdentityFromContext(r.Context())
		fmt.Fprintf(w, "hello %s", id.Subject)
	})))
	return &replica{name: name, store: store, gw: gw, handler: mux}
}

// pair is two replicas behind one load balancer, sharing one Redis.
func pair(t testing.TB, srv *redisServer, o replicaOptions) (a, b *replica) {
	t.Helper()
	prefixSeq.Lock()
	prefixSeq.n++
	prefix := fmt.Sprintf("pair%d:", prefixSeq.n)
	prefixSeq.Unlock()
	return newReplica(t, "A", srv, prefix, o), newReplica(t, "B", srv, prefix, o)
}

// browser keeps cookies for the site, whichever replica answers.
type browser struct {
	t   testing.TB
	jar *cookiejar.Jar
}

func newBrowser(t testing.TB) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, jar: jar}
}

func (b *browser) do(r *replica, req *http.Request) *http.Response {
	for _, c := range b.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	r.handler.ServeHTTP(rec, req)
	res := rec.Result()
	b.jar.SetCookies(req.URL, res.Cookies())
	return res
}

func (b *browser) get(r *replica, path string) *http.Response {
	req := httptest.NewRequest(http.MethodGet, rHost+path, nil)
	req.Header.Set("Accept", "application/json")
	return b.do(r, req)
}

func (b *browser) post(r *replica, form, relay string) *http.Response {
	return b.do(r, samltest.NewPostRequest(rACS, form, relay))
}

func (b *browser) sessionCookie() string {
	u, _ := url.Parse(rHost)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == gateway.DefaultCookieName {
			return c.Value
		}
	}
	return ""
}

func mint(t testing.TB, inResponseTo string) string {
	t.Helper()
	v, err := testIdP(t).FormValue(samltest.Response{
		Audience:      "urn:samlgate:acme",
		Destination:   rACS,
		Email:         rEmail,
		EmailVerified: "true",
		InResponseTo:  inResponseTo,
		Groups:        []string{"Engineering"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func body(t testing.TB, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// login completes an IdP-initiated login at r and checks it.
func login(t testing.TB, b *browser, r *replica) {
	t.Helper()
	if res := b.post(r, mint(t, ""), ""); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login at %s: %d %s", r.name, res.StatusCode, body(t, res))
	}
}

// startLogin does GET /login at r and plays the IdP: the request ID and
// the RelayState.
func startLogin(t testing.TB, b *browser, r *replica) (id, relay string) {
	t.Helper()
	res := b.do(r, httptest.NewRequest(http.MethodGet, rHost+"/login?connection=acme&return_to=/reports", nil))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /login at %s: %d %s", r.name, res.StatusCode, body(t, res))
	}
	// The HTTP-POST binding: submit the auto-posting form to the IdP.
	page := body(t, res)
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form in the login page:\n%s", page)
	}
	action, form := html.UnescapeString(m[1]), url.Values{}
	for _, in := range formInput.FindAllStringSubmatch(page, -1) {
		form.Set(in[1], html.UnescapeString(in[2]))
	}
	req := httptest.NewRequest(http.MethodPost, action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	id, _, relay, err := testIdP(t).ParseAuthnRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	return id, relay
}

var (
	formAction = regexp.MustCompile(`action="([^"]*)"`)
	formInput  = regexp.MustCompile(`name="(SAMLRequest|RelayState)" value="([^"]*)"`)
)

func status(t testing.TB, b *browser, r *replica) int {
	t.Helper()
	return b.get(r, "/").StatusCode
}
