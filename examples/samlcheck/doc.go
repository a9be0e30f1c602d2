// Command samlcheck explains why a SAML login fails, from a captured
// response, without running a server. Where other libraries say
// "Authentication failed", it names the cause (a stable code such as
// untrusted_certificate or email_not_verified), what the connection
// expected and what the response carried, and the IdP console step that
// fixes it. Integration tests and scripts use it to replay signed
// assertions from the shell.
//
//	samlcheck verify   [config flags] [-now RFC3339] [-request-id ID]... [-json] FILE...
//	samlcheck inspect  [-idp-cert PEM]... [-now RFC3339] [-json] FILE
//	samlcheck metadata [config flags]
//
// verify checks each FILE, in order, through one saml.Connection, so one
// replay cache: a response given twice is refused the second time. The
// connection is described by flags (-sp-entity-id, -acs-url, -idp-cert,
// -idp-entity-id, or -idp-metadata, and the policy flags) or by -config,
// the YAML or JSON connections file the gateway example reads (package
// saml/samlconfig); flags given with -config override the file. -now pins
// the clock, which a captured response needs: it is valid only for
// minutes.
//
// A FILE (or - for stdin) may hold the response in any form an admin can
// capture: the base64 SAMLResponse value, the URL-encoded form body the
// browser posts (SAMLResponse=...&RelayState=...), the raw XML, or a HAR
// export of the login from the browser's developer tools, in which the
// last POST carrying a SAMLResponse is used. The form found is said on
// stderr, or in the "form" field of -json output.
//
// With -json, verify prints one JSON object per file, one per line; an
// accepted file's "identity" is the JSON of saml.Identity (empty optional
// fields such as given_name left out) with the "attributes" added:
//
//	{"file":"r.xml","form":"xml","ok":true,"identity":{"subject":"alice@example.com","email":"alice@example.com","email_verified":true,"email_verified_by":"idp",...,"attributes":{"memberOf":["Engineering"]}}}
//	{"file":"r.xml","form":"xml","ok":false,"error":{"code":"untrusted_certificate","message":"...","expected":"54:A3:...","actual":"07:30:...","hint":"...","notes":["..."]}}
//
// The code, message, expected and actual values and the hint are those of
// the *saml.Error that Verify returned; notes are what samlcheck adds from
// the response itself (which certificate it carries, which connection it
// was addressed to, the clock used).
//
// inspect decodes a response without verifying it and shows what an admin
// compares with the IdP console: issuers, destination, audience,
// recipient, InResponseTo, every time against now, the NameID, every
// attribute with its values, which elements are signed with which
// algorithms, and the certificate in KeyInfo (SHA-256 fingerprint,
// validity, and, given -idp-cert, whether it is the configured one). It
// never says that a response is valid. It parses the XML with the same
// limits as package saml: no DTD, UTF-8 only, bounded depth.
//
// metadata prints the SP metadata of the connection, for IdPs that import
// it. It needs only the SP's entity ID and ACS URL: the IdP's settings do
// not exist before the IdP application is created with it.
//
// Hints name the console of the connection's IdP family, detected from its
// entity ID, SSO URL and certificate, or set with -idp (idp: in the file).
//
// Input files are limited to 1 MiB (50 MiB for a HAR export) before any
// decoding. samlcheck never prints the SAMLResponse itself, cookies or
// other request headers of a HAR export; it does print the identity
// (email, groups), as an admin's local tool.
//
// Exit status: 0 when every file was accepted, 1 when any was rejected, 2
// for a usage or configuration error (with -json, also one JSON object
// with code config_invalid).
//
// The tests read the standard responses from the repository's
// testdata/golden; internal/genfixtures generates the rest of their
// fixtures, in testdata:
//
//	go generate ./examples/samlcheck/
package main

//go:generate go run ./internal/genfixtures -keys ../../testdata/keys -golden ../../testdata/golden -out testdata
