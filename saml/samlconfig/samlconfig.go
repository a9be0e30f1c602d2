// Package samlconfig reads connection settings from a YAML or JSON file: the
// format the gateway example and the samlcheck tool share, so that an admin
// writes a connection down once.
//
//	connections:
//	  - name: acme
//	    sp_entity_id: urn:example:acme
//	    acs_url: https://auth.example.com/login/callback?connection=acme
//	    idp_entity_id: https://sso.jumpcloud.com/saml2/acme
//	    idp_sso_url: https://sso.jumpcloud.com/saml2/acme
//	    idp_certificate_files: [certificate.pem]
//	    idp: jumpcloud        # optional: the console hints name; detected when absent
//	    email_verified: require
//	    groups:
//	      allowed: [Engineering]
//	      roles:
//	        - {group: "eng-*", role: developer}
//
// JSON is read by the same decoder (JSON is YAML). Unknown keys of a
// connection are errors: a misspelt allow_sha1 must not silently leave a
// check on or off. Load reads a whole program's file (the gateway's has
// listen, upstream and more at the top level) and takes its connections;
// programs decode their own top-level keys strictly with Decode.
//
// YAML comes from go.yaml.in/yaml/v3, the maintained continuation of
// gopkg.in/yaml.v3 under the YAML organisation.
package samlconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/samlgate/samlgate/attributes"
	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
)

// File is the part of a configuration file this package reads. Programs
// embed Connections in a larger document of their own; see Decode.
type File struct {
	// PublicURL is the origin browsers reach the gateway at. A connection
	// without acs_url gets ACSURL(PublicURL, name), as in the gateway.
	PublicURL   string       `yaml:"public_url,omitempty" json:"public_url,omitempty"`
	Connections []Connection `yaml:"connections" json:"connections"`
}

// CallbackPath is the gateway's ACS path.
const CallbackPath = "/login/callback"

// ACSURL is the ACS URL of connection name behind publicURL: what the admin
// types into the IdP as "ACS URL".
func ACSURL(publicURL, name string) string {
	return strings.TrimRight(publicURL, "/") + CallbackPath + "?connection=" + url.QueryEscape(name)
}

// Connection is one saml.ConnectionConfig, as written in a file.
type Connection struct {
	Name       string `yaml:"name" json:"name"`
	SPEntityID string `yaml:"sp_entity_id" json:"sp_entity_id"`
	ACSURL     string `yaml:"acs_url" json:"acs_url"`

	IdPEntityID    string `yaml:"idp_entity_id,omitempty" json:"idp_entity_id,omitempty"`
	IdPSSOURL      string `yaml:"idp_sso_url,omitempty" json:"idp_sso_url,omitempty"`
	IdPSSORedirect bool   `yaml:"idp_sso_redirect,omitempty" json:"idp_sso_redirect,omitempty"`
	// IdPCertificates are inline PEM blocks.
	IdPCertificates []string `yaml:"idp_certificates,omitempty" json:"idp_certificates,omitempty"`
	// IdPCertificateFiles are paths, relative to the file's directory.
	IdPCertificateFiles []string `yaml:"idp_certificate_files,omitempty" json:"idp_certificate_files,omitempty"`
	// IdPMetadataFile is a path to the IdP metadata (JumpCloud's "Export Metadata").
	IdPMetadataFile string `yaml:"idp_metadata_file,omitempty" json:"idp_metadata_file,omitempty"`
	// IdPMetadataURL is fetched by programs that support it (the gateway);
	// ConnectionConfig leaves it to them.
	IdPMetadataURL string `yaml:"idp_metadata_url,omitempty" json:"idp_metadata_url,omitempty"`
	// LogoutURL is where the gateway sends the browser after a logout of
	// this connection's session (gateway.Config.LogoutURLs): the IdP's
	// logout or portal URL, absolute https. ConnectionConfig leaves it to
	// the gateway.
	LogoutURL string `yaml:"logout_url,omitempty" json:"logout_url,omitempty"`
	// IdP is saml.ConnectionConfig.IdP: jumpcloud, okta, entra, google,
	// keycloak, pingone, pingfederate, adfs, onelogin or generic. It only
	// chooses whose console the error hints name; empty means detected.
	IdP string `yaml:"idp,omitempty" json:"idp,omitempty"`

	Signature               string   `yaml:"signature,omitempty" json:"signature,omitempty"`
	AllowSHA1               bool     `yaml:"allow_sha1,omitempty" json:"allow_sha1,omitempty"`
	AllowExpiredCertificate bool     `yaml:"allow_expired_certificate,omitempty" json:"allow_expired_certificate,omitempty"`
	DisableIdPInitiated     bool     `yaml:"disable_idp_initiated,omitempty" json:"disable_idp_initiated,omitempty"`
	ClockSkew               Duration `yaml:"clock_skew,omitempty" json:"clock_skew,omitempty"`
	MaxIssueDelay           Duration `yaml:"max_issue_delay,omitempty" json:"max_issue_delay,omitempty"`
	MaxResponseBytes        int      `yaml:"max_response_bytes,omitempty" json:"max_response_bytes,omitempty"`
	EmailVerified           string   `yaml:"email_verified,omitempty" json:"email_verified,omitempty"`
	EmailOptional           bool     `yaml:"email_optional,omitempty" json:"email_optional,omitempty"`
	AllowedEmailDomains     []string `yaml:"allowed_email_domains,omitempty" json:"allowed_email_domains,omitempty"`

	Attributes Attributes `yaml:"attributes,omitempty" json:"attributes,omitempty"`
	Groups     Groups     `yaml:"groups,omitempty" json:"groups,omitempty"`
}

// Attributes overrides attribute names (attributes.Mapping).
type Attributes struct {
	Email         []string `yaml:"email,omitempty" json:"email,omitempty"`
	GivenName     []string `yaml:"given_name,omitempty" json:"given_name,omitempty"`
	FamilyName    []string `yaml:"family_name,omitempty" json:"family_name,omitempty"`
	DisplayName   []string `yaml:"display_name,omitempty" json:"display_name,omitempty"`
	EmailVerified []string `yaml:"email_verified,omitempty" json:"email_verified,omitempty"`
}

// Groups is groups.Config.
type Groups struct {
	Attributes []string      `yaml:"attributes,omitempty" json:"attributes,omitempty"`
	Delimiter  string        `yaml:"delimiter,omitempty" json:"delimiter,omitempty"`
	Allowed    []string      `yaml:"allowed,omitempty" json:"allowed,omitempty"`
	Filter     []string      `yaml:"filter,omitempty" json:"filter,omitempty"`
	Roles      []RoleMapping `yaml:"roles,omitempty" json:"roles,omitempty"`
}

// RoleMapping is groups.RoleMapping.
type RoleMapping struct {
	Group string `yaml:"group" json:"group"`
	Role  string `yaml:"role" json:"role"`
}

// Duration reads "3m", "90s" (and plain integers, as seconds).
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	if v, err := time.ParseDuration(s); err == nil {
		*d = Duration(v)
		return nil
	}
	var secs int64
	if err := n.Decode(&secs); err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 3m or 90s", n.Line, s)
	}
	*d = Duration(time.Duration(secs) * time.Second)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Load reads the connections of a YAML or JSON file, strictly, and
// ignores the other top-level keys, which belong to the program whose file
// it is (the gateway's listen, upstream, session keys...).
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := parseFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

func parseFile(data []byte) (*File, error) {
	var top struct {
		PublicURL   string    `yaml:"public_url"`
		Connections yaml.Node `yaml:"connections"`
	}
	if err := yaml.Unmarshal(data, &top); err != nil {
		return nil, err
	}
	f := &File{PublicURL: top.PublicURL}
	if top.Connections.Kind != 0 {
		// yaml.Node.Decode cannot reject unknown keys, so the connections
		// are encoded again and decoded strictly.
		raw, err := yaml.Marshal(&top.Connections)
		if err != nil {
			return nil, err
		}
		if err := Decode(raw, &f.Connections); err != nil {
			return nil, fmt.Errorf("connections: %w", err)
		}
	}
	for i := range f.Connections {
		if f.Connections[i].ACSURL == "" && f.PublicURL != "" {
			f.Connections[i].ACSURL = ACSURL(f.PublicURL, f.Connections[i].Name)
		}
	}
	return f, nil
}

// Decode strictly decodes YAML or JSON data into v: unknown keys are errors.
func Decode(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// ConnectionConfig turns c into a saml.ConnectionConfig, reading files
// relative to baseDir. IdPMetadataURL is not fetched: the caller fetches it
// and sets IdPMetadataXML.
func (c Connection) ConnectionConfig(baseDir string) (saml.ConnectionConfig, error) {
	cfg := saml.ConnectionConfig{
		Name:                    c.Name,
		SPEntityID:              c.SPEntityID,
		ACSURL:                  c.ACSURL,
		IdPEntityID:             c.IdPEntityID,
		IdPSSOURL:               c.IdPSSOURL,
		IdPSSORedirect:          c.IdPSSORedirect,
		IdP:                     saml.IdPKind(c.IdP),
		Signature:               saml.SignaturePolicy(c.Signature),
		AllowSHA1:               c.AllowSHA1,
		AllowExpiredCertificate: c.AllowExpiredCertificate,
		DisableIdPInitiated:     c.DisableIdPInitiated,
		ClockSkew:               time.Duration(c.ClockSkew),
		MaxIssueDelay:           time.Duration(c.MaxIssueDelay),
		MaxResponseBytes:        c.MaxResponseBytes,
		EmailVerified:           saml.EmailVerifiedPolicy(c.EmailVerified),
		EmailOptional:           c.EmailOptional,
		AllowedEmailDomains:     c.AllowedEmailDomains,
		Attributes: attributes.Mapping{
			Email:         c.Attributes.Email,
			GivenName:     c.Attributes.GivenName,
			FamilyName:    c.Attributes.FamilyName,
			DisplayName:   c.Attributes.DisplayName,
			EmailVerified: c.Attributes.EmailVerified,
		},
		Groups: groups.Config{
			AttributeNames: c.Groups.Attributes,
			Delimiter:      c.Groups.Delimiter,
			AllowedGroups:  c.Groups.Allowed,
			Filter:         c.Groups.Filter,
		},
	}
	for _, rm := range c.Groups.Roles {
		cfg.Groups.Roles = append(cfg.Groups.Roles, groups.RoleMapping{Group: rm.Group, Role: rm.Role})
	}
	for _, pem := range c.IdPCertificates {
		cfg.IdPCertificatesPEM = append(cfg.IdPCertificatesPEM, []byte(pem))
	}
	for _, name := range c.IdPCertificateFiles {
		data, err := os.ReadFile(resolve(baseDir, name))
		if err != nil {
			return cfg, fmt.Errorf("connection %q: idp_certificate_files: %w", c.Name, err)
		}
		cfg.IdPCertificatesPEM = append(cfg.IdPCertificatesPEM, data)
	}
	if c.IdPMetadataFile != "" {
		data, err := os.ReadFile(resolve(baseDir, c.IdPMetadataFile))
		if err != nil {
			return cfg, fmt.Errorf("connection %q: idp_metadata_file: %w", c.Name, err)
		}
		cfg.IdPMetadataXML = data
	}
	return cfg, nil
}

func resolve(baseDir, name string) string {
	if filepath.IsAbs(name) || baseDir == "" {
		return name
	}
	return filepath.Join(baseDir, name)
}
