package saml

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of GatewayConfig.
const (
	DefaultSessionLifetime = 8 * time.Hour
	// DefaultCookieName is the session cookie's name unless InsecureCookies
	// is set. Browsers accept a cookie named __Host-... only when it is
	// Secure, has Path=/ and no Domain attribute, and was set by the host
	// itself: a sibling subdomain cannot plant one ("cookie tossing").
	DefaultCookieName = "__Host-samlgate_session"
	// InsecureCookieName is the session cookie's default name under
	// InsecureCookies, where the __Host- prefix is impossible (it requires
	// Secure).
	InsecureCookieName  = "samlgate_session"
	DefaultLoginPath    = "/login"
	DefaultCallbackPath = "/login/callback"
	DefaultMetadataPath = "/saml/metadata"
	DefaultLogoutPath   = "/logout"
	// LoginRequestLifetime is how long an SP-initiated login may take,
	// from GET LoginPath to the IdP's POST to the callback.
	LoginRequestLifetime = 10 * time.Minute
)

// Codes the gateway adds to those of Verify.
const (
	// CodeLoginRefused: GatewayConfig.OnLogin refused a verified identity.
	CodeLoginRefused Code = "login_refused"
	// CodeUnknownConnection: the ?connection= of a gateway URL names no
	// configured connection.
	CodeUnknownConnection Code = "unknown_connection"
)

const (
	// hostCookiePrefix is the cookie-name prefix browsers reserve for
	// Secure, Path=/, host-only cookies.
	hostCookiePrefix = "__Host-"
	// insecureRequestCookiePrefix names the login-request cookies under
	// InsecureCookies; requestCookiePrefix otherwise.
	insecureRequestCookiePrefix = "samlgate_req_"
	requestCookiePrefix         = hostCookiePrefix + insecureRequestCookiePrefix
	// maxRequestCookies bounds the login-request cookies a browser holds:
	// GET LoginPath expires the oldest beyond maxRequestCookies-1 before
	// adding its own.
	maxRequestCookies = 5
	// maxCookieCopies bounds the cookies of one name the gateway tries.
	maxCookieCopies = 16
	// maxSessionCookieValue keeps the whole Set-Cookie header (name and
	// attributes included) under the 4,096 bytes browsers guarantee.
	maxSessionCookieValue = 3800
	// maxReturnToLen bounds a return_to: it travels in the RelayState.
	maxReturnToLen = 2048
	// formSlack is what an ACS body may hold beyond the SAMLResponse: the
	// RelayState, field names, and the percent-encoding of base64's + and /.
	formSlack = 64 << 10
	// maxLogoutBody bounds the POST body of the logout endpoint.
	maxLogoutBody = 16 << 10
)

// GatewayConfig configures a Gateway: the HTTP endpoints of a SAML service
// provider (login, callback/ACS, SP metadata, logout) and the sessions that
// follow a login.
//
// # Tracking SP-initiated logins across the cross-site POST
//
// An SP-initiated login must remember the AuthnRequest ID until the
// response comes back, so that Verify can check InResponseTo, and must tie
// that ID to the browser that started the login, or an attacker could start
// a login, sign in as themselves, and make a victim's browser post the
// result (login CSRF). The response arrives as a cross-site POST from the
// IdP's page, and browsers do not send SameSite=Lax or Strict cookies (nor
// cookies without a SameSite attribute, which Chrome treats as Lax) on
// cross-site POSTs: an ordinary session-style cookie set at the start of the
// login is simply missing at the callback. That is the "lost cookie" problem
// SAML libraries keep reporting.
//
// The gateway splits the state in two:
//
//   - The RelayState carries the request ID, the connection, the return_to
//     path and an expiry (LoginRequestLifetime), sealed with the session key
//     (AES-256-GCM, with a purpose label as additional data, so that a
//     session cookie cannot be replayed as a RelayState, nor a RelayState as
//     a session). The IdP returns it untouched, so nothing has to survive on
//     the server and any replica can finish the login.
//   - A short-lived cookie __Host-samlgate_req_<hash of the ID>, HttpOnly,
//     Secure, SameSite=None (which browsers do send on the cross-site POST),
//     Path=/, holds the request ID. The callback passes the ID to Verify only
//     when the browser presents this cookie and it matches the RelayState,
//     so a RelayState stolen from another browser is worthless. Each login
//     has its own cookie name, so logins started in two tabs do not
//     overwrite each other. A browser holds at most 5 of them: GET LoginPath
//     expires the oldest beyond 4 (by the order the browser lists them,
//     oldest first among cookies of one path) before adding its own.
//
// # Cookie tossing and the __Host- prefix
//
// Whoever controls any host of the site (a sibling subdomain such as
// blog.example.com next to app.example.com, even over plain http) can set
// cookies with Domain=example.com that the browser then sends to the
// gateway too. Were the request cookie a plain samlgate_req_..., such an
// attacker could plant one matching a login they started themselves and,
// posting their own response with their RelayState from the victim's
// browser, log the victim in as the attacker (login CSRF), IdP-initiated
// logins disabled or not; or plant a session cookie of their own, with a
// longer Path so that the browser sends it first. The __Host- prefix
// closes this: browsers refuse a __Host- cookie that has a Domain
// attribute, lacks Secure, or has a Path other than /, so only the
// gateway's host can set one. Both cookies carry it by default. When
// several cookies of one name arrive anyway (a custom CookieName without
// the prefix, InsecureCookies), the gateway tries each, in the order the
// browser sent them, and uses the first that opens: a planted copy that
// does not open no longer hides the browser's own session, but a planted
// session that does open (the attacker's genuine one) still wins, which
// only the prefix prevents.
//
// When the cookie is missing (the browser refused it, or the login was
// started in another browser) or the RelayState has expired, a response
// with an InResponseTo is refused as in_response_to_mismatch, with a page
// asking the user to start again. IdP-initiated responses (JumpCloud's
// portal tiles) carry no InResponseTo and need no cookie; they are
// accepted unless the connection sets DisableIdPInitiated, since an
// IdP-initiated response can be posted by anyone who holds one.
// DisableIdPInitiated closes login CSRF only together with the __Host-
// cookies, which are the default: under InsecureCookies, which drops the
// prefix, a host of the same site can still plant a request cookie, and
// with a CookieName without the prefix it can plant a session cookie of
// its own. The RelayState of an IdP-initiated login is whatever the admin
// typed in the IdP: it is used only when it is a safe local path.
//
// SameSite=None requires Secure, and so does the session cookie: serve the
// gateway over HTTPS. InsecureCookies is for http://localhost demos only.
// It drops Secure and the __Host- prefix from both cookies (they are named
// samlgate_session and samlgate_req_...); the request cookie keeps
// SameSite=None; Secure when the ACS host is localhost or a loopback
// address (Chrome and Firefox store Secure cookies from http://localhost),
// and falls back to SameSite=Lax without Secure on any other host, which
// reaches the callback only when the IdP is on the same site.
//
// # Sessions
//
// By default a session is a stateless cookie: the identity (subject,
// email, names, groups, roles, connection, session index) and its expiry,
// sealed with AES-256-GCM under the first SessionKeys entry; every entry
// opens cookies, so keys rotate by prepending a new one and removing the
// old one a SessionLifetime later. A cookie that does not open, has expired
// (by the expiry sealed inside, never the cookie's attributes), names a
// connection the gateway no longer has, or was sealed with a removed key is
// no session, and is cleared. A session ends at SessionLifetime or at the
// assertion's SessionNotOnOrAfter, whichever comes first.
//
// Group lists are never truncated. When the sealed identity would not fit
// a cookie (over 3,800 bytes: a user in a few hundred groups), the cookie
// holds a sealed session ID instead and the identity goes to SessionStore,
// or, when none is configured, to an in-memory store the gateway creates,
// with a warning logged once: that store is per process, so configure a
// shared SessionStore when several replicas serve the same users.
type GatewayConfig struct {
	// Connections are the IdP connections, selected by the ?connection=
	// query parameter. Each ACS URL must carry ?connection=<name> and end
	// with CallbackPath. More can be added later with SetConnection.
	Connections []*Connection

	// SessionKeys are AES-256 keys, 32 bytes each: the first seals, all
	// open. Required. Generate them with crypto/rand and keep them in a
	// secret store; every replica needs the same list.
	SessionKeys [][]byte
	// SessionLifetime caps a session; default DefaultSessionLifetime (8h).
	// The assertion's SessionNotOnOrAfter shortens it further.
	SessionLifetime time.Duration
	// SessionStore, when set, holds the identities: the cookie then holds
	// only a sealed, random session ID. nil: stateless cookies (see above).
	//
	// Revocation: with a SessionStore, logout (and a new login in the same
	// browser) deletes the session from the store, so every copy of the
	// cookie (one stolen from the browser or from a log) stops working at
	// once. Without one, logout only tells the browser to drop its cookie:
	// a copy taken before keeps opening the session until the expiry
	// sealed in it (SessionLifetime at most). Use a SessionStore when a
	// logout must end the session for good.
	SessionStore SessionStore
	// CookieName is the session cookie's name; default DefaultCookieName
	// ("__Host-samlgate_session"), or InsecureCookieName
	// ("samlgate_session") under InsecureCookies. A name set here is used
	// as given: keep the __Host- prefix (see above, cookie tossing) unless
	// InsecureCookies is set, with which a __Host- or __Secure- name is a
	// configuration error (browsers would refuse the cookie).
	CookieName string
	// InsecureCookies drops the Secure attribute of the session cookie
	// (and of the request cookie, except on loopback ACS hosts; see above)
	// and the __Host- prefix of both names. ONLY for demos and tests on
	// http://localhost: without Secure, the session cookie is sent over
	// plain HTTP, where anyone on the network can steal the session.
	InsecureCookies bool
	// DefaultReturnTo is where a login lands when it has no safe return_to,
	// such as an IdP-initiated login; default "/". It must be a local path.
	DefaultReturnTo string

	// LoginPath, CallbackPath, MetadataPath and LogoutPath are the paths
	// ServeHTTP answers, as the browser sees them; defaults /login,
	// /login/callback, /saml/metadata and /logout.
	LoginPath, CallbackPath, MetadataPath, LogoutPath string

	// OnLogin runs after a response is verified and before the session
	// exists; it sees the full Identity, Attributes included (sessions do
	// not keep them). An error refuses the login with a 403 page whose code
	// is login_refused; the error itself is logged at Debug only.
	OnLogin func(ctx context.Context, id *Identity) error
	// Observer, for metrics, is called once for each POST to the callback,
	// synchronously, after the outcome is known.
	Observer func(ev LoginEvent)
	// Logger receives one Info line per login or refusal (code, connection,
	// request ID; never emails, groups or XML) and the refusal detail at
	// Debug. nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock of sessions and login requests; nil means time.Now.
	Now func() time.Time
}

// LoginEvent describes one POST to the callback, for metrics. Every field
// is a low-cardinality label: Connection is "" when the request named no
// configured connection.
type LoginEvent struct {
	Connection string
	// Code is "" for a successful login, else why it was refused.
	Code Code
	// Duration is the latency of Verify (zero if it did not run).
	Duration time.Duration
	// IdPInitiated is true when the response answered no request of ours:
	// for a refused response, when no RelayState of ours came with it.
	IdPInitiated bool
}

// Gateway serves the SAML endpoints of a service (login, callback,
// metadata, logout) and guards its handlers with RequireLogin. It is safe
// for concurrent use. See GatewayConfig for how logins are tracked and how
// sessions are kept.
//
//	mux := http.NewServeMux()
//	mux.Handle("/login", gw)
//	mux.Handle("/login/callback", gw)
//	mux.Handle("/saml/metadata", gw)
//	mux.Handle("/logout", gw)
//	mux.Handle("/", gw.RequireLogin(app))
type Gateway struct {
	cfg    GatewayConfig
	sealer *sealer
	now    func() time.Time
	logger *slog.Logger
	csrf   *http.CrossOriginProtection

	mu    sync.RWMutex
	conns map[string]*Connection

	overflowOnce sync.Once
	overflow     *memorySessionStore
}

// NewGateway validates cfg and returns a Gateway. Errors have Code
// config_invalid and name the setting to fix.
func NewGateway(cfg GatewayConfig) (*Gateway, error) {
	g := &Gateway{cfg: cfg, now: cfg.Now, logger: cfg.Logger, conns: make(map[string]*Connection)}
	if g.now == nil {
		g.now = time.Now
	}
	if g.logger == nil {
		g.logger = slog.Default()
	}
	c := &g.cfg
	var err error
	if g.sealer, err = newSealer(c.SessionKeys); err != nil {
		return nil, err
	}
	c.SessionKeys = nil // the sealer holds them; do not keep a second copy
	switch {
	case c.SessionLifetime < 0:
		return nil, configError("SessionLifetime %s is negative", c.SessionLifetime)
	case c.SessionLifetime == 0:
		c.SessionLifetime = DefaultSessionLifetime
	}
	if c.CookieName == "" {
		c.CookieName = DefaultCookieName
		if c.InsecureCookies {
			c.CookieName = InsecureCookieName
		}
	}
	if !validCookieName(c.CookieName) || hasPrefixFold(c.CookieName, insecureRequestCookiePrefix) || hasPrefixFold(c.CookieName, requestCookiePrefix) {
		return nil, configError("CookieName %q is not a valid cookie name (letters, digits and !#$%%&'*+-.^_`|~, not starting with %s or %s)", c.CookieName, insecureRequestCookiePrefix, requestCookiePrefix)
	}
	if c.InsecureCookies && (hasPrefixFold(c.CookieName, hostCookiePrefix) || hasPrefixFold(c.CookieName, "__Secure-")) {
		return nil, configError("CookieName %q: browsers accept a __Host- or __Secure- cookie only with the Secure attribute, which InsecureCookies drops; use a name without the prefix for the demo", c.CookieName)
	}
	if c.DefaultReturnTo == "" {
		c.DefaultReturnTo = "/"
	}
	if _, ok := safeReturnTo(c.DefaultReturnTo); !ok {
		return nil, configError("DefaultReturnTo %q must be a local path such as /app (no scheme, host or //)", c.DefaultReturnTo)
	}
	paths := map[string]string{}
	for _, p := range []struct {
		field string
		v     *string
		def   string
	}{
		{"LoginPath", &c.LoginPath, DefaultLoginPath},
		{"CallbackPath", &c.CallbackPath, DefaultCallbackPath},
		{"MetadataPath", &c.MetadataPath, DefaultMetadataPath},
		{"LogoutPath", &c.LogoutPath, DefaultLogoutPath},
	} {
		if *p.v == "" {
			*p.v = p.def
		}
		if !strings.HasPrefix(*p.v, "/") || strings.ContainsAny(*p.v, "?#") {
			return nil, configError("%s %q must be a path starting with /", p.field, *p.v)
		}
		if other, dup := paths[*p.v]; dup {
			return nil, configError("%s and %s are both %q", other, p.field, *p.v)
		}
		paths[*p.v] = p.field
	}
	for i, conn := range c.Connections {
		if conn == nil {
			return nil, configError("Connections[%d] is nil", i)
		}
		if _, dup := g.conns[conn.Name()]; dup {
			return nil, configError("two connections are named %q", conn.Name())
		}
		if err := g.checkConnection(conn); err != nil {
			return nil, err
		}
		g.conns[conn.Name()] = conn
	}
	c.Connections = nil // g.conns is the live set
	g.csrf = http.NewCrossOriginProtection()
	return g, nil
}

// checkConnection refuses an ACS URL the gateway would not route to the
// connection, and warns when the cookies could not work.
func (g *Gateway) checkConnection(c *Connection) *Error {
	if got := c.acsURL.Query().Get("connection"); got != c.Name() {
		e := configError("connection %s: ACSURL %q must carry ?connection=%s: the gateway's callback selects the connection by it", c.Name(), c.acsURL.String(), url.QueryEscape(c.Name()))
		e.Connection = c.Name()
		return e
	}
	if !strings.HasSuffix(c.acsURL.Path, g.cfg.CallbackPath) {
		e := configError("connection %s: the path of ACSURL %q is not the gateway's CallbackPath %q", c.Name(), c.acsURL.String(), g.cfg.CallbackPath)
		e.Connection = c.Name()
		return e
	}
	if c.acsURL.Scheme != "https" && !g.cfg.InsecureCookies {
		g.logger.Warn("samlgate: ACS URL is not https: browsers drop Secure cookies there (except on localhost); use https, or InsecureCookies for a local demo",
			"connection", c.Name(), "acs_url", c.acsURL.String())
	}
	return nil
}

// SetConnection adds c, or replaces the connection of the same name (after
// a metadata refresh, for example). It is safe to call while requests are
// served; sessions of the replaced connection stay valid. When neither
// connection was given a ReplayCache of its own, the replacement inherits
// the replaced connection's default in-memory cache: with a fresh one, the
// assertions already consumed could be replayed until they expire. A
// connection whose ACS URL the gateway cannot route
// is still set, and an error is logged: its logins will fail with
// destination_mismatch.
func (g *Gateway) SetConnection(c *Connection) {
	if c == nil {
		panic("saml: Gateway.SetConnection(nil)")
	}
	if err := g.checkConnection(c); err != nil {
		g.logger.Error("samlgate: connection set with an ACS URL the gateway cannot route", "connection", c.Name(), "error", err.Error())
	}
	g.mu.Lock()
	if old, ok := g.conns[c.Name()]; ok && old != c && c.cfg.ReplayCache == nil && old.cfg.ReplayCache == nil {
		inherit := *c
		inherit.replay = old.replay
		c = &inherit
	}
	g.conns[c.Name()] = c
	g.mu.Unlock()
}

// Connection returns the connection named name.
func (g *Gateway) Connection(name string) (*Connection, bool) {
	g.mu.RLock()
	c, ok := g.conns[name]
	g.mu.RUnlock()
	return c, ok
}

// connections returns the connections sorted by name.
func (g *Gateway) connections() []*Connection {
	g.mu.RLock()
	out := make([]*Connection, 0, len(g.conns))
	for _, c := range g.conns {
		out = append(out, c)
	}
	g.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Connection) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

// pick selects the connection a request names, or the only one when it
// names none. found is false for an unknown name; c is nil with found true
// when several connections exist and none is named.
func (g *Gateway) pick(name string) (c *Connection, found bool) {
	if name != "" {
		return g.Connection(name)
	}
	conns := g.connections()
	if len(conns) == 1 {
		return conns[0], true
	}
	return nil, true
}

// ServeHTTP serves LoginPath (GET), CallbackPath (POST), MetadataPath
// (GET) and LogoutPath (POST); other paths are 404, other methods 405.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case g.cfg.LoginPath:
		g.serveLogin(w, r)
	case g.cfg.CallbackPath:
		g.serveCallback(w, r)
	case g.cfg.MetadataPath:
		g.serveMetadata(w, r)
	case g.cfg.LogoutPath:
		g.serveLogout(w, r)
	default:
		http.NotFound(w, r)
	}
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

// serveLogin starts an SP-initiated login: GET LoginPath?connection=X&return_to=/path.
func (g *Gateway) serveLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	q := r.URL.Query()
	returnTo := g.returnTo(q.Get("return_to"))
	name := q.Get("connection")
	c, found := g.pick(name)
	switch {
	case !found:
		g.unknownConnection(w, r, name)
		return
	case c == nil && len(g.connections()) == 0:
		g.unknownConnection(w, r, "")
		return
	case c == nil:
		g.chooser(w, returnTo)
		return
	}

	lr, err := g.loginRequest(c, returnTo)
	if err != nil {
		reqID := randomHex(8)
		g.logger.ErrorContext(r.Context(), "samlgate: cannot start a login", "connection", c.Name(), "request_id", reqID, "error", err.Error())
		code, msg := CodeUnavailable, "Sign-in could not be started. Try again."
		if errors.Is(err, ErrConfigInvalid) {
			code, msg = CodeConfigInvalid, "Sign-in is not configured correctly for this connection."
		}
		g.errorPage(w, http.StatusInternalServerError, code, msg, reqID, "")
		return
	}
	g.expireOldRequestCookies(w, r, c)
	http.SetCookie(w, g.requestCookie(c, lr.ID, int(LoginRequestLifetime/time.Second)))
	w.Header().Set("Cache-Control", "no-store")
	if lr.RedirectURL != "" {
		http.Redirect(w, r, lr.RedirectURL, http.StatusFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+lr.ScriptNonce+"'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(lr.PostForm)
}

// loginRequest builds the AuthnRequest and seals its tracking state into
// the RelayState.
func (g *Gateway) loginRequest(c *Connection, returnTo string) (*LoginRequest, error) {
	sp, req, err := c.authnRequest()
	if err != nil {
		return nil, err
	}
	rs, err := g.sealer.sealJSON(purposeRelayState, relayState{
		RequestID:  req.ID,
		Connection: c.Name(),
		ReturnTo:   returnTo,
		Expires:    g.now().Add(LoginRequestLifetime).UnixMilli(),
	})
	if err != nil {
		return nil, err
	}
	return c.encodeLoginRequest(sp, req, rs)
}

// requestCookieName is per request ID, so that logins started in two tabs
// keep separate cookies.
func (g *Gateway) requestCookieName(requestID string) string {
	sum := sha256.Sum256([]byte(requestID))
	return g.requestCookiePrefix() + hex.EncodeToString(sum[:8])
}

// requestCookiePrefix is __Host-samlgate_req_, or samlgate_req_ under
// InsecureCookies (the __Host- prefix requires Secure).
func (g *Gateway) requestCookiePrefix() string {
	if g.cfg.InsecureCookies {
		return insecureRequestCookiePrefix
	}
	return requestCookiePrefix
}

// requestCookie binds a login request to the browser; maxAge -1 clears it.
func (g *Gateway) requestCookie(c *Connection, requestID string, maxAge int) *http.Cookie {
	return g.requestCookieNamed(c, g.requestCookieName(requestID), requestID, maxAge)
}

// requestCookieNamed is a login-request cookie. Path is / (which the
// __Host- prefix requires) in both modes, so that GET LoginPath sees the
// cookies it must bound.
func (g *Gateway) requestCookieNamed(c *Connection, name, requestID string, maxAge int) *http.Cookie {
	ck := &http.Cookie{
		Name:     name,
		Value:    requestID,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   true,
		SameSite: http.SameSiteNoneMode,
	}
	if maxAge < 0 {
		ck.Value = ""
	}
	if g.cfg.InsecureCookies && !loopbackHost(c.acsURL.Hostname()) {
		// Browsers refuse SameSite=None without Secure, and Secure
		// cookies over http except on localhost (a secure context, where
		// the cookie above works). Lax reaches the callback only when
		// the IdP is on the same site.
		ck.Secure, ck.SameSite = false, http.SameSiteLaxMode
	}
	return ck
}

// expireOldRequestCookies bounds the login-request cookies of a browser
// (each GET LoginPath adds one, for LoginRequestLifetime): when it already
// holds maxRequestCookies-1 or more, the oldest are expired so that, with
// the one about to be set, it holds maxRequestCookies. The gateway cannot
// read a cookie's age, but browsers list cookies of the same path oldest
// first (RFC 6265, section 5.4), and all of these have Path=/: the first
// names are the oldest. The bound is per browser, whatever the connection:
// a login abandoned among more than 4 newer ones fails with
// in_response_to_mismatch and a page asking to start again.
func (g *Gateway) expireOldRequestCookies(w http.ResponseWriter, r *http.Request, c *Connection) {
	prefix := g.requestCookiePrefix()
	var names []string
	for _, ck := range r.Cookies() {
		if strings.HasPrefix(ck.Name, prefix) && !slices.Contains(names, ck.Name) {
			names = append(names, ck.Name)
		}
	}
	excess := len(names) - (maxRequestCookies - 1)
	if excess <= 0 {
		return
	}
	for _, name := range names[:excess] {
		http.SetCookie(w, g.requestCookieNamed(c, name, "", -1))
	}
}

// cookieValues returns the values of the request's cookies named name, in
// the order the browser sent them, without duplicates and at most
// maxCookieCopies: a cookie planted by another host of the site (with a
// Domain attribute or a longer Path) can come before the gateway's own.
func cookieValues(r *http.Request, name string) []string {
	var out []string
	for _, ck := range r.Cookies() {
		if ck.Name == name && !slices.Contains(out, ck.Value) {
			out = append(out, ck.Value)
			if len(out) == maxCookieCopies {
				break
			}
		}
	}
	return out
}

// serveCallback is the ACS: POST CallbackPath?connection=X.
func (g *Gateway) serveCallback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, http.MethodPost)
		return
	}
	ctx := r.Context()
	reqID := randomHex(8)
	name := r.URL.Query().Get("connection")
	c, ok := g.Connection(name)
	if !ok {
		g.observe(LoginEvent{Code: CodeUnknownConnection, IdPInitiated: true})
		g.logger.InfoContext(ctx, "samlgate: login refused", "code", string(CodeUnknownConnection), "request_id", reqID)
		g.unknownConnection(w, r, name)
		return
	}
	ev := LoginEvent{Connection: c.Name(), IdPInitiated: true}

	r.Body = http.MaxBytesReader(w, r.Body, int64(c.maxBytes)+int64(c.maxBytes)/4+formSlack)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			g.refuse(w, r, ev, newError(CodeTooLarge, fmt.Sprintf("the callback body is over %d bytes", tooBig.Limit)).withCause(err), reqID, "")
			return
		}
		g.refuse(w, r, ev, newError(CodeMalformed, "the callback body is not a form").withCause(err), reqID, "")
		return
	}
	samlResponse := r.PostForm.Get("SAMLResponse")
	if samlResponse == "" {
		g.refuse(w, r, ev, newError(CodeMalformed, "the POST has no SAMLResponse field: the IdP must post to this ACS URL with the HTTP-POST binding"), reqID, "")
		return
	}

	// Our RelayState, if it is one, and the browser's matching cookie.
	rawRelay := r.PostForm.Get("RelayState")
	var rs relayState
	var requestIDs []string
	note := ""
	if g.sealer.openJSON(purposeRelayState, rawRelay, &rs) && rs.Connection == c.Name() {
		ev.IdPInitiated = false
		http.SetCookie(w, g.requestCookie(c, rs.RequestID, -1))
		// Every cookie of the name is tried: one planted by another host
		// of the site (possible only without the __Host- prefix) cannot
		// hide the browser's own.
		matched := false
		for _, v := range cookieValues(r, g.requestCookieName(rs.RequestID)) {
			if subtle.ConstantTimeCompare([]byte(v), []byte(rs.RequestID)) == 1 {
				matched = true
			}
		}
		switch {
		case g.now().UnixMilli() >= rs.Expires:
			note = noteRequestExpired
		case !matched:
			note = noteCookieMissing
		default:
			requestIDs = []string{rs.RequestID}
		}
	}

	start := time.Now()
	id, err := c.Verify(ctx, samlResponse, WithRequestIDs(requestIDs...))
	ev.Duration = time.Since(start)
	if err != nil {
		e, ok := asError(err)
		if !ok {
			e = newError(CodeMalformed, "the response was refused").withCause(err)
		}
		if e.Code != CodeInResponseToMismatch {
			note = ""
		}
		g.refuse(w, r, ev, e, reqID, note)
		return
	}
	ev.IdPInitiated = id.InResponseTo == ""

	returnTo := g.cfg.DefaultReturnTo
	switch {
	case len(requestIDs) > 0:
		// Our RelayState, presented by the browser that started the login.
		returnTo = g.returnTo(rs.ReturnTo)
	case id.InResponseTo == "" && rawRelay != "" && rs.RequestID == "":
		// IdP-initiated: the admin's RelayState, if it is a local path.
		returnTo = g.returnTo(rawRelay)
	}

	if g.cfg.OnLogin != nil {
		if err := g.cfg.OnLogin(ctx, id); err != nil {
			e := newError(CodeLoginRefused, "the application refused the login").withCause(err)
			e.Hint = "GatewayConfig.OnLogin returned an error for this user; see the Debug log for it."
			e.Connection = c.Name()
			g.refuse(w, r, ev, e, reqID, "")
			return
		}
	}

	cookie, serr := g.createSession(ctx, id)
	if serr != nil {
		serr.Connection = c.Name()
		g.refuse(w, r, ev, serr, reqID, "")
		return
	}
	// The new cookie replaces any previous session; drop that session's
	// store entry too when the browser sent it (a Lax cookie usually does
	// not come with the IdP's cross-site POST).
	for _, old := range cookieValues(r, g.cfg.CookieName) {
		g.deleteSession(ctx, old)
	}
	http.SetCookie(w, cookie)
	g.observe(ev)
	g.logger.InfoContext(ctx, "samlgate: login", "connection", c.Name(), "request_id", reqID, "idp_initiated", ev.IdPInitiated)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

// Notes refine in_response_to_mismatch for the page and the Debug log.
const (
	noteCookieMissing  = "the browser did not send back the login request cookie (blocked cookies, or the login was started in another browser)"
	noteRequestExpired = "the login request is older than the login request lifetime"
)

func (g *Gateway) observe(ev LoginEvent) {
	if g.cfg.Observer != nil {
		g.cfg.Observer(ev)
	}
}

// refuse ends a failed callback: Observer, logs, and an error page that
// shows the code and a request ID, never the detail.
func (g *Gateway) refuse(w http.ResponseWriter, r *http.Request, ev LoginEvent, e *Error, reqID, note string) {
	ev.Code = e.Code
	g.observe(ev)
	ctx := r.Context()
	g.logger.InfoContext(ctx, "samlgate: login refused", "connection", ev.Connection, "code", string(e.Code), "request_id", reqID, "idp_initiated", ev.IdPInitiated, "hint", e.Hint)
	attrs := []any{"connection", ev.Connection, "request_id", reqID, "detail", e.Detail()}
	if note != "" {
		attrs = append(attrs, "note", note)
	}
	g.logger.DebugContext(ctx, "samlgate: login refused: detail", attrs...)
	retry := ""
	switch e.Code {
	case CodeInResponseToMismatch, CodeReplayed, CodeExpired, CodeNotYetValid, CodeUnavailable:
		retry = g.cfg.LoginPath + "?" + url.Values{"connection": {ev.Connection}}.Encode()
	}
	g.errorPage(w, statusFor(e.Code), e.Code, userMessage(e.Code, note), reqID, retry)
}

func statusFor(code Code) int {
	switch code {
	case CodeGroupNotAllowed, CodeEmailNotVerified, CodeLoginRefused:
		return http.StatusForbidden
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	case CodeConfigInvalid:
		return http.StatusInternalServerError
	case CodeUnknownConnection:
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

// userMessage is what the person signing in reads: short, generic, and
// never a value from the response.
func userMessage(code Code, note string) string {
	switch code {
	case CodeInResponseToMismatch:
		switch note {
		case noteCookieMissing:
			return "Your browser did not send back the cookie set when this sign-in started, so it cannot be completed. Start the sign-in again from the application, in this browser; if it keeps failing, allow cookies for this site."
		case noteRequestExpired:
			return "This sign-in took too long. Start it again from the application."
		}
		return "This sign-in was not started from this browser, or has expired. Start it again from the application."
	case CodeReplayed:
		return "This sign-in response was already used. Start a new sign-in."
	case CodeExpired, CodeNotYetValid:
		return "This sign-in response is out of date. Start a new sign-in; if it keeps failing, the server clocks may disagree."
	case CodeGroupNotAllowed, CodeEmailNotVerified, CodeLoginRefused:
		return "Your account is not allowed to sign in to this application. Ask your administrator for access."
	case CodeUnavailable:
		return "Sign-in is temporarily unavailable. Try again in a moment."
	}
	return "Sign-in failed. If it keeps failing, give your administrator the code and request ID below."
}

// createSession seals the identity into a session cookie, or stores it and
// seals its ID when it would not fit in one.
func (g *Gateway) createSession(ctx context.Context, id *Identity) (*http.Cookie, *Error) {
	now := g.now()
	exp := now.Add(g.cfg.SessionLifetime)
	if s := id.SessionNotOnOrAfter; !s.IsZero() && s.Before(exp) {
		exp = s
	}
	if !exp.After(now) {
		e := newError(CodeExpired, "the assertion's SessionNotOnOrAfter has already passed")
		e.Now = now
		return nil, e.mismatch("a SessionNotOnOrAfter after "+fmtTime(now), fmtTime(id.SessionNotOnOrAfter))
	}
	p := sessionPayload{Expires: exp.UnixMilli()}
	var value string
	if g.cfg.SessionStore != nil {
		sid, err := g.storeSession(ctx, g.cfg.SessionStore, id, exp)
		if err != nil {
			return nil, err
		}
		p.SID = sid
	} else {
		p.ID = compactIdentity(id)
		v, err := g.sealer.sealJSON(purposeSession, p)
		if err != nil {
			return nil, newError(CodeUnavailable, "cannot encode the session").withCause(err)
		}
		value = v
		if len(value) > maxSessionCookieValue {
			store := g.overflowStore()
			sid, err := g.storeSession(ctx, store, id, exp)
			if err != nil {
				return nil, err
			}
			p = sessionPayload{Expires: p.Expires, SID: sid, Overflow: true}
			value = ""
		}
	}
	if value == "" {
		v, err := g.sealer.sealJSON(purposeSession, p)
		if err != nil {
			return nil, newError(CodeUnavailable, "cannot encode the session").withCause(err)
		}
		value = v
	}
	maxAge := int((exp.Sub(now) + time.Second - 1) / time.Second)
	return g.sessionCookie(value, maxAge), nil
}

func (g *Gateway) storeSession(ctx context.Context, store SessionStore, id *Identity, exp time.Time) (string, *Error) {
	sid := randomHex(32)
	if err := store.Save(ctx, sid, cloneIdentity(id), exp); err != nil {
		return "", newError(CodeUnavailable, "the session store failed").withCause(err)
	}
	return sid, nil
}

// overflowStore is the in-memory store for identities too large for a
// cookie when no SessionStore is configured.
func (g *Gateway) overflowStore() *memorySessionStore {
	g.overflowOnce.Do(func() {
		g.overflow = newMemorySessionStore(DefaultMemorySessions, g.now)
		g.logger.Warn("samlgate: an identity is too large for a session cookie (many groups); keeping such sessions in this process's memory. " +
			"They are lost on restart and unknown to other replicas: set GatewayConfig.SessionStore to a shared store, or a groups Filter on the connection")
	})
	return g.overflow
}

func (g *Gateway) sessionCookie(value string, maxAge int) *http.Cookie {
	ck := &http.Cookie{
		Name:     g.cfg.CookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   !g.cfg.InsecureCookies,
		SameSite: http.SameSiteLaxMode,
	}
	return ck
}

func (g *Gateway) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, g.sessionCookie("", -1))
}

// readSession returns the request's session identity. stale reports a
// session cookie that is present but no session (to clear); err, a
// session store failure. When several cookies of the name arrive, each is
// tried in the browser's order and the first that opens a session wins.
func (g *Gateway) readSession(r *http.Request) (id *Identity, stale bool, err error) {
	values := cookieValues(r, g.cfg.CookieName)
	if len(values) == 0 {
		return nil, false, nil
	}
	for _, v := range values {
		id, serr := g.openSession(r.Context(), v)
		if id != nil {
			return id, false, nil
		}
		if serr != nil && err == nil {
			err = serr
		}
	}
	if err != nil {
		return nil, false, err
	}
	return nil, true, nil
}

// openSession returns the identity of one session cookie value, nil when
// it is no session, or a store failure.
func (g *Gateway) openSession(ctx context.Context, value string) (*Identity, error) {
	var p sessionPayload
	if !g.sealer.openJSON(purposeSession, value, &p) || g.now().UnixMilli() >= p.Expires {
		return nil, nil
	}
	var id *Identity
	switch {
	case p.ID != nil:
		id = p.ID.identity()
	case p.SID != "":
		store := g.storeFor(p.Overflow)
		if store == nil {
			return nil, nil
		}
		var err error
		id, err = store.Load(ctx, p.SID)
		if err != nil {
			return nil, newError(CodeUnavailable, "the session store failed").withCause(err)
		}
		if id == nil {
			return nil, nil
		}
	default:
		return nil, nil
	}
	if _, ok := g.Connection(id.Connection); !ok {
		return nil, nil
	}
	return id, nil
}

func (g *Gateway) storeFor(overflow bool) SessionStore {
	if !overflow {
		return g.cfg.SessionStore
	}
	if g.cfg.SessionStore != nil {
		return nil
	}
	return g.overflowStore()
}

// deleteSession removes the store entry a session cookie points to, if any.
func (g *Gateway) deleteSession(ctx context.Context, value string) {
	var p sessionPayload
	if !g.sealer.openJSON(purposeSession, value, &p) || p.SID == "" {
		return
	}
	if store := g.storeFor(p.Overflow); store != nil {
		if err := store.Delete(ctx, p.SID); err != nil {
			g.logger.WarnContext(ctx, "samlgate: cannot delete a session from the store", "error", err.Error())
		}
	}
}

// serveMetadata serves a connection's SP metadata: GET MetadataPath?connection=X.
func (g *Gateway) serveMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	name := r.URL.Query().Get("connection")
	c, found := g.pick(name)
	if !found || c == nil {
		g.unknownConnection(w, r, name)
		return
	}
	md, err := c.Metadata()
	if err != nil {
		reqID := randomHex(8)
		g.logger.ErrorContext(r.Context(), "samlgate: cannot write SP metadata", "connection", c.Name(), "request_id", reqID, "error", err.Error())
		g.errorPage(w, http.StatusInternalServerError, CodeUnavailable, "The metadata could not be written.", reqID, "")
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(md)
}

// serveLogout ends the session: POST LogoutPath[?return_to=/path]. It
// refuses cross-origin POSTs, so another site cannot log users out.
//
// With a GatewayConfig.SessionStore (or for a session kept in the
// in-memory overflow store), logout deletes the session on the server:
// every copy of the cookie stops working. A stateless session cookie
// cannot be revoked: logout only clears the browser's cookie, and a copy
// taken before keeps working until its sealed expiry.
func (g *Gateway) serveLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, http.MethodPost)
		return
	}
	if err := g.csrf.Check(r); err != nil {
		http.Error(w, "cross-origin logout refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLogoutBody)
	returnTo := "/"
	if err := r.ParseForm(); err == nil {
		if p, ok := safeReturnTo(r.Form.Get("return_to")); ok {
			returnTo = p
		}
	}
	for _, v := range cookieValues(r, g.cfg.CookieName) {
		g.deleteSession(r.Context(), v)
	}
	g.clearSessionCookie(w)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

// returnTo is p if it is a safe local path, else DefaultReturnTo.
func (g *Gateway) returnTo(p string) string {
	if s, ok := safeReturnTo(p); ok {
		return s
	}
	return g.cfg.DefaultReturnTo
}

// safeReturnTo accepts only a path on this site: it starts with one "/"
// (not "//" or "/\", which browsers read as another host), has no scheme
// or host, no backslash, no control or space characters, and is at most
// maxReturnToLen bytes. Anything else could redirect off-site.
func safeReturnTo(p string) (string, bool) {
	if p == "" || len(p) > maxReturnToLen || p[0] != '/' {
		return "", false
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return "", false
	}
	for i := 0; i < len(p); i++ {
		if b := p[i]; b <= 0x20 || b == 0x7f || b == '\\' {
			return "", false
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return p, true
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case, as browsers
// match the __Host- and __Secure- prefixes.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func validCookieName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0:
		default:
			return false
		}
	}
	return true
}
