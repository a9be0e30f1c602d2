package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml/samlconfig"
	"github.com/samlgate/samlgate/saml/samltest"
)

const (
	testPublicURL = "https://gw.example.com"
	testIdPEntity = "https://sso.jumpcloud.com/saml2/test"
	testSPEntity  = "urn:samlgate:test"
	testACS       = testPublicURL + "/login/callback?connection=test"
)

// testEnv is a gateway built from a Config (as a file would build it) in
// front of a recording upstream, with a samltest IdP whose certificate the
// connection trusts.
type testEnv struct {
	idp      *samltest.IdP
	app      *app
	handler  http.Handler
	upstream *httptest.Server

	mu       sync.Mutex
	received []*http.Request // requests the upstream received
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewJSONHandler(io.Discard, nil))
}

func loadTestIdP(t testing.TB) *samltest.IdP {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "keys")
	key, cert, err := samltest.LoadKeyPair(filepath.Join(dir, "idp.crt.pem"), filepath.Join(dir, "idp.key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return samltest.New(key, cert, testIdPEntity)
}

func newTestEnv(t testing.TB, mutate func(*Config)) *testEnv {
	t.Helper()
	return newTestEnvWithLogger(t, mutate, testLogger(t))
}

func newTestEnvWithLogger(t testing.TB, mutate func(*Config), logger *slog.Logger) *testEnv {
	t.Helper()
	e := &testEnv{idp: loadTestIdP(t)}
	e.upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.received = append(e.received, r.Clone(context.Background()))
		e.mu.Unlock()
		upstreamHandler().ServeHTTP(w, r)
	}))
	t.Cleanup(e.upstream.Close)

	cfg := &Config{
		Upstream:    e.upstream.URL,
		PublicURL:   testPublicURL,
		SessionKeys: []string{testKey32},
		Connections: []samlconfig.Connection{{
			Name:            "test",
			SPEntityID:      testSPEntity,
			IdPEntityID:     testIdPEntity,
			IdPSSOURL:       testIdPEntity,
			IdPCertificates: []string{string(e.idp.CertificatePEM())},
			Groups: samlconfig.Groups{
				Roles: []samlconfig.RoleMapping{{Group: "Admins", Role: "admin"}},
			},
		}},
	}
	if mutate != nil {
		mutate(cfg)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	var err error
	e.app, err = newApp(t.Context(), cfg, logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.handler, err = e.app.handler()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// response is a valid IdP-initiated response for the test connection.
func (e *testEnv) response(t testing.TB, r samltest.Response) string {
	t.Helper()
	if r.Audience == "" {
		r.Audience = testSPEntity
	}
	if r.Destination == "" {
		r.Destination = testACS
	}
	if r.Email == "" && r.StatusCode == "" {
		r.Email = "alice@example.com"
	}
	if r.EmailVerified == "" && r.StatusCode == "" {
		r.EmailVerified = "true"
	}
	form, err := e.idp.FormValue(r)
	if err != nil {
		t.Fatal(err)
	}
	return form
}

// login posts r to the ACS and returns the session cookies it set.
func (e *testEnv) login(t testing.TB, r samltest.Response) []*http.Cookie {
	t.Helper()
	res := samltest.PostForm(e.handler, testACS, e.response(t, r), "")
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("login: status %d: %s", res.StatusCode, body)
	}
	cookies := res.Cookies()
	if len(cookies) == 0 {
		t.Fatal("login set no cookie")
	}
	return cookies
}

// get serves a GET of path with the cookies and headers.
func (e *testEnv) get(path string, cookies []*http.Cookie, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, testPublicURL+path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// lastReceived is the last request the upstream received, or nil.
func (e *testEnv) lastReceived() *http.Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.received) == 0 {
		return nil
	}
	return e.received[len(e.received)-1]
}

func (e *testEnv) receivedCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.received)
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func newJSONLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
