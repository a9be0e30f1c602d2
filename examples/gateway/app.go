package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/gateway/redisstore"
	"github.com/samlgate/samlgate/saml/samlconfig"
)

// The gateway's paths (gateway.Config's defaults, set explicitly so
// that the routing below cannot drift from them). The cookie names are the
// gateway's defaults: __Host-samlgate_session and __Host-samlgate_req_...,
// or, with insecure_cookies, samlgate_session and samlgate_req_....
const (
	loginPath    = "/login"
	callbackPath = samlconfig.CallbackPath
	metadataPath = "/saml/metadata"
	logoutPath   = "/logout"
	healthzPath  = "/healthz"
)

// Metadata fetching limits.
const (
	metadataMaxBytes     = 1 << 20
	metadataFetchTimeout = 15 * time.Second
)

// app is a configured gateway: the gateway.Gateway, its metrics and the
// background metadata refreshers.
type app struct {
	cfg      *Config
	logger   *slog.Logger
	gw       *gateway.Gateway
	metrics  *metrics
	fetchers []*saml.MetadataFetcher
	// setupToken guards the setup assistant; "" turns it off (setup.go).
	setupToken string
	teams      *teamSync         // nil without teams_db
	store      *redisstore.Store // redis_url; nil without
	// transport carries proxied requests to the upstream; nil means
	// upstreamTransport(). Tests and benchmarks replace it.
	transport http.RoundTripper
}

// newApp builds the gateway from cfg. client fetches IdP metadata; nil
// means saml.MetadataFetcher's default (a timeout, https redirects only). Connections with an idp_metadata_url
// are fetched now (a start-up failure is an error: the gateway would
// otherwise start unable to log anyone in) and refreshed by run.
func newApp(ctx context.Context, cfg *Config, logger *slog.Logger, client *http.Client) (*app, error) {
	names := make([]string, len(cfg.Connections))
	for i, c := range cfg.Connections {
		names[i] = c.Name
	}
	a := &app{cfg: cfg, logger: logger, metrics: newMetrics(names)}
	if err := a.build(ctx, client); err != nil {
		// What build opened (Redis, the teams database) is not left behind.
		a.closeTeams()
		if a.store != nil {
			_ = a.store.Close()
		}
		return nil, err
	}
	return a, nil
}

// build is newApp after the metrics exist.
func (a *app) build(ctx context.Context, client *http.Client) error {
	cfg, logger := a.cfg, a.logger
	keys, err := cfg.sessionKeys()
	if err != nil {
		return err
	}
	if a.setupToken, err = cfg.setupToken(); err != nil {
		return err
	}
	if err := a.openRedis(ctx); err != nil {
		return err
	}

	conns, err := a.connections(ctx, client)
	if err != nil {
		return err
	}

	gcfg := gateway.Config{
		Connections:     conns,
		SessionKeys:     keys,
		SessionLifetime: time.Duration(cfg.SessionLifetime),
		// CookieName unset: __Host-samlgate_session, which another host
		// of the site cannot plant (samlgate_session with insecure_cookies).
		InsecureCookies:   cfg.InsecureCookies,
		DefaultReturnTo:   cfg.DefaultReturnTo,
		LoginPath:         loginPath,
		CallbackPath:      callbackPath,
		MetadataPath:      metadataPath,
		LogoutPath:        logoutPath,
		OnLogin:           a.onLogin,
		Observer:          a.metrics.observe,
		Logger:            logger,
		ConnectionChooser: cfg.ConnectionChooser,
		AppName:           cfg.AppName,
		LogoutURLs:        logoutURLs(cfg.Connections),
	}
	// Sessions too large for a cookie: refused unless the operator opted
	// into the in-memory store, which is per process and costs memory
	// that scripted logins could otherwise claim. Either way, the start-up
	// log says which.
	if a.store != nil {
		a.useRedis(&gcfg)
	} else if o := cfg.OverflowSessions; o != nil {
		gcfg.OverflowLimits = gateway.MemorySessionLimits{MaxSessions: o.MaxSessions, MaxBytes: int64(o.MaxBytes)}
		gcfg.MaxSessionsPerUser = o.MaxPerUser
		logger.Warn("overflow_sessions is set: sessions too large for a cookie (users in hundreds of groups) are kept in this process's memory; they are lost on restart and unknown to other replicas, so run one replica",
			"max_sessions", orDefault(o.MaxSessions, gateway.DefaultMemorySessions),
			"max_bytes", orDefault(int64(o.MaxBytes), gateway.DefaultMemorySessionBytes),
			"max_per_user", orDefault(o.MaxPerUser, gateway.DefaultMaxSessionsPerUser))
	} else {
		gcfg.DisableOverflow = true
		logger.Info("sessions too large for a cookie (users in hundreds of groups) are refused with code session_too_large; " +
			"keep fewer groups with the connection's groups.filter, or set overflow_sessions to keep them in memory")
	}
	if err := a.setupTeams(ctx, &gcfg); err != nil {
		return err
	}
	a.gw, err = gateway.New(gcfg)
	if err != nil {
		return err
	}
	a.metrics.watchGateway(a.gw)
	return nil
}

// connections builds the saml.Connections of the configuration; those
// with an idp_metadata_url get their metadata now (fetchMetadata).
func (a *app) connections(ctx context.Context, client *http.Client) ([]*saml.Connection, error) {
	cfg := a.cfg
	allowedHosts, err := cfg.metadataAllowedHosts()
	if err != nil {
		return nil, err
	}
	signingCerts, err := cfg.metadataSigningCerts()
	if err != nil {
		return nil, err
	}
	var conns []*saml.Connection
	for _, fc := range cfg.Connections {
		ccfg, err := fc.ConnectionConfig(cfg.baseDir)
		if err != nil {
			return nil, err
		}
		a.replayCache(&ccfg)
		if fc.IdPMetadataURL != "" {
			if err := a.fetchMetadata(ctx, client, fc, &ccfg, allowedHosts, signingCerts); err != nil {
				return nil, err
			}
		}
		c, err := saml.NewConnection(ccfg)
		if err != nil {
			return nil, fmt.Errorf("connection %q: %w", fc.Name, err)
		}
		conns = append(conns, c)
	}
	return conns, nil
}

// fetchMetadata fetches connection fc's idp_metadata_url into ccfg. The
// fetcher is the connection's certificate source: a rotation at the IdP
// reaches the connection at the next refresh, with no rebuild (and the
// connection keeps its replay cache). The entity ID and SSO URL come from
// the first copy and stay fixed.
func (a *app) fetchMetadata(ctx context.Context, client *http.Client, fc samlconfig.Connection, ccfg *saml.ConnectionConfig, allowedHosts []string, signingCerts []*x509.Certificate) error {
	cfg, logger := a.cfg, a.logger
	mu, err := url.Parse(fc.IdPMetadataURL)
	if err != nil {
		return fmt.Errorf("connection %q: idp_metadata_url: %w", fc.Name, err)
	}
	hosts := allowedHosts
	if hosts == nil {
		// By default a redirect may not leave the URL's own host.
		hosts = []string{mu.Hostname()}
	}
	f := &saml.MetadataFetcher{
		URL:                 fc.IdPMetadataURL,
		Client:              client,
		MaxBytes:            metadataMaxBytes,
		Interval:            time.Duration(cfg.MetadataRefresh),
		Logger:              logger.With("connection", fc.Name),
		SigningCertificates: signingCerts,
		AllowedHosts:        hosts,
		OnRefreshError:      a.metrics.metadataRefreshFailed(fc.Name),
	}
	fctx, cancel := context.WithTimeout(ctx, metadataFetchTimeout)
	err = f.Refresh(fctx)
	cancel()
	if err != nil {
		return fmt.Errorf("connection %q: fetching idp_metadata_url: %w", fc.Name, err)
	}
	logger.Info("IdP metadata fetched", "connection", fc.Name, "url", mu.Redacted(),
		"signature_required", len(signingCerts) > 0, "allowed_hosts", hosts)
	ccfg.IdPMetadataXML = f.Metadata()
	ccfg.Certificates = f
	a.fetchers = append(a.fetchers, f)
	a.metrics.watchFetcher(fc.Name, f)
	return nil
}

// logoutURLs are the connections' logout_url entries, by name.
func logoutURLs(conns []samlconfig.Connection) map[string]string {
	m := map[string]string{}
	for _, c := range conns {
		if c.LogoutURL != "" {
			m[c.Name] = c.LogoutURL
		}
	}
	return m
}

// orDefault is v, or def when v is zero.
func orDefault[T int | int64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// onLogin logs the identity of an accepted login at Debug: emails, names
// and groups are personal data, never logged at Info. (The gateway itself
// logs one Info line per login or refusal, without them.)
func (a *app) onLogin(ctx context.Context, id *saml.Identity) error {
	a.logger.DebugContext(ctx, "login identity",
		"connection", id.Connection,
		"subject", id.Subject,
		"email", id.Email,
		"groups", id.Groups,
		"roles", id.Roles)
	return nil
}

// handler is the gateway listener's handler: /healthz, the SAML endpoints,
// the forward-auth endpoints (forward_auth), and everything else proxied
// to the upstream behind RequireLogin and requireAccess, except
// public_paths, proxied without a session (none without an upstream).
func (a *app) handler() (http.Handler, error) {
	pub, err := url.Parse(a.cfg.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("public_url: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(healthzPath, healthz)
	a.gw.Mount(mux)
	a.mountForwardAuth(mux, pub)
	if a.cfg.Upstream != "" {
		upstream, err := url.Parse(a.cfg.Upstream)
		if err != nil {
			return nil, fmt.Errorf("upstream: %w", err)
		}
		public, err := parsePublicPaths(a.cfg.PublicPaths)
		if err != nil {
			return nil, err
		}
		transport := a.transport
		if transport == nil {
			transport = upstreamTransport()
		}
		opts := proxyOptions{
			isGatewayCookie: isGatewayCookie,
			webSockets:      a.cfg.WebSockets,
			publicOrigin:    origin(pub),
			transport:       transport,
		}
		protected := a.gw.RequireLogin(a.requireAccess(a.metrics.instrumentUpstream(newProxy(upstream, opts, a.logger))))
		opts.anonymous = true
		mux.Handle("/", public.route(a.metrics.instrumentUpstream(newProxy(upstream, opts, a.logger)), protected))
	}
	return stripIdentityHeadersHandler(mux), nil
}

// requireAccess wraps next in the per-request checks of a session's
// identity: required_roles, required_groups, required_connections (403
// when one fails). The proxy and the forward-auth endpoint share it: a
// check added here applies to both.
func (a *app) requireAccess(next http.Handler) http.Handler {
	if len(a.cfg.RequiredRoles) > 0 {
		next = gateway.RequireRole(a.cfg.RequiredRoles...)(next)
	}
	if len(a.cfg.RequiredGroups) > 0 {
		next = gateway.RequireGroup(a.cfg.RequiredGroups...)(next)
	}
	if len(a.cfg.RequiredConnections) > 0 {
		next = gateway.RequireConnection(a.cfg.RequiredConnections...)(next)
	}
	return next
}

// origin is u's origin as browsers send it in Origin: scheme://host, with
// the port only when it is not the scheme's default.
func origin(u *url.URL) string {
	host := u.Host
	if p := u.Port(); (u.Scheme == "https" && p == "443") || (u.Scheme == "http" && p == "80") {
		host = strings.TrimSuffix(host, ":"+p)
	}
	return u.Scheme + "://" + host
}

// isGatewayCookie says which cookies are the gateway's own, never
// forwarded to the upstream: the session (__Host-samlgate_session) and the
// pending-request cookies (__Host-samlgate_req_...), their insecure_cookies
// names without the prefix, and any other spelling of them (any case,
// __Secure-): every cookie whose name, without a __Host- or __Secure-
// prefix, starts with "samlgate". It runs on every cookie of every
// proxied request: an ASCII name (every real one) is compared without
// allocating (hasFoldPrefix), any other lower-cased by strings.ToLower
// first, as before.
func isGatewayCookie(name string) bool {
	n := strings.TrimSpace(name)
	for i := 0; i < len(n); i++ {
		if n[i] >= utf8.RuneSelf {
			n = strings.ToLower(n)
			break
		}
	}
	for _, p := range []string{"__host-", "__secure-"} {
		if hasFoldPrefix(n, p) {
			n = n[len(p):]
		}
	}
	return hasFoldPrefix(n, "samlgate")
}

// run refreshes the IdP metadata until ctx is done.
func (a *app) run(ctx context.Context) {
	for _, f := range a.fetchers {
		go f.Run(ctx)
	}
}
