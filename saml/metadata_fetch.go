package saml

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
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
// JumpCloud's "Copy Metadata URL" gives, so that a certificate rotation at
// the IdP reaches the connection without a redeploy:
//
//	cfg.ReplayCache = saml.NewMemoryReplayCache(0, nil) // shared by every rebuilt connection
//	f := &saml.MetadataFetcher{URL: mdURL, OnUpdate: func(md []byte) error {
//		cfg.IdPMetadataXML = md
//		conn, err := saml.NewConnection(cfg)
//		if err != nil {
//			return err // the gateway keeps the previous connection
//		}
//		gw.SetConnection(conn)
//		return nil
//	}}
//	if err := f.Refresh(ctx); err != nil { // at start-up: fail fast
//		log.Fatal(err)
//	}
//	go f.Run(ctx)
//
// Share one ReplayCache between the connections OnUpdate builds, as above:
// a connection built with none gets a private cache, and the swap would
// forget the assertions already consumed, which could then be replayed
// until they expire.
//
// Whoever controls the metadata controls which certificates are trusted, so
// the URL must be https (http is accepted only for loopback addresses, for
// tests and local sidecars), redirects are followed only to https URLs, or
// from an http loopback URL to another one (a redirect never downgrades
// https to http, whatever the host, localhost included), and what is
// fetched must parse as IdP metadata with a signing certificate.
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
	// OnUpdate receives metadata that differs from the last good copy:
	// build the connection from it and swap it in (Gateway.SetConnection).
	// An error keeps the last good copy in service, and the next refresh
	// tries again.
	OnUpdate func(metadataXML []byte) error
	// Logger receives refresh failures (Warn) and updates (Info); nil means
	// slog.Default().
	Logger *slog.Logger

	mu   sync.Mutex
	last []byte
}

// Fetch downloads the metadata once and checks that it is IdP metadata
// that NewConnection accepts. A non-2xx status, a network failure or a
// timeout is an *Error with Code unavailable; a body over MaxBytes,
// too_large; a refused redirect (see MetadataFetcher), an HTML page
// (JumpCloud's IdP URL is a login page, not metadata) or anything else
// that is not IdP metadata, config_invalid.
func (f *MetadataFetcher) Fetch(ctx context.Context) ([]byte, error) {
	u, err := url.Parse(f.URL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, configError("metadata URL %q is not an absolute URL", f.URL)
	}
	if !secureMetadataURL(u) {
		return nil, configError("metadata URL %q must be https: whoever can change the metadata chooses the trusted certificates", f.URL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, configError("metadata URL %q: %v", f.URL, err).withCause(err)
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8")
	client := &http.Client{Timeout: DefaultMetadataTimeout, CheckRedirect: httpsRedirectsOnly}
	if f.Client != nil {
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
		client = &c
	}
	resp, err := client.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		var refused *redirectRefusedError
		if errors.As(err, &refused) {
			return nil, configError("metadata URL %q: %v", f.URL, refused).withCause(err)
		}
		// Network errors (DNS, TLS, timeouts) are what the admin needs,
		// and quote nothing from the IdP: they go in the message.
		return nil, newError(CodeUnavailable, fmt.Sprintf("fetching the IdP metadata from %s failed: %v", u.Redacted(), err)).withCause(err)
	}
	defer resp.Body.Close()
	if resp.Request != nil && resp.Request.URL != nil && (!secureMetadataURL(resp.Request.URL) || u.Scheme == "https" && resp.Request.URL.Scheme != "https") {
		return nil, configError("metadata URL %q redirected to %q, which is not https", f.URL, resp.Request.URL.Redacted())
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newError(CodeUnavailable, fmt.Sprintf("the IdP metadata URL %s answered %s", u.Redacted(), resp.Status))
	}
	max := f.MaxBytes
	if max <= 0 {
		max = DefaultMetadataMaxBytes
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, newError(CodeUnavailable, fmt.Sprintf("reading the IdP metadata from %s failed: %v", u.Redacted(), err)).withCause(err)
	}
	if int64(len(body)) > max {
		return nil, newError(CodeTooLarge, fmt.Sprintf("the IdP metadata from %s is over %d bytes", u.Redacted(), max))
	}
	if looksLikeHTML(resp.Header.Get("Content-Type"), body) {
		e := configError("the metadata URL %s returned an HTML page, not SAML metadata", u.Redacted())
		e.Hint = "This is usually JumpCloud's \"IdP URL\" (a login page). In the JumpCloud SSO app, use \"Copy Metadata URL\" or \"Export Metadata\" instead."
		return nil, e
	}
	if _, err := parseIdPMetadata(body); err != nil {
		e, _ := asError(err)
		return nil, configError("the document at %s is not usable IdP metadata: %s", u.Redacted(), e.Message).withCause(err)
	}
	return body, nil
}

// Refresh fetches the metadata once and, when it differs from the last
// good copy, hands it to OnUpdate; the copy becomes the last good one when
// OnUpdate accepts it. An error (from Fetch or OnUpdate) leaves the last
// good copy in service.
func (f *MetadataFetcher) Refresh(ctx context.Context) error {
	md, err := f.Fetch(ctx)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock() // one refresh at a time: OnUpdate calls stay ordered
	if bytes.Equal(md, f.last) {
		f.logger().DebugContext(ctx, "samlgate: IdP metadata unchanged", "url", redact(f.URL))
		return nil
	}
	if f.OnUpdate != nil {
		if err := f.OnUpdate(md); err != nil {
			return fmt.Errorf("samlgate: IdP metadata from %s refused by OnUpdate: %w", redact(f.URL), err)
		}
	}
	f.last = md
	f.logger().InfoContext(ctx, "samlgate: IdP metadata updated", "url", redact(f.URL))
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
	f.mu.Lock()
	first := time.Duration(0)
	if f.last != nil {
		first = interval
	}
	f.mu.Unlock()
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next := interval + rand.N(interval/10+1) // jitter: replicas drift apart
		if err := f.Refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			f.logger().WarnContext(ctx, "samlgate: IdP metadata refresh failed; keeping the last good copy", "url", redact(f.URL), "error", err.Error())
			next = retry
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
