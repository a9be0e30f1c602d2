package gateway

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/samlgate/samlgate/saml"
)

// Gateway serves the SAML endpoints of a service (login, callback,
// metadata, logout) and guards its handlers with RequireLogin. It is safe
// for concurrent use.
type Gateway struct {
	cfg    Config
	sealer *sealer
	now    func() time.Time
	logger *slog.Logger
	csrf   *http.CrossOriginProtection
	// pageCSP is the pages' Content-Security-Policy: forms may post to
	// this origin and be redirected to the LogoutURLs' origins.
	pageCSP string

	mu    sync.RWMutex
	conns map[string]*conn

	// overflows are the in-memory overflow stores, one per connection, so
	// that one tenant's IdP (which can assert any number of subjects) can
	// only evict its own tenant's sessions; created on first use.
	overflowMu   sync.Mutex
	overflows    map[string]*MemorySessionStore
	overflowWarn sync.Once

	// refusals are the recent refusals per connection (RecentRefusals).
	refusals refusalLog

	// decoded caches the decoding of session payloads (sessioncache.go).
	decoded sessionDecoder
}

// conn is a connection with what the gateway reads from its Config once.
type conn struct {
	*saml.Connection
	acsURL     *url.URL
	maxBytes   int
	spEntityID string
	// cookieTag names the connection in a session cookie (see
	// sessionValue): base64url of the name.
	cookieTag string
	// sessionAD is the additional data its session cookies are sealed
	// with: bound(purposeSession, SP entity ID, name), computed once.
	sessionAD []byte
	// access is what a session must still satisfy on every request.
	access sessionAccess
	// idp is the IdP's family, for the pages' wording.
	idp saml.IdPKind
}

// newConn reads c's configuration once: the ACS URL is parsed (and
// checked) by checkConnection.
func newConn(c *saml.Connection, cfg saml.ConnectionConfig) *conn {
	return &conn{
		Connection: c,
		acsURL:     &url.URL{},
		maxBytes:   cfg.MaxResponseBytes,
		spEntityID: cfg.SPEntityID,
		cookieTag:  base64.RawURLEncoding.EncodeToString([]byte(c.Name())),
		sessionAD:  []byte(bound(purposeSession, cfg.SPEntityID, c.Name())),
		access:     newSessionAccess(cfg),
		idp:        cfg.IdP,
	}
}

// New validates cfg and returns a Gateway. Errors have Code config_invalid
// and name the setting to fix.
func New(cfg Config) (*Gateway, error) {
	g := &Gateway{cfg: cfg, now: cfg.Now, logger: cfg.Logger, conns: make(map[string]*conn)}
	if g.now == nil {
		g.now = time.Now
	}
	if g.logger == nil {
		g.logger = slog.Default()
	}
	var err error
	if g.sealer, err = newSealer(cfg.SessionKeys); err != nil {
		return nil, err
	}
	g.cfg.SessionKeys = nil // the sealer holds them; do not keep a second copy
	if err := g.cfg.defaults(); err != nil {
		return nil, err
	}
	for i, c := range g.cfg.Connections {
		if c == nil {
			return nil, configError("Connections[%d] is nil", i)
		}
		if _, dup := g.conns[c.Name()]; dup {
			return nil, configError("two connections are named %q", c.Name())
		}
		gc, err := g.checkConnection(c)
		if err != nil {
			return nil, err
		}
		g.conns[c.Name()] = gc
		g.warnExpiring(c)
	}
	g.cfg.Connections = nil // g.conns is the live set
	if g.pageCSP, err = g.checkLogoutURLs(); err != nil {
		return nil, err
	}
	g.csrf = http.NewCrossOriginProtection()
	return g, nil
}

// checkConnection refuses an ACS URL the gateway would not route to the
// connection, and warns when the cookies could not work.
func (g *Gateway) checkConnection(c *saml.Connection) (*conn, error) {
	cfg := c.Config()
	gc := newConn(c, cfg)
	if err := gc.access.err; err != nil {
		// Unreachable for a connection saml.NewConnection accepted: its
		// groups configuration compiled there. The connection admits no
		// session (sessionAccess.admits fails closed).
		return gc, connError(c, configError("connection %s: the groups configuration does not compile: %v", c.Name(), err))
	}
	acs, err := url.Parse(cfg.ACSURL)
	if err != nil {
		return gc, connError(c, configError("ACSURL %q is not a URL", cfg.ACSURL))
	}
	gc.acsURL = acs
	if got := acs.Query().Get("connection"); got != c.Name() {
		return gc, connError(c, configError("connection %s: ACSURL %q must carry ?connection=%s: the gateway's callback selects the connection by it", c.Name(), cfg.ACSURL, url.QueryEscape(c.Name())))
	}
	if !strings.HasSuffix(acs.Path, g.cfg.CallbackPath) {
		return gc, connError(c, configError("connection %s: the path of ACSURL %q is not the gateway's CallbackPath %q", c.Name(), cfg.ACSURL, g.cfg.CallbackPath))
	}
	if acs.Scheme != "https" && !g.cfg.InsecureCookies {
		g.logger.Warn("samlgate: ACS URL is not https: browsers drop Secure cookies there (except on localhost); use https, or InsecureCookies for a local demo",
			"connection", c.Name(), "acs_url", cfg.ACSURL)
	}
	return gc, nil
}

func connError(c *saml.Connection, e *saml.Error) *saml.Error {
	e.Connection = c.Name()
	return e
}

// warnExpiring logs the connection's certificates that expire within 30
// days: the verifier reports them (saml.Connection.ExpiringCertificates)
// but never logs.
func (g *Gateway) warnExpiring(c *saml.Connection) {
	certs, err := c.ExpiringCertificates(context.Background(), 0)
	if err != nil {
		return
	}
	for _, cert := range certs {
		g.logger.Warn("samlgate: IdP certificate expires soon",
			"connection", c.Name(), "fingerprint", saml.Fingerprint(cert), "not_after", cert.NotAfter.UTC(),
			"days_left", int(cert.NotAfter.Sub(g.now()).Hours()/24))
	}
}

// SetConnection adds c, or replaces the connection of the same name. It is
// safe to call while requests are served. Sessions of the replaced
// connection stay valid as long as they meet the new connection's rules,
// which every request checks again (see RequireLogin): its allowed groups,
// allowed email domains and email_verified policy; a session made under
// another SP entity ID, group attribute, delimiter, filter or role mapping
// ends (the user logs in again, so that groups and roles are derived by
// the new rules). A certificate rotation needs no new connection:
// give the connection a saml.CertificateSource such as MetadataFetcher. A
// replacement built with no ReplayCache of its own starts with an empty
// one: share one ReplayCache between the connections you swap, or an
// assertion the old one accepted can be replayed until it expires.
//
// A connection whose ACS URL the gateway cannot route is still set, and an
// error is logged: its logins will fail with destination_mismatch.
func (g *Gateway) SetConnection(c *saml.Connection) {
	if c == nil {
		panic("samlgate: Gateway.SetConnection(nil)")
	}
	gc, err := g.checkConnection(c)
	if err != nil {
		g.logger.Error("samlgate: connection set with a configuration the gateway cannot use", "connection", c.Name(), "error", err.Error())
	}
	g.warnExpiring(c)
	g.mu.Lock()
	g.conns[c.Name()] = gc
	g.mu.Unlock()
}

// Connection returns the connection named name.
func (g *Gateway) Connection(name string) (*saml.Connection, bool) {
	c, ok := g.conn(name)
	if !ok {
		return nil, false
	}
	return c.Connection, true
}

func (g *Gateway) conn(name string) (*conn, bool) {
	g.mu.RLock()
	c, ok := g.conns[name]
	g.mu.RUnlock()
	return c, ok
}

// connections returns the connections sorted by name.
func (g *Gateway) connections() []*conn {
	g.mu.RLock()
	out := make([]*conn, 0, len(g.conns))
	for _, c := range g.conns {
		out = append(out, c)
	}
	g.mu.RUnlock()
	slices.SortFunc(out, func(a, b *conn) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

// pick selects the connection a request names, or the only one when it
// names none. found is false for an unknown name; c is nil with found true
// when several connections exist and none is named.
func (g *Gateway) pick(name string) (c *conn, found bool) {
	if name != "" {
		return g.conn(name)
	}
	return g.only(), true
}

// only returns the connection when there is exactly one, else nil;
// without listing and sorting them, as every anonymous request asks.
func (g *Gateway) only() *conn {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if len(g.conns) != 1 {
		return nil
	}
	for _, c := range g.conns {
		return c
	}
	return nil
}

// count returns the number of connections.
func (g *Gateway) count() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.conns)
}

// ServeHTTP serves every route of the gateway: LoginPath (GET),
// CallbackPath (POST), MetadataPath (GET) and LogoutPath (GET, POST); other
// paths are 404, other methods 405.
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

// Mount registers the gateway's routes on mux: LoginPath, CallbackPath,
// MetadataPath and LogoutPath.
func (g *Gateway) Mount(mux *http.ServeMux) {
	for _, p := range []string{g.cfg.LoginPath, g.cfg.CallbackPath, g.cfg.MetadataPath, g.cfg.LogoutPath} {
		mux.Handle(p, g)
	}
}

// LoginHandler serves LoginPath only: GET ?connection=X&return_to=/path
// starts an SP-initiated login.
func (g *Gateway) LoginHandler() http.Handler { return http.HandlerFunc(g.serveLogin) }

// CallbackHandler serves CallbackPath only: the ACS, POST ?connection=X.
func (g *Gateway) CallbackHandler() http.Handler { return http.HandlerFunc(g.serveCallback) }

// MetadataHandler serves MetadataPath only: GET ?connection=X, the SP
// metadata to upload into the IdP.
func (g *Gateway) MetadataHandler() http.Handler { return http.HandlerFunc(g.serveMetadata) }

// LogoutHandler serves LogoutPath only: GET asks to confirm, POST ends the
// session (see the package documentation).
func (g *Gateway) LogoutHandler() http.Handler { return http.HandlerFunc(g.serveLogout) }

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}
