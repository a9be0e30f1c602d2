package saml

import (
	"fmt"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// verified is what the signature checks hand on: the elements to read the
// message from.
type verified struct {
	// response is the Response as its signature covers it, or nil when the
	// Response is not signed.
	response *etree.Element
	// assertion is the Assertion as a signature covers it: its own, or the
	// Response's when only the Response is signed.
	assertion *etree.Element
	// used are the pinned certificates that verified a signature.
	used []*pinnedCert
}

// verifySignatures checks every signature of the document parseGuarded
// read and inspect shaped (one Assertion directly under the Response,
// signatures only directly under those two), with goxmldsig and the
// pinned certificates: no XML-DSig or canonicalization code of ours. A
// signature that is present must verify, whatever the policy asks for; as
// crewjam does, the Response's is checked first, then the Assertion's.
//
// goxmldsig's Validate returns the signed element parsed anew from the
// canonical bytes whose digest the signature covers. Verify reads every
// identity and protocol field from those elements only, never from the
// document as received: whatever a parser could read differently in the
// received bytes (the encoding/xml round-trip instabilities crewjam's
// xml-roundtrip-validator guards against, comments, wrapping), it is not
// what is read. Reading what was verified is what makes a round-trip
// validator unnecessary here: there is no second parser whose reading
// could differ from the one the signature was checked on.
func (c *Connection) verifySignatures(doc *etree.Document, m *message, ps *pinSet, now time.Time) (*verified, *Error) {
	root := doc.Root()
	v := &sigVerifier{pins: ps.pins, prefer: m.named}
	vc := dsig.NewDefaultValidationContext(nil)
	vc.IdAttribute = "ID"
	vc.Clock = dsig.NewFakeClockAt(now) // the pinned copies have no validity period
	out := &verified{}
	// A Response that redeclares a reserved prefix (xml, xmlns) has no
	// namespace scope to verify anything in: neither signature was checked.
	if _, err := scopeOf(root); err != nil {
		return nil, c.signatureError(m, err)
	}
	if m.responseSigned {
		// The Response is the root: it has no ancestors whose namespace
		// declarations it would lose, so it is verified in place.
		// forPinnedKeys edits only its own Signature, which its digest
		// leaves out (enveloped transform) and the Assertion does not hold.
		signed, err := verifyElement(v, vc, root)
		if err != nil {
			m.failedSignature = "Response"
			if m.assertionSigned {
				c.diagnoseAssertion(m, ps, vc)
			}
			return nil, c.signatureError(m, err)
		}
		out.response = signed
	}
	if m.assertionSigned {
		// Checked on a detached copy that declares the namespaces the
		// Assertion inherits, as crewjam hands it to goxmldsig: Validate
		// copies the element without its ancestors.
		a, err := detach(m.assertion)
		if err == nil {
			out.assertion, err = verifyElement(v, vc, a)
		}
		if err != nil {
			m.failedSignature = "Assertion"
			return nil, c.signatureError(m, err)
		}
	} else {
		// Only the Response is signed: the Assertion is read from the
		// verified Response.
		var n int
		for _, ch := range out.response.ChildElements() {
			if ch.Tag == "Assertion" && ch.NamespaceURI() == nsAssertion {
				out.assertion, n = ch, n+1
			}
		}
		if n != 1 {
			return nil, newError(CodeMalformed, fmt.Sprintf("the signed Response holds %d Assertions, not 1", n))
		}
	}
	out.used = v.used
	return out, nil
}

// verifyElement checks el's enveloped signature: its Reference first, then
// goxmldsig's Validate against each pinned certificate (sigVerifier).
func verifyElement(v *sigVerifier, vc *dsig.ValidationContext, el *etree.Element) (*etree.Element, error) {
	if err := checkReference(el); err != nil {
		return nil, err
	}
	return v.VerifySignedElement(vc, el)
}

// checkReference requires el's Signature to hold exactly one Reference,
// whose only URI attribute, unprefixed, is "#" and el's ID: a signature
// over the element it sits in, and nothing else (crewjam's
// checkSignatureReference). goxmldsig accepts the first matching Reference
// among several, and an empty URI.
func checkReference(el *etree.Element) error {
	sig := dsigChild(el, "Signature")
	if sig == nil {
		return fmt.Errorf("%s has no Signature", el.Tag)
	}
	var refs []*etree.Element
	if si := dsigChild(sig, "SignedInfo"); si != nil {
		for _, ch := range si.ChildElements() {
			if ch.Tag == "Reference" && ch.NamespaceURI() == nsDSig {
				refs = append(refs, ch)
			}
		}
	}
	if len(refs) != 1 {
		return fmt.Errorf("the signature of %s holds %d References, not 1", el.Tag, len(refs))
	}
	id := el.SelectAttrValue("ID", "")
	if id == "" {
		return fmt.Errorf("the signed %s has no ID for its signature to reference", el.Tag)
	}
	var uris []string
	unprefixed := true
	for _, a := range refs[0].Attr {
		if a.Key == "URI" {
			uris = append(uris, a.Value)
			unprefixed = unprefixed && a.Space == ""
		}
	}
	if len(uris) != 1 || !unprefixed || uris[0] != "#"+id {
		return fmt.Errorf("the Reference URI of the signature of %s is not #%s", el.Tag, id)
	}
	return nil
}

// dsigChild is el's first child element named tag in the XML-DSig
// namespace (inspect refuses a repeated Signature).
func dsigChild(el *etree.Element, tag string) *etree.Element {
	for _, ch := range el.ChildElements() {
		if ch.Tag == tag && ch.NamespaceURI() == nsDSig {
			return ch
		}
	}
	return nil
}

// diagnoseAssertion records, for the error message, whether the
// Assertion's own signature verifies when the Response's did not: that
// tells a response altered outside the assertion (a proxy, a capture
// tool) from an altered assertion. It decides nothing: the response is
// refused whatever it finds.
func (c *Connection) diagnoseAssertion(m *message, ps *pinSet, vc *dsig.ValidationContext) {
	m.assertionSignatureOK = sigInvalid
	a, err := detach(m.assertion)
	if err != nil {
		return
	}
	check := &sigVerifier{pins: ps.pins, prefer: m.named}
	if _, err := verifyElement(check, vc, a); err == nil {
		m.assertionSignatureOK = sigValid
	}
}

// signatureError is the signature_invalid error, saying which signature
// failed when there are two.
func (c *Connection) signatureError(m *message, cause error) *Error {
	e := newError(CodeSignatureInvalid, "the signature does not verify against the configured IdP certificate (the message was altered, or signed by another key)")
	if len(m.named) > 0 {
		e.Message = "the signature does not verify although the response names a configured certificate: the response was altered after the IdP signed it"
		e.withHint(hintSignatureAltered)
	}
	if which := whichSignature(m); which != "" {
		e.Message = which
	}
	return e.withCause(cause)
}

// detach returns a copy of el that declares every namespace in scope at
// el, as crewjam hands a signed element to goxmldsig.
func detach(el *etree.Element) (*etree.Element, error) {
	ctx, err := scopeOf(el.Parent())
	if err != nil {
		return nil, err
	}
	return etreeutils.NSDetatch(ctx, el)
}

// scopeOf is the namespace context inside el: etreeutils'
// NSBuildParentContext and SubContext, without the node budget of the
// default context, which NSDetatch would spend on the detached element's
// descendants (an assertion listing a thousand groups exceeds it); crewjam
// detaches without it too. The message's size and depth are bounded
// already (MaxResponseBytes, parseGuarded).
func scopeOf(el *etree.Element) (etreeutils.NSContext, error) {
	if el == nil {
		return etreeutils.EmptyNSContext, nil
	}
	ctx, err := scopeOf(el.Parent())
	if err != nil {
		return ctx, err
	}
	return ctx.SubContext(el)
}
