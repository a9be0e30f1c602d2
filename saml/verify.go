package saml

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlgate/samlgate/attributes"
	"github.com/samlgate/samlgate/groups"
)

// maxQuoted bounds a value from the message quoted in an error.
const maxQuoted = 256

const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	statusOK    = "urn:oasis:names:tc:SAML:2.0:status:Success"
	bearer      = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
)

// VerifyOption adjusts one Verify call.
type VerifyOption func(*verifyOptions)

type verifyOptions struct {
	requestIDs []string
}

// WithRequestIDs passes the IDs of the AuthnRequests this user has pending.
// A response with an InResponseTo must answer one of them; a response
// without one is IdP-initiated and accepted unless the connection disables
// IdP-initiated logins.
func WithRequestIDs(ids ...string) VerifyOption {
	return func(o *verifyOptions) { o.requestIDs = append(o.requestIDs, ids...) }
}

// Verify checks a SAMLResponse form value (base64, as the browser POSTs it
// to the ACS) and returns the identity it proves. Every refusal is an
// *Error; see the Code constants.
//
// The order is cheapest first: size, decoding, XML shape, then the
// signature and protocol checks of crewjam/saml, then time, attribute and
// group policy, and the replay cache last, so that only assertions that
// would otherwise be accepted are recorded.
func (c *Connection) Verify(ctx context.Context, samlResponse string, opts ...VerifyOption) (*Identity, error) {
	var o verifyOptions
	for _, opt := range opts {
		opt(&o)
	}
	id, err := c.verify(ctx, samlResponse, &o)
	if err != nil {
		err.Connection = c.cfg.Name
		// Actual (and some messages) quote the unverified message: bound
		// them, so that an unauthenticated POST cannot write a megabyte
		// into every log line that prints the error.
		err.Actual = truncate(err.Actual, maxQuoted)
		err.Message = truncate(err.Message, 2*maxQuoted)
		c.logger.DebugContext(ctx, "samlgate: response refused", "connection", c.cfg.Name, "code", string(err.Code), "detail", err.Detail())
		return nil, err
	}
	return id, nil
}

func (c *Connection) verify(ctx context.Context, samlResponse string, o *verifyOptions) (*Identity, *Error) {
	if len(samlResponse) > c.maxBytes {
		return nil, newError(CodeTooLarge, fmt.Sprintf("the SAMLResponse is %d bytes, over the limit of %d", len(samlResponse), c.maxBytes))
	}
	raw, err := base64.StdEncoding.DecodeString(stripSpace(samlResponse))
	if err != nil {
		return nil, newError(CodeMalformed, "the SAMLResponse is not base64").withCause(err)
	}
	doc, perr := parseGuarded(raw)
	if perr != nil {
		return nil, perr
	}
	m, perr := c.inspect(doc)
	if perr != nil {
		return nil, perr
	}

	now := c.now()
	v := &sigVerifier{conn: c, prefer: m.named}
	sp := c.sp // a copy: the clock and verifier are per call
	// crewjam's time checks use package-wide skew settings. To give each
	// connection its own skew without touching those globals, crewjam
	// judges the message at its own IssueInstant, and checkTimes below
	// judges every time bound of the verified assertion at the real clock.
	sp.Clock = dsig.NewFakeClockAt(m.issueInstant)
	sp.SignatureVerifier = v
	if c.cfg.DisableIdPInitiated {
		sp.AllowIDPInitiated = false
	}
	a, err := sp.ParseXMLResponse(raw, o.requestIDs, c.acsURL)
	if err != nil {
		return nil, c.classify(err, m, o)
	}

	if err := c.checkCertificates(v.used, now); err != nil {
		return nil, err
	}
	end, terr := c.checkTimes(a, m, now)
	if terr != nil {
		return nil, terr
	}
	id, ierr := c.identity(a, m)
	if ierr != nil {
		return nil, ierr
	}
	if err := c.replay.Consume(ctx, replayKey(c.cfg.IdPEntityID, a.ID), end.Add(c.skew)); err != nil {
		if errors.Is(err, ErrReplayDetected) {
			return nil, newError(CodeReplayed, "the assertion "+a.ID+" was already used").withCause(err)
		}
		return nil, newError(CodeUnavailable, "the replay cache failed").withCause(err)
	}
	return id, nil
}

// message is what Verify reads from the unverified document: enough to
// enforce structure and signature policy before crewjam runs, and to name
// the offending values in errors. Nothing here reaches the Identity.
type message struct {
	responseSigned, assertionSigned bool
	// named are the pinned certificates the signatures' KeyInfo name. When
	// there are any, a signature that fails was altered, not made with
	// another key.
	named                           []*pinnedCert
	issueInstant                    time.Time
	destination, inResponseTo       string
	responseIssuer, assertionIssuer string
	assertionInResponseTo           []string
	audiences, recipients           []string
}

// inspect enforces the shape every legitimate SSO response has, which
// closes whole classes of signature-wrapping attacks before any
// cryptography runs: exactly one Assertion in the whole document, a direct
// child of the Response, and signatures only directly under those two.
func (c *Connection) inspect(doc *etree.Document) (*message, *Error) {
	root := doc.Root()
	if root.Tag != "Response" || root.NamespaceURI() != nsProtocol {
		return nil, newError(CodeMalformed, fmt.Sprintf("the root element is {%s}%s, not a SAML 2.0 Response", root.NamespaceURI(), root.Tag))
	}
	m := &message{destination: root.SelectAttrValue("Destination", ""), inResponseTo: root.SelectAttrValue("InResponseTo", "")}
	if st := statusOf(root); st != statusOK {
		e := newError(CodeStatusNotSuccess, "the IdP answered with an error status instead of an assertion")
		e.Actual = st
		// The IdP's StatusMessage is free text that may name the user, so
		// it goes to Detail (Debug logs) only.
		if msg := childText(root.SelectElement("Status"), "StatusMessage"); msg != "" {
			e.withCause(fmt.Errorf("IdP StatusMessage: %q", truncate(msg, 200)))
		}
		return nil, e
	}
	// SAML lets an unsigned Response omit Destination; every IdP we know
	// sends it, and requiring it makes a response captured for one
	// connection useless at another.
	if m.destination == "" {
		acs := c.acsURL.String()
		return nil, newError(CodeDestinationMismatch, urlMismatchMessage("Destination", acs, "")).mismatch(acs, "")
	}

	var assertions, signatures []*etree.Element
	var encrypted bool
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) {
		for _, ch := range el.ChildElements() {
			switch ch.Tag {
			case "Assertion":
				if ch.NamespaceURI() == nsAssertion {
					assertions = append(assertions, ch)
				}
			case "EncryptedAssertion":
				encrypted = true
			case "Signature":
				if ch.NamespaceURI() == nsDSig {
					signatures = append(signatures, ch)
				}
			}
			walk(ch)
		}
	}
	walk(root)
	if encrypted {
		return nil, newError(CodeUnsupported, "the response carries an EncryptedAssertion; samlgate accepts only signed, unencrypted assertions")
	}
	if len(assertions) != 1 || assertions[0].Parent() != root {
		return nil, newError(CodeMalformed, fmt.Sprintf("the response must hold exactly one Assertion, directly inside the Response; it holds %d", len(assertions)))
	}
	assertion := assertions[0]
	for _, sig := range signatures {
		switch p := sig.Parent(); {
		case p == root && !m.responseSigned:
			m.responseSigned = true
		case p == assertion && !m.assertionSigned:
			m.assertionSigned = true
		default:
			return nil, newError(CodeMalformed, "a Signature element is misplaced or repeated: signatures belong directly inside the Response or the Assertion, once each")
		}
		if err := c.checkSignatureElement(sig, m); err != nil {
			return nil, err
		}
	}
	if err := c.checkSignaturePolicy(m); err != nil {
		return nil, err
	}

	ii := assertion.SelectAttrValue("IssueInstant", "")
	t, err := time.Parse(time.RFC3339Nano, ii)
	if err != nil {
		return nil, newError(CodeMalformed, fmt.Sprintf("the Assertion IssueInstant %q is not a timestamp", ii))
	}
	m.issueInstant = t
	m.responseIssuer = childText(root, "Issuer")
	m.assertionIssuer = childText(assertion, "Issuer")
	for _, el := range assertion.FindElements("./Conditions/AudienceRestriction/Audience") {
		m.audiences = append(m.audiences, strings.TrimSpace(el.Text()))
	}
	for _, el := range assertion.FindElements("./Subject/SubjectConfirmation/SubjectConfirmationData") {
		m.recipients = append(m.recipients, el.SelectAttrValue("Recipient", ""))
		m.assertionInResponseTo = append(m.assertionInResponseTo, el.SelectAttrValue("InResponseTo", ""))
	}
	return m, nil
}

func statusOf(root *etree.Element) string {
	if sc := root.FindElement("./Status/StatusCode"); sc != nil {
		st := sc.SelectAttrValue("Value", "")
		if sub := sc.FindElement("./StatusCode"); sub != nil && st != statusOK {
			st += " / " + sub.SelectAttrValue("Value", "")
		}
		return st
	}
	return "(no Status)"
}

func childText(el *etree.Element, tag string) string {
	if el == nil {
		return ""
	}
	if ch := el.SelectElement(tag); ch != nil {
		return strings.TrimSpace(ch.Text())
	}
	return ""
}

// checkSignatureElement refuses SHA-1 (unless allowed) and a certificate in
// KeyInfo that is not pinned. The KeyInfo certificate is never used to
// verify anything; checking it here only turns "signature invalid" into the
// actionable "the app's certificate was regenerated".
func (c *Connection) checkSignatureElement(sig *etree.Element, m *message) *Error {
	if !c.cfg.AllowSHA1 {
		for _, path := range []string{"./SignedInfo/SignatureMethod", "./SignedInfo/Reference/DigestMethod"} {
			for _, el := range sig.FindElements(path) {
				if alg := el.SelectAttrValue("Algorithm", ""); isSHA1(alg) {
					e := newError(CodeWeakSignatureAlgorithm, "the response is signed with SHA-1")
					return e.mismatch("an RSA-SHA256 (or stronger) signature", alg)
				}
			}
		}
	}
	for _, el := range sig.FindElements("./KeyInfo/X509Data/X509Certificate") {
		der, err := base64.StdEncoding.DecodeString(stripSpace(el.Text()))
		if err != nil {
			return newError(CodeMalformed, "the certificate in the signature's KeyInfo is not base64").withCause(err)
		}
		// Comparing DER avoids parsing the certificate on every login; only
		// a certificate that is not pinned is parsed, to report it.
		if pc := c.pinnedDER(der); pc != nil {
			m.named = append(m.named, pc)
			continue
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return newError(CodeMalformed, "the certificate in the signature's KeyInfo cannot be parsed").withCause(err)
		}
		e := newError(CodeUntrustedCertificate, "the response is signed with a certificate this connection does not trust")
		return e.mismatch(c.fingerprints(), Fingerprint(cert))
	}
	return nil
}

func isSHA1(alg string) bool {
	i := strings.LastIndexByte(alg, '#')
	return strings.HasSuffix(strings.ToLower(alg[i+1:]), "sha1")
}

func (c *Connection) checkSignaturePolicy(m *message) *Error {
	var missing string
	switch c.cfg.Signature {
	case SignatureEither:
		if !m.responseSigned && !m.assertionSigned {
			missing = "neither the Response nor the Assertion is signed"
		}
	case SignatureAssertion:
		if !m.assertionSigned {
			missing = "the Assertion is not signed, and this connection requires a signed Assertion"
		}
	case SignatureResponse:
		if !m.responseSigned {
			missing = "the Response is not signed, and this connection requires a signed Response"
		}
	case SignatureBoth:
		if !m.responseSigned || !m.assertionSigned {
			missing = "this connection requires both the Response and the Assertion to be signed"
		}
	}
	if missing == "" {
		return nil
	}
	e := newError(CodeSignatureMissing, missing)
	return e.mismatch("signed: "+string(c.cfg.Signature), "signed: "+signedWhat(m))
}

func signedWhat(m *message) string {
	switch {
	case m.responseSigned && m.assertionSigned:
		return "both"
	case m.responseSigned:
		return "response"
	case m.assertionSigned:
		return "assertion"
	}
	return "none"
}

func (c *Connection) pinnedDER(der []byte) *pinnedCert {
	for i := range c.certs {
		if bytes.Equal(c.certs[i].cert.Raw, der) {
			return &c.certs[i]
		}
	}
	return nil
}

func (c *Connection) fingerprints() string {
	fps := make([]string, len(c.certs))
	for i, pc := range c.certs {
		fps[i] = pc.fingerprint
	}
	return strings.Join(fps, ", ")
}

// sigVerifier is crewjam's hook for checking XML signatures. It still has
// goxmldsig do all the cryptography, against the pinned certificates parsed
// once at construction; what it adds is that the message's KeyInfo is
// dropped (so the certificate in the message can never be the trust
// anchor) and that base64 whitespace in SignatureValue, which XML Schema's
// base64Binary allows and Google Workspace sends, is removed first. Neither
// element is covered by the digest, so this weakens nothing.
type sigVerifier struct {
	conn *Connection
	// prefer are the pinned certificates the message's KeyInfo named
	// (found by inspect): tried first, only to save work during a rotation.
	prefer []*pinnedCert
	used   []*pinnedCert
}

func (v *sigVerifier) VerifySignature(vc *dsig.ValidationContext, el *etree.Element) error {
	_, err := v.VerifySignedElement(vc, el)
	return err
}

func (v *sigVerifier) VerifySignedElement(vc *dsig.ValidationContext, el *etree.Element) (*etree.Element, error) {
	var sig *etree.Element
	for _, ch := range el.ChildElements() {
		if ch.Tag == "Signature" && ch.NamespaceURI() == nsDSig {
			sig = ch
			break
		}
	}
	if sig == nil {
		return nil, errors.New("no Signature element")
	}
	for _, ch := range sig.ChildElements() {
		switch ch.Tag {
		case "SignatureValue":
			if t := ch.Text(); strings.ContainsAny(t, " \t\r\n") {
				ch.SetText(stripSpace(t))
			}
		case "KeyInfo":
			sig.RemoveChild(ch)
		}
	}
	var lastErr error
	try := func(pc *pinnedCert) *etree.Element {
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{pc.unbounded}})
		ctx.IdAttribute = vc.IdAttribute
		ctx.Clock = vc.Clock
		signed, err := ctx.Validate(el)
		if err != nil {
			lastErr = err
			return nil
		}
		v.used = append(v.used, pc)
		return signed
	}
	// Every candidate is a pinned certificate; those the message names go
	// first.
	for _, pc := range v.prefer {
		if signed := try(pc); signed != nil {
			return signed, nil
		}
	}
	for i := range v.conn.certs {
		if pc := &v.conn.certs[i]; !slices.Contains(v.prefer, pc) {
			if signed := try(pc); signed != nil {
				return signed, nil
			}
		}
	}
	return nil, lastErr
}

// checkCertificates refuses a signature by a pinned certificate that is
// outside its validity period now, unless the connection allows it.
func (c *Connection) checkCertificates(used []*pinnedCert, now time.Time) *Error {
	if c.cfg.AllowExpiredCertificate {
		return nil
	}
	for _, pc := range used {
		if now.After(pc.cert.NotAfter) || now.Before(pc.cert.NotBefore) {
			e := newError(CodeCertificateExpired, fmt.Sprintf("the response is signed by IdP certificate %s, valid only from %s until %s",
				pc.fingerprint, pc.cert.NotBefore.UTC().Format(time.RFC3339), pc.cert.NotAfter.UTC().Format(time.RFC3339)))
			e.Now = now
			return e
		}
	}
	return nil
}

// classify turns crewjam's error into an *Error with the values an admin
// needs. crewjam's Error() is always "Authentication failed"; its
// sentinels say which check failed, and the unverified message says what
// value was found.
func (c *Connection) classify(err error, m *message, o *verifyOptions) *Error {
	var e *Error
	var status crewjam.ErrBadStatus
	switch {
	case errors.As(err, &status):
		e = newError(CodeStatusNotSuccess, "the IdP answered with an error status")
		e.Actual = status.Status
	case errors.Is(err, crewjam.ErrUntrustedCertificate):
		e = newError(CodeUntrustedCertificate, "the response is not signed by a trusted certificate").mismatch(c.fingerprints(), "")
	case errors.Is(err, crewjam.ErrInvalidSignature):
		e = newError(CodeSignatureInvalid, "the signature does not verify against the configured IdP certificate (the message was altered, or signed by another key)")
		if len(m.named) > 0 {
			e.Message = "the signature does not verify although the response names a configured certificate: the response was altered after the IdP signed it"
			e.Hint = "Capture the response again, unmodified (a proxy or tool that rewrites the POST body breaks the signature). If fresh responses fail too, the IdP signs something other than what it sends: contact its support."
		}
	case errors.Is(err, crewjam.ErrIssuerMismatch):
		actual := m.responseIssuer
		if actual == "" || actual == c.cfg.IdPEntityID {
			actual = m.assertionIssuer
		}
		e = newError(CodeIssuerMismatch, "the response comes from another IdP entity ID").mismatch(c.cfg.IdPEntityID, actual)
	case errors.Is(err, crewjam.ErrAudienceMismatch):
		actual := strings.Join(m.audiences, ", ")
		e = newError(CodeAudienceMismatch, "the assertion is meant for another service provider")
		switch {
		case strings.HasPrefix(actual, "https://sso.jumpcloud.com/") || actual == c.cfg.IdPEntityID || actual == c.cfg.IdPSSOURL:
			e.Message = "the assertion's audience is the IdP's own URL: the IdP URL was pasted where the SP Entity ID belongs"
		case siblingID(c.cfg.SPEntityID, actual):
			e.Message = "the assertion's audience is the SP entity ID of another connection: the response was meant for another connection, or the SP Entity ID in the IdP app names the wrong one"
		}
		e.mismatch(c.cfg.SPEntityID, actual)
	case errors.Is(err, crewjam.ErrDestinationMismatch):
		acs := c.acsURL.String()
		if m.destination != acs {
			e = newError(CodeDestinationMismatch, urlMismatchMessage("Destination", acs, m.destination)).mismatch(acs, m.destination)
		} else {
			actual := strings.Join(m.recipients, ", ")
			for _, r := range m.recipients {
				if r != acs {
					actual = r
					break
				}
			}
			e = newError(CodeRecipientMismatch, urlMismatchMessage("Recipient", acs, actual)).mismatch(acs, actual)
		}
	case errors.Is(err, crewjam.ErrRequestIDMismatch):
		expected := strings.Join(o.requestIDs, ", ")
		if expected == "" {
			expected = "no InResponseTo (no login request pending)"
		}
		e = newError(CodeInResponseToMismatch, "the response answers a login request this server did not make").mismatch(expected, m.inResponseTo)
		if m.inResponseTo != "" && slices.Contains(o.requestIDs, m.inResponseTo) {
			// The Response names a pending request, so the signed
			// assertion's own InResponseTo is what failed.
			e.Message = "the assertion's own InResponseTo (in its SubjectConfirmationData) does not answer the request the Response names: the assertion was issued for another login"
			e.mismatch(m.inResponseTo, strings.Join(m.assertionInResponseTo, ", "))
		}
		if m.inResponseTo == "" && c.cfg.DisableIdPInitiated {
			e.Message = "the response has no InResponseTo (an IdP-initiated login), and this connection accepts only logins it started"
			e.Hint = "Start the login from the application, not from the IdP's portal; or allow IdP-initiated logins on this connection (DisableIdPInitiated)."
			expected = "the ID of a pending login request"
			if len(o.requestIDs) > 0 {
				expected = strings.Join(o.requestIDs, ", ")
			}
			e.mismatch(expected, "")
		}
	case errors.Is(err, crewjam.ErrExpired):
		e = newError(CodeExpired, "the response's own time bounds are inconsistent")
	case errors.Is(err, crewjam.ErrNotYetValid):
		e = newError(CodeNotYetValid, "the response's own time bounds are inconsistent")
	case errors.Is(err, crewjam.ErrUnsupported):
		e = newError(CodeUnsupported, "the response uses a feature samlgate does not accept")
	default:
		e = newError(CodeMalformed, "the response is not a valid SAML 2.0 login response")
	}
	return e.withCause(err)
}

// urlMismatchMessage recognises the usual ways the ACS URL is mistyped.
func urlMismatchMessage(what, expected, actual string) string {
	switch {
	case actual == "":
		return "the response has no " + what
	case strings.Contains(expected, "?") && actual == expected[:strings.IndexByte(expected, '?')]:
		return "the " + what + " lacks the ?connection= query: the ACS URL in the IdP must include it"
	case strings.Contains(actual, "connection=") && strings.Contains(expected, "connection="):
		return "the " + what + " is the ACS URL of another connection"
	}
	return "the " + what + " is not this connection's ACS URL"
}

// checkTimes judges the verified assertion against the real clock with the
// connection's skew, and returns the end of its validity (for the replay
// cache). The window is the intersection of every bound the IdP set.
func (c *Connection) checkTimes(a *crewjam.Assertion, m *message, now time.Time) (time.Time, *Error) {
	start := a.IssueInstant
	end := a.IssueInstant.Add(c.maxDelay)
	if nb := a.Conditions.NotBefore; nb.After(start) {
		start = nb
	}
	if noa := a.Conditions.NotOnOrAfter; !noa.IsZero() && noa.Before(end) {
		end = noa
	}
	scd, perr := c.bearerData(a)
	if perr != nil {
		return end, perr
	}
	if scd != nil {
		if !scd.NotBefore.IsZero() && scd.NotBefore.After(start) {
			start = scd.NotBefore
		}
		if !scd.NotOnOrAfter.IsZero() && scd.NotOnOrAfter.Before(end) {
			end = scd.NotOnOrAfter
		}
	}
	// A session that the IdP says is already over must not start here.
	for _, st := range a.AuthnStatements {
		if st.SessionNotOnOrAfter != nil && !now.Before(st.SessionNotOnOrAfter.Add(c.skew)) {
			e := newError(CodeExpired, fmt.Sprintf("the IdP session ended %s ago (SessionNotOnOrAfter)", humanDuration(now.Sub(st.SessionNotOnOrAfter.Add(c.skew)))))
			e.mismatch(fmt.Sprintf("a session valid until after the clock, ± %s clock skew", c.skew), "SessionNotOnOrAfter "+fmtTime(*st.SessionNotOnOrAfter)).Now = now
			return end, e
		}
	}
	window := fmt.Sprintf("from %s until %s, ± %s clock skew", fmtTime(start), fmtTime(end), c.skew)
	switch {
	case now.Before(start.Add(-c.skew)):
		e := newError(CodeNotYetValid, fmt.Sprintf("the response becomes valid only in %s: this server's clock is behind the IdP's", humanDuration(start.Add(-c.skew).Sub(now))))
		e.mismatch(window, "clock "+fmtTime(now)).Now = now
		return end, e
	case !now.Before(end.Add(c.skew)):
		e := newError(CodeExpired, fmt.Sprintf("the response expired %s ago", humanDuration(now.Sub(end.Add(c.skew)))))
		e.mismatch(window, "clock "+fmtTime(now)).Now = now
		return end, e
	}
	return end, nil
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// bearerData is the bearer SubjectConfirmationData crewjam accepted. An
// assertion with several bearer confirmations is refused: crewjam accepts
// it when any one is valid, and the identity's InResponseTo and time
// bounds must come from that same one, which only a single one guarantees.
// Every IdP we know sends exactly one.
func (c *Connection) bearerData(a *crewjam.Assertion) (*crewjam.SubjectConfirmationData, *Error) {
	if a.Subject == nil {
		return nil, nil
	}
	var found *crewjam.SubjectConfirmationData
	for _, sc := range a.Subject.SubjectConfirmations {
		if sc.Method != bearer {
			continue
		}
		if found != nil {
			return nil, newError(CodeMalformed, "the assertion has more than one bearer SubjectConfirmation")
		}
		found = sc.SubjectConfirmationData
	}
	return found, nil
}

// identity builds the Identity from the verified assertion and applies the
// attribute, email_verified and group policies.
func (c *Connection) identity(a *crewjam.Assertion, m *message) (*Identity, *Error) {
	id := &Identity{
		Connection:  c.cfg.Name,
		Issuer:      a.Issuer.Value,
		AssertionID: a.ID,
		Attributes:  attributeSet(a),
	}
	if a.Subject != nil && a.Subject.NameID != nil {
		id.Subject = strings.TrimSpace(a.Subject.NameID.Value)
		id.SubjectFormat = a.Subject.NameID.Format
	}
	if id.Subject == "" {
		return nil, newError(CodeMalformed, "the assertion has no NameID value")
	}
	if scd, _ := c.bearerData(a); scd != nil { // checkTimes refused several
		id.InResponseTo = scd.InResponseTo
	}
	if len(a.AuthnStatements) > 0 {
		st := a.AuthnStatements[0]
		id.SessionIndex = st.SessionIndex
		id.AuthnInstant = st.AuthnInstant
		if st.SessionNotOnOrAfter != nil {
			id.SessionNotOnOrAfter = *st.SessionNotOnOrAfter
		}
	}

	// Only a NameID whose format says it is an email (or says nothing) may
	// stand in for a missing email attribute: a persistent or transient
	// NameID is an opaque identifier even when it looks like an address.
	nameIDEmail := ""
	switch id.SubjectFormat {
	case "", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
		"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
		"urn:oasis:names:tc:SAML:1.0:nameid-format:unspecified":
		nameIDEmail = id.Subject
	}
	f, err := c.mapping.Extract(id.Attributes, nameIDEmail)
	if err != nil {
		var ce *attributes.ConflictError
		if errors.As(err, &ce) {
			return nil, newError(CodeAttributeConflict, fmt.Sprintf("the assertion has different values for %s (attributes %s)", ce.Field, strings.Join(ce.Names, ", "))).withCause(err)
		}
		return nil, newError(CodeMalformed, "cannot read the identity attributes").withCause(err)
	}
	id.Email, id.GivenName, id.FamilyName, id.DisplayName = f.Email, f.GivenName, f.FamilyName, f.DisplayName
	if id.Email == "" {
		e := newError(CodeEmailMissing, "the assertion has no email attribute and its NameID is not an email address")
		e.Expected = "one of the attributes " + strings.Join(orDefaultNames(c.mapping.Email, attributes.DefaultEmail), ", ")
		e.Actual = "attributes: " + attributeNames(id.Attributes)
		return nil, e
	}
	if err := c.checkEmailDomain(id.Email); err != nil {
		return nil, err
	}
	if err := c.emailVerified(id); err != nil {
		return nil, err
	}

	res, err := c.groups.Resolve(id.Attributes)
	if err != nil {
		return nil, c.groupError(err)
	}
	id.Groups, id.Roles = res.Groups, res.Roles
	if id.Groups == nil {
		id.Groups = []string{}
	}
	if id.Roles == nil {
		id.Roles = []string{}
	}
	return id, nil
}

func (c *Connection) checkEmailDomain(email string) *Error {
	if len(c.emailDomains) == 0 {
		return nil
	}
	domain := strings.ToLower(email[strings.LastIndexByte(email, '@')+1:])
	if slices.Contains(c.emailDomains, domain) {
		return nil
	}
	// The domain, not the address, is quoted: it says which tenant's
	// users the IdP tried to speak for without naming the user.
	e := newError(CodeEmailDomainNotAllowed, "the IdP asserted an email at a domain this connection does not accept")
	return e.mismatch("an email at "+strings.Join(c.emailDomains, ", "), domain)
}

func (c *Connection) emailVerified(id *Identity) *Error {
	if c.cfg.EmailVerified == EmailVerifiedTrust {
		id.EmailVerified = true
		return nil
	}
	values, _ := c.mapping.EmailVerifiedValues(id.Attributes)
	ok, err := attributes.ParseBool(values)
	if c.cfg.EmailVerified == EmailVerifiedIgnore {
		id.EmailVerified = err == nil && ok
		return nil
	}
	switch {
	case err == nil && ok:
		id.EmailVerified = true
		return nil
	case err == nil:
		e := newError(CodeEmailNotVerified, "the IdP says the email is not verified (email_verified is false)")
		return e.mismatch("email_verified = true", "false")
	case errors.Is(err, attributes.ErrMissing):
		e := newError(CodeEmailVerifiedInvalid, "the assertion has no email_verified attribute")
		return e.mismatch("email_verified = true", "(missing)")
	case errors.Is(err, attributes.ErrMultiple):
		e := newError(CodeEmailVerifiedInvalid, fmt.Sprintf("email_verified must have exactly one value; it has %d", len(values)))
		return e.mismatch("email_verified = true", fmt.Sprintf("%d values", len(values)))
	case errors.Is(err, attributes.ErrEmpty):
		e := newError(CodeEmailVerifiedInvalid, "email_verified is empty")
		return e.mismatch("email_verified = true", "(empty)")
	default:
		e := newError(CodeEmailVerifiedInvalid, "email_verified is neither true nor false")
		return e.mismatch("email_verified = true", truncate(values[0], 40)).withCause(err)
	}
}

func (c *Connection) groupError(err error) *Error {
	var na *groups.NotAllowedError
	switch {
	case errors.Is(err, groups.ErrOverage):
		return newError(CodeGroupsOverage, "the IdP sent a link to the user's groups instead of the groups").withCause(err)
	case errors.As(err, &na):
		if !na.AttributeFound {
			e := newError(CodeGroupNotAllowed, "the assertion has no groups attribute, and this connection only admits members of allowed groups")
			e.Hint = "In the JumpCloud SSO app, tick \"include group attribute\" and name it memberOf (SSO tab → Group Attributes), and bind the user's groups to the app."
			return e.mismatch("an attribute named "+strings.Join(na.LookedFor, " or "), "attributes: "+strings.Join(na.Present, ", ")).withCause(err)
		}
		// Expected lists configuration, not the user's groups: those stay out
		// of error strings.
		e := newError(CodeGroupNotAllowed, "the user is in none of this connection's allowed groups").withCause(err)
		e.Expected = "a member of " + strings.Join(c.cfg.Groups.AllowedGroups, ", ")
		return e
	}
	return newError(CodeMalformed, "cannot read the groups attribute").withCause(err)
}

// attributeSet flattens the assertion's attribute statements, merging
// repeated Attribute elements with the same Name.
func attributeSet(a *crewjam.Assertion) attributes.Set {
	var set attributes.Set
	index := map[string]int{}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			values := make([]string, 0, len(at.Values))
			for _, v := range at.Values {
				if v.NameID != nil {
					values = append(values, v.NameID.Value)
					continue
				}
				values = append(values, v.Value)
			}
			if i, ok := index[at.Name]; ok {
				set[i].Values = append(set[i].Values, values...)
				continue
			}
			index[at.Name] = len(set)
			set = append(set, attributes.Attribute{Name: at.Name, FriendlyName: at.FriendlyName, NameFormat: at.NameFormat, Values: values})
		}
	}
	return set
}

func attributeNames(s attributes.Set) string {
	if len(s) == 0 {
		return "(none)"
	}
	names := make([]string, len(s))
	for i, a := range s {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

func orDefaultNames(names, def []string) []string {
	if names == nil {
		return def
	}
	return names
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// humanDuration rounds to the second, and counts days past two of them:
// "317d9h" reads better than "7617h3m44s" for a capture replayed later.
func humanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 48*time.Hour {
		return d.String()
	}
	days := d / (24 * time.Hour)
	return fmt.Sprintf("%dd%dh", days, (d-days*24*time.Hour)/time.Hour)
}

// siblingID reports whether two entity IDs differ only in their last
// segment (urn:samlgate:acme vs urn:samlgate:globex): the signature of a
// response meant for another connection of the same service.
func siblingID(a, b string) bool {
	cut := func(s string) string {
		if i := strings.LastIndexAny(s, ":/"); i >= 0 {
			return s[:i+1]
		}
		return ""
	}
	p := cut(a)
	return a != b && p != "" && p == cut(b)
}

// replayKey names an assertion in a (possibly shared) replay cache. The
// issuer is length-prefixed so that no issuer and ID pair can spell
// another's key ("urn:a" + "b:c" vs "urn:a:b" + "c").
func replayKey(issuer, assertionID string) string {
	return fmt.Sprintf("samlgate:assertion:%d:%s:%s", len(issuer), issuer, assertionID)
}
