package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/samlgate/samlgate/saml"
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

// configFailure reports err from build or NewConnection.
func (e *env) configFailure(err error) int {
	var ce *configError
	if errors.As(err, &ce) {
		return e.usageError(errors.New(ce.msg), ce.hint)
	}
	return e.usageError(err, "")
}
