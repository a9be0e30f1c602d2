package saml_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

// gwMetadataServer serves whatever body() returns, with status and
// content type.
type gwMetadataServer struct {
	mu          sync.Mutex
	status      int
	contentType string
	body        []byte
	hits        atomic.Int64
	srv         *httptest.Server
}

func newGwMetadataServer(t testing.TB, body []byte) *gwMetadataServer {
	m := &gwMetadataServer{status: 200, contentType: "application/samlmetadata+xml", body: body}
	m.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.hits.Add(1)
		m.mu.Lock()
		defer m.mu.Unlock()
		w.Header().Set("Content-Type", m.contentType)
		w.WriteHeader(m.status)
		_, _ = w.Write(m.body)
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *gwMetadataServer) set(status int, contentType string, body []byte) {
	m.mu.Lock()
	m.status, m.contentType, m.body = status, contentType, body
	m.mu.Unlock()
}

func (m *gwMetadataServer) fetcher() *saml.MetadataFetcher {
	return &saml.MetadataFetcher{URL: m.srv.URL + "/saml2/metadata/acme", Client: m.srv.Client(), Logger: gwDiscard()}
}

const jumpCloudLoginPage = `<!DOCTYPE html><html><head><title>JumpCloud User Portal</title></head><body><div id="app"></div></body></html>`

func TestMetadataFetcherFetch(t *testing.T) {
	clk := &gwClock{t: gwPinned}
	good := gwIdP(t, "idp", clk).Metadata()
	m := newGwMetadataServer(t, good)
	ctx := context.Background()

	got, err := m.fetcher().Fetch(ctx)
	if err != nil || !bytes.Equal(got, good) {
		t.Fatalf("good metadata: %v", err)
	}

	for _, tc := range []struct {
		name        string
		status      int
		contentType string
		body        []byte
		maxBytes    int64
		want        error
		message     string
	}{
		{"HTML page", 200, "text/html; charset=utf-8", []byte(jumpCloudLoginPage), 0, saml.ErrConfigInvalid, "HTML page"},
		{"HTML page labelled XML", 200, "application/xml", []byte("\n  " + jumpCloudLoginPage), 0, saml.ErrConfigInvalid, "HTML page"},
		{"oversize", 200, "application/xml", good, 100, saml.ErrTooLarge, "over 100 bytes"},
		{"server error", 500, "text/plain", []byte("oops"), 0, saml.ErrUnavailable, "500"},
		{"not found", 404, "text/plain", nil, 0, saml.ErrUnavailable, "404"},
		{"SP metadata", 200, "application/xml", []byte(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></EntityDescriptor>`), 0, saml.ErrConfigInvalid, "IDPSSODescriptor"},
		{"DTD", 200, "application/xml", []byte(`<!DOCTYPE x [<!ENTITY a "b">]><x/>`), 0, saml.ErrConfigInvalid, "DOCTYPE"},
	} {
		m.set(tc.status, tc.contentType, tc.body)
		f := m.fetcher()
		f.MaxBytes = tc.maxBytes
		_, err := f.Fetch(ctx)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.message) {
			t.Errorf("%s: %v, want %v naming %q", tc.name, err, tc.want, tc.message)
		}
		if tc.name == "HTML page" {
			var e *saml.Error
			if !errors.As(err, &e) || !strings.Contains(e.Hint, "Copy Metadata URL") {
				t.Errorf("HTML page: hint %+v", e)
			}
		}
	}

	// Plain http is refused (except for loopback addresses), before any request.
	f := &saml.MetadataFetcher{URL: "http://metadata.example.com/md", Client: &http.Client{Transport: failTransport{t}}}
	if _, err := f.Fetch(ctx); !errors.Is(err, saml.ErrConfigInvalid) || !strings.Contains(err.Error(), "https") {
		t.Errorf("http URL: %v", err)
	}
	f = &saml.MetadataFetcher{URL: "not a url"}
	if _, err := f.Fetch(ctx); !errors.Is(err, saml.ErrConfigInvalid) {
		t.Errorf("bad URL: %v", err)
	}
	// A redirect to plain http is refused.
	redirector := httptest.NewTLSServer(http.RedirectHandler("http://metadata.example.com/md", http.StatusFound))
	defer redirector.Close()
	client := redirector.Client()
	client.CheckRedirect = nil // what a caller's own client might do
	f = &saml.MetadataFetcher{URL: redirector.URL, Client: client}
	client.Transport = redirectOnly{client.Transport, t}
	if _, err := f.Fetch(ctx); !errors.Is(err, saml.ErrConfigInvalid) || !strings.Contains(err.Error(), "not https") {
		t.Errorf("redirect to http: %v", err)
	}
	// The default client refuses the redirect itself.
	plain := httptest.NewServer(http.RedirectHandler("http://metadata.example.com/md", http.StatusFound))
	defer plain.Close()
	f = &saml.MetadataFetcher{URL: plain.URL} // http://127.0.0.1: loopback is allowed
	if _, err := f.Fetch(ctx); !errors.Is(err, saml.ErrConfigInvalid) || !strings.Contains(err.Error(), "not https") {
		t.Errorf("default client, redirect to http: %v", err)
	}
}

// TestMetadataFetcherRefusesDowngrade: an https metadata server redirects
// to http on a loopback address, where the gateway's own machine may
// serve anything (http is otherwise accepted there, for local sidecars).
// The redirect is refused before any request reaches the http server,
// whatever the Client's own redirect policy.
func TestMetadataFetcherRefusesDowngrade(t *testing.T) {
	clk := &gwClock{t: gwPinned}
	attackerMD := gwIdP(t, "attacker", clk).Metadata()
	var local atomic.Int64
	sidecar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		local.Add(1)
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(attackerMD)
	}))
	defer sidecar.Close()
	for _, tc := range []struct {
		name     string
		target   string
		redirect func(*http.Request, []*http.Request) error // the Client's own CheckRedirect
		wantErr  bool
	}{
		{"to http://127.0.0.1, no CheckRedirect", sidecar.URL + "/md", nil, true},
		{"to http://127.0.0.1, permissive CheckRedirect", sidecar.URL + "/md", func(*http.Request, []*http.Request) error { return nil }, true},
		{"to http://localhost", strings.Replace(sidecar.URL, "127.0.0.1", "localhost", 1) + "/md", nil, true},
		{"to http://[::1]", "http://[::1]:1/md", nil, true},
		{"to http://metadata.example.com", "http://metadata.example.com/md", nil, true},
		{"to https (same server), allowed", "/final", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := local.Load()
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/final" {
					w.Header().Set("Content-Type", "application/samlmetadata+xml")
					_, _ = w.Write(attackerMD)
					return
				}
				http.Redirect(w, r, tc.target, http.StatusFound)
			}))
			defer srv.Close()
			client := srv.Client()
			client.CheckRedirect = tc.redirect
			f := &saml.MetadataFetcher{URL: srv.URL + "/md", Client: client}
			md, err := f.Fetch(context.Background())
			if !tc.wantErr {
				if err != nil || len(md) == 0 {
					t.Fatalf("https redirect: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, saml.ErrConfigInvalid) || !strings.Contains(err.Error(), "not https") {
				t.Errorf("Fetch: %d bytes, %v; want config_invalid, not https", len(md), err)
			}
			if n := local.Load() - before; n != 0 {
				t.Errorf("the http server on the loopback address got %d requests", n)
			}
		})
	}
}

// failTransport fails the test if a request is made.
type failTransport struct{ t testing.TB }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected request to %s", r.URL)
	return nil, errors.New("no requests expected")
}

// redirectOnly serves the first hop and answers 200 with metadata to any
// redirect target, as an attacker's http server would.
type redirectOnly struct {
	next http.RoundTripper
	t    testing.TB
}

func (ro redirectOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == "http" {
		clk := &gwClock{t: gwPinned}
		rec := httptest.NewRecorder()
		_, _ = rec.Write(gwIdP(ro.t, "attacker", clk).Metadata())
		res := rec.Result()
		res.Request = r
		return res, nil
	}
	return ro.next.RoundTrip(r)
}

func TestMetadataFetcherRun(t *testing.T) {
	clk := &gwClock{t: gwPinned}
	idp := gwIdP(t, "idp", clk)
	idp2 := gwIdP(t, "idp2", clk)
	m := newGwMetadataServer(t, idp.Metadata())

	gw, err := saml.NewGateway(saml.GatewayConfig{SessionKeys: [][]byte{gwKey(1)}, Now: clk.Now, Logger: gwDiscard()})
	if err != nil {
		t.Fatal(err)
	}
	updates := make(chan []byte, 100)
	replay := saml.NewMemoryReplayCache(0, clk.Now) // shared by every rebuilt connection
	f := m.fetcher()
	f.Interval = 5 * time.Millisecond
	f.OnUpdate = func(md []byte) error {
		conn, err := saml.NewConnection(saml.ConnectionConfig{
			Name: "acme", SPEntityID: "urn:samlgate:acme", ACSURL: gwACS("acme"),
			IdPMetadataXML: md, Now: clk.Now, Logger: gwDiscard(), ReplayCache: replay,
		})
		if err != nil {
			return err
		}
		gw.SetConnection(conn)
		updates <- md
		return nil
	}
	// At start-up: one Refresh, then Run, which waits an Interval first.
	if err := f.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	wait := func(want []byte) {
		t.Helper()
		select {
		case got := <-updates:
			if !bytes.Equal(got, want) {
				t.Fatalf("OnUpdate got other metadata")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no OnUpdate")
		}
	}
	var minted int
	mintForm := func(signer *samltest.IdP) string {
		t.Helper()
		minted++ // idp and idp2 would number their IDs alike
		form, err := signer.FormValue(samltest.Response{Audience: "urn:samlgate:acme", Destination: gwACS("acme"), Email: gwEmail, EmailVerified: "true",
			AssertionID: fmt.Sprintf("A%039d", minted)})
		if err != nil {
			t.Fatal(err)
		}
		return form
	}
	post := func(form string) int { return samltest.PostForm(gw, gwACS("acme"), form, "").StatusCode }
	login := func(signer *samltest.IdP) int { t.Helper(); return post(mintForm(signer)) }
	waitHits := func(n int64) {
		hits := m.hits.Load()
		for m.hits.Load() < hits+n {
			time.Sleep(time.Millisecond)
		}
	}

	wait(idp.Metadata())
	used := mintForm(idp)
	if got := post(used); got != http.StatusSeeOther {
		t.Fatalf("login with the first certificate: %d", got)
	}
	// Unchanged metadata: no further OnUpdate.
	waitHits(3)
	if len(updates) != 0 {
		t.Error("OnUpdate called for unchanged metadata")
	}

	// Changed metadata, same certificate: the rebuilt connection still
	// refuses the assertion already consumed (shared ReplayCache).
	idp.DeclareRedirectEndpoint = true
	m.set(200, "application/samlmetadata+xml", idp.Metadata())
	wait(idp.Metadata())
	if got := post(used); got != http.StatusBadRequest {
		t.Errorf("replay across a connection swap: %d", got)
	}
	if c, _ := gw.Connection("acme"); !c.Config().IdPSSORedirect {
		t.Error("the swapped connection does not have the new metadata")
	}

	// The IdP rotates its certificate: the refresh picks it up.
	m.set(200, "application/samlmetadata+xml", idp2.Metadata())
	wait(idp2.Metadata())
	if got := login(idp2); got != http.StatusSeeOther {
		t.Fatalf("login with the rotated certificate: %d", got)
	}
	if got := login(idp); got != http.StatusBadRequest {
		t.Errorf("login with the old certificate after rotation: %d", got)
	}
	if err := f.Refresh(context.Background()); err != nil {
		t.Errorf("Refresh of unchanged metadata: %v", err)
	}

	// The IdP fails, or serves a login page: the last good copy stays.
	for _, bad := range []struct {
		status int
		ct     string
		body   []byte
	}{{500, "text/plain", []byte("down")}, {200, "text/html", []byte(jumpCloudLoginPage)}} {
		m.set(bad.status, bad.ct, bad.body)
		waitHits(3)
		if len(updates) != 0 {
			t.Error("OnUpdate called with bad metadata")
		}
		if got := login(idp2); got != http.StatusSeeOther {
			t.Errorf("login after a failed refresh (%d): %d", bad.status, got)
		}
	}

	// OnUpdate refuses metadata (here: an expired certificate): kept too.
	expired := gwIdP(t, "expired", clk)
	m.set(200, "application/samlmetadata+xml", expired.Metadata())
	waitHits(3)
	if len(updates) != 0 {
		t.Error("OnUpdate reported success for refused metadata")
	}
	if err := f.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "refused by OnUpdate") {
		t.Errorf("Refresh with refused metadata: %v", err)
	}
	if got := login(idp2); got != http.StatusSeeOther {
		t.Errorf("login after a refused update: %d", got)
	}
}
