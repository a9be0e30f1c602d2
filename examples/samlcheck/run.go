package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samlconfig"
)

// Exit statuses.
const (
	exitOK       = 0 // every file was accepted
	exitRejected = 1 // at least one file was rejected
	exitUsage    = 2 // a usage or configuration error
)

const usage = `samlcheck explains why a SAML login fails, from a captured response,
without running a server.

Usage:
  samlcheck verify   [config flags] [-now RFC3339] [-request-id ID]... [-json] FILE...
  samlcheck inspect  [-idp-cert PEM]... [-now RFC3339] [-json] FILE
  samlcheck metadata [config flags]

  verify    checks each FILE in order through one connection (one replay
            cache, so a replayed response is caught) and prints the identity,
            or the error code, what was expected and what was found, and the
            IdP console step that fixes it.
  inspect   decodes a response WITHOUT verifying it and shows what to compare
            with the IdP console. It never says that a response is valid.
  metadata  prints the SP metadata XML of the connection, to upload to the IdP.
            It needs only the SP's settings (-sp-entity-id and -acs-url, or
            -config): the IdP's do not exist before the app is created.

FILE (- for stdin) holds the response in any form an admin can capture: the
base64 SAMLResponse value, the URL-encoded form body (SAMLResponse=...&
RelayState=...), the raw XML, or a HAR export of the login from the browser's
developer tools (the last POST carrying a SAMLResponse is used).

Config flags (verify and metadata; inspect takes -idp-cert):
  -config FILE            the connections file (YAML or JSON) the gateway reads;
                          the flags below override its settings
  -connection NAME        the connection to use from -config (needed when it has
                          several); without -config, the connection's name
                          (default: the ?connection= of -acs-url)
  -sp-entity-id ID        the app's "SP Entity ID": this SP, the Audience
  -acs-url URL            the app's first "ACS URL", ?connection=NAME included
  -idp-entity-id ID       the app's "IdP Entity ID": the Issuer
  -idp-sso-url URL        the app's "IdP URL"
  -idp-cert PEM           the app's certificate.pem (repeat during a rotation)
  -idp-metadata FILE      the app's exported metadata, instead of the three above
  -signature POLICY       which elements must be signed: either (default),
                          assertion, response or both
  -allow-sha1             accept RSA-SHA1 signatures and SHA-1 digests
  -email-verified POLICY  require (default), trust or ignore
  -email-optional         accept users without email (an opaque NameID only)
  -idp KIND               whose console the hints name: jumpcloud, okta, entra,
                          google, keycloak, pingone, pingfederate, adfs,
                          onelogin or generic (default: detected)
  -groups-attr NAME       the groups attribute (repeatable; default memberOf,
                          groups and Entra ID's claim)
  -allowed-group NAME     admit only members of these groups (repeatable)
  -clock-skew DURATION    the tolerance of time checks (default 3m)

Other flags:
  -now RFC3339            the clock (default: the system clock); a captured
                          response is only valid for minutes
  -request-id ID          the ID of a pending AuthnRequest (repeatable), for
                          SP-initiated responses
  -json                   one JSON object per file, one per line

Exit status: 0 when every file was accepted (inspect: decoded), 1 when any was
rejected (inspect: not decodable), 2 for a usage or configuration error.
`

// env is where a command writes.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	json           bool
}

// run is the whole program, minus os.Exit: tests call it directly.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, json: wantsJSON(args)}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "verify":
		return cmdVerify(e, args[1:])
	case "inspect":
		return cmdInspect(e, args[1:])
	case "metadata":
		return cmdMetadata(e, args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	return e.usageError(fmt.Errorf("unknown command %q: use verify, inspect or metadata", args[0]), "")
}

// wantsJSON looks for -json before flags are parsed, so that even a flag
// error is reported as JSON.
func wantsJSON(args []string) bool {
	for _, a := range args {
		if a == "--" {
			break
		}
		switch a {
		case "-json", "--json", "-json=true", "--json=true":
			return true
		}
	}
	return false
}

// usageError reports a usage or configuration error and returns exitUsage.
// With -json it is one JSON object with code config_invalid on stdout.
func (e *env) usageError(err error, hint string) int {
	msg := err.Error()
	var se *saml.Error
	if errors.As(err, &se) {
		msg = se.Message
		if se.Code != saml.CodeConfigInvalid {
			msg = string(se.Code) + ": " + msg
		}
		if hint == "" {
			hint = se.Hint
		}
	}
	if e.json {
		writeJSON(e.stdout, fileResult{OK: false, Error: &diagnosis{Code: string(saml.CodeConfigInvalid), Message: msg, Hint: hint}})
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "samlcheck: %s\n", msg)
	if hint != "" {
		fmt.Fprintf(e.stderr, "  hint: %s\n", hint)
	}
	fmt.Fprintln(e.stderr, "Run samlcheck help for the usage.")
	return exitUsage
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// parseInterspersed parses flags that may come before or after the
// positional arguments ("verify FILE -json"), as people type them. Every
// argument after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by usageError
	return fs
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// timeFlag is the -now flag.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339Nano)
}

func (f *timeFlag) Set(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("%q is not an RFC 3339 time such as 2026-01-15T10:00:00Z", v)
	}
	f.t = t
	return nil
}

// clock returns the clock -now selects, and how to name it.
func (f *timeFlag) clock() (now func() time.Time, source string) {
	if f.t.IsZero() {
		return time.Now, "the system clock"
	}
	t := f.t
	return func() time.Time { return t }, "-now"
}

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

	var cfg saml.ConnectionConfig
	if cf.config != "" {
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
	} else {
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
		if len(missing) > 0 {
			hint := "Describe the connection with -config FILE, or with -sp-entity-id, -acs-url and either -idp-metadata or -idp-entity-id and -idp-cert: the values of the IdP application (the JumpCloud SSO app, the Okta app...)."
			if !needIdP {
				hint = "Describe the SP with -config FILE, or with -sp-entity-id and -acs-url: the values you will type into the IdP application."
			}
			return cfg, &configError{"missing " + strings.Join(missing, ", "), hint}
		}
		cfg.Name = cf.connection
		if cfg.Name == "" {
			if u, err := url.Parse(cf.acsURL); err == nil {
				cfg.Name = u.Query().Get("connection")
			}
		}
		if cfg.Name == "" {
			cfg.Name = "samlcheck"
		}
	}

	return cf.override(set, cfg)
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

// configFailure reports err from build or NewConnection.
func (e *env) configFailure(err error) int {
	var ce *configError
	if errors.As(err, &ce) {
		return e.usageError(errors.New(ce.msg), ce.hint)
	}
	return e.usageError(err, "")
}
