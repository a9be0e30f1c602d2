package main

import (
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/samlgate/samlgate/saml/gateway"
)

// The identity headers the gateway sets on every proxied request. The
// upstream may trust them only because the gateway strips every copy a
// client sent (see isIdentityHeader) and because the upstream accepts
// connections from the gateway alone.
//
// HeaderConnection names the connection (the IdP) that vouched for the
// user. With several connections, each IdP can assert any subject, email
// or group: the admin of one tenant's IdP can create a user named
// ceo@other-tenant.example in "Admins". An upstream must key its accounts
// by (connection, user), never by the user or the email alone, and judge
// a group only together with the connection that asserted it (or set
// required_connections).
const (
	HeaderUser       = "X-Forwarded-User"
	HeaderEmail      = "X-Forwarded-Email"
	HeaderGroups     = "X-Forwarded-Groups"
	HeaderRoles      = "X-Forwarded-Roles"
	HeaderConnection = "X-Forwarded-Connection"
)

// identityHeaders are the headers setIdentityHeaders sets.
var identityHeaders = []string{HeaderUser, HeaderEmail, HeaderGroups, HeaderRoles, HeaderConnection, HeaderTeams}

// identityHeaderPrefix and identityHeaderNames are the normalized
// (lower-case, '-' separated) prefixes of the headers a client must never
// be able to send upstream: identityHeaderPrefix followed by one of the
// names.
const identityHeaderPrefix = "x-forwarded-"

var identityHeaderNames = []string{"user", "email", "groups", "roles", "connection", "teams"}

// isIdentityHeader reports whether a header named name could be read by an
// upstream as one of the identity headers. The comparison ignores case and
// treats '_' as '-': CGI, WSGI, Rack, PHP and nginx (underscores_in_headers)
// map "X_Forwarded_User" and "X-Forwarded-User" to the same HTTP_X_FORWARDED_USER
// variable, so an underscore spelling is a forgery too. Any header that
// merely starts with one of the names (X-Forwarded-User-Id,
// X-Forwarded-Emails...) is also refused, so that an upstream matching on a
// prefix cannot be fooled.
//
// It runs on every header of every proxied request, several times, so the
// common case (an ASCII name) allocates nothing, and a name that does not
// start with X-Forwarded- is told after one comparison; a name with other
// bytes (which net/http does not accept in a request, but costs nothing to
// handle) takes the Unicode case mapping of strings.ToLower first.
func isIdentityHeader(name string) bool {
	n := strings.TrimSpace(name)
	for i := 0; i < len(n); i++ {
		if n[i] >= utf8.RuneSelf {
			n = strings.ReplaceAll(strings.ToLower(n), "_", "-")
			break
		}
	}
	if !hasHeaderPrefix(n, identityHeaderPrefix) {
		return false
	}
	rest := n[len(identityHeaderPrefix):]
	for _, p := range identityHeaderNames {
		if hasHeaderPrefix(rest, p) {
			return true
		}
	}
	return false
}

// hasHeaderPrefix reports whether name starts with prefix (lower-case,
// '-' separated) once its ASCII letters are lower-cased and its '_' read
// as '-'.
func hasHeaderPrefix(name, prefix string) bool { return hasLowerPrefix(name, prefix, true) }

// hasLowerPrefix reports whether s starts with prefix (lower-case ASCII)
// once s's ASCII letters are lower-cased, and its '_' read as '-' when
// underscoreIsDash.
func hasLowerPrefix(s, prefix string, underscoreIsDash bool) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		switch {
		case c == '_' && underscoreIsDash:
			c = '-'
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// stripIdentityHeaders deletes every header isIdentityHeader matches.
func stripIdentityHeaders(h http.Header) {
	for name := range h {
		if isIdentityHeader(name) {
			delete(h, name)
		}
	}
}

// stripIdentityHeadersHandler removes forged identity headers from the
// request before anything (the gateway, the authorization middleware, the
// proxy) sees it.
func stripIdentityHeadersHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stripIdentityHeaders(r.Header)
		next.ServeHTTP(w, r)
	})
}

// checkUpgrade keeps a request's protocol upgrade only when it is one
// WebSocket upgrade and opts.webSockets is set; any other Upgrade header
// is deleted, so that the request reaches the upstream as a plain HTTP
// request (a server may ignore Upgrade, RFC 9110 section 7.8) and a 101
// answer to it is refused by the proxy. Above all this stops h2c (request
// smuggling through an upgrade): a client that switched the gateway's
// upstream connection to HTTP/2 could send it further requests the gateway
// never sees, without the session checks and identity headers of each. It
// reports the upgrade it deleted, for the log.
//
// A WebSocket upgrade from a page of another origin is refused (refuse):
// a sibling subdomain is the same site, so the browser sends the Lax
// session cookie with its WebSocket handshake, which would then act as
// the user (cross-site WebSocket hijacking). Clients that send no Origin
// (not browsers) are not affected.
func checkUpgrade(h http.Header, opts proxyOptions) (stripped string, refuse bool) {
	values := h.Values("Upgrade")
	if len(values) == 0 {
		return "", false
	}
	if opts.webSockets && len(values) == 1 && strings.EqualFold(strings.TrimSpace(values[0]), "websocket") {
		origin := h.Get("Origin")
		return "", origin != "" && !strings.EqualFold(origin, opts.publicOrigin)
	}
	h.Del("Upgrade")
	return strings.Join(values, ", "), false
}

// proxyOptions configure newProxy.
type proxyOptions struct {
	// isGatewayCookie names the cookies never forwarded (nil: none).
	isGatewayCookie func(name string) bool
	// webSockets lets WebSocket upgrades through (checkUpgrade), from
	// pages of publicOrigin (scheme://host[:port], as browsers send
	// Origin).
	webSockets   bool
	publicOrigin string
	// anonymous proxies requests without an identity (public_paths):
	// no identity headers are set, and every copy a client sent is
	// stripped as always.
	anonymous bool
	// transport carries the requests to the upstream; nil means
	// http.DefaultTransport (see upstreamTransport).
	transport http.RoundTripper
}

// newProxy returns the handler that proxies to upstream. Requests must have
// passed RequireLogin: one without an identity in its context is refused
// (500), never forwarded without identity headers.
//
// The Host header the client sent is forwarded as is (not rewritten to the
// upstream's host), with X-Forwarded-Host and X-Forwarded-Proto set, as
// most applications expect behind a proxy. An upstream that routes virtual
// hosts, or builds absolute URLs (redirects, password-reset links) from
// Host, sees whatever the client put there: the gateway answers any Host
// that reaches its listener. Pin the public host in the upstream, or let
// the TLS proxy in front of the gateway accept only the public name.
//
// Protocol upgrades are stripped (checkUpgrade) except WebSocket upgrades
// with opts.webSockets. A WebSocket is checked once, when it opens: a
// session that ends while it is open does not close it.
func newProxy(upstream *url.URL, opts proxyOptions, logger *slog.Logger) http.Handler {
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.SetXForwarded()
			// SetURL rewrites the Host header to the upstream's; keep the
			// one the browser used, as most apps expect behind a proxy.
			pr.Out.Host = pr.In.Host
			stripIdentityHeaders(pr.Out.Header)
			// A chunked request can declare trailers: never let one carry
			// an identity header to an upstream that merges trailers.
			stripIdentityHeaders(pr.Out.Trailer)
			if opts.isGatewayCookie != nil {
				stripCookies(pr.Out.Header, opts.isGatewayCookie)
			}
			if opts.anonymous {
				return
			}
			// Non-nil: the handler below checked it before ServeHTTP.
			id, _ := gateway.IdentityFromContext(pr.In.Context())
			teams, _ := gateway.TeamsFromContext(pr.In.Context())
			if setIdentityHeaders(pr.Out.Header, id, teams) {
				// The address itself is personal data and possibly
				// crafted: never logged.
				logger.WarnContext(pr.In.Context(), "identity email not forwarded: not one plain address; "+HeaderEmail+" is absent",
					"connection", id.Connection, "path", pr.In.URL.Path)
			}
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			logger.WarnContext(r.Context(), "proxy error", "path", r.URL.Path, "err", err)
			http.Error(w, "upstream unavailable", http.StatusBadGateway)
		},
		ErrorLog:   slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		Transport:  opts.transport,
		BufferPool: proxyBuffers,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := gateway.IdentityFromContext(r.Context()); !ok && !opts.anonymous {
			// Unreachable behind RequireLogin; fail closed all the same.
			logger.ErrorContext(r.Context(), "proxy reached without an identity", "path", r.URL.Path)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		// Before ServeHTTP, which decides on the upgrade from the
		// incoming headers, ahead of Rewrite.
		up, refuse := checkUpgrade(r.Header, opts)
		if refuse {
			logger.InfoContext(r.Context(), "cross-origin WebSocket refused", "origin", truncate(r.Header.Get("Origin"), 128), "path", r.URL.Path)
			http.Error(w, "cross-origin WebSocket refused", http.StatusForbidden)
			return
		}
		if up != "" && logger.Enabled(r.Context(), slog.LevelDebug) {
			logger.DebugContext(r.Context(), "protocol upgrade stripped", "upgrade", truncate(up, 64), "websockets", opts.webSockets, "path", r.URL.Path)
		}
		rp.ServeHTTP(w, r)
	})
}

// truncate cuts a client-supplied value for a log line at n bytes, on a
// UTF-8 boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
