package saml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// client is the HTTP client with the fetcher's redirect policy: https
// only, and only to hosts (when not nil; normalized by normalizeHosts).
func (f *MetadataFetcher) client(hosts []string) *http.Client {
	if f.Client == nil {
		return &http.Client{Timeout: DefaultMetadataTimeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if err := httpsRedirectsOnly(req, via); err != nil {
				return err
			}
			return redirectHost(hosts, req)
		}}
	}
	c := *f.Client
	own := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := secureRedirect(req, via); err != nil {
			return err
		}
		if err := redirectHost(hosts, req); err != nil {
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

// normalizeHosts returns AllowedHosts lower-cased, IPv6 brackets removed,
// refusing entries that are not a bare host name or IP address: an entry
// with a scheme, port or wildcard would otherwise silently match nothing.
func normalizeHosts(hosts []string) ([]string, *Error) {
	if hosts == nil {
		return nil, nil
	}
	if len(hosts) == 0 {
		// Most likely a list that lost its entries; an allow-list must not
		// turn into "any host" by being empty.
		return nil, configError("AllowedHosts is empty; leave it nil to allow any host")
	}
	out := make([]string, len(hosts))
	for i, h := range hosts {
		n := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))
		if n == "" || strings.ContainsAny(n, "/@?#[]*% \t\r\n") || strings.Contains(n, ":") && net.ParseIP(n) == nil {
			return nil, configError("AllowedHosts[%d] %q is not a host name or IP address (no scheme, port, path or wildcard)", i, h)
		}
		out[i] = n
	}
	return out, nil
}

// hostAllowed reports whether u's host is in hosts (normalized), or hosts
// is nil.
func hostAllowed(hosts []string, u *url.URL) bool {
	return hosts == nil || slices.Contains(hosts, strings.ToLower(u.Hostname()))
}

// redirectHost refuses a redirect to a host off the allow-list.
func redirectHost(hosts []string, req *http.Request) error {
	if hostAllowed(hosts, req.URL) {
		return nil
	}
	return &redirectRefusedError{fmt.Sprintf("redirect to %s refused: its host is not in AllowedHosts", req.URL.Redacted())}
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
