package samltest

import (
	"errors"
	"fmt"
	"time"

	"github.com/beevik/etree"
)

// minted holds a Response's options with every default filled in: the
// values the document is written from.
type minted struct {
	issueInstant, notBefore, notOnOrAfter   time.Time
	issuer, recipient, nameID, nameIDFormat string
	responseID, assertionID, sessionIndex   string
}

// build checks r, writes the document, lets BeforeSign edit it, signs the
// elements r.Sign selects and finally lets Mutate tamper with it.
func (idp *IdP) build(r Response) (*etree.Document, error) {
	if r.Sign < SignAssertion || r.Sign > SignNone {
		return nil, fmt.Errorf("samltest: unknown Sign value %d", int(r.Sign))
	}
	if r.Sign != SignNone && (idp.Key == nil || idp.Certificate == nil) {
		return nil, errors.New("samltest: signing needs IdP.Key and IdP.Certificate")
	}
	m := idp.defaults(&r)

	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	resp := writeResponse(doc, &r, &m)
	var assertion *etree.Element
	if !r.OmitAssertion {
		assertion = writeAssertion(resp, &r, &m)
	}

	if r.BeforeSign != nil {
		r.BeforeSign(doc)
		// BeforeSign may have replaced or removed elements.
		resp = doc.Root()
		assertion = nil
		if resp != nil {
			assertion = resp.SelectElement("Assertion")
		}
	}
	if err := idp.signSelected(r.Sign, r.SHA1, resp, assertion); err != nil {
		return nil, err
	}

	if r.Mutate != nil {
		r.Mutate(doc)
	}
	return doc, nil
}

// defaults fills in every option r leaves empty. The IDs come last: they
// are derived from the resolved values (and count one more minted
// response), so the same options always give the same document.
func (idp *IdP) defaults(r *Response) minted {
	var m minted
	m.issueInstant = r.IssueInstant
	if m.issueInstant.IsZero() {
		m.issueInstant = idp.now()
	}
	m.issueInstant = m.issueInstant.UTC().Truncate(time.Millisecond)
	m.notBefore = r.NotBefore
	if m.notBefore.IsZero() {
		m.notBefore = m.issueInstant.Add(-defaultWindow)
	}
	m.notOnOrAfter = r.NotOnOrAfter
	if m.notOnOrAfter.IsZero() {
		m.notOnOrAfter = m.issueInstant.Add(defaultWindow)
	}
	m.issuer = orDefault(r.Issuer, idp.EntityID)
	m.recipient = orDefault(r.Recipient, r.Destination)
	m.nameID = orDefault(r.NameID, r.Email)
	m.nameIDFormat = orDefault(r.NameIDFormat, UnspecifiedNameIDFormat)

	seed := idp.seed(r, m.issuer, m.recipient, m.nameID, m.issueInstant)
	m.responseID = r.ResponseID
	if m.responseID == "" {
		m.responseID = generateID(seed, "response")
	}
	m.assertionID = r.AssertionID
	if m.assertionID == "" {
		m.assertionID = generateID(seed, "assertion")
	}
	m.sessionIndex = r.SessionIndex
	if m.sessionIndex == "" {
		m.sessionIndex = generateUUID(seed, "session")
	}
	return m
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// writeResponse writes the Response root with its Issuer and Status; the
// Assertion, if any, is appended after them.
func writeResponse(doc *etree.Document, r *Response, m *minted) *etree.Element {
	resp := doc.CreateElement("saml2p:Response")
	resp.CreateAttr("xmlns:saml2p", nsProtocol)
	resp.CreateAttr("Consent", consentUnspec)
	if r.Destination != "" {
		resp.CreateAttr("Destination", r.Destination)
	}
	resp.CreateAttr("ID", m.responseID)
	if r.InResponseTo != "" {
		resp.CreateAttr("InResponseTo", r.InResponseTo)
	}
	resp.CreateAttr("IssueInstant", formatTime(m.issueInstant))
	resp.CreateAttr("Version", "2.0")

	respIssuer := resp.CreateElement("saml2:Issuer")
	respIssuer.CreateAttr("xmlns:saml2", nsAssertion)
	respIssuer.CreateAttr("Format", entityFormat)
	respIssuer.SetText(m.issuer)

	writeStatus(resp, r)
	return resp
}

// writeStatus writes the Status: the top-level code (Success by default),
// an optional nested second-level code and an optional message.
func writeStatus(resp *etree.Element, r *Response) {
	status := resp.CreateElement("saml2p:Status")
	code := status.CreateElement("saml2p:StatusCode")
	if r.StatusCode == "" {
		code.CreateAttr("Value", statusSuccess)
	} else {
		code.CreateAttr("Value", statusURN(r.StatusCode))
	}
	if r.SubStatusCode != "" {
		code.CreateElement("saml2p:StatusCode").CreateAttr("Value", statusURN(r.SubStatusCode))
	}
	if r.StatusMessage != "" {
		status.CreateElement("saml2p:StatusMessage").SetText(r.StatusMessage)
	}
}

// writeAssertion appends the Assertion to resp, its children in the order
// the schema requires: Issuer, Subject, Conditions, AuthnStatement,
// AttributeStatement.
func writeAssertion(resp *etree.Element, r *Response, m *minted) *etree.Element {
	assertion := resp.CreateElement("saml2:Assertion")
	assertion.CreateAttr("xmlns:saml2", nsAssertion)
	assertion.CreateAttr("ID", m.assertionID)
	assertion.CreateAttr("IssueInstant", formatTime(m.issueInstant))
	assertion.CreateAttr("Version", "2.0")

	ai := assertion.CreateElement("saml2:Issuer")
	ai.CreateAttr("Format", entityFormat)
	ai.SetText(m.issuer)

	writeSubject(assertion, r, m)
	writeConditions(assertion, r, m)
	writeAuthnStatement(assertion, r, m)
	writeAttributes(assertion, r.attributes())
	return assertion
}

// writeSubject writes the NameID and the bearer SubjectConfirmation the SP
// checks the recipient, expiry and InResponseTo of.
func writeSubject(assertion *etree.Element, r *Response, m *minted) {
	subject := assertion.CreateElement("saml2:Subject")
	nid := subject.CreateElement("saml2:NameID")
	nid.CreateAttr("Format", m.nameIDFormat)
	nid.SetText(m.nameID)
	sc := subject.CreateElement("saml2:SubjectConfirmation")
	sc.CreateAttr("Method", bearerMethod)
	scd := sc.CreateElement("saml2:SubjectConfirmationData")
	if r.InResponseTo != "" {
		scd.CreateAttr("InResponseTo", r.InResponseTo)
	}
	scd.CreateAttr("NotOnOrAfter", formatTime(m.notOnOrAfter))
	if m.recipient != "" {
		scd.CreateAttr("Recipient", m.recipient)
	}
}

// writeConditions writes the validity window and, if set, the audience.
func writeConditions(assertion *etree.Element, r *Response, m *minted) {
	cond := assertion.CreateElement("saml2:Conditions")
	cond.CreateAttr("NotBefore", formatTime(m.notBefore))
	cond.CreateAttr("NotOnOrAfter", formatTime(m.notOnOrAfter))
	if r.Audience != "" {
		cond.CreateElement("saml2:AudienceRestriction").CreateElement("saml2:Audience").SetText(r.Audience)
	}
}

// writeAuthnStatement writes when and how the user signed in, and the
// session index a logout refers to.
func writeAuthnStatement(assertion *etree.Element, r *Response, m *minted) {
	authn := assertion.CreateElement("saml2:AuthnStatement")
	authn.CreateAttr("AuthnInstant", formatTime(m.issueInstant))
	authn.CreateAttr("SessionIndex", m.sessionIndex)
	if !r.SessionNotOnOrAfter.IsZero() {
		authn.CreateAttr("SessionNotOnOrAfter", formatTime(r.SessionNotOnOrAfter))
	}
	authn.CreateElement("saml2:AuthnContext").CreateElement("saml2:AuthnContextClassRef").SetText(passwordClass)
}

// writeAttributes writes the AttributeStatement, one xs:string
// AttributeValue per value as JumpCloud sends them; none if attrs is empty.
func writeAttributes(assertion *etree.Element, attrs []Attribute) {
	if len(attrs) == 0 {
		return
	}
	as := assertion.CreateElement("saml2:AttributeStatement")
	for _, a := range attrs {
		ae := as.CreateElement("saml2:Attribute")
		ae.CreateAttr("Name", a.Name)
		ae.CreateAttr("NameFormat", basicNameFmt)
		for _, v := range a.Values {
			ve := ae.CreateElement("saml2:AttributeValue")
			ve.CreateAttr("xmlns:xs", nsXS)
			ve.CreateAttr("xmlns:xsi", nsXSI)
			ve.CreateAttr("xsi:type", "xs:string")
			ve.SetText(v)
		}
	}
}

// signSelected signs what sel asks for: the Assertion first, so that with
// SignBoth the Response signature covers the Assertion's.
func (idp *IdP) signSelected(sel Sign, sha1 bool, resp, assertion *etree.Element) error {
	if sel == SignAssertion || sel == SignBoth {
		if assertion == nil {
			return errors.New("samltest: no Assertion to sign")
		}
		if err := idp.sign(assertion, sha1); err != nil {
			return err
		}
	}
	if sel == SignResponse || sel == SignBoth {
		if resp == nil {
			return errors.New("samltest: no Response to sign")
		}
		if err := idp.sign(resp, sha1); err != nil {
			return err
		}
	}
	return nil
}
