package saml

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of MetadataFetcher.
const (
	DefaultMetadataTimeout  = 10 * time.Second
	DefaultMetadataMaxBytes = 1 << 20
	DefaultMetadataInterval = time.Hour
	// metadataRetry caps the delay before retrying a failed refresh.
	metadataRetry = time.Minute
)

// MetadataFetcher keeps IdP metadata current from a URL, such as the one
// JumpCloud's "Copy Metadata URL" gives, and is the CertificateSource of
// the connection it serves: a certificate rotation at the IdP reaches the
// connection at the next refresh, with no rebuild and no redeploy.
//
//	f := &saml.MetadataFetcher{URL: mdURL}
//	if err := f.Refresh(ctx); err != nil { // at start-up: fail fast
//		log.Fatal(err)
//	}
//	cfg.IdPMetadataXML = f.Metadata() // entity ID and SSO URL, fixed
//	cfg.Certificates = f              // certificates, refreshed
//	conn, err := saml.NewConnection(cfg)
//	...
//	go f.Run(ctx)
//
// The entity ID of the first good copy is kept: a refresh whose metadata
// names another entity ID is refused (and the last good copy stays in
// service), because changing which IdP a connection trusts is the
// operator's deliberate act, never a download's.
//
// Whoever controls the metadata controls which certificates are trusted, so
// the URL must be https (http is accepted only for loopback addresses, for
// tests and local sidecars), redirects are followed only to https URLs, or
// from an http loopback URL to another one (a redirect never downgrades
// https to http, whatever the host, localhost included), and what is
// fetched must parse as IdP metadata with a signing certificate. Errors
// and logs name the URL with its password redacted.
//
// MetadataFetcher does not block private, link-local or internal
// addresses: an https URL, or a redirect, may point at a service on the
// gateway's network (https://10.0.0.5/, https://169.254.169.254/...), and
// a failed fetch says how it failed. Fine for a URL an operator configures;
// when tenants supply their metadata URLs, check each against an
// allow-list of IdP hosts (and give the fetcher a Client whose dialer
// refuses private addresses) before fetching it.
type MetadataFetcher struct {
	// URL is the metadata URL.
	URL string
	// Client makes the request; nil means a client with a 10-second
	// timeout that follows only https redirects. A client given here is
	// used through a copy whose CheckRedirect first refuses the redirects
	// the default client refuses, then calls the client's own.
	Client *http.Client
	// MaxBytes caps the body; default 1 MiB.
	MaxBytes int64
	// Interval is the refresh period of Run; default 1 hour. A failed
	// refresh is retried sooner (after at most a minute).
	Interval time.Duration
	// OnUpdate, when set, is called with metadata that differs from the
	// last good copy, before it is adopted: an error keeps the last good
	// copy in service, and the next refresh tries again.
	OnUpdate func(metadataXML []byte) error
	// Logger receives Run's refresh failures (Warn) and updates (Info); nil
	// means slog.Default(). Fetch, Refresh and Certificates never log.
	Logger *slog.Logger

	refreshMu sync.Mutex
	state     atomic.Pointer[fetchedMetadata]
}

// fetchedMetadata is the last good copy.
type fetchedMetadata struct {
	raw   []byte
	md    *idpMetadata
	certs []*x509.Certificate
	at    time.Time
}

// Certificates implements CertificateSource: the signing certificates of
// the last good copy. Before the first successful Refresh it returns an
// *Error with Code unavailable.
func (f *MetadataFetcher) Certificates(context.Context) ([]*x509.Certificate, error) {
	st := f.state.Load()
	if st == nil {
		return nil, newError(CodeUnavailable, fmt.Sprintf("no IdP metadata has been fetched yet from %s: call Refresh first", redact(f.URL)))
	}
	return st.certs, nil
}

// Metadata returns the last good copy of the metadata, or nil.
func (f *MetadataFetcher) Metadata() []byte {
	if st := f.state.Load(); st != nil {
		return slices.Clone(st.raw)
	}
	return nil
}

// LastRefresh returns when the last good copy was fetched (or confirmed
// unchanged), or the zero time.
func (f *MetadataFetcher) LastRefresh() time.Time {
	if st := f.state.Load(); st != nil {
		return st.at
	}
	return time.Time{}
}

// Fetch downloads the metadata once and checks that it is IdP metadata
// that NewConnection accepts. A non-2xx status, a network failure or a
// timeout is an *Error with Code unavailable; a body over MaxBytes,
// too_large; a refused redirect (see MetadataFetcher), an HTML page
// (JumpCloud's IdP URL is a login page, not metadata) or anything else
// that is not IdP metadata, config_invalid. It does not change what the
// fetcher serves: Refresh does.
func (f *MetadataFetcher) Fetch(ctx context.Context) ([]byte, error) {
	body, _, err := f.fetch(ctx)
	if err != nil {
		return nil, err
	}
	return body, nil
}

func (f *MetadataFetcher) fetch(ctx context.Context) ([]byte, *idpMetadata, *Error) {
	safe := redact(f.URL)
	u, err := url.Parse(f.URL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, nil, configError("metadata URL %s is not an absolute URL", safe)
	}
	if !secureMetadataURL(u) {
		return nil, nil, configError("metadata URL %s must be https: whoever can change the metadata chooses the trusted certificates", safe)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, configError("metadata URL %s: %v", safe, err)
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8")
	resp, err := f.client().Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		var refused *redirectRefusedError
		if errors.As(err, &refused) {
			return nil, nil, configError("metadata URL %s: %v", safe, refused)
		}
		// Network errors (DNS, TLS, timeouts) are what the admin needs and
		// quote nothing from the IdP; *url.Error quotes the URL, so the
		// message names the redacted one and keeps only the reason.
		return nil, nil, newError(CodeUnavailable, fmt.Sprintf("fetching the IdP metadata from %s failed: %v", safe, urlErrorReason(err))).withCause(urlErrorReason(err))
	}
	defer resp.Body.Close()
	if resp.Request != nil && resp.Request.URL != nil && (!secureMetadataURL(resp.Request.URL) || u.Scheme == "https" && resp.Request.URL.Scheme != "https") {
		return nil, nil, configError("metadata URL %s redirected to %s, which is not https", safe, resp.Request.URL.Redacted())
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, newError(CodeUnavailable, fmt.Sprintf("the IdP metadata URL %s answered %s", safe, resp.Status))
	}
	body, ferr := f.readBody(resp, safe)
	if ferr != nil {
		return nil, nil, ferr
	}
	md, perr := parseIdPMetadata(body)
	if perr != nil {
		return nil, nil, configError("the document at %s is not usable IdP metadata: %s", safe, perr.Message).withCause(perr)
	}
	return body, md, nil
}

// client is the HTTP client with the fetcher's redirect policy.
func (f *MetadataFetcher) client() *http.Client {
	if f.Client == nil {
		return &http.Client{Timeout: DefaultMetadataTimeout, CheckRedirect: httpsRedirectsOnly}
	}
	c := *f.Client
	own := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := secureRedirect(req, via); err != nil {
			return err
		}
		if own != nil {
			return own(req, via)
		}
		if len(via) >= 10 { // net/http's default policy
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

// readBody reads at most MaxBytes and refuses HTML pages.
func (f *MetadataFetcher) readBody(resp *http.Response, safe string) ([]byte, *Error) {
	max := f.MaxBytes
	if max <= 0 {
		max = DefaultMetadataMaxBytes
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, newError(CodeUnavailable, fmt.Sprintf("reading the IdP metadata from %s failed: %v", safe, err)).withCause(err)
	}
	if int64(len(body)) > max {
		return nil, newError(CodeTooLarge, fmt.Sprintf("the IdP metadata from %s is over %d bytes", safe, max))
	}
	if looksLikeHTML(resp.Header.Get("Content-Type"), body) {
		e := configError("the metadata URL %s returned an HTML page, not SAML metadata", safe)
		e.Hint = "This is usually JumpCloud's \"IdP URL\" (a login page). In the JumpCloud SSO app, use \"Copy Metadata URL\" or \"Export Metadata\" instead."
		return nil, e
	}
	return body, nil
}

// urlErrorReason strips the URL (which may hold a password) from a
// *url.Error, keeping the reason.
func urlErrorReason(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Refresh fetches the metadata once and, when it differs from the last
// good copy, adopts it (after OnUpdate, when set, accepts it): the
// certificates it lists become those Certificates returns. An error (from
// Fetch, a changed entity ID, or OnUpdate) leaves the last good copy in
// service.
func (f *MetadataFetcher) Refresh(ctx context.Context) error {
	body, md, ferr := f.fetch(ctx)
	if ferr != nil {
		return ferr
	}
	f.refreshMu.Lock()
	defer f.refreshMu.Unlock() // one refresh at a time: OnUpdate calls stay ordered
	prev := f.state.Load()
	if prev != nil && bytes.Equal(body, prev.raw) {
		f.state.Store(&fetchedMetadata{raw: prev.raw, md: prev.md, certs: prev.certs, at: time.Now()})
		return nil
	}
	if prev != nil && md.entityID != prev.md.entityID {
		e := configError("the IdP metadata at %s now names the entity ID %q instead of %q; the last good copy stays in service", redact(f.URL), md.entityID, prev.md.entityID)
		e.Hint = "A change of IdP entity ID is not taken from a refresh: if the IdP really changed, update the connection's configuration and restart."
		return e.mismatch(prev.md.entityID, md.entityID)
	}
	if f.OnUpdate != nil {
		if err := f.OnUpdate(body); err != nil {
			return fmt.Errorf("samlgate: IdP metadata from %s refused by OnUpdate: %w", redact(f.URL), err)
		}
	}
	f.state.Store(&fetchedMetadata{raw: body, md: md, certs: md.certs, at: time.Now()})
	return nil
}

// Run calls Refresh every Interval until ctx is done, and at once if no
// Refresh has succeeded yet. Failures are logged at Warn, keep the last
// good copy, and are retried after at most a minute.
func (f *MetadataFetcher) Run(ctx context.Context) {
	interval := f.Interval
	if interval <= 0 {
		interval = DefaultMetadataInterval
	}
	retry := min(interval, metadataRetry)
	first := time.Duration(0)
	if f.state.Load() != nil {
		first = interval
	}
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next := interval + rand.N(interval/10+1) // jitter: replicas drift apart
		before := f.state.Load()
		if err := f.Refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			f.logger().WarnContext(ctx, "samlgate: IdP metadata refresh failed; keeping the last good copy", "url", redact(f.URL), "error", err.Error())
			next = retry
		} else if after := f.state.Load(); before == nil || after.md != before.md {
			f.logger().InfoContext(ctx, "samlgate: IdP metadata updated", "url", redact(f.URL))
		}
		t.Reset(next)
	}
}

func (f *MetadataFetcher) logger() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.Default()
}

// secureMetadataURL accepts https, and http to a loopback host.
func secureMetadataURL(u *url.URL) bool {
	switch u.Scheme {
	case "https":
		return true
	case "http":
		return loopbackHost(u.Hostname())
	}
	return false
}

// loopbackHost reports localhost and loopback addresses.
func loopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redirectRefusedError is a redirect the fetcher will not follow.
type redirectRefusedError struct{ msg string }

func (e *redirectRefusedError) Error() string { return e.msg }

// httpsRedirectsOnly is the default client's redirect policy: at most 5,
// each accepted by secureRedirect.
func httpsRedirectsOnly(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("too many redirects")
	}
	return secureRedirect(req, via)
}

// secureRedirect refuses a redirect to a URL that is not https (but for
// http to a loopback host), and any redirect that leaves https for http,
// whatever the host: an https metadata server must not be able to point
// the gateway at http://localhost.
func secureRedirect(req *http.Request, via []*http.Request) error {
	if !secureMetadataURL(req.URL) {
		return &redirectRefusedError{fmt.Sprintf("redirect to %s refused: not https", req.URL.Redacted())}
	}
	if req.URL.Scheme != "https" {
		for _, prev := range via {
			if prev.URL.Scheme == "https" {
				return &redirectRefusedError{fmt.Sprintf("redirect from https to %s refused: not https (a downgrade)", req.URL.Redacted())}
			}
		}
	}
	return nil
}

// looksLikeHTML recognises an HTML page by its Content-Type or its start.
func looksLikeHTML(contentType string, body []byte) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
		return true
	}
	start := strings.ToLower(string(bytes.TrimSpace(body[:min(len(body), 512)])))
	start = strings.TrimPrefix(start, "\ufeff")
	return strings.HasPrefix(start, "<!doctype html") || strings.HasPrefix(start, "<html") ||
		strings.Contains(start, "<html") && !strings.Contains(start, "entitydescriptor")
}

func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparseable URL)"
}
