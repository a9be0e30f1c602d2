package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/samlgate/samlgate/groups/teamsync"
	"github.com/samlgate/samlgate/saml/samlconfig"
)

// Config is the gateway's configuration file (YAML or JSON; unknown keys
// are errors). See gateway.example.yaml.
type Config struct {
	// Listen is the address of the gateway (default 127.0.0.1:8080).
	Listen string `yaml:"listen,omitempty" json:"listen,omitempty"`
	// AdminListen is the address of the admin listener (metrics, health
	// and the operator's endpoints), separate so that none of them is ever
	// exposed with the application (default 127.0.0.1:9090).
	AdminListen string `yaml:"admin_listen,omitempty" json:"admin_listen,omitempty"`
	// Upstream is the URL of the application behind the gateway. It may
	// be left out only with ForwardAuth, when the gateway only answers a
	// reverse proxy's auth requests.
	Upstream string `yaml:"upstream,omitempty" json:"upstream,omitempty"`
	// PublicURL is the URL browsers use to reach the gateway
	// (https://app.example.com). It is the default base of each
	// connection's ACS URL.
	PublicURL string `yaml:"public_url" json:"public_url"`

	// SessionKeys are base64 32-byte keys: the first seals new sessions,
	// all open existing ones (list the new key first during a rotation).
	SessionKeys []string `yaml:"session_keys,omitempty" json:"session_keys,omitempty"`
	// SessionKeyFiles are files holding one base64 key each, relative to
	// the configuration file; read after SessionKeys.
	SessionKeyFiles []string `yaml:"session_key_files,omitempty" json:"session_key_files,omitempty"`
	// SessionLifetime bounds a session (default: the gateway's).
	SessionLifetime samlconfig.Duration `yaml:"session_lifetime,omitempty" json:"session_lifetime,omitempty"`
	// DefaultReturnTo is where a login without a return URL lands
	// (IdP-initiated logins from the JumpCloud portal); default "/".
	DefaultReturnTo string `yaml:"default_return_to,omitempty" json:"default_return_to,omitempty"`
	// AppName is the application's name on the gateway's pages ("You are
	// signed out of AppName."); default "this application".
	AppName string `yaml:"app_name,omitempty" json:"app_name,omitempty"`
	// InsecureCookies drops the Secure cookie attribute: only for demos on
	// http://127.0.0.1.
	InsecureCookies bool `yaml:"insecure_cookies,omitempty" json:"insecure_cookies,omitempty"`

	// RequiredGroups, when set, admits only users in at least one of these
	// groups to the upstream (403 otherwise).
	RequiredGroups []string `yaml:"required_groups,omitempty" json:"required_groups,omitempty"`
	// RequiredRoles, when set, admits only users with at least one of these
	// roles (from the connections' role mappings).
	RequiredRoles []string `yaml:"required_roles,omitempty" json:"required_roles,omitempty"`
	// RequiredConnections, when set, admits only users who logged in
	// through one of these connections (403 otherwise). Groups and roles
	// match whichever connection asserted them: with several connections,
	// any of their IdPs can put a user in "Admins"; list the connections
	// trusted for this upstream here.
	RequiredConnections []string `yaml:"required_connections,omitempty" json:"required_connections,omitempty"`

	// ConnectionChooser, when true, makes GET /login without ?connection=
	// list the connections when there are several
	// (gateway.Config.ConnectionChooser). Off by default: the list shows
	// every tenant to anyone; link users to /login?connection=NAME instead.
	ConnectionChooser bool `yaml:"connection_chooser,omitempty" json:"connection_chooser,omitempty"`
	// OverflowSessions, when set, keeps the sessions of users whose
	// identity is too large for a session cookie (hundreds of groups) in
	// this process's memory, within these limits. Unset (the default),
	// such logins are refused with code session_too_large: the memory
	// store is lost on restart and not shared between replicas, and
	// scripted logins could grow it.
	OverflowSessions *OverflowSessions `yaml:"overflow_sessions,omitempty" json:"overflow_sessions,omitempty"`
	// RedisURL, when set, keeps sessions, pending logins and the replay
	// cache in Redis, shared by every replica (redis:// or rediss://; a
	// master_name parameter for Sentinel, several addr parameters for
	// Cluster: see redisstore.New). Unset: in this process's memory, for
	// one replica. The -redis flag overrides it.
	RedisURL string `yaml:"redis_url,omitempty" json:"redis_url,omitempty"`

	// WebSockets, when true, lets WebSocket upgrades (Upgrade: websocket)
	// through to the upstream. Every other protocol upgrade (h2c above
	// all, which would let a client speak HTTP/2 to the upstream past the
	// gateway's per-request checks) is always stripped, and so are
	// WebSocket upgrades unless this is set.
	WebSockets bool `yaml:"websockets,omitempty" json:"websockets,omitempty"`
	// ForwardAuth, when true, serves the forward-auth endpoints on listen:
	// /saml/auth (2xx with the identity headers, 401 without a session,
	// 403 when the session is not allowed) and /saml/sign_in (a redirect
	// to the login), for nginx auth_request, Traefik ForwardAuth and
	// Caddy forward_auth. Upstream may then be left out. See
	// forwardauth.go.
	ForwardAuth bool `yaml:"forward_auth,omitempty" json:"forward_auth,omitempty"`
	// PublicPaths are the paths proxied to the upstream without a session
	// and without identity headers (health checks, public assets): an
	// exact path (/healthz), a prefix ending in / (/assets/), or a pattern
	// where * stands for one path segment (/api/public/*). See
	// publicpaths.go for how request paths are compared.
	PublicPaths []string `yaml:"public_paths,omitempty" json:"public_paths,omitempty"`
	// MaxConnsPerIP bounds the connections one client address (an IPv6
	// /64) holds open at once on listen: a slow POST holds one for up to
	// 30 seconds. Default 64; 0 removes the bound.
	MaxConnsPerIP *int `yaml:"max_conns_per_ip,omitempty" json:"max_conns_per_ip,omitempty"`
	// TrustedProxies are the addresses (IPs or CIDRs) of the reverse
	// proxies in front of the gateway (the TLS terminator), whose
	// connections max_conns_per_ip does not count: every client's requests
	// arrive from a proxy's address, so bounding it would bound the whole
	// site. Default: the loopback addresses (a proxy on the same host).
	// Bound clients at the proxy instead.
	TrustedProxies []string `yaml:"trusted_proxies,omitempty" json:"trusted_proxies,omitempty"`

	// TeamsDB turns team sync on: the teams database, sqlite:///path/teams.db
	// or postgres://user@host:port/db (package groups/teamsync). At each
	// login the user's groups become team memberships through Teams, kept
	// in the session and forwarded in X-Forwarded-Teams.
	TeamsDB string `yaml:"teams_db,omitempty" json:"teams_db,omitempty"`
	// Teams are the links: connection, group (a name or a pattern with *
	// and ?; case-insensitive unless case_sensitive) and team.
	Teams []teamsync.Link `yaml:"teams,omitempty" json:"teams,omitempty"`
	// TeamSync holds the other team sync settings.
	TeamSync *TeamSyncOptions `yaml:"team_sync,omitempty" json:"team_sync,omitempty"`

	// Connections are the IdP applications, in samlconfig's format. A
	// connection may give idp_metadata_url: the gateway fetches it at
	// start-up and refreshes it (MetadataRefresh).
	Connections []samlconfig.Connection `yaml:"connections" json:"connections"`
	// MetadataRefresh is how often idp_metadata_url is fetched again
	// (default 1h).
	MetadataRefresh samlconfig.Duration `yaml:"metadata_refresh,omitempty" json:"metadata_refresh,omitempty"`
	// IdPMetadataAllowedHosts are the only hosts (names or IP addresses,
	// without port; exact, case-insensitive) that an idp_metadata_url, and
	// every redirect it leads to, may name: whoever controls the metadata
	// controls which certificates are trusted, and a redirect must not
	// take the fetch elsewhere (another IdP, a service on the gateway's
	// network). Unset: each connection's own idp_metadata_url host only.
	// Every connection's idp_metadata_url must name one of them.
	IdPMetadataAllowedHosts []string `yaml:"idp_metadata_allowed_hosts,omitempty" json:"idp_metadata_allowed_hosts,omitempty"`
	// IdPMetadataSigningCertFiles are PEM files (relative to this file)
	// of the certificates whose keys sign the IdP metadata. When set, the
	// metadata of every connection with an idp_metadata_url must carry an
	// enveloped signature on its root by one of those keys, at start-up
	// and at every refresh; unsigned metadata, or metadata signed by
	// another key, is refused (saml.MetadataFetcher.SigningCertificates).
	// JumpCloud's metadata is not signed: this is for IdPs and federations
	// that sign theirs.
	IdPMetadataSigningCertFiles []string `yaml:"idp_metadata_signing_cert_files,omitempty" json:"idp_metadata_signing_cert_files,omitempty"`

	// SetupToken turns on the setup assistant at /setup/ on admin_listen,
	// guarded by this token (at least 16 characters), which the browser
	// sends as the password of HTTP Basic authentication. Unset (and no
	// SetupTokenFile or $SAMLGATE_SETUP_TOKEN): the assistant is off.
	SetupToken string `yaml:"setup_token,omitempty" json:"setup_token,omitempty"`
	// SetupTokenFile is a file (relative to this file) holding the setup
	// token, instead of SetupToken.
	SetupTokenFile string `yaml:"setup_token_file,omitempty" json:"setup_token_file,omitempty"`

	// baseDir is the configuration file's directory, against which
	// relative file names are resolved.
	baseDir string
}

// OverflowSessions bounds the in-memory store of sessions too large for a
// cookie; a field left out takes the gateway's default.
type OverflowSessions struct {
	// MaxSessions bounds the sessions held (default 100,000).
	MaxSessions int `yaml:"max_sessions,omitempty" json:"max_sessions,omitempty"`
	// MaxBytes bounds their memory: bytes, or a size such as 64MiB
	// (KiB, MiB, GiB; default 64MiB).
	MaxBytes byteSize `yaml:"max_bytes,omitempty" json:"max_bytes,omitempty"`
	// MaxPerUser bounds the sessions of one user (a subject of a
	// connection): a login beyond it ends that user's oldest (default 10).
	MaxPerUser int `yaml:"max_per_user,omitempty" json:"max_per_user,omitempty"`
}

// byteSize is a number of bytes, written as an integer or with a binary
// suffix (64MiB).
type byteSize int64

// UnmarshalText implements encoding.TextUnmarshaler (which the YAML
// decoder uses for scalars, numbers included).
func (b *byteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return fmt.Errorf("%q is not a size such as 67108864 or 64MiB (suffixes KiB, MiB, GiB)", text)
	}
	*b = byteSize(n * mult)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (b byteSize) MarshalText() ([]byte, error) { return []byte(strconv.FormatInt(int64(b), 10)), nil }

// Defaults.
const (
	defaultListen          = "127.0.0.1:8080"
	defaultAdminListen     = "127.0.0.1:9090"
	defaultMetadataRefresh = time.Hour
	sessionKeySize         = 32
	// defaultMaxConnsPerIP is max_conns_per_ip's default: far above what
	// a browser opens (6 per host, a few more with WebSockets), far below
	// what a listener can hold.
	defaultMaxConnsPerIP = 64
)

// trustedProxies parses trusted_proxies, with its default.
func (c *Config) trustedProxies() ([]*net.IPNet, error) {
	list := c.TrustedProxies
	if list == nil {
		list = []string{"127.0.0.0/8", "::1/128"}
	}
	var out []*net.IPNet
	for _, s := range list {
		if !strings.Contains(s, "/") {
			ip := net.ParseIP(s)
			if ip == nil {
				return nil, fmt.Errorf("trusted_proxies: %q is not an IP address or CIDR", s)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies: %q is not an IP address or CIDR", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// maxConnsPerIP is max_conns_per_ip with its default; 0 means no bound.
func (c *Config) maxConnsPerIP() int {
	if c.MaxConnsPerIP == nil {
		return defaultMaxConnsPerIP
	}
	return *c.MaxConnsPerIP
}

// loadConfig reads and validates a configuration file.
func loadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := parseConfig(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// parseConfig decodes data strictly (unknown keys are errors), fills in
// defaults and validates the result. baseDir resolves relative paths.
func parseConfig(data []byte, baseDir string) (*Config, error) {
	var cfg Config
	if err := samlconfig.Decode(data, &cfg); err != nil {
		return nil, err
	}
	cfg.baseDir = baseDir
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func (c *Config) validate() error {
	if err := c.validateListeners(); err != nil {
		return err
	}
	if err := c.validateUpstream(); err != nil {
		return err
	}
	pub, err := c.validatePublicURL()
	if err != nil {
		return err
	}
	if c.DefaultReturnTo == "" {
		c.DefaultReturnTo = "/"
	}
	if c.SessionLifetime < 0 {
		return errors.New("session_lifetime: must not be negative")
	}
	if c.MaxConnsPerIP != nil && *c.MaxConnsPerIP < 0 {
		return errors.New("max_conns_per_ip: must not be negative (0 removes the bound)")
	}
	if err := c.validateTeams(); err != nil {
		return err
	}
	if err := c.validateRedis(); err != nil {
		return err
	}
	if _, err := c.trustedProxies(); err != nil {
		return err
	}
	if o := c.OverflowSessions; o != nil && (o.MaxSessions < 0 || o.MaxPerUser < 0) {
		return errors.New("overflow_sessions: max_sessions and max_per_user must not be negative (leave one out for the default)")
	}

	if _, err := c.sessionKeys(); err != nil {
		return err
	}
	for i, g := range c.RequiredGroups {
		if strings.TrimSpace(g) == "" {
			return fmt.Errorf("required_groups[%d]: empty group name", i)
		}
	}
	for i, r := range c.RequiredRoles {
		if strings.TrimSpace(r) == "" {
			return fmt.Errorf("required_roles[%d]: empty role name", i)
		}
	}

	return c.validateConnections(pub)
}

// validateListeners fills in and checks listen, admin_listen and
// metadata_refresh.
func (c *Config) validateListeners() error {
	if c.Listen == "" {
		c.Listen = defaultListen
	}
	if c.AdminListen == "" {
		c.AdminListen = defaultAdminListen
	}
	if c.MetadataRefresh == 0 {
		c.MetadataRefresh = samlconfig.Duration(defaultMetadataRefresh)
	}
	if c.MetadataRefresh < samlconfig.Duration(time.Minute) {
		return errors.New("metadata_refresh: must be at least 1m")
	}
	for _, a := range []struct{ key, addr string }{{"listen", c.Listen}, {"admin_listen", c.AdminListen}} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			return fmt.Errorf("%s: %q is not host:port: %w", a.key, a.addr, err)
		}
	}
	if c.Listen == c.AdminListen && !strings.HasSuffix(c.Listen, ":0") {
		return errors.New("admin_listen must differ from listen: metrics and operator endpoints are never served with the application")
	}

	return nil
}

// validatePublicURL checks public_url: the origin the browser sees.
func (c *Config) validatePublicURL() (*url.URL, error) {
	pub, err := parseAbsURL("public_url", c.PublicURL)
	if err != nil {
		return nil, err
	}
	switch pub.Scheme {
	case "https":
	case "http":
		if !c.InsecureCookies {
			return nil, errors.New("public_url is http://, where browsers drop Secure cookies: use https (TLS in front of the gateway), or set insecure_cookies: true for a local demo")
		}
	default:
		return nil, fmt.Errorf("public_url: scheme %q is not https", pub.Scheme)
	}
	if pub.Path != "" && pub.Path != "/" || pub.RawQuery != "" || pub.Fragment != "" {
		return nil, fmt.Errorf("public_url %q: give the origin only (https://host[:port]); the gateway serves the whole site", c.PublicURL)
	}
	return pub, nil
}

// sessionKeys decodes session_keys and session_key_files. At least one key
// is required, each exactly 32 bytes.
func (c *Config) sessionKeys() ([][]byte, error) {
	var keys [][]byte
	for i, k := range c.SessionKeys {
		key, err := decodeSessionKey(k)
		if err != nil {
			return nil, fmt.Errorf("session_keys[%d]: %w", i, err)
		}
		keys = append(keys, key)
	}
	for i, name := range c.SessionKeyFiles {
		data, err := os.ReadFile(c.resolve(name))
		if err != nil {
			return nil, fmt.Errorf("session_key_files[%d]: %w", i, err)
		}
		key, err := decodeSessionKey(string(data))
		if err != nil {
			return nil, fmt.Errorf("session_key_files[%d] (%s): %w", i, name, err)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New("session_keys or session_key_files: at least one 32-byte key is required (generate one with: openssl rand -base64 32)")
	}
	return keys, nil
}

// decodeSessionKey reads a base64 key (standard or URL alphabet, padded
// or not). Errors never quote the key.
func decodeSessionKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	var key []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, errors.New("not valid base64 (generate a key with: openssl rand -base64 32)")
	}
	if len(key) != sessionKeySize {
		return nil, fmt.Errorf("key is %d bytes, want exactly %d (generate one with: openssl rand -base64 32)", len(key), sessionKeySize)
	}
	return key, nil
}

func (c *Config) resolve(name string) string {
	if filepath.IsAbs(name) || c.baseDir == "" {
		return name
	}
	return filepath.Join(c.baseDir, name)
}

func parseAbsURL(key, s string) (*url.URL, error) {
	if s == "" {
		return nil, fmt.Errorf("%s: required", key)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("%s: %q is not an absolute URL", key, s)
	}
	return u, nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
