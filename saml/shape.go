package saml

import (
	"fmt"
	"strings"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/beevik/etree"
)

// message is what Verify reads from the unverified document: enough to
// enforce structure and signature policy before any signature is checked,
// and to name the offending values in errors. Nothing here reaches the
// Identity, and no check but the cheap refusals of inspect and
// crewjamClock decides on it.
type message struct {
	responseSigned, assertionSigned bool
	// named are the pinned certificates the signatures' KeyInfo name. When
	// there are any, a signature that fails was altered, not made with
	// another key.
	named                           []*pinnedCert
	destination, inResponseTo       string
	responseIssuer, assertionIssuer string
	assertionInResponseTo           []string
	audiences                       []string

	// The time bounds, as crewjam parses them (crewjamClock).
	// A zero time is an absent attribute.
	issueInstant, responseIssueInstant          time.Time
	conditionsNotBefore, conditionsNotOnOrAfter time.Time
	bearerWindows                               []window

	// assertion is the one Assertion of the document as received: the
	// element whose signature verifySignatures checks.
	assertion *etree.Element

	// Set by verifySignatures after a signature failed, for the diagnosis:
	// the element whose signature failed, and, when that is the Response's,
	// whether the Assertion's own signature verifies.
	failedSignature      string
	assertionSignatureOK sigResult
}

// window is a bearer SubjectConfirmationData's NotBefore and NotOnOrAfter.
type window struct{ notBefore, notOnOrAfter time.Time }

// sigResult is the outcome of a signature check made only to explain an
// error.
type sigResult int

const (
	sigUnchecked sigResult = iota
	sigValid
	sigInvalid
)

// inspect enforces the shape every legitimate SSO response has, which
// closes whole classes of signature-wrapping attacks before any
// cryptography runs: exactly one Assertion in the whole document, a direct
// child of the Response, and signatures only directly under those two.
func (c *Connection) inspect(doc *etree.Document, ps *pinSet) (*message, *Error) {
	root := doc.Root()
	if root.Tag != "Response" || root.NamespaceURI() != nsProtocol {
		return nil, newError(CodeMalformed, fmt.Sprintf("the root element is {%s}%s, not a SAML 2.0 Response", root.NamespaceURI(), root.Tag))
	}
	m := &message{destination: root.SelectAttrValue("Destination", ""), inResponseTo: root.SelectAttrValue("InResponseTo", "")}
	if err := checkEnvelope(root); err != nil {
		return nil, err
	}
	assertion, signatures, err := findParts(root)
	if err != nil {
		return nil, err
	}
	m.assertion = assertion
	for _, sig := range signatures {
		switch p := sig.Parent(); {
		case p == root && !m.responseSigned:
			m.responseSigned = true
		case p == assertion && !m.assertionSigned:
			m.assertionSigned = true
		default:
			return nil, newError(CodeMalformed, "a Signature element is misplaced or repeated: signatures belong directly inside the Response or the Assertion, once each")
		}
		if err := c.checkSignatureElement(sig, m, ps); err != nil {
			return nil, err
		}
	}
	if err := c.checkSignaturePolicy(m); err != nil {
		return nil, err
	}
	if err := c.checkDestination(m); err != nil {
		return nil, err
	}
	if err := m.readAssertion(root, assertion); err != nil {
		return nil, err
	}
	return m, nil
}

// checkEnvelope refuses an error status.
func checkEnvelope(root *etree.Element) *Error {
	if st := statusOf(root); st != statusOK {
		e := newError(CodeStatusNotSuccess, "the IdP answered with an error status instead of an assertion")
		e.Actual = st
		// The IdP's StatusMessage is free text that may name the user, so
		// it goes to Detail (Debug logs) only.
		if msg := childText(root.SelectElement("Status"), "StatusMessage"); msg != "" {
			e.withCause(fmt.Errorf("IdP StatusMessage: %q", truncate(msg, 200)))
		}
		return e
	}
	return nil
}

// checkDestination requires a Destination on a signed Response. SAML Core
// §3.2.2 makes Destination optional, and the HTTP-POST binding (SAML
// Bindings §3.5.5.2) requires it only when the Response itself is signed:
// there it is what binds the signed message to our ACS URL. PingFederate
// leaves it out when it signs only the Assertion, whose bearer Recipient
// (required, checkBearer) binds the assertion to our ACS URL instead. A
// Destination that is present is always checked (checkResponse).
func (c *Connection) checkDestination(m *message) *Error {
	if m.destination != "" || !m.responseSigned {
		return nil
	}
	acs := c.acsURL.String()
	e := newError(CodeDestinationMismatch, "the Response is signed but has no Destination: a signed Response must name the ACS URL it is sent to (SAML Bindings §3.5.5.2)")
	return e.mismatch(acs, "")
}

// elementNS is the one namespace each of these element names may have.
// Signature-wrapping and namespace-confusion attacks forge them in other
// namespaces (a prefix rebound to another namespace, a default namespace
// undeclared) to fool verifiers that match on prefixes or local names; no
// IdP sends one.
var elementNS = map[string]string{
	"Response":           nsProtocol,
	"Assertion":          nsAssertion,
	"EncryptedAssertion": nsAssertion,
	"Signature":          nsDSig,
}

// findParts returns the one Assertion, directly under the Response, and
// every XML-DSig Signature of the document. On the way it refuses what no
// IdP sends and wrapping attacks rely on: names that are not
// namespace-well-formed, the names of elementNS in another namespace, a
// nested Response, and SAML assertion content in the Response's
// Extensions (an Assertion or an AttributeStatement there is something a
// careless reader might take for the real one). Attribute values may carry
// any XML of other namespaces.
func findParts(root *etree.Element) (*etree.Element, []*etree.Element, *Error) {
	var assertions, signatures []*etree.Element
	var encrypted bool
	var walk func(el *etree.Element, inExtensions bool) *Error
	walk = func(el *etree.Element, inExtensions bool) *Error {
		for _, ch := range el.ChildElements() {
			if err := checkNames(ch); err != nil {
				return err
			}
			want, named := elementNS[ch.Tag]
			if named {
				if ns := ch.NamespaceURI(); ns != want {
					return newError(CodeMalformed, fmt.Sprintf("the response holds an element named %s in the namespace %q instead of %q", ch.Tag, truncate(ns, 100), want))
				}
			}
			ns := ""
			if named || inExtensions || ch.Tag == "Extensions" {
				ns = ch.NamespaceURI()
			}
			if inExtensions && ns == nsAssertion {
				return newError(CodeMalformed, fmt.Sprintf("the Response's Extensions hold SAML assertion content (%s): assertions and their statements belong in the Assertion only", ch.Tag))
			}
			switch ch.Tag {
			case "Response":
				return newError(CodeMalformed, "a Response element is nested inside the Response")
			case "Assertion":
				assertions = append(assertions, ch)
			case "EncryptedAssertion":
				encrypted = true
			case "Signature":
				signatures = append(signatures, ch)
			}
			if err := walk(ch, inExtensions || (ch.Tag == "Extensions" && ns == nsProtocol)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := checkNames(root); err != nil {
		return nil, nil, err
	}
	if err := walk(root, false); err != nil {
		return nil, nil, err
	}
	if encrypted {
		return nil, nil, newError(CodeUnsupported, "the response carries an EncryptedAssertion; samlgate accepts only signed, unencrypted assertions")
	}
	if len(assertions) != 1 || assertions[0].Parent() != root {
		return nil, nil, newError(CodeMalformed, fmt.Sprintf("the response must hold exactly one Assertion, directly inside the Response; it holds %d", len(assertions)))
	}
	return assertions[0], signatures, nil
}

// checkNames refuses element and attribute names that are not
// namespace-well-formed (Namespaces in XML 1.0 §3): an empty prefix or
// local part (<:Assertion>, xmlns:="…"), or a prefix declared empty
// (xmlns:p=""). encoding/xml, etree and the canonicalizer read such names
// each their own way, which is how one name can mean an element to a check
// and another to the code after it.
func checkNames(el *etree.Element) *Error {
	if strings.Contains(el.Tag, ":") || el.Tag == "" {
		return newError(CodeMalformed, fmt.Sprintf("the element name %q has an empty namespace prefix or local name", truncate(el.FullTag(), 100)))
	}
	for i, a := range el.Attr {
		if strings.Contains(a.Key, ":") || a.Key == "" {
			return newError(CodeMalformed, fmt.Sprintf("the attribute name %q of element %s has an empty namespace prefix or local name", truncate(a.FullKey(), 100), el.Tag))
		}
		if a.Space == "xmlns" && a.Value == "" {
			return newError(CodeMalformed, fmt.Sprintf("element %s declares the namespace prefix %q empty, which XML 1.0 namespaces forbid", el.Tag, a.Key))
		}
		// etree's attribute lookups by local name also find a declaration
		// (xmlns:Destination="…" for Destination). Every attribute SAML
		// defines, and Verify reads, begins with an upper-case letter; no
		// IdP's prefix does (saml2, samlp, ds, xs, ns1…).
		if a.Space == "xmlns" && 'A' <= a.Key[0] && a.Key[0] <= 'Z' {
			return newError(CodeMalformed, fmt.Sprintf("element %s declares the namespace prefix %q, which begins with an upper-case letter like the SAML attribute names it could be taken for", el.Tag, truncate(a.Key, 100)))
		}
		// Two attributes of one local name (Destination and x:Destination,
		// or a declaration xmlns:Destination): etree's lookups find the
		// first, encoding/xml's structs keep the last of those it matches.
		// Verify reads attributes by local name, so no two readers may
		// disagree on which one that is.
		for _, b := range el.Attr[:i] {
			if b.Key == a.Key {
				return newError(CodeMalformed, fmt.Sprintf("element %s has two attributes named %s (%s and %s)", el.Tag, truncate(a.Key, 100), truncate(b.FullKey(), 100), truncate(a.FullKey(), 100)))
			}
		}
	}
	return nil
}

// readAssertion records the values errors quote (never the identity) and
// the time bounds crewjamClock compares. The checks that decide are made
// on the verified elements (checkResponse, checkAssertion, checkTimes).
func (m *message) readAssertion(root, assertion *etree.Element) *Error {
	var err *Error
	if m.issueInstant, err = samlTime(assertion, "IssueInstant", "Assertion IssueInstant", true); err != nil {
		return err
	}
	if m.responseIssueInstant, err = samlTime(root, "IssueInstant", "Response IssueInstant", true); err != nil {
		return err
	}
	m.responseIssuer = childText(root, "Issuer")
	m.assertionIssuer = childText(assertion, "Issuer")
	for _, el := range assertion.FindElements("./Conditions/AudienceRestriction/Audience") {
		m.audiences = append(m.audiences, strings.TrimSpace(el.Text()))
	}
	for _, el := range assertion.FindElements("./Subject/SubjectConfirmation/SubjectConfirmationData") {
		m.assertionInResponseTo = append(m.assertionInResponseTo, el.SelectAttrValue("InResponseTo", ""))
	}
	if cond := samlChild(assertion, "Conditions"); cond != nil {
		if m.conditionsNotBefore, err = samlTime(cond, "NotBefore", "Conditions NotBefore", false); err != nil {
			return err
		}
		if m.conditionsNotOnOrAfter, err = samlTime(cond, "NotOnOrAfter", "Conditions NotOnOrAfter", false); err != nil {
			return err
		}
	}
	subject := samlChild(assertion, "Subject")
	if subject == nil {
		return nil
	}
	for _, sc := range subject.ChildElements() {
		if sc.Tag != "SubjectConfirmation" || sc.NamespaceURI() != nsAssertion || sc.SelectAttrValue("Method", "") != bearer {
			continue
		}
		scd := samlChild(sc, "SubjectConfirmationData")
		if scd == nil {
			continue // checkBearer refuses it
		}
		var w window
		if w.notBefore, err = samlTime(scd, "NotBefore", "SubjectConfirmationData NotBefore", false); err != nil {
			return err
		}
		if w.notOnOrAfter, err = samlTime(scd, "NotOnOrAfter", "SubjectConfirmationData NotOnOrAfter", false); err != nil {
			return err
		}
		if w.notOnOrAfter.IsZero() {
			// crewjam would refuse it as expired, which misleads.
			return newError(CodeMalformed, "the bearer SubjectConfirmationData has no NotOnOrAfter, which a bearer assertion must carry (SAML Profiles §4.1.4.2)")
		}
		m.bearerWindows = append(m.bearerWindows, w)
	}
	return nil
}

// samlTime reads a timestamp attribute as crewjam does (RelaxedTime: RFC
// 3339, rounded to the millisecond), so that Verify judges the bounds
// crewjam, the reference, would read. An absent optional attribute is the
// zero time.
func samlTime(el *etree.Element, attr, what string, required bool) (time.Time, *Error) {
	v := el.SelectAttrValue(attr, "")
	if v == "" {
		if required {
			return time.Time{}, newError(CodeMalformed, "the "+what+" is missing")
		}
		return time.Time{}, nil
	}
	var t crewjam.RelaxedTime
	if err := t.UnmarshalText([]byte(v)); err != nil {
		return time.Time{}, newError(CodeMalformed, fmt.Sprintf("the %s %q is not a timestamp", what, truncate(v, 64))).withCause(err)
	}
	return time.Time(t), nil
}

// samlChild is el's first child element named tag in the SAML assertion
// namespace.
func samlChild(el *etree.Element, tag string) *etree.Element {
	for _, ch := range el.ChildElements() {
		if ch.Tag == tag && ch.NamespaceURI() == nsAssertion {
			return ch
		}
	}
	return nil
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
