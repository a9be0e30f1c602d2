package saml

import (
	"fmt"
	"slices"
	"time"

	"github.com/beevik/etree"
)

// The protocol checks of the Web Browser SSO profile (SAML Profiles
// §4.1.4.3), which crewjam's ParseXMLResponse made before and Verify now
// makes itself, in crewjam's order, on the verified elements. Each is
// named by a test: TestProtocolMismatches, TestInResponseTo, TestAttacks'
// protocol rows, TestStatusNotSuccess, TestMissingAuthnStatement and
// TestProtocolChecks (protocol_test.go).

// samlVersion is the only SAML version Verify reads.
const samlVersion = "2.0"

// envelope is what checkResponse read from the Response.
type envelope struct {
	// requestIDs are the request IDs the Assertion may answer: the one the
	// Response names, or else every pending one.
	requestIDs   []string
	issueInstant time.Time
}

// checkResponse judges the Response's own fields: version, Destination,
// InResponseTo, Issuer and Status. resp is the verified Response when the
// Response is signed; otherwise it is the Response as received, and its
// fields can only refuse: nothing of an unsigned envelope reaches the
// Identity (the Assertion's own Recipient and InResponseTo bind it).
func (c *Connection) checkResponse(resp *etree.Element, signed bool, m *message, o *verifyOptions) (*envelope, *Error) {
	if v := resp.SelectAttrValue("Version", ""); v != samlVersion {
		return nil, newError(CodeUnsupported, fmt.Sprintf("the Response's Version %q is not %s", truncate(v, 16), samlVersion))
	}
	acs := c.acsURL.String()
	if d := resp.SelectAttrValue("Destination", ""); (signed || d != "") && d != acs {
		return nil, newError(CodeDestinationMismatch, urlMismatchMessage("Destination", acs, d)).mismatch(acs, d)
	}
	irt := resp.SelectAttrValue("InResponseTo", "")
	if !c.answers(irt, o.requestIDs) {
		return nil, c.inResponseToError(m, o)
	}
	env := &envelope{requestIDs: o.requestIDs}
	if irt != "" {
		// A response to one request carries assertions issued for that
		// request (SAML Profiles §4.1.4.2).
		env.requestIDs = []string{irt}
	}
	var err *Error
	if env.issueInstant, err = samlTime(resp, "IssueInstant", "Response IssueInstant", true); err != nil {
		return nil, err
	}
	issuers := childrenNS(resp, "Issuer", nsAssertion)
	if len(issuers) > 1 {
		return nil, newError(CodeMalformed, fmt.Sprintf("the Response has %d Issuer elements; the SAML schema allows one", len(issuers)))
	}
	if len(issuers) == 1 && chardata(issuers[0]) != c.cfg.IdPEntityID {
		return nil, c.issuerError(m)
	}
	if err := checkStatus(resp); err != nil {
		return nil, err
	}
	return env, nil
}

// answers reports whether an InResponseTo is acceptable: one of the
// pending requests, or none at all when IdP-initiated logins are allowed.
// An empty pending ID never matches.
func (c *Connection) answers(inResponseTo string, requestIDs []string) bool {
	if inResponseTo == "" {
		return !c.cfg.DisableIdPInitiated
	}
	return slices.Contains(requestIDs, inResponseTo)
}

// checkStatus requires the one Status, and its one top-level StatusCode,
// to say Success.
func checkStatus(resp *etree.Element) *Error {
	statuses := childrenNS(resp, "Status", nsProtocol)
	if len(statuses) != 1 {
		e := newError(CodeStatusNotSuccess, fmt.Sprintf("the Response has %d Status elements, not 1", len(statuses)))
		e.Actual = "(no Status)"
		return e
	}
	var codes []*etree.Element
	for _, ch := range statuses[0].ChildElements() {
		if ch.Tag != "StatusCode" {
			continue
		}
		if ns := ch.NamespaceURI(); ns != nsProtocol {
			return newError(CodeMalformed, fmt.Sprintf("the Response's Status holds a StatusCode in the namespace %q instead of %q", truncate(ns, 100), nsProtocol))
		}
		codes = append(codes, ch)
	}
	if len(codes) != 1 {
		e := newError(CodeStatusNotSuccess, fmt.Sprintf("the Response's Status has %d StatusCode elements, not 1", len(codes)))
		e.Actual = "(no StatusCode)"
		return e
	}
	if v := codes[0].SelectAttrValue("Value", ""); v != statusOK {
		e := newError(CodeStatusNotSuccess, "the IdP answered with an error status")
		e.Actual = v
		return e
	}
	return nil
}

// checkAssertion judges the verified Assertion as SAML Profiles §4.1.4.3
// asks (time bounds apart: checkTimes): version, Issuer, a Subject with a
// NameID, Conditions, exactly one bearer SubjectConfirmation whose data
// answers a pending request (or none) and names this ACS URL, an
// AuthnStatement, and an audience restriction naming this SP. It returns
// the bearer confirmation.
func (c *Connection) checkAssertion(a *assertionData, env *envelope, m *message, o *verifyOptions) (*bearerData, *Error) {
	switch {
	case a.version != samlVersion:
		return nil, newError(CodeUnsupported, fmt.Sprintf("the Assertion's Version %q is not %s", truncate(a.version, 16), samlVersion))
	case !a.hasIssuer || a.issuer != c.cfg.IdPEntityID:
		return nil, c.issuerError(m)
	case !a.hasSubject:
		return nil, errNoSubject()
	case a.hasOtherSubjID:
		return nil, newError(CodeUnsupported, "the assertion identifies the user with a BaseID or an EncryptedID; samlgate accepts only a plain NameID")
	case !a.hasNameID:
		return nil, newError(CodeMalformed, "the assertion has no NameID value")
	case !a.hasConditions:
		return nil, errNoConditions()
	}
	b, err := c.checkBearer(a, env, m, o)
	if err != nil {
		return nil, err
	}
	if len(a.authn) == 0 {
		return nil, errNoAuthnStatement()
	}
	if len(a.audienceRestrictions) == 0 {
		return nil, c.audienceError(m)
	}
	// Every AudienceRestriction must name this SP (SAML Core §2.5.1.4).
	for _, ar := range a.audienceRestrictions {
		if !slices.Contains(ar, c.cfg.SPEntityID) {
			return nil, c.audienceError(m)
		}
	}
	return b, nil
}

// checkBearer requires exactly one bearer SubjectConfirmation, with data
// that answers the request and names this ACS URL. crewjam accepts any one
// valid among several; the Identity's InResponseTo and time bounds must
// come from the one that was checked, which only a single one guarantees,
// and every IdP we know sends exactly one.
func (c *Connection) checkBearer(a *assertionData, env *envelope, m *message, o *verifyOptions) (*bearerData, *Error) {
	switch len(a.bearers) {
	case 0:
		return nil, errNoBearer()
	case 1:
	default:
		return nil, newError(CodeMalformed, "the assertion has more than one bearer SubjectConfirmation")
	}
	b := &a.bearers[0]
	if !b.data {
		return nil, errBearerWithoutData()
	}
	if !c.answers(b.inResponseTo, env.requestIDs) {
		return nil, c.inResponseToError(m, o)
	}
	if acs := c.acsURL.String(); b.recipient != acs {
		return nil, newError(CodeRecipientMismatch, urlMismatchMessage("Recipient", acs, b.recipient)).mismatch(acs, b.recipient)
	}
	if b.notOnOrAfter.IsZero() {
		return nil, newError(CodeMalformed, "the bearer SubjectConfirmationData has no NotOnOrAfter, which a bearer assertion must carry (SAML Profiles §4.1.4.2)")
	}
	return b, nil
}

// childrenNS is el's child elements named tag in namespace ns.
func childrenNS(el *etree.Element, tag, ns string) []*etree.Element {
	var out []*etree.Element
	for _, ch := range el.ChildElements() {
		if ch.Tag == tag && ch.NamespaceURI() == ns {
			out = append(out, ch)
		}
	}
	return out
}
