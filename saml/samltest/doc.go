// Package samltest is a test identity provider that mints SAML 2.0
// responses shaped like JumpCloud's, for replaying signed logins in tests.
//
// It plays the part net/http/httptest plays for HTTP servers: an IdP
// holds a key pair and an entity ID, and each call to ResponseXML (or
// FormValue) builds, signs and serializes one saml2p:Response, which a
// test then posts to the ACS handler under test with PostForm.
//
//	idp := samltest.New(key, cert, "https://sso.jumpcloud.com/saml2/acme")
//	idp.Now = func() time.Time { return time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC) }
//	form, err := idp.FormValue(samltest.Response{
//		Audience:      "urn:samlgate:acme",
//		Destination:   "https://auth.example.com/login/callback?connection=acme",
//		NameID:        "alice@example.com",
//		Email:         "alice@example.com",
//		EmailVerified: "true",
//		Groups:        []string{"Engineering", "Admins"},
//	})
//	res := samltest.PostForm(handler, "https://auth.example.com/login/callback?connection=acme", form, "")
//
// # The shape of a response
//
// The output follows the one real JumpCloud response that is public
// (testdata/real-idps/jumpcloud/assertion.xml): an XML declaration, then
// saml2p:Response (Consent, Destination, ID, InResponseTo, IssueInstant,
// Version), its saml2:Issuer with the entity Format, a Status, and one
// saml2:Assertion declaring its own saml2 namespace, holding Issuer,
// Signature, Subject (NameID, bearer SubjectConfirmation), Conditions
// (AudienceRestriction), an AuthnStatement with PasswordProtectedTransport,
// and an AttributeStatement when there are attributes. Attributes have the
// basic NameFormat and one AttributeValue (xsi:type="xs:string") per value.
// Prefixes are saml2p, saml2 and ds; there is no whitespace between
// elements.
//
// By default only the Assertion is signed, as JumpCloud does: RSA-SHA256,
// SHA-256 digest, exclusive canonicalization, enveloped, the certificate
// repeated in KeyInfo, the Signature placed right after the Issuer as the
// schema requires. Response.Sign selects SignResponse, SignBoth or
// SignNone instead; Response.SHA1 selects rsa-sha1 and sha1.
//
// # Defaults
//
// Response fields left empty take these values:
//
//   - Issuer (of the Response and of the Assertion): IdP.EntityID.
//   - IssueInstant: IdP.Now(), or time.Now when IdP.Now is nil. Every
//     timestamp is written in UTC with milliseconds ("2006-01-02T15:04:05.000Z"),
//     and IssueInstant is truncated to the millisecond first.
//   - NotBefore: IssueInstant − 5 minutes; NotOnOrAfter: IssueInstant + 5
//     minutes, used by both Conditions and SubjectConfirmationData, as
//     JumpCloud does. AuthnInstant is IssueInstant.
//   - Recipient: Destination. An empty Destination, Recipient or Audience
//     leaves out the attribute (or the AudienceRestriction), so that tests
//     can check what a verifier does without them.
//   - InResponseTo: none, which is an IdP-initiated response; the attribute
//     is then left out of both Response and SubjectConfirmationData.
//   - NameID: Email; NameIDFormat: urn:oasis:names:tc:SAML:1.0:nameid-format:unspecified
//     (what JumpCloud sends).
//   - StatusCode: Success. StatusCode and SubStatusCode may be given as a
//     full URN or as the last part of one ("Responder", "RequestDenied").
//   - SessionIndex, ResponseID, AssertionID: generated (see below).
//
// Attributes come in this order: email, email_verified, given_name,
// family_name, memberOf, then Response.Attributes. Each convenience field
// adds its attribute only when it is non-empty; Groups adds memberOf when
// it is non-nil, so an empty non-nil slice gives a memberOf Attribute with
// no values, and nil leaves it out.
//
// # Determinism
//
// IDs are 40 upper-case letters and digits without a leading underscore,
// like JumpCloud's; the first is always a letter, because an xs:ID cannot
// start with a digit. They are not random: each IdP numbers the responses
// it mints, and the IDs and the SessionIndex are derived (SHA-256) from
// that number, the entity ID, the options and the issue instant. RSA
// PKCS #1 v1.5 signatures are deterministic too. So a new IdP with the
// same key, given the same calls with the same options and clock, writes
// the same bytes, while two responses from one IdP never share an ID (so a
// verifier's replay cache does not trip on a test that logs in twice).
// Set ResponseID and AssertionID to pin the IDs regardless of the count.
//
// # Attack tests
//
// Response.BeforeSign edits the document before it is signed (the change is
// covered by the signature: a missing bearer method, duplicated attributes,
// an odd namespace). Response.Mutate edits it after signing (signature
// wrapping, a second assertion, tampering, comment injection, a removed
// Signature); etree paths with unprefixed tags match any prefix, so
// doc.FindElement("//Assertion") finds the assertion.
//
// # The SSO side
//
// Server is the IdP over HTTP, an http.Handler to start with
// httptest.NewServer for end-to-end tests of SP-initiated and
// IdP-initiated logins: it serves the metadata and an SSO endpoint, asks
// its Respond hook who signs in, and answers with the auto-submitting form
// of the HTTP-POST binding, posted only to the ACS URLs it was given.
// ParseHTMLPostForm reads that form back, for tests that drive a login
// with an http.Client rather than a browser.
//
// Its parts are also exported, for a demo IdP of one's own: Metadata
// returns an EntityDescriptor like JumpCloud's "Export Metadata",
// ParseAuthnRequest reads an SP-initiated AuthnRequest (HTTP-Redirect or
// HTTP-POST binding), and HTMLPostForm writes the auto-submitting form a
// browser receives.
//
// # Keys
//
// NewKeyPair generates a key pair shaped like JumpCloud's. KeyPair parses
// one from PEM and LoadKeyPair reads one from files, with the names and
// argument order (certificate first) of crypto/tls's X509KeyPair and
// LoadX509KeyPair.
//
// Everything here is for tests: keys are whatever the caller supplies, IDs
// are predictable, and nothing is hardened for production use.
package samltest
