package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samlconfig"
)

// connFlags are the config flags shared by verify and metadata.
type connFlags struct {
	config, connection                   string
	spEntityID, acsURL                   string
	idpEntityID, idpSSOURL, idpMetadata  string
	idpCerts, groupsAttrs, allowedGroups listFlag
	signature, emailVerified, idp        string
	allowSHA1, emailOptional             bool
	clockSkew                            time.Duration
}

func (cf *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&cf.config, "config", "", "")
	fs.StringVar(&cf.connection, "connection", "", "")
	fs.StringVar(&cf.spEntityID, "sp-entity-id", "", "")
	fs.StringVar(&cf.acsURL, "acs-url", "", "")
	fs.StringVar(&cf.idpEntityID, "idp-entity-id", "", "")
	fs.StringVar(&cf.idpSSOURL, "idp-sso-url", "", "")
	fs.StringVar(&cf.idpMetadata, "idp-metadata", "", "")
	fs.Var(&cf.idpCerts, "idp-cert", "")
	fs.Var(&cf.groupsAttrs, "groups-attr", "")
	fs.Var(&cf.allowedGroups, "allowed-group", "")
	fs.StringVar(&cf.signature, "signature", "", "")
	fs.StringVar(&cf.emailVerified, "email-verified", "", "")
	fs.BoolVar(&cf.allowSHA1, "allow-sha1", false, "")
	fs.BoolVar(&cf.emailOptional, "email-optional", false, "")
	fs.StringVar(&cf.idp, "idp", "", "")
	fs.DurationVar(&cf.clockSkew, "clock-skew", 0, "")
}

// configError is a usage or configuration error with a hint.
type configError struct{ msg, hint string }

func (e *configError) Error() string { return e.msg }

// build returns the ConnectionConfig the flags describe: the -config
// connection, if any, with every flag given on the command line overriding
// the file. needIdP is false for metadata, which reads only the SP's
// settings: the IdP's may not exist yet.
func (cf *connFlags) build(fs *flag.FlagSet, needIdP bool) (saml.ConnectionConfig, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if cf.config != "" {
		return cf.fromFile(set, needIdP)
	}
	cfg, err := cf.fromFlags(needIdP)
	if err != nil {
		return cfg, err
	}
	return cf.override(set, cfg)
}

// fromFile reads the -config connection, then applies the flags set on the
// command line over it.
func (cf *connFlags) fromFile(set map[string]bool, needIdP bool) (saml.ConnectionConfig, error) {
	var cfg saml.ConnectionConfig
	file, err := samlconfig.Load(cf.config)
	if err != nil {
		return cfg, &configError{"-config: " + err.Error(), "The file is the gateway's connections file: connections: [{name, sp_entity_id, acs_url, ...}] in YAML or JSON."}
	}
	c, err := pickConnection(file, cf.connection)
	if err != nil {
		return cfg, err
	}
	if needIdP && c.IdPMetadataURL != "" && c.IdPMetadataFile == "" && len(c.IdPCertificates) == 0 && len(c.IdPCertificateFiles) == 0 && !set["idp-metadata"] && !set["idp-cert"] {
		return cfg, &configError{
			fmt.Sprintf("connection %q takes its IdP metadata from idp_metadata_url, which samlcheck does not fetch", c.Name),
			fmt.Sprintf("Download it (curl -o idp-metadata.xml '%s') and add -idp-metadata idp-metadata.xml.", c.IdPMetadataURL),
		}
	}
	if !needIdP {
		// The IdP's files (certificates, metadata) may not exist yet.
		return cf.override(set, saml.ConnectionConfig{Name: c.Name, SPEntityID: c.SPEntityID, ACSURL: c.ACSURL})
	}
	cfg, err = c.ConnectionConfig(filepath.Dir(cf.config))
	if err != nil {
		return cfg, &configError{"-config: " + err.Error(), ""}
	}
	return cf.override(set, cfg)
}

// fromFlags starts a connection without -config: it checks the flags that
// describe one are there and names it.
func (cf *connFlags) fromFlags(needIdP bool) (saml.ConnectionConfig, error) {
	var cfg saml.ConnectionConfig
	if missing := cf.missing(needIdP); len(missing) > 0 {
		hint := "Describe the connection with -config FILE, or with -sp-entity-id, -acs-url and either -idp-metadata or -idp-entity-id and -idp-cert: the values of the IdP application (the JumpCloud SSO app, the Okta app...)."
		if !needIdP {
			hint = "Describe the SP with -config FILE, or with -sp-entity-id and -acs-url: the values you will type into the IdP application."
		}
		return cfg, &configError{"missing " + strings.Join(missing, ", "), hint}
	}
	cfg.Name = cf.connectionName()
	return cfg, nil
}

// missing lists the flags a connection without -config needs and lacks.
func (cf *connFlags) missing(needIdP bool) []string {
	var missing []string
	if cf.spEntityID == "" {
		missing = append(missing, "-sp-entity-id")
	}
	if cf.acsURL == "" {
		missing = append(missing, "-acs-url")
	}
	if needIdP && cf.idpMetadata == "" {
		if len(cf.idpCerts) == 0 {
			missing = append(missing, "-idp-cert")
		}
		if cf.idpEntityID == "" {
			missing = append(missing, "-idp-entity-id")
		}
	}
	return missing
}

// connectionName is -connection, else the ?connection= of -acs-url, else
// "samlcheck".
func (cf *connFlags) connectionName() string {
	name := cf.connection
	if name == "" {
		if u, err := url.Parse(cf.acsURL); err == nil {
			name = u.Query().Get("connection")
		}
	}
	if name == "" {
		name = "samlcheck"
	}
	return name
}

// override applies the flags given on the command line (set) to cfg.
func (cf *connFlags) override(set map[string]bool, cfg saml.ConnectionConfig) (saml.ConnectionConfig, error) {
	if set["sp-entity-id"] {
		cfg.SPEntityID = cf.spEntityID
	}
	if set["acs-url"] {
		cfg.ACSURL = cf.acsURL
	}
	if set["idp-metadata"] {
		data, err := os.ReadFile(cf.idpMetadata)
		if err != nil {
			return cfg, &configError{"-idp-metadata: " + err.Error(), ""}
		}
		cfg.IdPMetadataXML = data
		cfg.IdPEntityID, cfg.IdPSSOURL, cfg.IdPSSORedirect, cfg.IdPCertificatesPEM = "", "", false, nil
	}
	if set["idp-entity-id"] {
		cfg.IdPEntityID = cf.idpEntityID
	}
	if set["idp-sso-url"] {
		cfg.IdPSSOURL = cf.idpSSOURL
	}
	if set["idp-cert"] {
		pems, err := readCerts(cf.idpCerts)
		if err != nil {
			return cfg, err
		}
		cfg.IdPCertificatesPEM = pems
	}
	if set["signature"] {
		cfg.Signature = saml.SignaturePolicy(cf.signature)
	}
	if set["allow-sha1"] {
		cfg.AllowSHA1 = cf.allowSHA1
	}
	if set["email-verified"] {
		cfg.EmailVerified = saml.EmailVerifiedPolicy(cf.emailVerified)
	}
	if set["email-optional"] {
		cfg.EmailOptional = cf.emailOptional
	}
	if set["idp"] {
		cfg.IdP = saml.IdPKind(cf.idp)
	}
	if set["groups-attr"] {
		cfg.Groups.AttributeNames = cf.groupsAttrs
	}
	if set["allowed-group"] {
		cfg.Groups.AllowedGroups = cf.allowedGroups
	}
	if set["clock-skew"] {
		cfg.ClockSkew = cf.clockSkew
	}
	return cfg, nil
}

func pickConnection(file *samlconfig.File, name string) (*samlconfig.Connection, error) {
	names := make([]string, len(file.Connections))
	for i := range file.Connections {
		names[i] = file.Connections[i].Name
		if name != "" && file.Connections[i].Name == name {
			return &file.Connections[i], nil
		}
	}
	switch {
	case len(file.Connections) == 0:
		return nil, &configError{"-config: the file has no connections", ""}
	case name != "":
		return nil, &configError{fmt.Sprintf("-config: no connection %q in the file (it has %s)", name, strings.Join(names, ", ")), ""}
	case len(file.Connections) > 1:
		return nil, &configError{
			fmt.Sprintf("-config: the file has %d connections (%s): choose one with -connection NAME", len(names), strings.Join(names, ", ")),
			"The response's Destination names its connection (?connection=NAME); samlcheck inspect FILE shows it.",
		}
	}
	return &file.Connections[0], nil
}

func readCerts(paths []string) ([][]byte, error) {
	pems := make([][]byte, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, &configError{"-idp-cert: " + err.Error(), "Download the IdP application's signing certificate as a PEM file (JumpCloud: SSO tab → IDP Certificate; Okta: Sign On → SAML Signing Certificates)."}
		}
		pems = append(pems, data)
	}
	return pems, nil
}

// newConnection builds the connection with the command's clock, and
// warnings (a certificate about to expire) on stderr.
func newConnection(e *env, cfg saml.ConnectionConfig, now func() time.Time) (*saml.Connection, error) {
	cfg.Now = now
	conn, err := saml.NewConnection(cfg)
	if err != nil {
		return nil, err
	}
	// The verifier never logs: the command warns itself.
	expiring, _ := conn.ExpiringCertificates(context.Background(), 0)
	for _, cert := range expiring {
		fmt.Fprintf(e.stderr, "warning: IdP certificate %s expires %s (in %d days)\n",
			saml.Fingerprint(cert), cert.NotAfter.UTC().Format(time.RFC3339), int(cert.NotAfter.Sub(now()).Hours()/24))
	}
	return conn, nil
}
