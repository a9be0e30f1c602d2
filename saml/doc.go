// Package saml lets a Go service accept SAML 2.0 logins from JumpCloud (and
// Okta, Entra ID, Google Workspace, Keycloak, ADFS) directly, with no broker
// in between. This package is the verifier; it has no HTTP server code.
//
// A Connection is one IdP application. Build it once from a
// ConnectionConfig, then call Verify with the SAMLResponse form value the
// browser POSTs to the ACS URL:
//
//	conn, err := saml.NewConnection(saml.ConnectionConfig{
//		Name:               "acme",
//		SPEntityID:         "urn:example:acme",
//		ACSURL:             "https://auth.example.com/login/callback?connection=acme",
//		IdPEntityID:        "https://sso.jumpcloud.com/saml2/acme",
//		IdPSSOURL:          "https://sso.jumpcloud.com/saml2/acme",
//		IdPCertificatesPEM: [][]byte{certPEM},
//	})
//	id, err := conn.Verify(ctx, r.PostFormValue("SAMLResponse"), saml.WithRequestIDs(pending...))
//
// Verify returns an *Identity or an *Error whose Code says why the login was
// refused, with the expected and actual values and a Hint naming the IdP
// console step that fixes it.
//
// # What is checked, and by whom
//
// The XML signature and canonicalization are goxmldsig's: samlgate has no
// XML-DSig code of its own. Verify parses the response once, checks its
// signatures on that document with goxmldsig against the pinned
// certificates, and reads every identity and protocol field from the
// elements goxmldsig returns as verified (parsed from the very bytes the
// signature covers), never from the document as received. It then makes
// the protocol checks of the Web Browser SSO profile itself (Status,
// Destination, Issuer, InResponseTo, Audience, one bearer confirmation
// with Recipient and time bounds, an AuthnStatement), as crewjam/saml's
// ParseXMLResponse does; a differential test and fuzz target hold Verify
// to never accepting what crewjam refuses (crewjam/saml remains the
// reference in tests, and builds AuthnRequests and reads metadata). On
// top, samlgate adds policy those libraries leave off:
//
//   - a size cap on the encoded response, checked before decoding, and an
//     XML guard that refuses DTDs, processing instructions, non-UTF-8
//     encodings, deep nesting and more than one root element;
//   - a shape check that closes signature-wrapping attacks before any
//     cryptography: exactly one Assertion in the whole document, directly
//     under the Response, and signatures only directly under those two;
//   - trust only in the configured certificates: the certificate inside a
//     message is never used to verify it, and one that is not pinned is
//     reported as untrusted_certificate with both fingerprints;
//   - SHA-1 refused unless the connection sets AllowSHA1; RSA keys under
//     2048 bits refused at configuration time;
//   - a per-connection signature policy (Assertion, Response, either, both);
//   - a per-connection clock skew and Now hook: every time bound of the
//     verified assertion (IssueInstant, Conditions, SubjectConfirmationData)
//     and the Response's IssueInstant is judged against the connection's
//     clock with the connection's skew. Two connections with different
//     skews work side by side, and no global is touched;
//   - a replay cache, on by default, consulted last so that only
//     assertions that pass every other check are recorded;
//   - the email_verified policy, attribute mapping and group policy (see
//     packages attributes and groups);
//   - an email that is one plain address (attributes.PlainEmail), at one of
//     AllowedEmailDomains when they are set, compared in IDNA ASCII form;
//     group names that are not padded with non-ASCII white space or
//     invisible characters and hold no control characters.
//
// Everything in the Identity is read from what the signature covers.
//
// # Errors
//
// Every refusal is an *Error: a Code (a stable string that is itself an
// error, so errors.Is(err, saml.CodeEmailNotVerified) works), a Message,
// the Expected and Actual values an admin compares with the IdP console,
// a Hint, and the underlying cause in Err (and Detail, for Debug logs).
// A Connection never logs: what it would warn about (a certificate close
// to expiry) it reports through ExpiringCertificates.
//
// # Where trusted certificates come from
//
// As go-oidc's KeySet, a CertificateSource supplies the certificates a
// connection trusts, and Verify asks it on every call: StaticCertificates
// (what IdPCertificatesPEM and IdPMetadataXML build), or a MetadataFetcher,
// which follows the IdP's metadata URL so that a key rotation reaches the
// connection without rebuilding it. A change of IdP entity ID is never
// taken from a refresh. A fetcher can require the metadata to be signed by
// configured keys (SigningCertificates) and its URL and redirects to stay
// on an allow-list of hosts (AllowedHosts); tenant-supplied metadata URLs
// need both.
//
// # Your own HTTP layer
//
// Package gateway (saml/gateway) is the HTTP side: login, ACS, metadata,
// logout, sessions and middleware, built on this package's exported API
// only. To write another, use NewLoginRequest (its ID is known before the
// RelayState is chosen, so it can be sealed into it), bind the ID to the
// browser that started the login, pass it to Verify with WithRequestIDs,
// and read the ACS URL and limits from Config.
package saml
