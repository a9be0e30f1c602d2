package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/samlgate/samlgate/saml"
)

const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	statusOK    = "urn:oasis:names:tc:SAML:2.0:status:Success"
)

func cmdInspect(e *env, args []string) int {
	fs := newFlagSet("inspect")
	var certs listFlag
	var now timeFlag
	fs.Var(&certs, "idp-cert", "")
	fs.Var(&now, "now", "")
	fs.BoolVar(&e.json, "json", e.json, "")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return e.usageError(err, "")
	}
	if len(files) != 1 {
		return e.usageError(errors.New("inspect takes exactly one FILE (- for stdin)"), "")
	}
	var pinned []*x509.Certificate
	for _, p := range certs {
		data, err := readCerts([]string{p})
		if err != nil {
			return e.configFailure(err)
		}
		cs, err := saml.ParseCertificatesPEM(data[0])
		if err != nil {
			return e.usageError(fmt.Errorf("-idp-cert %s: %v", p, err), "")
		}
		pinned = append(pinned, cs...)
	}
	clock, source := now.clock()
	inputs, err := readInputs(files, e.stdin)
	if err != nil {
		return e.usageError(err, "")
	}
	d, derr := decodeInput(inputs[0], maxInputBytes)
	if derr != nil {
		return e.inspectFailure(files[0], "", derr)
	}
	raw, err := responseXML(d.value)
	if err != nil {
		return e.inspectFailure(files[0], d.form, inputError(string(saml.CodeMalformed), "the SAMLResponse is not base64: "+err.Error(), pasteHint))
	}
	doc, err := saml.ParseUntrustedXML(raw)
	if err != nil {
		return e.inspectFailure(files[0], d.form, inputError(string(saml.CodeMalformed), err.Error(), ""))
	}
	r := inspect(doc, clock(), pinned)
	r.File, r.Form = files[0], d.form
	if e.json {
		writeJSON(e.stdout, r)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "samlcheck: %s: found %s\n", files[0], d.description)
	printReport(e.stdout, r, source)
	return exitOK
}

// inspectFailure reports an input inspect cannot decode; the exit status
// is that of a rejection.
func (e *env) inspectFailure(file, form string, d *diagnosis) int {
	res := fileResult{File: file, Form: form, Error: d}
	if e.json {
		writeJSON(e.stdout, res)
	} else {
		printResult(e.stdout, res)
	}
	return exitRejected
}

// inspect reads everything an admin compares with the console.
func inspect(doc *etree.Document, now time.Time, pinned []*x509.Certificate) *report {
	r := &report{Now: now.UTC().Truncate(time.Second).Format(time.RFC3339), Attributes: []attributeInfo{}, Signatures: []signatureInfo{}, Times: []timeInfo{}, Remarks: []string{}}
	root := doc.Root()
	r.Root = "{" + root.NamespaceURI() + "}" + root.Tag
	if root.Tag != "Response" || root.NamespaceURI() != nsProtocol {
		r.Remarks = append(r.Remarks, notAResponse(root.Tag))
		return r
	}
	r.inspectResponse(root, now)
	assertions, signatures := r.collect(root)
	assertion := r.placedAssertion(root, assertions)
	if assertion != nil {
		r.Assertion, r.Attributes = inspectAssertion(r, assertion, now)
	}
	r.inspectSignatures(root, assertion, signatures, now, pinned)
	return r
}

// notAResponse says what a document with the root element tag is instead
// of a SAML Response, when it is something admins commonly paste.
func notAResponse(tag string) string {
	switch tag {
	case "AuthnRequest":
		return "This is an AuthnRequest (what the SP sends to the IdP), not the Response the IdP posts to the ACS URL."
	case "EntityDescriptor", "EntitiesDescriptor":
		return "This is SAML metadata, not a response: pass it to verify as -idp-metadata."
	default:
		return "The root element is not a SAML 2.0 protocol Response."
	}
}

// inspectResponse reads the Response element's own fields and status and
// remarks on a refusal or a missing Destination.
func (r *report) inspectResponse(root *etree.Element, now time.Time) {
	resp := &responseInfo{
		ID:           root.SelectAttrValue("ID", ""),
		Issuer:       childText(root, "Issuer"),
		Destination:  root.SelectAttrValue("Destination", ""),
		InResponseTo: root.SelectAttrValue("InResponseTo", ""),
		IssueInstant: root.SelectAttrValue("IssueInstant", ""),
		Status:       "(no Status)",
	}
	resp.Connection = connectionOf(resp.Destination)
	if sc := root.FindElement("./Status/StatusCode"); sc != nil {
		resp.Status = sc.SelectAttrValue("Value", "")
		if sub := sc.FindElement("./StatusCode"); sub != nil {
			resp.Status += " / " + sub.SelectAttrValue("Value", "")
		}
	}
	if msg := root.FindElement("./Status/StatusMessage"); msg != nil {
		resp.StatusMessage = strings.TrimSpace(msg.Text())
	}
	r.Response = resp
	r.addTime("Response IssueInstant", resp.IssueInstant, now, "")
	if !strings.HasPrefix(resp.Status, statusOK) {
		r.Remarks = append(r.Remarks, "The status is not Success: the IdP refused the login (verify reports status_not_success).")
	}
	if resp.Destination == "" {
		r.Remarks = append(r.Remarks, "The Response has no Destination (verify refuses that).")
	}
}

// collect finds every Assertion and Signature anywhere under root, in
// document order, wherever a wrapping attack may have hidden them, and
// notes an EncryptedAssertion.
func (r *report) collect(root *etree.Element) (assertions, signatures []*etree.Element) {
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) {
		for _, ch := range el.ChildElements() {
			switch {
			case ch.Tag == "Assertion" && ch.NamespaceURI() == nsAssertion:
				assertions = append(assertions, ch)
			case ch.Tag == "EncryptedAssertion":
				r.Encrypted = true
			case ch.Tag == "Signature" && ch.NamespaceURI() == nsDSig:
				signatures = append(signatures, ch)
			}
			walk(ch)
		}
	}
	walk(root)
	return assertions, signatures
}

// placedAssertion counts the assertions and returns the one directly inside
// the Response (nil if none is), remarking on what verify would refuse.
func (r *report) placedAssertion(root *etree.Element, assertions []*etree.Element) *etree.Element {
	r.Assertions = len(assertions)
	if r.Encrypted {
		r.Remarks = append(r.Remarks, "The response holds an EncryptedAssertion: turn off assertion encryption in the IdP app (verify reports unsupported).")
	}
	if len(assertions) > 1 {
		r.Remarks = append(r.Remarks, fmt.Sprintf("The response holds %d Assertion elements; a genuine one holds exactly one (verify refuses it as malformed).", len(assertions)))
	}
	var assertion *etree.Element
	for _, a := range assertions {
		if a.Parent() == root {
			assertion = a
			break
		}
	}
	if assertion == nil && len(assertions) > 0 {
		r.Remarks = append(r.Remarks, "The Assertion is not directly inside the Response (verify refuses it as malformed).")
	}
	return assertion
}

// inspectSignatures describes each signature, names the element it sits
// in, and remarks on what verify or a connection's signature policy would
// refuse.
func (r *report) inspectSignatures(root, assertion *etree.Element, signatures []*etree.Element, now time.Time, pinned []*x509.Certificate) {
	signedResponse, signedAssertion := false, false
	for _, sig := range signatures {
		si := inspectSignature(sig, now, pinned)
		switch p := sig.Parent(); {
		case p == root:
			si.Element = "Response"
			signedResponse = true
		case assertion != nil && p == assertion:
			si.Element = "Assertion"
			signedAssertion = true
		default:
			si.Element = "misplaced: " + p.GetPath()
			r.Remarks = append(r.Remarks, "A Signature is neither directly inside the Response nor the Assertion (verify refuses it as malformed).")
		}
		r.remarkSignature(si)
		r.Signatures = append(r.Signatures, si)
	}
	switch {
	case len(signatures) == 0 && assertion != nil:
		r.Remarks = append(r.Remarks, "Nothing is signed (verify reports signature_missing).")
	case signedAssertion && !signedResponse:
		r.Remarks = append(r.Remarks, "Only the Assertion is signed (JumpCloud's default): a connection requiring a signed Response (signature: response or both) refuses it.")
	case signedResponse && !signedAssertion:
		r.Remarks = append(r.Remarks, "Only the Response is signed: a connection requiring a signed Assertion (signature: assertion or both) refuses it.")
	}
}

// remarkSignature remarks on a signature that references another element,
// uses SHA-1 or carries a certificate other than the -idp-cert.
func (r *report) remarkSignature(si signatureInfo) {
	if !si.ReferencesParent {
		r.Remarks = append(r.Remarks, fmt.Sprintf("The %s signature's Reference %q is not its element's ID.", si.Element, si.ReferenceURI))
	}
	if isSHA1(si.SignatureMethod) || isSHA1(si.DigestMethod) {
		r.Remarks = append(r.Remarks, fmt.Sprintf("The %s signature uses SHA-1 (verify refuses it unless -allow-sha1).", si.Element))
	}
	if c := si.Certificate; c != nil && c.Matches != nil && !*c.Matches {
		r.Remarks = append(r.Remarks, fmt.Sprintf("The certificate in the %s signature is not the -idp-cert (verify reports untrusted_certificate).", si.Element))
	}
}

func childText(el *etree.Element, tag string) string {
	if ch := el.SelectElement(tag); ch != nil {
		return strings.TrimSpace(ch.Text())
	}
	return ""
}
