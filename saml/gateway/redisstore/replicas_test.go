package redisstore_test

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

func TestReplicas(t *testing.T) {
	srv := startRedis(t)
	for _, mode := range []struct {
		name       string
		loginStore bool
	}{{"login state in cookie", false}, {"login state in Redis", true}} {
		t.Run(mode.name, func(t *testing.T) {
			a, b := pair(t, srv, replicaOptions{loginStore: mode.loginStore})

			t.Run("response consumed on A is refused on B", func(t *testing.T) {
				form := mint(t, "")
				if res := newBrowser(t).post(a, form, ""); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("A: %d", res.StatusCode)
				}
				res := newBrowser(t).post(b, form, "")
				if page := body(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, string(saml.CodeReplayed)) {
					t.Errorf("the same response at B: %d\n%s", res.StatusCode, page)
				}
			})

			t.Run("session from A works on B, logout on A ends it on B", func(t *testing.T) {
				br := newBrowser(t)
				login(t, br, a)
				stolen := br.sessionCookie() // a copy, as from a log
				if got := status(t, br, b); got != http.StatusOK {
					t.Fatalf("A's session at B: %d", got)
				}
				req := httptest.NewRequest(http.MethodPost, rHost+"/logout", nil)
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				if res := br.do(a, req); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("logout at A: %d", res.StatusCode)
				}
				thief := newBrowser(t)
				u, _ := url.Parse(rHost)
				thief.jar.SetCookies(u, []*http.Cookie{{Name: gateway.DefaultCookieName, Value: stolen, Path: "/", Secure: true}})
				if got := status(t, thief, b); got != http.StatusUnauthorized {
					t.Errorf("the session's cookie at B after logout at A: %d; want 401", got)
				}
			})

			t.Run("SP-initiated login started on A completes on B", func(t *testing.T) {
				br := newBrowser(t)
				id, relay := startLogin(t, br, a)
				if len(relay) > 80 || strings.Contains(relay, "reports") {
					t.Errorf("RelayState %q: want an opaque handle of at most 80 bytes", relay)
				}
				form := mint(t, id)
				res := br.post(b, form, relay)
				if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/reports" {
					t.Fatalf("callback at B: %d %q %s", res.StatusCode, res.Header.Get("Location"), body(t, res))
				}
				if got := status(t, br, a); got != http.StatusOK {
					t.Errorf("the session at A: %d", got)
				}
				// The login request is used once: a second response to it
				// (a fresh assertion, so not a replay) is refused.
				res = br.post(a, mint(t, id), relay)
				if page := body(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, string(saml.CodeInResponseToMismatch)) {
					t.Errorf("a second response to one login request: %d\n%s", res.StatusCode, page)
				}
			})

			t.Run("login CSRF: the handle without the browser's cookie", func(t *testing.T) {
				attacker, victim := newBrowser(t), newBrowser(t)
				id, relay := startLogin(t, attacker, a)
				form := mint(t, id)
				if res := victim.post(b, form, relay); res.StatusCode != http.StatusBadRequest {
					t.Errorf("the attacker's RelayState from the victim's browser: %d", res.StatusCode)
				}
				if got := status(t, victim, a); got != http.StatusUnauthorized {
					t.Errorf("the victim has a session: %d", got)
				}
				// Not consumed by the refusal: the attacker's own browser
				// still completes it.
				if res := attacker.post(b, form, relay); res.StatusCode != http.StatusSeeOther {
					t.Errorf("the browser that started it: %d %s", res.StatusCode, body(t, res))
				}
			})

			t.Run("IdP-initiated RelayState", func(t *testing.T) {
				res := newBrowser(t).post(b, mint(t, ""), "/dashboard")
				if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/dashboard" {
					t.Errorf("IdP-initiated with a local path: %d %q", res.StatusCode, res.Header.Get("Location"))
				}
			})

			t.Run("RevokeUser on A ends the user's sessions on both", func(t *testing.T) {
				onA, onB, other := newBrowser(t), newBrowser(t), newBrowser(t)
				login(t, onA, a)
				login(t, onB, b)
				res := other.post(a, func() string {
					v, err := testIdP(t).FormValue(samltest.Response{Audience: "urn:samlgate:acme", Destination: rACS, Email: "bob@example.com", EmailVerified: "true"})
					if err != nil {
						t.Fatal(err)
					}
					return v
				}(), "")
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("bob's login: %d", res.StatusCode)
				}
				if err := a.gw.RevokeUser(context.Background(), "acme", rEmail); err != nil {
					t.Fatal(err)
				}
				for _, c := range []struct {
					br   *browser
					r    *replica
					want int
				}{{onA, a, 401}, {onA, b, 401}, {onB, a, 401}, {onB, b, 401}, {other, b, 200}} {
					if got := status(t, c.br, c.r); got != c.want {
						t.Errorf("after RevokeUser: a browser at %s: %d; want %d", c.r.name, got, c.want)
					}
				}
			})
		})
	}
}

// TestReplicasConcurrentDoublePost: the same response posted to both
// replicas at the same instant, 200 times: exactly one accepted each time.
func TestReplicasConcurrentDoublePost(t *testing.T) {
	srv := startRedis(t)
	a, b := pair(t, srv, replicaOptions{})
	for round := range 200 {
		form := mint(t, "")
		var wg sync.WaitGroup
		codes := make([]int, 2)
		start := make(chan struct{})
		for i, r := range []*replica{a, b} {
			wg.Go(func() {
				<-start
				codes[i] = samltest.PostForm(r.handler, rACS, form, "").StatusCode
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, c := range codes {
			switch c {
			case http.StatusSeeOther:
				ok++
			case http.StatusBadRequest:
			default:
				t.Fatalf("round %d: status %v", round, codes)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of 2 posts accepted (%v); want exactly 1", round, ok, codes)
		}
	}
}
