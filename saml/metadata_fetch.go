package saml

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
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
// Two options bind the metadata further, as Shibboleth's metadata filters
// do. With SigningCertificates set, the document must carry a valid
// enveloped XML signature on its root by one of those keys, and only what
// the signature covers is used: https alone trusts whoever serves the URL
// (and every CA), a signature trusts only the metadata's publisher. With
// AllowedHosts set, the URL's host and the host of every redirect must be
// on the list.
//
// MetadataFetcher does not block private, link-local or internal
// addresses: an https URL, or a redirect, may point at a service on the
// gateway's network (https://10.0.0.5/, https://169.254.169.254/...), and
// a failed fetch says how it failed. Fine for a URL an operator configures.
// When tenants supply their metadata URLs, set both options: AllowedHosts
// to the IdP hosts tenants may name (so that a tenant cannot point the
// gateway at an internal service), and SigningCertificates to the IdP's
// or federation's metadata signing certificates (so that a tenant cannot
// hand the gateway certificates of its choosing); and give the fetcher a
// Client whose dialer refuses private addresses.
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
	// OnRefreshError, when set, is called by Run with the error of each
	// failed refresh (after logging it), for metrics: the last good copy
	// stays in service, and LastRefresh says how old it is. It is called
	// from Run's goroutine and must not block. Refresh itself returns its
	// error and does not call it.
	OnRefreshError func(err error)

	// SigningCertificates, when set, are the metadata signing certificates:
	// the metadata's root element (EntityDescriptor or EntitiesDescriptor)
	// must carry exactly one enveloped XML signature, with one Reference
	// (to the root: "" or its ID), made with one of these keys and without
	// SHA-1; there must be no other signature in the document. The
	// certificate inside the signature is ignored, and so are the validity
	// dates of these: trust is in the configured key. What the signature
	// covers, as goxmldsig returns it, is what is parsed, and what Fetch,
	// Metadata and OnUpdate return (re-serialized, without the signature).
	// Anything else (unsigned, tampered, signed by another key) is refused
	// as config_invalid. nil means no signature is required; a non-nil
	// empty slice is refused.
	SigningCertificates []*x509.Certificate
	// AllowedHosts, when set, are the only hosts (names or IP addresses,
	// without port; compared case-insensitively and exactly: no
	// subdomains, no wildcards) the URL and every redirect may name;
	// another is refused as config_invalid before any request to it. nil
	// means any host; a non-nil empty slice is refused.
	AllowedHosts []string

	// refreshMu runs Refresh calls one at a time, from fetch to adoption.
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
// too_large; a refused redirect or host (see MetadataFetcher), a missing
// or invalid signature (with SigningCertificates), an HTML page
// (JumpCloud's IdP URL is a login page, not metadata) or anything else
// that is not IdP metadata, config_invalid. With SigningCertificates it
// returns the signed element, not the document as served. It does not
// change what the fetcher serves: Refresh does.
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
	hosts, herr := normalizeHosts(f.AllowedHosts)
	if herr != nil {
		return nil, nil, herr
	}
	if err := checkSigningCertificates(f.SigningCertificates); err != nil {
		return nil, nil, err
	}
	if !hostAllowed(hosts, u) {
		return nil, nil, configError("metadata URL %s: its host %q is not in AllowedHosts", safe, u.Hostname())
	}
	resp, ferr := f.get(ctx, u, hosts, safe)
	if ferr != nil {
		return nil, nil, ferr
	}
	defer resp.Body.Close()
	body, ferr := f.readBody(resp, safe)
	if ferr != nil {
		return nil, nil, ferr
	}
	if f.SigningCertificates != nil {
		signed, serr := verifyMetadataSignature(body, f.SigningCertificates)
		if serr != nil {
			e := configError("the IdP metadata at %s is refused: %s", safe, serr.Message).withCause(serr.Err)
			e.Hint = "The metadata must be signed (enveloped signature on its root, SHA-256 or stronger) with the key of one of the fetcher's metadata signing certificates (SigningCertificates): check that the IdP or federation signs this metadata and that the configured certificate is its current metadata signing certificate."
			return nil, nil, e
		}
		// From here on only the signed element exists: what is parsed,
		// adopted and handed to OnUpdate is exactly what was verified.
		body = signed
	}
	md, perr := parseIdPMetadata(body)
	if perr != nil {
		return nil, nil, configError("the document at %s is not usable IdP metadata: %s", safe, perr.Message).withCause(perr)
	}
	return body, md, nil
}

// Refresh fetches the metadata once and, when it differs from the last
// good copy, adopts it (after OnUpdate, when set, accepts it): the
// certificates it lists become those Certificates returns. An error (from
// Fetch, a changed entity ID, or OnUpdate) leaves the last good copy in
// service. Refresh calls run one at a time, fetch included, so that the
// copy adopted last is the one fetched last (never a slow, older copy
// after a newer one) and OnUpdate calls stay ordered: a Refresh made while
// another runs waits for it.
func (f *MetadataFetcher) Refresh(ctx context.Context) error {
	f.refreshMu.Lock()
	defer f.refreshMu.Unlock()
	body, md, ferr := f.fetch(ctx)
	if ferr != nil {
		return ferr
	}
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
			if f.OnRefreshError != nil {
				f.OnRefreshError(err)
			}
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

// get requests the metadata and checks where the redirects ended, the
// status aside: the response's body is the caller's to close.
func (f *MetadataFetcher) get(ctx context.Context, u *url.URL, hosts []string, safe string) (*http.Response, *Error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, configError("metadata URL %s: %v", safe, err)
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8")
	resp, err := f.client(hosts).Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		var refused *redirectRefusedError
		if errors.As(err, &refused) {
			return nil, configError("metadata URL %s: %v", safe, refused)
		}
		// Network errors (DNS, TLS, timeouts) are what the admin needs and
		// quote nothing from the IdP; *url.Error quotes the URL, so the
		// message names the redacted one and keeps only the reason.
		return nil, newError(CodeUnavailable, fmt.Sprintf("fetching the IdP metadata from %s failed: %v", safe, urlErrorReason(err))).withCause(urlErrorReason(err))
	}
	fail := func(e *Error) (*http.Response, *Error) {
		resp.Body.Close()
		return nil, e
	}
	if resp.Request != nil && resp.Request.URL != nil && (!secureMetadataURL(resp.Request.URL) || u.Scheme == "https" && resp.Request.URL.Scheme != "https") {
		return fail(configError("metadata URL %s redirected to %s, which is not https", safe, resp.Request.URL.Redacted()))
	}
	// The redirect policy refused other hosts already; this also holds
	// whatever a caller's Client (or its Transport) did.
	if resp.Request != nil && resp.Request.URL != nil && !hostAllowed(hosts, resp.Request.URL) {
		return fail(configError("metadata URL %s redirected to %s, whose host is not in AllowedHosts", safe, resp.Request.URL.Redacted()))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fail(newError(CodeUnavailable, fmt.Sprintf("the IdP metadata URL %s answered %s", safe, resp.Status)))
	}
	return resp, nil
}
