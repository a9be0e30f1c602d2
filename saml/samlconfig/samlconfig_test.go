package samlconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
)

func TestDecodeYAMLAndJSON(t *testing.T) {
	yamlDoc := `
connections:
  - name: acme
    sp_entity_id: urn:samlgate:acme
    acs_url: https://auth.example.com/login/callback?connection=acme
    idp_entity_id: https://sso.jumpcloud.com/saml2/acme
    idp_certificate_files: [keys/idp.crt.pem]
    clock_skew: 90s
    allow_sha1: true
    email_verified: trust
    email_optional: true
    idp: okta
    groups:
      attributes: [memberOf]
      allowed: [Engineering]
      roles:
        - {group: "Eng*", role: developer}
`
	jsonDoc := `{"connections":[{"name":"acme","sp_entity_id":"urn:samlgate:acme",
  "acs_url":"https://auth.example.com/login/callback?connection=acme",
  "idp_entity_id":"https://sso.jumpcloud.com/saml2/acme","idp_certificate_files":["keys/idp.crt.pem"],
  "clock_skew":"90s","allow_sha1":true,"email_verified":"trust","email_optional":true,"idp":"okta",
  "groups":{"attributes":["memberOf"],"allowed":["Engineering"],"roles":[{"group":"Eng*","role":"developer"}]}}]}`
	for name, doc := range map[string]string{"yaml": yamlDoc, "json": jsonDoc} {
		t.Run(name, func(t *testing.T) {
			var f File
			if err := Decode([]byte(doc), &f); err != nil {
				t.Fatal(err)
			}
			if len(f.Connections) != 1 {
				t.Fatalf("got %d connections", len(f.Connections))
			}
			cfg, err := f.Connections[0].ConnectionConfig("../../testdata")
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ClockSkew != 90*time.Second || !cfg.AllowSHA1 || cfg.EmailVerified != saml.EmailVerifiedTrust || !cfg.EmailOptional || cfg.IdP != saml.IdPOkta {
				t.Errorf("cfg = %+v", cfg)
			}
			if len(cfg.Groups.Roles) != 1 || cfg.Groups.Roles[0].Role != "developer" || cfg.Groups.AllowedGroups[0] != "Engineering" {
				t.Errorf("groups = %+v", cfg.Groups)
			}
			cfg.Now = func() time.Time { return time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC) }
			conn, err := saml.NewConnection(cfg)
			if err != nil {
				t.Fatalf("NewConnection: %v", err)
			}
			if got := conn.Config().IdP; got != saml.IdPOkta {
				t.Errorf("IdP = %q: the file's idp: okta overrides the detected JumpCloud", got)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown key":  "connections:\n  - name: a\n    allow_sha_1: true\n",
		"bad duration": "connections:\n  - name: a\n    clock_skew: soon\n",
		"not a list":   "connections: {name: a}\n",
	} {
		t.Run(name, func(t *testing.T) {
			var f File
			if err := Decode([]byte(doc), &f); err == nil {
				t.Fatalf("accepted %q", doc)
			}
		})
	}
}

func TestDurationSeconds(t *testing.T) {
	var f File
	if err := Decode([]byte("connections:\n  - clock_skew: 120\n"), &f); err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(f.Connections[0].ClockSkew); got != 2*time.Minute {
		t.Fatalf("got %v", got)
	}
}

func TestMissingFile(t *testing.T) {
	c := Connection{Name: "a", IdPCertificateFiles: []string{"nope.pem"}}
	_, err := c.ConnectionConfig(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "nope.pem") {
		t.Fatalf("err = %v", err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	os.WriteFile(p, []byte("connections: [{name: x}]\n"), 0o600)
	f, err := Load(p)
	if err != nil || f.Connections[0].Name != "x" {
		t.Fatalf("Load: %v %+v", err, f)
	}
}

// Load reads the gateway's own file: its top-level keys are the gateway's,
// the connections stay strict, and a connection without acs_url gets the
// gateway's callback behind public_url.
func TestLoadGatewayFile(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr string
		wantACS string
	}{
		{name: "gateway keys ignored, acs_url derived", doc: `
listen: 127.0.0.1:8080
upstream: http://127.0.0.1:3000
public_url: https://app.example.com/
session_key_files: [session.key]
connections:
  - name: acme
    sp_entity_id: urn:samlgate:acme
`, wantACS: "https://app.example.com/login/callback?connection=acme"},
		{name: "explicit acs_url kept", doc: `
public_url: https://app.example.com
connections:
  - name: acme
    acs_url: https://other.example.com/login/callback?connection=acme
`, wantACS: "https://other.example.com/login/callback?connection=acme"},
		{name: "unknown connection key still refused", doc: `
listen: 127.0.0.1:8080
connections:
  - name: acme
    allow_sha_1: true
`, wantErr: "allow_sha_1"},
		{name: "connections not a list", doc: "connections: {name: a}\n", wantErr: "connections"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "gateway.yaml")
			if err := os.WriteFile(p, []byte(tt.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := Load(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Connections[0].ACSURL; got != tt.wantACS {
				t.Fatalf("ACSURL = %q, want %q", got, tt.wantACS)
			}
		})
	}
}

// The example file shipped with the gateway is readable as it stands.
func TestLoadGatewayExample(t *testing.T) {
	f, err := Load("../../examples/gateway/gateway.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Connections) == 0 || f.Connections[0].ACSURL == "" {
		t.Fatalf("connections = %+v", f.Connections)
	}
}
