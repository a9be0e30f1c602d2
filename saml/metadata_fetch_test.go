package saml_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// metadataServer serves whatever body() returns, with status and
// content type.
type metadataServer struct {
	mu          sync.Mutex
	status      int
	contentType string
	body        []byte
	hits        atomic.Int64
	srv         *httptest.Server
}

func newMetadataServer(t testing.TB, body []byte) *metadataServer {
	m := &metadataServer{status: 200, contentType: "application/samlmetadata+xml", body: body}
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

func (m *metadataServer) set(status int, contentType string, body []byte) {
	m.mu.Lock()
	m.status, m.contentType, m.body = status, contentType, body
	m.mu.Unlock()
}

func (m *metadataServer) fetcher() *saml.MetadataFetcher {
	return &saml.MetadataFetcher{URL: m.srv.URL + "/saml2/metadata/acme", Client: m.srv.Client(), Logger: slog.New(slog.DiscardHandler)}
}

const jumpCloudLoginPage = `<!DOCTYPE html><html><head><title>JumpCloud User Portal</title></head><body><div id="app"></div></body></html>`

func TestMetadataFetcherFetch(t *testing.T) {
	good := newIdP(t, "idp").Metadata()
	m := newMetadataServer(t, good)
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
		{"HTML page", 200, "text/html; charset=utf-8", []byte(jumpCloudLoginPage), 0, saml.CodeConfigInvalid, "HTML page"},
		{"HTML page labelled XML", 200, "application/xml", []byte("\n  " + jumpCloudLoginPage), 0, saml.CodeConfigInvalid, "HTML page"},
		{"oversize", 200, "application/xml", good, 100, saml.CodeTooLarge, "over 100 bytes"},
		{"server error", 500, "text/plain", []byte("oops"), 0, saml.CodeUnavailable, "500"},
		{"not found", 404, "text/plain", nil, 0, saml.CodeUnavailable, "404"},
		{"SP metadata", 200, "application/xml", []byte(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></EntityDescriptor>`), 0, saml.CodeConfigInvalid, "IDPSSODescriptor"},
		{"DTD", 200, "application/xml", []byte(`<!DOCTYPE x [<!ENTITY a "b">]><x/>`), 0, saml.CodeConfigInvalid, "DOCTYPE"},
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
	if _, err := f.Fetch(ctx); !errors.Is(err, saml.CodeConfigInvalid) || !strings.Contains(err.Error(), "https") {
		t.Errorf("http URL: %v", err)
	}
	f = &saml.MetadataFetcher{URL: "not a url"}
	if _, err := f.Fetch(ctx); !errors.Is(err, saml.CodeConfigInvalid) {
		t.Errorf("bad URL: %v", err)
	}
	// A redirect to plain http is refused.
	redirector := httptest.NewTLSServer(http.RedirectHandler("http://metadata.example.com/md", http.StatusFound))
	defer redirector.Close()
	client := redirector.Client()
	client.CheckRedirect = nil // what a caller's own client might do
	f = &saml.MetadataFetcher{URL: redirector.URL, Client: client}
	client.Transport = redirectOnly{client.Transport, t}
	if _, err := f.Fetch(ctx); !errors.Is(err, saml.CodeConfigInvalid) || !strings.Contains(err.Error(), "not https") {
		t.Errorf("redirect to http: %v", err)
	}
	// The default client refuses the redirect itself.
	plain := httptest.NewServer(http.RedirectHandler("http://metadata.example.com/md", http.StatusFound))
	defer plain.Close()
	f = &saml.MetadataFetcher{URL: plain.URL} // http://127.0.0.1: loopback is allowed
	if _, err := f.Fetch(ctx); !errors.Is(err, saml.CodeConfigInvalid) || !strings.Contains(err.Error(), "not https") {
		t.Errorf("default client, redirect to http: %v", err)
	}
}

// TestMetadataFetcherRedactsCredentials: the URL's password never reaches
// an error (which Run logs at Warn), whichever check fails.
func TestMetadataFetcherRedactsCredentials(t *testing.T) {
	ctx := context.Background()
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := strings.Replace(down.URL, "http://", "http://admin:s3cret-pw@", 1)
	down.Close() // connection refused
	redirector := httptest.NewServer(http.RedirectHandler("http://admin:s3cret-pw@metadata.example.com/md", http.StatusFound))
	defer redirector.Close()
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	for _, tc := range []struct{ name, url string }{
		{"not https", "http://admin:s3cret-pw@metadata.example.com/md"},
		{"redirect to http", strings.Replace(redirector.URL, "http://", "http://admin:s3cret-pw@", 1)},
		{"unreachable", downURL},
		{"404", strings.Replace(notFound.URL, "http://", "http://admin:s3cret-pw@", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &saml.MetadataFetcher{URL: tc.url}
			_, err := f.Fetch(ctx)
			if err == nil {
				t.Fatal("no error")
			}
			var e *saml.Error
			if !errors.As(err, &e) {
				t.Fatalf("%T %v", err, err)
			}
			if strings.Contains(e.Detail(), "s3cret-pw") {
				t.Errorf("the password is in the error: %s", e.Detail())
			}
			if err := f.Refresh(ctx); err == nil || strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("Refresh: %v", err)
			}
		})
	}
}

// TestMetadataFetcherRefusesDowngrade: an https metadata server redirects
// to http on a loopback address, where the gateway's own machine may
// serve anything (http is otherwise accepted there, for local sidecars).
// The redirect is refused before any request reaches the http server,
// whatever the Client's own redirect policy.
func TestMetadataFetcherRefusesDowngrade(t *testing.T) {
	attackerMD := newIdP(t, "attacker").Metadata()
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
			if err == nil || !errors.Is(err, saml.CodeConfigInvalid) || !strings.Contains(err.Error(), "not https") {
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
		rec := httptest.NewRecorder()
		_, _ = rec.Write(newIdP(ro.t, "attacker").Metadata())
		res := rec.Result()
		res.Request = r
		return res, nil
	}
	return ro.next.RoundTrip(r)
}

func TestMetadataFetcherRun(t *testing.T) {
	idp := newIdP(t, "idp")
	idp2 := newIdP(t, "idp2") // the same entity ID, a rotated key
	m := newMetadataServer(t, idp.Metadata())

	f := m.fetcher()
	f.Interval = 5 * time.Millisecond
	var refuseUpdate atomic.Bool
	f.OnUpdate = func([]byte) error {
		if refuseUpdate.Load() {
			return errors.New("not now")
		}
		return nil
	}
	// At start-up: one Refresh; the connection is built once, on the
	// fetcher's first copy and with the fetcher as its certificate source.
	if err := f.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig(t)
	cfg.IdPEntityID, cfg.IdPSSOURL, cfg.IdPCertificatesPEM = "", "", nil
	cfg.IdPMetadataXML = f.Metadata()
	cfg.Certificates = f
	conn := newConn(t, cfg)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	var minted int
	mintForm := func(signer *samltest.IdP) string {
		t.Helper()
		minted++ // idp and idp2 would number their IDs alike
		r := standard()
		r.AssertionID = fmt.Sprintf("A%039d", minted)
		return mint(t, signer, r)
	}
	waitHits := func(n int64) {
		hits := m.hits.Load()
		for m.hits.Load() < hits+n {
			time.Sleep(time.Millisecond)
		}
	}
	verify := func(form string) error {
		_, err := conn.Verify(context.Background(), form)
		return err
	}

	used := mintForm(idp)
	if err := verify(used); err != nil {
		t.Fatalf("login with the first certificate: %v", err)
	}

	// The IdP rotates its certificate: the refresh picks it up, the
	// connection (the same one) trusts the new key only, and its replay
	// cache still refuses what it consumed before.
	m.set(200, "application/samlmetadata+xml", idp2.Metadata())
	deadline := time.Now().Add(5 * time.Second)
	for verify(mintForm(idp2)) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the rotated certificate was not picked up")
		}
		time.Sleep(time.Millisecond)
	}
	if err := verify(mintForm(idp)); !errors.Is(err, saml.CodeUntrustedCertificate) {
		t.Errorf("login with the old certificate after rotation: %v", err)
	}
	if err := verify(used); !errors.Is(err, saml.CodeUntrustedCertificate) && !errors.Is(err, saml.CodeReplayed) {
		t.Errorf("the consumed assertion after rotation: %v", err)
	}
	if err := f.Refresh(context.Background()); err != nil {
		t.Errorf("Refresh of unchanged metadata: %v", err)
	}

	// The IdP fails, serves a login page, or names another entity ID; or
	// OnUpdate refuses: the last good copy stays.
	other := newIdP(t, "idp")
	other.EntityID = "https://sso.jumpcloud.com/saml2/someone-else"
	for _, bad := range []struct {
		name   string
		status int
		ct     string
		body   []byte
		refuse bool
		want   saml.Code
	}{
		{"server error", 500, "text/plain", []byte("down"), false, saml.CodeUnavailable},
		{"login page", 200, "text/html", []byte(jumpCloudLoginPage), false, saml.CodeConfigInvalid},
		{"entity ID changed", 200, "application/samlmetadata+xml", other.Metadata(), false, saml.CodeConfigInvalid},
		{"OnUpdate refuses", 200, "application/samlmetadata+xml", idp.Metadata(), true, ""},
	} {
		t.Run(bad.name, func(t *testing.T) {
			refuseUpdate.Store(bad.refuse)
			defer refuseUpdate.Store(false)
			m.set(bad.status, bad.ct, bad.body)
			waitHits(3)
			err := f.Refresh(context.Background())
			if err == nil || bad.want != "" && !errors.Is(err, bad.want) {
				t.Errorf("Refresh: %v, want %s", err, bad.want)
			}
			if err := verify(mintForm(idp2)); err != nil {
				t.Errorf("login after a failed refresh: %v", err)
			}
		})
	}
	if !bytes.Equal(f.Metadata(), idp2.Metadata()) {
		t.Error("Metadata() is not the last good copy")
	}
	if f.LastRefresh().IsZero() {
		t.Error("LastRefresh is zero")
	}
}

// TestMetadataFetcherBeforeRefresh: a fetcher that never fetched has no
// certificates, and says so.
func TestMetadataFetcherBeforeRefresh(t *testing.T) {
	f := &saml.MetadataFetcher{URL: "https://user:secret@idp.example.com/md"}
	if _, err := f.Certificates(context.Background()); !errors.Is(err, saml.CodeUnavailable) || strings.Contains(err.Error(), "secret") {
		t.Errorf("Certificates before Refresh: %v", err)
	}
	cfg := baseConfig(t)
	cfg.IdPCertificatesPEM = nil
	cfg.Certificates = f
	_, err := saml.NewConnection(cfg)
	e := checkError(t, err, saml.CodeConfigInvalid)
	// The fetcher's own message says what to do; the password stays out.
	checkMessage(t, e, "Certificates: the IdP certificate source failed: no IdP metadata has been fetched yet", "call Refresh first")
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("NewConnection on an empty fetcher: %v", err)
	}
}

// TestMetadataFetcherConcurrentRefresh: two Refresh calls at once adopt
// their copies in the order they fetched them. Refresh fetched outside its
// lock, so a slow first fetch could adopt an older copy after a later
// Refresh had adopted a newer one, bringing a removed certificate back.
func TestMetadataFetcherConcurrentRefresh(t *testing.T) {
	older, newer := newIdP(t, "idp").Metadata(), newIdP(t, "idp2").Metadata()
	_, newCert := keyPair(t, "idp2")
	arrived, release := make(chan struct{}), make(chan struct{})
	var requests atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := newer
		if requests.Add(1) == 1 {
			// The first request is slow, and gets what the IdP served
			// before its rotation.
			close(arrived)
			<-release
			body = older
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	f := &saml.MetadataFetcher{URL: srv.URL + "/saml2/metadata/acme", Client: srv.Client()}

	ctx := context.Background()
	first, second := make(chan error, 1), make(chan error, 1)
	go func() { first <- f.Refresh(ctx) }()
	<-arrived
	go func() { second <- f.Refresh(ctx) }()
	var secondErr error
	secondDone := false
	select {
	case secondErr = <-second: // it did not wait for the first
		secondDone = true
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first Refresh: %v", err)
	}
	if !secondDone {
		secondErr = <-second
	}
	if secondErr != nil {
		t.Fatalf("second Refresh: %v", secondErr)
	}
	certs, err := f.Certificates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 1 || !certs[0].Equal(newCert) {
		t.Errorf("after both Refresh calls the fetcher serves %s, not the copy fetched last (%s)", saml.Fingerprint(certs[0]), saml.Fingerprint(newCert))
	}
	if !bytes.Equal(f.Metadata(), newer) {
		t.Error("Metadata() is not the copy fetched last")
	}
}
