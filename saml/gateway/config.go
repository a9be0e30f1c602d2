package gateway

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/samlgate/samlgate/saml"
)

// Defaults of Config.
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
	// DefaultMaxSessionsPerUser is Config.MaxSessionsPerUser's default:
	// enough for a user's browsers and devices, too few for a script
	// replaying IdP-initiated logins to fill a store.
	DefaultMaxSessionsPerUser = 10
)

// Codes the gateway adds to those of saml.Verify. Like saml's, they are
// errors: errors.Is(err, gateway.CodeLoginRefused).
const (
	// CodeLoginRefused: Config.OnLogin refused a verified identity.
	CodeLoginRefused saml.Code = "login_refused"
	// CodeUnknownConnection: the ?connection= of a gateway URL names no
	// configured connection, or is missing where one must be named.
	CodeUnknownConnection saml.Code = "unknown_connection"
	// CodeSessionTooLarge: the identity does not fit a session cookie and
	// there is no store to keep it (Config.DisableOverflow), or it is
	// larger than a whole MemorySessionStore may hold (413).
	CodeSessionTooLarge saml.Code = "session_too_large"
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
	// maxReturnToLen bounds a return_to: it travels in the login state
	// (the request cookie, or the LoginStateStore).
	maxReturnToLen = 2048
	// formSlack is what an ACS body may hold beyond the SAMLResponse: the
	// RelayState, field names, and the percent-encoding of base64's + and /.
	formSlack = 64 << 10
	// maxLogoutBody bounds the POST body of the logout endpoint.
	maxLogoutBody = 16 << 10
)

// Config configures a Gateway; the package documentation says how logins
// are tracked and how sessions are kept.
type Config struct {
	// Connections are the IdP connections, selected by the ?connection=
	// query parameter. Each ACS URL must carry ?connection=<name> and end
	// with CallbackPath. More can be added later with SetConnection; a
	// certificate rotation needs none (see saml.CertificateSource).
	Connections []*saml.Connection

	// SessionKeys are AES-256 keys, 32 bytes each: the first seals, all
	// open. Required. Generate them with crypto/rand and keep them in a
	// secret store; every replica needs the same list.
	SessionKeys [][]byte
	// SessionLifetime caps a session; default DefaultSessionLifetime (8h).
	// The assertion's SessionNotOnOrAfter shortens it further.
	SessionLifetime time.Duration
	// SessionStore, when set, holds the sessions, sealed: the cookie then
	// holds only a sealed session ID and the session's own secret. nil:
	// stateless cookies (see the package documentation).
	//
	// Revocation: with a SessionStore, logout (and a new login in the same
	// browser) deletes the session from the store, so every copy of the
	// cookie (one stolen from the browser or from a log) stops working at
	// once. Without one, logout only tells the browser to drop its cookie:
	// a copy taken before keeps opening the session until the expiry
	// sealed in it (SessionLifetime at most). Use a SessionStore when a
	// logout must end the session for good.
	SessionStore SessionStore
	// LoginStateStore, when set, holds the pending SP-initiated logins
	// (request ID, connection, return_to, expiry), sealed, for
	// LoginRequestLifetime, each taken once at the callback; the request
	// cookie then holds only the RelayState handle. nil: the state is
	// sealed in the request cookie. Either way the RelayState is an
	// opaque handle of 47 bytes, and any replica completes a login that
	// another started. A store failure at the callback refuses the login
	// with code unavailable (503) before the response is verified.
	LoginStateStore LoginStateStore
	// MaxSessionsPerUser bounds the sessions one user (a subject of a
	// connection) keeps in a store that indexes users (UserSessionStore:
	// MemorySessionStore, and so the in-memory overflow store): a login
	// beyond it ends that user's oldest session, so that scripted logins
	// of one account cannot fill the store. Default
	// DefaultMaxSessionsPerUser (10). Stateless cookies are not counted
	// (the server keeps nothing for them), nor are sessions in a
	// SessionStore that does not implement UserSessionStore.
	MaxSessionsPerUser int
	// DisableOverflow refuses, with code session_too_large (413, and an
	// Info log line saying how large the session was), a login whose
	// identity does not fit a session cookie (over 3,800 bytes sealed: a
	// user in a few hundred groups) when SessionStore is nil, instead of
	// keeping it in the in-memory overflow store (see the package
	// documentation). Set it when the gateway runs as several replicas
	// without a shared SessionStore (an overflow session works on its own
	// replica only), or to spend no memory on sessions at all; a groups
	// Filter on the connection keeps identities small.
	DisableOverflow bool
	// OverflowLimits bounds the in-memory overflow store of each
	// connection (zero fields: the defaults, DefaultMemorySessions
	// sessions and DefaultMemorySessionBytes bytes); when full, the
	// sessions of that connection closest to expiry are dropped. The store
	// is per connection because an IdP can assert any number of subjects:
	// one tenant flooding it evicts only its own tenant's sessions. The
	// memory bound is therefore OverflowLimits times the connections that
	// have overflow sessions. Setting it together with DisableOverflow or
	// SessionStore, which leave no overflow store, is a configuration
	// error.
	OverflowLimits MemorySessionLimits
	// ConnectionChooser makes GET LoginPath without ?connection= list the
	// connections, as links, when there are several. Off by default: the
	// list shows every tenant to anyone, and an application usually knows
	// which connection a user belongs to (by subdomain, by an email domain
	// the user types, by a link the tenant bookmarks). When off, such a
	// request gets the unknown-connection page (404), exactly as a name
	// that is no connection does, at LoginPath, MetadataPath and
	// CallbackPath alike. A name that exists still starts a login (and
	// serves its metadata), so connection names are not secrets: choose
	// ones that do not matter if guessed.
	ConnectionChooser bool
	// CookieName is the session cookie's name; default DefaultCookieName
	// ("__Host-samlgate_session"), or InsecureCookieName
	// ("samlgate_session") under InsecureCookies. A name set here is used
	// as given: keep the __Host- prefix (see above, cookie tossing) unless
	// InsecureCookies is set, with which a __Host- or __Secure- name is a
	// configuration error (browsers would refuse the cookie).
	CookieName string
	// InsecureCookies drops the Secure attribute of the session cookie
	// (and of the request cookie, except on loopback ACS hosts; see the
	// package documentation)
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

	// AppName is the application's name as the pages show it ("You are
	// signed out of AppName."); default "this application".
	AppName string
	// Pages are the operator's templates for the gateway's pages (nil
	// fields: the built-in pages); see Pages and PageData.
	Pages Pages
	// LogoutURLs maps a connection's name to where POST LogoutPath sends
	// the browser once the session is ended: the IdP's logout URL, or its
	// user portal (https://console.jumpcloud.com/userconsole, say), so
	// that the user can also end the IdP's session, which otherwise signs
	// them straight back in. Each must be an absolute https URL (http only
	// on a loopback host, for demos), with no user name or password, and
	// each name must be in Connections; New refuses anything else. The
	// URL comes from here only, never from the request. A connection
	// without one, and a logout without a session, shows the signed-out
	// page instead.
	LogoutURLs map[string]string

	// OnLogin runs after a response is verified and before the session
	// exists; it sees the full Identity, Attributes included (sessions do
	// not keep them). An error refuses the login with a 403 page whose code
	// is login_refused; the error itself is logged at Debug only.
	OnLogin func(ctx context.Context, id *saml.Identity) error
	// TeamSync, when set, syncs the user's team memberships at each login
	// (a *teamsync.Engine of package groups/teamsync), after OnLogin and
	// before the session exists; the teams it returns are kept in the
	// session (TeamsFromContext, RequireTeam). It never runs on a session.
	// A failure refuses the login (team_sync_failed, 503) unless
	// TeamSyncBestEffort is set, which lets the user in without teams and
	// logs a warning. See TeamSyncer.
	TeamSync           TeamSyncer
	TeamSyncBestEffort bool
	// Observer, for metrics, is called once for each POST to the callback,
	// synchronously, after the outcome is known.
	Observer func(ev LoginEvent)
	// PreviewTeams, when set, answers a test login of the setup assistant
	// (SetupHandler) with the teams a sync would grant the identity, shown
	// on the test result; it must change nothing. Test logins run no
	// OnLogin.
	PreviewTeams func(ctx context.Context, id *saml.Identity) ([]string, error)
	// Logger receives the audit log: one Info line per login, refusal
	// (code, connection, request ID, expected and actual configuration
	// values; never emails, groups or XML), logout and RevokeUser, each
	// with an "event" key (see audit.go), the refusal detail at Debug,
	// one Info line per
	// session that no longer meets its connection's rules (connection and
	// reason), warnings about certificates close to expiry, and store
	// failures. The verifier never
	// logs: this is the one logger of a login. nil means slog.Default().
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
	Code saml.Code
	// Duration is the latency of Verify (zero if it did not run).
	Duration time.Duration
	// IdPInitiated is true when the response answered no request of ours:
	// for a refused response, when no RelayState of ours came with it.
	IdPInitiated bool
	// Test is true for a test login of the setup assistant (SetupHandler),
	// which creates no session, whether it succeeded or not.
	Test bool
}

// defaults validates the configuration and fills in the defaults.
func (c *Config) defaults() error {
	switch {
	case c.SessionLifetime < 0:
		return configError("SessionLifetime %s is negative", c.SessionLifetime)
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
		return configError("CookieName %q is not a valid cookie name (letters, digits and !#$%%&'*+-.^_`|~, not starting with %s or %s)", c.CookieName, insecureRequestCookiePrefix, requestCookiePrefix)
	}
	if c.InsecureCookies && (hasPrefixFold(c.CookieName, hostCookiePrefix) || hasPrefixFold(c.CookieName, "__Secure-")) {
		return configError("CookieName %q: browsers accept a __Host- or __Secure- cookie only with the Secure attribute, which InsecureCookies drops; use a name without the prefix for the demo", c.CookieName)
	}
	switch {
	case c.MaxSessionsPerUser < 0:
		return configError("MaxSessionsPerUser %d is negative", c.MaxSessionsPerUser)
	case c.MaxSessionsPerUser == 0:
		c.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	if c.OverflowLimits.MaxSessions < 0 || c.OverflowLimits.MaxBytes < 0 {
		return configError("OverflowLimits %+v: limits must not be negative (zero means the default)", c.OverflowLimits)
	}
	if c.OverflowLimits != (MemorySessionLimits{}) && (c.DisableOverflow || c.SessionStore != nil) {
		return configError("OverflowLimits is set, but DisableOverflow or SessionStore leaves no in-memory overflow store to bound")
	}
	if c.AppName == "" {
		c.AppName = defaultAppName
	}
	if err := c.Pages.check(); err != nil {
		return err
	}
	if c.DefaultReturnTo == "" {
		c.DefaultReturnTo = "/"
	}
	if _, ok := safeReturnTo(c.DefaultReturnTo); !ok {
		return configError("DefaultReturnTo %q must be a local path such as /app (no scheme, host or //)", c.DefaultReturnTo)
	}
	return c.defaultPaths()
}

// defaultPaths fills in the endpoints' paths and checks that they are
// paths, and distinct.
func (c *Config) defaultPaths() error {
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
			return configError("%s %q must be a path starting with /", p.field, *p.v)
		}
		if other, dup := paths[*p.v]; dup {
			return configError("%s and %s are both %q", other, p.field, *p.v)
		}
		paths[*p.v] = p.field
	}
	return nil
}
