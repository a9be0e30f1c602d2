package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml/samlconfig"
)

var (
	testKey32    = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	testKey32URL = base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))
	testKey16    = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 16))
)

// writeConfigDir writes the IdP certificate (testdata's) next to a config
// file and returns the directory.
func writeConfigDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cert, err := os.ReadFile(filepath.Join("..", "..", "testdata", "keys", "idp.crt.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "jumpcloud"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "jumpcloud", "certificate.pem"), cert, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "session.key"), []byte(testKey32+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

const goodYAML = `
listen: 127.0.0.1:8443
admin_listen: 127.0.0.1:9191
upstream: http://127.0.0.1:3000
public_url: https://app.example.com
session_keys: [KEY]
session_lifetime: 8h
default_return_to: /dashboard
required_groups: [Engineering]
required_roles: [admin]
connections:
  - name: acme
    sp_entity_id: urn:samlgate:acme
    idp_entity_id: https://sso.jumpcloud.com/saml2/acme
    idp_sso_url: https://sso.jumpcloud.com/saml2/acme
    idp_certificate_files: [jumpcloud/certificate.pem]
    groups:
      allowed: [Engineering]
      roles:
        - {group: Admins, role: admin}
`

const goodJSON = `{
  "upstream": "http://127.0.0.1:3000",
  "public_url": "https://app.example.com",
  "session_key_files": ["session.key"],
  "connections": [{
    "name": "acme",
    "sp_entity_id": "urn:samlgate:acme",
    "acs_url": "https://app.example.com/login/callback?connection=acme",
    "idp_entity_id": "https://sso.jumpcloud.com/saml2/acme",
    "idp_sso_url": "https://sso.jumpcloud.com/saml2/acme",
    "idp_certificate_files": ["jumpcloud/certificate.pem"]
  }]
}`

// metaYAML is goodYAML with the connection's IdP taken from
// idp_metadata_url, and extra top-level lines.
func metaYAML(extra string) string {
	return strings.NewReplacer(
		"KEY", testKey32,
		"    idp_entity_id: https://sso.jumpcloud.com/saml2/acme\n    idp_sso_url: https://sso.jumpcloud.com/saml2/acme\n    idp_certificate_files: [jumpcloud/certificate.pem]\n",
		"    idp_metadata_url: https://idp.example.com/metadata\n",
		"required_roles: [admin]", "required_roles: [admin]\n"+extra,
	).Replace(goodYAML)
}

func TestParseConfig(t *testing.T) {
	yamlWith := func(old, new string) string {
		return strings.Replace(strings.Replace(goodYAML, "KEY", testKey32, 1), old, new, 1)
	}
	tests := []struct {
		name    string
		doc     string
		wantErr string // "" = valid
		check   func(t *testing.T, c *Config)
	}{
		{
			name: "good yaml",
			doc:  yamlWith("", ""),
			check: func(t *testing.T, c *Config) {
				if c.Listen != "127.0.0.1:8443" || c.AdminListen != "127.0.0.1:9191" {
					t.Errorf("listen = %q, admin_listen = %q", c.Listen, c.AdminListen)
				}
				if time.Duration(c.SessionLifetime) != 8*time.Hour || c.DefaultReturnTo != "/dashboard" {
					t.Errorf("session_lifetime = %v, default_return_to = %q", time.Duration(c.SessionLifetime), c.DefaultReturnTo)
				}
				if got := c.Connections[0].ACSURL; got != "https://app.example.com/login/callback?connection=acme" {
					t.Errorf("default acs_url = %q", got)
				}
				keys, err := c.sessionKeys()
				if err != nil || len(keys) != 1 || len(keys[0]) != 32 {
					t.Errorf("session keys = %d, %v", len(keys), err)
				}
			},
		},
		{
			name: "good json with key file and defaults",
			doc:  goodJSON,
			check: func(t *testing.T, c *Config) {
				if c.Listen != defaultListen || c.AdminListen != defaultAdminListen || c.DefaultReturnTo != "/" {
					t.Errorf("defaults: listen %q, metrics %q, return_to %q", c.Listen, c.AdminListen, c.DefaultReturnTo)
				}
				keys, err := c.sessionKeys()
				if err != nil || len(keys) != 1 || !bytes.Equal(keys[0], bytes.Repeat([]byte{7}, 32)) {
					t.Errorf("key from file: %v, %v", keys, err)
				}
				// Relative certificate paths resolve against the file's directory.
				cc, err := c.Connections[0].ConnectionConfig(c.baseDir)
				if err != nil || len(cc.IdPCertificatesPEM) != 1 {
					t.Errorf("certificate file: %d certs, %v", len(cc.IdPCertificatesPEM), err)
				}
			},
		},
		{name: "url-safe unpadded key", doc: yamlWith(testKey32, testKey32URL)},
		{name: "two keys for rotation", doc: yamlWith("session_keys: ["+testKey32+"]", "session_keys: ["+testKey32URL+", "+testKey32+"]")},
		{name: "unknown top-level key", doc: yamlWith("session_lifetime: 8h", "session_lifetme: 8h"), wantErr: "session_lifetme"},
		{name: "unknown connection key", doc: yamlWith("    sp_entity_id:", "    allow_sha_1: true\n    sp_entity_id:"), wantErr: "allow_sha_1"},
		{name: "bad base64 key", doc: yamlWith(testKey32, "not*base64!"), wantErr: "session_keys[0]: not valid base64"},
		{name: "short key", doc: yamlWith(testKey32, testKey16), wantErr: "session_keys[0]: key is 16 bytes, want exactly 32"},
		{name: "no key", doc: yamlWith("session_keys: ["+testKey32+"]", ""), wantErr: "at least one 32-byte key"},
		{name: "missing key file", doc: yamlWith("session_keys: ["+testKey32+"]", "session_key_files: [nope.key]"), wantErr: "session_key_files[0]"},
		{name: "http public_url without insecure_cookies", doc: yamlWith("https://app.example.com", "http://app.example.com"), wantErr: "insecure_cookies"},
		{name: "http public_url with insecure_cookies", doc: yamlWith("public_url: https://app.example.com", "public_url: http://127.0.0.1:8443\ninsecure_cookies: true")},
		{name: "no upstream", doc: yamlWith("upstream: http://127.0.0.1:3000", ""), wantErr: "upstream: required"},
		{name: "relative upstream", doc: yamlWith("http://127.0.0.1:3000", "/app"), wantErr: "not an absolute URL"},
		{name: "same listen and metrics", doc: yamlWith("127.0.0.1:9191", "127.0.0.1:8443"), wantErr: "admin_listen must differ"},
		{name: "no connections", doc: yamlWith("", "")[:strings.Index(yamlWith("", ""), "connections:")] + "connections: []\n", wantErr: "at least one connection"},
		{name: "duplicate connection", doc: yamlWith("connections:\n", "connections:\n  - {name: acme, sp_entity_id: x}\n"), wantErr: `duplicate name "acme"`},
		{name: "metadata url must be https", doc: yamlWith("    idp_certificate_files: [jumpcloud/certificate.pem]", "    idp_metadata_url: http://idp.example.com/metadata"), wantErr: "must be https"},
		{name: "metadata url and certificates", doc: yamlWith("    idp_certificate_files:", "    idp_metadata_url: https://idp.example.com/metadata\n    idp_certificate_files:"), wantErr: "cannot be combined"},
		{name: "acs url on another host", doc: yamlWith("    sp_entity_id: urn:samlgate:acme", "    sp_entity_id: urn:samlgate:acme\n    acs_url: https://other.example.com/login/callback?connection=acme"), wantErr: "is not this gateway's callback"},
		{name: "acs url with another path", doc: yamlWith("    sp_entity_id: urn:samlgate:acme", "    sp_entity_id: urn:samlgate:acme\n    acs_url: https://app.example.com/saml/acs?connection=acme"), wantErr: "is not this gateway's callback"},
		{name: "public url with a path", doc: yamlWith("public_url: https://app.example.com", "public_url: https://app.example.com/app"), wantErr: "origin only"},
		{name: "bad duration", doc: yamlWith("session_lifetime: 8h", "session_lifetime: forever"), wantErr: "not a duration"},
		{name: "empty required group", doc: yamlWith("required_groups: [Engineering]", `required_groups: [""]`), wantErr: "required_groups[0]"},
		{
			name: "required connection",
			doc:  yamlWith("required_roles: [admin]", "required_roles: [admin]\nrequired_connections: [acme]"),
			check: func(t *testing.T, c *Config) {
				if len(c.RequiredConnections) != 1 || c.RequiredConnections[0] != "acme" {
					t.Errorf("required_connections = %q", c.RequiredConnections)
				}
			},
		},
		{name: "unknown required connection", doc: yamlWith("required_roles: [admin]", "required_roles: [admin]\nrequired_connections: [acme, acmee]"), wantErr: `required_connections[1]: "acmee"`},
		{
			name: "safe defaults of the hardening options",
			doc:  yamlWith("", ""),
			check: func(t *testing.T, c *Config) {
				if c.ConnectionChooser || c.WebSockets || c.OverflowSessions != nil || c.maxConnsPerIP() != defaultMaxConnsPerIP {
					t.Errorf("chooser %v, websockets %v, overflow %+v, max_conns_per_ip %d", c.ConnectionChooser, c.WebSockets, c.OverflowSessions, c.maxConnsPerIP())
				}
			},
		},
		{
			name: "hardening options set",
			doc:  yamlWith("required_roles: [admin]", "required_roles: [admin]\nconnection_chooser: true\nwebsockets: true\nmax_conns_per_ip: 0\noverflow_sessions: {max_sessions: 500, max_bytes: 16MiB, max_per_user: 3}"),
			check: func(t *testing.T, c *Config) {
				o := c.OverflowSessions
				if !c.ConnectionChooser || !c.WebSockets || c.maxConnsPerIP() != 0 || o == nil || o.MaxSessions != 500 || o.MaxBytes != 16<<20 || o.MaxPerUser != 3 {
					t.Errorf("chooser %v, websockets %v, max_conns_per_ip %d, overflow %+v", c.ConnectionChooser, c.WebSockets, c.maxConnsPerIP(), o)
				}
			},
		},
		{
			name: "overflow_sessions with defaults, max_bytes in bytes",
			doc:  yamlWith("required_roles: [admin]", "required_roles: [admin]\noverflow_sessions: {max_bytes: 1048576}"),
			check: func(t *testing.T, c *Config) {
				if o := c.OverflowSessions; o == nil || o.MaxBytes != 1<<20 || o.MaxSessions != 0 {
					t.Errorf("overflow %+v", o)
				}
			},
		},
		{name: "negative max_conns_per_ip", doc: yamlWith("required_roles: [admin]", "required_roles: [admin]\nmax_conns_per_ip: -1"), wantErr: "max_conns_per_ip: must not be negative"},
		{name: "bad max_bytes", doc: yamlWith("required_roles: [admin]", "required_roles: [admin]\noverflow_sessions: {max_bytes: 64MB}"), wantErr: `"64MB" is not a size`},
		{name: "negative max_bytes", doc: yamlWith("required_roles: [admin]", "required_roles: [admin]\noverflow_sessions: {max_bytes: -1}"), wantErr: "is not a size"},
		{name: "negative max_per_user", doc: yamlWith("required_roles: [admin]", "required_roles: [admin]\noverflow_sessions: {max_per_user: -2}"), wantErr: "overflow_sessions: max_sessions and max_per_user must not be negative"},
		{name: "metadata url, default allowed hosts", doc: metaYAML(""), check: func(t *testing.T, c *Config) {
			if hosts, err := c.metadataAllowedHosts(); hosts != nil || err != nil {
				t.Errorf("allowed hosts %q, %v", hosts, err)
			}
		}},
		{name: "metadata allowed hosts", doc: metaYAML("idp_metadata_allowed_hosts: [IdP.Example.com, 2001:db8::1]"), check: func(t *testing.T, c *Config) {
			if hosts, err := c.metadataAllowedHosts(); fmt.Sprint(hosts) != "[idp.example.com 2001:db8::1]" || err != nil {
				t.Errorf("allowed hosts %q, %v", hosts, err)
			}
		}},
		{name: "metadata url on a host not allowed", doc: metaYAML("idp_metadata_allowed_hosts: [sso.jumpcloud.com]"), wantErr: `connections[0].idp_metadata_url: host "idp.example.com" is not in idp_metadata_allowed_hosts`},
		{name: "allowed host with a scheme", doc: metaYAML("idp_metadata_allowed_hosts: [\"https://idp.example.com\"]"), wantErr: "idp_metadata_allowed_hosts[0]"},
		{name: "allowed host with a port", doc: metaYAML("idp_metadata_allowed_hosts: [\"idp.example.com:443\"]"), wantErr: "idp_metadata_allowed_hosts[0]"},
		{name: "allowed hosts empty", doc: metaYAML("idp_metadata_allowed_hosts: []"), wantErr: "idp_metadata_allowed_hosts: empty"},
		{name: "allowed hosts without a metadata url", doc: yamlWith("required_roles: [admin]", "required_roles: [admin]\nidp_metadata_allowed_hosts: [idp.example.com]"), wantErr: "none has one"},
		{name: "metadata signing certificate", doc: metaYAML("idp_metadata_signing_cert_files: [jumpcloud/certificate.pem]"), check: func(t *testing.T, c *Config) {
			if certs, err := c.metadataSigningCerts(); len(certs) != 1 || err != nil {
				t.Errorf("signing certificates: %d, %v", len(certs), err)
			}
		}},
		{name: "metadata signing certificate missing", doc: metaYAML("idp_metadata_signing_cert_files: [nope.pem]"), wantErr: "idp_metadata_signing_cert_files[0]"},
		{name: "metadata signing certificate not a certificate", doc: metaYAML("idp_metadata_signing_cert_files: [session.key]"), wantErr: "idp_metadata_signing_cert_files[0] (session.key)"},
		{name: "metadata signing certificate without a metadata url", doc: yamlWith("required_roles: [admin]", "required_roles: [admin]\nidp_metadata_signing_cert_files: [jumpcloud/certificate.pem]"), wantErr: "none has one"},
		{name: "unknown overflow key", doc: yamlWith("required_roles: [admin]", "required_roles: [admin]\noverflow_sessions: {max_users: 2}"), wantErr: "max_users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeConfigDir(t)
			c, err := parseConfig([]byte(tt.doc), dir)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("parseConfig succeeded, want an error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), testKey32) {
					t.Fatalf("error quotes the session key: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseConfig: %v", err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestLoadConfigResolvesAgainstFileDir(t *testing.T) {
	dir := writeConfigDir(t)
	path := filepath.Join(dir, "gateway.json")
	if err := os.WriteFile(path, []byte(goodJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	// Run from elsewhere: relative names must not depend on the working
	// directory.
	t.Chdir(t.TempDir())
	c, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Connections[0].ConnectionConfig(c.baseDir); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("loading a missing file succeeded")
	}
}

// TestExampleConfig checks that the shipped example decodes (its
// certificate file and key are placeholders an admin replaces).
func TestExampleConfig(t *testing.T) {
	data, err := os.ReadFile("gateway.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	if err := samlconfig.Decode(data, &c); err != nil {
		t.Fatalf("gateway.example.yaml: %v", err)
	}
	if len(c.Connections) == 0 || c.Upstream == "" || c.PublicURL == "" {
		t.Fatalf("gateway.example.yaml is incomplete: %+v", c)
	}
	// With a real key and certificate in place it validates.
	dir := writeConfigDir(t)
	c.baseDir = dir
	c.SessionKeyFiles = []string{"session.key"}
	c.SessionKeys = nil
	for i := range c.Connections {
		c.Connections[i].IdPCertificateFiles = []string{"jumpcloud/certificate.pem"}
	}
	if err := c.validate(); err != nil {
		t.Fatalf("gateway.example.yaml with a key and certificate: %v", err)
	}
	for _, conn := range c.Connections {
		if _, err := conn.ConnectionConfig(dir); err != nil {
			t.Fatal(err)
		}
	}
}
