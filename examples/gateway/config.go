package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/samlgate/samlgate/saml/samlconfig"
)

// Config is the gateway's configuration file (YAML or JSON; unknown keys
// are errors). See gateway.example.yaml.
type Config struct {
	// Listen is the address of the gateway (default 127.0.0.1:8080).
	Listen string `yaml:"listen,omitempty" json:"listen,omitempty"`
	// MetricsListen is the address of the Prometheus endpoint, a separate
	// listener so that /metrics is never exposed with the application
	// (default 127.0.0.1:9090).
	MetricsListen string `yaml:"metrics_listen,omitempty" json:"metrics_listen,omitempty"`
	// Upstream is the URL of the application behind the gateway.
	Upstream string `yaml:"upstream" json:"upstream"`
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

	// Connections are the IdP applications, in samlconfig's format. A
	// connection may give idp_metadata_url: the gateway fetches it at
	// start-up and refreshes it (MetadataRefresh).
	Connections []samlconfig.Connection `yaml:"connections" json:"connections"`
	// MetadataRefresh is how often idp_metadata_url is fetched again
	// (default 1h).
	MetadataRefresh samlconfig.Duration `yaml:"metadata_refresh,omitempty" json:"metadata_refresh,omitempty"`

	// baseDir is the configuration file's directory, against which
	// relative file names are resolved.
	baseDir string
}

// Defaults.
const (
	defaultListen          = "127.0.0.1:8080"
	defaultMetricsListen   = "127.0.0.1:9090"
	defaultMetadataRefresh = time.Hour
	sessionKeySize         = 32
)

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
	if c.Listen == "" {
		c.Listen = defaultListen
	}
	if c.MetricsListen == "" {
		c.MetricsListen = defaultMetricsListen
	}
	if c.MetadataRefresh == 0 {
		c.MetadataRefresh = samlconfig.Duration(defaultMetadataRefresh)
	}
	if c.MetadataRefresh < samlconfig.Duration(time.Minute) {
		return errors.New("metadata_refresh: must be at least 1m")
	}
	for _, a := range []struct{ key, addr string }{{"listen", c.Listen}, {"metrics_listen", c.MetricsListen}} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			return fmt.Errorf("%s: %q is not host:port: %w", a.key, a.addr, err)
		}
	}
	if c.Listen == c.MetricsListen && !strings.HasSuffix(c.Listen, ":0") {
		return errors.New("metrics_listen must differ from listen: metrics are never served with the application")
	}

	u, err := parseAbsURL("upstream", c.Upstream)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("upstream: scheme %q is not http or https", u.Scheme)
	}
	pub, err := parseAbsURL("public_url", c.PublicURL)
	if err != nil {
		return err
	}
	switch pub.Scheme {
	case "https":
	case "http":
		if !c.InsecureCookies {
			return errors.New("public_url is http://, where browsers drop Secure cookies: use https (TLS in front of the gateway), or set insecure_cookies: true for a local demo")
		}
	default:
		return fmt.Errorf("public_url: scheme %q is not https", pub.Scheme)
	}
	if pub.Path != "" && pub.Path != "/" || pub.RawQuery != "" || pub.Fragment != "" {
		return fmt.Errorf("public_url %q: give the origin only (https://host[:port]); the gateway serves the whole site", c.PublicURL)
	}
	if c.DefaultReturnTo == "" {
		c.DefaultReturnTo = "/"
	}
	if c.SessionLifetime < 0 {
		return errors.New("session_lifetime: must not be negative")
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

	if len(c.Connections) == 0 {
		return errors.New("connections: at least one connection is required")
	}
	for i, name := range c.RequiredConnections {
		if !slices.ContainsFunc(c.Connections, func(conn samlconfig.Connection) bool { return conn.Name == name }) {
			return fmt.Errorf("required_connections[%d]: %q is not the name of a connection below: nobody could log in", i, name)
		}
	}
	seen := map[string]bool{}
	for i := range c.Connections {
		conn := &c.Connections[i]
		if conn.Name == "" {
			return fmt.Errorf("connections[%d]: name is required", i)
		}
		if seen[conn.Name] {
			return fmt.Errorf("connections[%d]: duplicate name %q", i, conn.Name)
		}
		seen[conn.Name] = true
		if conn.ACSURL == "" {
			// The ACS URL an admin types into JumpCloud; the connection
			// query parameter selects this connection.
			conn.ACSURL = samlconfig.ACSURL(c.PublicURL, conn.Name)
		}
		acs, err := parseAbsURL(fmt.Sprintf("connections[%d].acs_url", i), conn.ACSURL)
		if err != nil {
			return err
		}
		if acs.Scheme != pub.Scheme || acs.Host != pub.Host || acs.Path != callbackPath {
			return fmt.Errorf("connections[%d].acs_url %q is not this gateway's callback %s%s?connection=%s: responses sent there would not reach it", i, conn.ACSURL, strings.TrimRight(c.PublicURL, "/"), callbackPath, conn.Name)
		}
		if conn.IdPMetadataURL != "" {
			mu, err := parseAbsURL(fmt.Sprintf("connections[%d].idp_metadata_url", i), conn.IdPMetadataURL)
			if err != nil {
				return err
			}
			if mu.Scheme != "https" && !isLoopbackHost(mu.Hostname()) {
				return fmt.Errorf("connections[%d].idp_metadata_url: must be https (the metadata carries the certificates the gateway trusts)", i)
			}
			if conn.IdPMetadataFile != "" || len(conn.IdPCertificates) > 0 || len(conn.IdPCertificateFiles) > 0 {
				return fmt.Errorf("connections[%d]: idp_metadata_url cannot be combined with idp_metadata_file or idp certificates", i)
			}
		}
	}
	return nil
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
