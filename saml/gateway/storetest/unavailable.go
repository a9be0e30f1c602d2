package storetest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/samltest"
)

// fixture is a test IdP and a connection trusting it, shared by the
// failure checks (an RSA key takes a moment to generate).
type fixture struct {
	idp *samltest.IdP
	cfg saml.ConnectionConfig
}

var (
	fixtureOnce sync.Once
	shared      fixture
	fixtureErr  error
)

const acsURL = "https://app.example.com/login/callback?connection=conformance"

func newFixture(t *testing.T) fixture {
	t.Helper()
	fixtureOnce.Do(func() {
		now := time.Now()
		key, cert, err := samltest.NewKeyPair(2048, now.Add(-time.Hour), now.Add(365*24*time.Hour), "")
		if err != nil {
			fixtureErr = err
			return
		}
		idp := samltest.New(key, cert, "https://idp.example.com/conformance")
		shared = fixture{idp: idp, cfg: saml.ConnectionConfig{
			Name:               "conformance",
			SPEntityID:         "urn:samlgate:conformance",
			ACSURL:             acsURL,
			IdPEntityID:        idp.EntityID,
			IdPSSOURL:          idp.SSOURL,
			IdPCertificatesPEM: [][]byte{idp.CertificatePEM()},
		}}
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return shared
}

// response mints a fresh, valid, IdP-initiated response.
func (f fixture) response(t *testing.T) string {
	t.Helper()
	form, err := f.idp.FormValue(samltest.Response{
		Audience:      f.cfg.SPEntityID,
		Destination:   acsURL,
		Email:         "alice@example.com",
		EmailVerified: "true",
		Groups:        []string{"Engineering"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return form
}

// replayUnavailable: a cache that cannot answer refuses the login as
// unavailable, never accepts it.
func replayUnavailable(t *testing.T, c saml.ReplayCache) {
	f := newFixture(t)
	cfg := f.cfg
	cfg.ReplayCache = c
	conn, err := saml.NewConnection(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	id, err := conn.Verify(ctx, f.response(t))
	if id != nil || !errors.Is(err, saml.CodeUnavailable) {
		t.Errorf("Verify with a failing replay cache = %v, %v; want no identity and code unavailable", id, err)
	}
	if _, err := conn.Verify(context.Background(), f.response(t)); err != nil {
		t.Errorf("Verify with the cache answering again: %v", err)
	}
}

// sessionUnavailable: a store that cannot answer makes a protected request
// 503 unavailable and keeps the browser's cookie (the session is not lost).
func sessionUnavailable(t *testing.T, s gateway.SessionStore) {
	f := newFixture(t)
	conn, err := saml.NewConnection(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Config{
		Connections:  []*saml.Connection{conn},
		SessionKeys:  [][]byte{make([]byte, 32)},
		SessionStore: s,
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	res := samltest.PostForm(gw, acsURL, f.response(t), "")
	session := sessionCookie(res)
	if res.StatusCode != http.StatusSeeOther || session == nil {
		t.Fatalf("login: %d, session cookie %v", res.StatusCode, session)
	}
	app := gw.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	get := func(ctx context.Context) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "https://app.example.com/", nil)
		req.AddCookie(session)
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		return rec
	}
	if rec := get(context.Background()); rec.Code != http.StatusOK {
		t.Fatalf("with the session: %d", rec.Code)
	}
	// The store fails: by its Breakable hook (its backend down), or else by
	// a cancelled context.
	ctx := context.Background()
	b, breakable := s.(Breakable)
	if breakable {
		b.Break()
	} else {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		cancel()
	}
	rec := get(ctx)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("with a failing store: %d; want 503", rec.Code)
	}
	if c := rec.Result().Cookies(); len(c) != 0 {
		t.Errorf("a failing store cleared the cookie: %v", c)
	}
	if breakable {
		// A login while the store is down: 503, and no session cookie.
		res := samltest.PostForm(gw, acsURL, f.response(t), "")
		if sessionCookie(res) != nil {
			t.Errorf("a login while the store fails set a session cookie")
		}
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("a login while the store fails: %d; want 503", res.StatusCode)
		}
		b.Repair()
	}
	if rec := get(context.Background()); rec.Code != http.StatusOK {
		t.Errorf("with the store answering again: %d", rec.Code)
	}
}

// Breakable is implemented by a store under test (or by the test's wrapper
// of it) that can be made to fail as its backend fails: a Redis store's
// harness pauses or kills the server. The suite then checks that real
// failures, not only cancelled contexts, surface as unavailable (503, the
// browser's cookie kept) and that a login while the store fails gets no
// session. Repair brings the backend back.
type Breakable interface {
	Break()
	Repair()
}

// sessionCookie is the session cookie a response sets, or nil.
func sessionCookie(res *http.Response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == gateway.DefaultCookieName && c.Value != "" {
			return c
		}
	}
	return nil
}
