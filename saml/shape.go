package saml

import (
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
)

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
func (c *Connection) inspect(doc *etree.Document, ps *pinSet) (*message, *Error) {
	root := doc.Root()
	if root.Tag != "Response" || root.NamespaceURI() != nsProtocol {
		return nil, newError(CodeMalformed, fmt.Sprintf("the root element is {%s}%s, not a SAML 2.0 Response", root.NamespaceURI(), root.Tag))
	}
	m := &message{destination: root.SelectAttrValue("Destination", ""), inResponseTo: root.SelectAttrValue("InResponseTo", "")}
	if err := c.checkEnvelope(root, m); err != nil {
		return nil, err
	}
	assertion, signatures, err := findParts(root)
	if err != nil {
		return nil, err
	}
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
	if err := m.readAssertion(root, assertion); err != nil {
		return nil, err
	}
	return m, nil
}

// checkEnvelope refuses an error status and a missing Destination.
func (c *Connection) checkEnvelope(root *etree.Element, m *message) *Error {
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
	// SAML lets an unsigned Response omit Destination; every IdP we know
	// sends it, and requiring it makes a response captured for one
	// connection useless at another.
	if m.destination == "" {
		acs := c.acsURL.String()
		return newError(CodeDestinationMismatch, urlMismatchMessage("Destination", acs, "")).mismatch(acs, "")
	}
	return nil
}

// findParts returns the one Assertion, directly under the Response, and
// every XML-DSig Signature of the document.
func findParts(root *etree.Element) (*etree.Element, []*etree.Element, *Error) {
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
		return nil, nil, newError(CodeUnsupported, "the response carries an EncryptedAssertion; samlgate accepts only signed, unencrypted assertions")
	}
	if len(assertions) != 1 || assertions[0].Parent() != root {
		return nil, nil, newError(CodeMalformed, fmt.Sprintf("the response must hold exactly one Assertion, directly inside the Response; it holds %d", len(assertions)))
	}
	return assertions[0], signatures, nil
}

// readAssertion records the values errors quote (never the identity).
func (m *message) readAssertion(root, assertion *etree.Element) *Error {
	ii := assertion.SelectAttrValue("IssueInstant", "")
	t, err := time.Parse(time.RFC3339Nano, ii)
	if err != nil {
		return newError(CodeMalformed, fmt.Sprintf("the Assertion IssueInstant %q is not a timestamp", ii))
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
