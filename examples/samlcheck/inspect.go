package main

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
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

// report is what inspect shows: the response as it says it is. Nothing in
// it has been verified.
type report struct {
	File string `json:"file"`
	Form string `json:"form"`
	// Verified is always false: inspect never verifies.
	Verified bool   `json:"verified"`
	Now      string `json:"now"`
	// Root is the root element; Response when it is a SAML response.
	Root       string          `json:"root"`
	Response   *responseInfo   `json:"response,omitempty"`
	Assertions int             `json:"assertions"`
	Encrypted  bool            `json:"encrypted_assertion,omitempty"`
	Assertion  *assertionInfo  `json:"assertion,omitempty"`
	Attributes []attributeInfo `json:"attributes"`
	Signatures []signatureInfo `json:"signatures"`
	Times      []timeInfo      `json:"times"`
	// Remarks point out what verify would refuse or what looks odd.
	Remarks []string `json:"remarks"`
}

type responseInfo struct {
	ID            string `json:"id"`
	Issuer        string `json:"issuer"`
	Destination   string `json:"destination"`
	Connection    string `json:"destination_connection,omitempty"`
	InResponseTo  string `json:"in_response_to"`
	IssueInstant  string `json:"issue_instant"`
	Status        string `json:"status"`
	StatusMessage string `json:"status_message,omitempty"`
}

type assertionInfo struct {
	ID                   string                `json:"id"`
	Issuer               string                `json:"issuer"`
	IssueInstant         string                `json:"issue_instant"`
	NameID               string                `json:"name_id"`
	NameIDFormat         string                `json:"name_id_format"`
	Audiences            []string              `json:"audiences"`
	SubjectConfirmations []subjectConfirmation `json:"subject_confirmations"`
	NotBefore            string                `json:"not_before,omitempty"`
	NotOnOrAfter         string                `json:"not_on_or_after,omitempty"`
	AuthnStatements      []authnStatementInfo  `json:"authn_statements"`
}

type subjectConfirmation struct {
	Method       string `json:"method"`
	Recipient    string `json:"recipient"`
	InResponseTo string `json:"in_response_to"`
	NotBefore    string `json:"not_before,omitempty"`
	NotOnOrAfter string `json:"not_on_or_after,omitempty"`
}

type authnStatementInfo struct {
	AuthnInstant        string `json:"authn_instant"`
	SessionIndex        string `json:"session_index"`
	SessionNotOnOrAfter string `json:"session_not_on_or_after,omitempty"`
	AuthnContext        string `json:"authn_context,omitempty"`
}

type attributeInfo struct {
	Name         string   `json:"name"`
	FriendlyName string   `json:"friendly_name,omitempty"`
	NameFormat   string   `json:"name_format,omitempty"`
	Values       []string `json:"values"`
}

type signatureInfo struct {
	// Element is "Response", "Assertion", or the path of a misplaced
	// signature.
	Element          string    `json:"element"`
	ReferenceURI     string    `json:"reference_uri"`
	ReferencesParent bool      `json:"references_parent"`
	SignatureMethod  string    `json:"signature_method"`
	DigestMethod     string    `json:"digest_method"`
	Canonicalization string    `json:"canonicalization"`
	Transforms       []string  `json:"transforms"`
	Certificate      *certInfo `json:"certificate,omitempty"`
}

type certInfo struct {
	Fingerprint string `json:"sha256_fingerprint"`
	Subject     string `json:"subject"`
	Issuer      string `json:"issuer"`
	NotBefore   string `json:"not_before"`
	NotAfter    string `json:"not_after"`
	// Validity says how the validity period relates to now.
	Validity string `json:"validity"`
	Key      string `json:"key"`
	// Matches is set when -idp-cert is given: whether this certificate is
	// one of them.
	Matches    *bool    `json:"matches_idp_cert,omitempty"`
	Configured []string `json:"idp_cert_fingerprints,omitempty"`
	Error      string   `json:"error,omitempty"`
}

type timeInfo struct {
	What     string `json:"what"`
	Value    string `json:"value"`
	Relative string `json:"relative"`
	// Remark is set when now is outside the bound.
	Remark string `json:"remark,omitempty"`
}

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
		switch root.Tag {
		case "AuthnRequest":
			r.Remarks = append(r.Remarks, "This is an AuthnRequest (what the SP sends to the IdP), not the Response the IdP posts to the ACS URL.")
		case "EntityDescriptor", "EntitiesDescriptor":
			r.Remarks = append(r.Remarks, "This is SAML metadata, not a response: pass it to verify as -idp-metadata.")
		default:
			r.Remarks = append(r.Remarks, "The root element is not a SAML 2.0 protocol Response.")
		}
		return r
	}

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

	var assertions, signatures []*etree.Element
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
	if assertion != nil {
		r.Assertion, r.Attributes = inspectAssertion(r, assertion, now)
	}

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
		if !si.ReferencesParent {
			r.Remarks = append(r.Remarks, fmt.Sprintf("The %s signature's Reference %q is not its element's ID.", si.Element, si.ReferenceURI))
		}
		if isSHA1(si.SignatureMethod) || isSHA1(si.DigestMethod) {
			r.Remarks = append(r.Remarks, fmt.Sprintf("The %s signature uses SHA-1 (verify refuses it unless -allow-sha1).", si.Element))
		}
		if c := si.Certificate; c != nil && c.Matches != nil && !*c.Matches {
			r.Remarks = append(r.Remarks, fmt.Sprintf("The certificate in the %s signature is not the -idp-cert (verify reports untrusted_certificate).", si.Element))
		}
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
	return r
}

func inspectAssertion(r *report, a *etree.Element, now time.Time) (*assertionInfo, []attributeInfo) {
	info := &assertionInfo{
		ID:           a.SelectAttrValue("ID", ""),
		Issuer:       childText(a, "Issuer"),
		IssueInstant: a.SelectAttrValue("IssueInstant", ""),
		Audiences:    []string{},
	}
	r.addTime("Assertion IssueInstant", info.IssueInstant, now, "")
	if r.Response != nil && r.Response.Issuer != "" && info.Issuer != r.Response.Issuer {
		r.Remarks = append(r.Remarks, "The Response and the Assertion name different Issuers.")
	}
	if n := a.FindElement("./Subject/NameID"); n != nil {
		info.NameID = strings.TrimSpace(n.Text())
		info.NameIDFormat = n.SelectAttrValue("Format", "")
	}
	for _, sc := range a.FindElements("./Subject/SubjectConfirmation") {
		c := subjectConfirmation{Method: sc.SelectAttrValue("Method", "")}
		if scd := sc.SelectElement("SubjectConfirmationData"); scd != nil {
			c.Recipient = scd.SelectAttrValue("Recipient", "")
			c.InResponseTo = scd.SelectAttrValue("InResponseTo", "")
			c.NotBefore = scd.SelectAttrValue("NotBefore", "")
			c.NotOnOrAfter = scd.SelectAttrValue("NotOnOrAfter", "")
		}
		info.SubjectConfirmations = append(info.SubjectConfirmations, c)
		r.addTime("SubjectConfirmationData NotBefore", c.NotBefore, now, "before")
		r.addTime("SubjectConfirmationData NotOnOrAfter", c.NotOnOrAfter, now, "after")
	}
	if cond := a.SelectElement("Conditions"); cond != nil {
		info.NotBefore = cond.SelectAttrValue("NotBefore", "")
		info.NotOnOrAfter = cond.SelectAttrValue("NotOnOrAfter", "")
		for _, au := range cond.FindElements("./AudienceRestriction/Audience") {
			info.Audiences = append(info.Audiences, strings.TrimSpace(au.Text()))
		}
		r.addTime("Conditions NotBefore", info.NotBefore, now, "before")
		r.addTime("Conditions NotOnOrAfter", info.NotOnOrAfter, now, "after")
	}
	for _, st := range a.SelectElements("AuthnStatement") {
		s := authnStatementInfo{
			AuthnInstant:        st.SelectAttrValue("AuthnInstant", ""),
			SessionIndex:        st.SelectAttrValue("SessionIndex", ""),
			SessionNotOnOrAfter: st.SelectAttrValue("SessionNotOnOrAfter", ""),
		}
		if ref := st.FindElement("./AuthnContext/AuthnContextClassRef"); ref != nil {
			s.AuthnContext = strings.TrimSpace(ref.Text())
		}
		info.AuthnStatements = append(info.AuthnStatements, s)
		r.addTime("AuthnInstant", s.AuthnInstant, now, "")
		r.addTime("SessionNotOnOrAfter", s.SessionNotOnOrAfter, now, "after")
	}
	if info.IssueInstant != "" {
		if t, err := time.Parse(time.RFC3339Nano, info.IssueInstant); err == nil {
			limit := t.Add(saml.DefaultMaxIssueDelay + saml.DefaultClockSkew)
			if now.After(limit) {
				r.Remarks = append(r.Remarks, fmt.Sprintf("With the default settings samlgate refuses an assertion more than %s (+ %s clock skew) after its IssueInstant: this one is %s past that at now (verify reports expired; a replay needs -now).",
					fmtDuration(saml.DefaultMaxIssueDelay), fmtDuration(saml.DefaultClockSkew), fmtDuration(now.Sub(limit).Round(time.Second))))
			}
		}
	}

	attrs := []attributeInfo{}
	for _, at := range a.FindElements("./AttributeStatement/Attribute") {
		ai := attributeInfo{
			Name:         at.SelectAttrValue("Name", ""),
			FriendlyName: at.SelectAttrValue("FriendlyName", ""),
			NameFormat:   at.SelectAttrValue("NameFormat", ""),
			Values:       []string{},
		}
		for _, v := range at.SelectElements("AttributeValue") {
			if n := v.SelectElement("NameID"); n != nil {
				ai.Values = append(ai.Values, strings.TrimSpace(n.Text()))
				continue
			}
			ai.Values = append(ai.Values, v.Text())
		}
		attrs = append(attrs, ai)
	}
	return info, attrs
}

// addTime records a timestamp and how it relates to now. bound is "before"
// for a NotBefore, "after" for a NotOnOrAfter.
func (r *report) addTime(what, value string, now time.Time, bound string) {
	if value == "" {
		return
	}
	ti := timeInfo{What: what, Value: value}
	t, err := time.Parse(time.RFC3339Nano, value)
	if err != nil {
		ti.Relative = "not a timestamp"
		r.Times = append(r.Times, ti)
		return
	}
	ti.Relative = relative(t, now)
	switch {
	case bound == "before" && now.Before(t):
		ti.Remark = "not reached yet at now, by " + fmtDuration(t.Sub(now).Round(time.Second))
	case bound == "after" && !now.Before(t):
		ti.Remark = "passed at now, by " + fmtDuration(now.Sub(t).Round(time.Second))
	}
	r.Times = append(r.Times, ti)
}

func inspectSignature(sig *etree.Element, now time.Time, pinned []*x509.Certificate) signatureInfo {
	si := signatureInfo{Transforms: []string{}}
	attr := func(path string) string {
		if el := sig.FindElement(path); el != nil {
			return el.SelectAttrValue("Algorithm", "")
		}
		return ""
	}
	si.SignatureMethod = attr("./SignedInfo/SignatureMethod")
	si.DigestMethod = attr("./SignedInfo/Reference/DigestMethod")
	si.Canonicalization = attr("./SignedInfo/CanonicalizationMethod")
	for _, t := range sig.FindElements("./SignedInfo/Reference/Transforms/Transform") {
		si.Transforms = append(si.Transforms, t.SelectAttrValue("Algorithm", ""))
	}
	if ref := sig.FindElement("./SignedInfo/Reference"); ref != nil {
		si.ReferenceURI = ref.SelectAttrValue("URI", "")
	}
	if p := sig.Parent(); p != nil {
		id := p.SelectAttrValue("ID", "")
		si.ReferencesParent = id != "" && si.ReferenceURI == "#"+id
	}
	if xc := sig.FindElement("./KeyInfo/X509Data/X509Certificate"); xc != nil {
		si.Certificate = inspectCertificate(xc.Text(), now, pinned)
	}
	return si
}

func inspectCertificate(text string, now time.Time, pinned []*x509.Certificate) *certInfo {
	certs, err := saml.ParseCertificatesPEM([]byte(text))
	if err != nil {
		return &certInfo{Error: "the X509Certificate cannot be read: " + err.Error()}
	}
	cert := certs[0]
	ci := &certInfo{
		Fingerprint: saml.Fingerprint(cert),
		Subject:     cert.Subject.String(),
		Issuer:      cert.Issuer.String(),
		NotBefore:   cert.NotBefore.UTC().Format(time.RFC3339),
		NotAfter:    cert.NotAfter.UTC().Format(time.RFC3339),
	}
	switch {
	case now.Before(cert.NotBefore):
		ci.Validity = "not valid yet at now (starts " + fmtDuration(cert.NotBefore.Sub(now).Round(time.Second)) + " after now)"
	case now.After(cert.NotAfter):
		ci.Validity = "expired at now (" + fmtDuration(now.Sub(cert.NotAfter).Round(time.Second)) + " before now)"
	default:
		ci.Validity = "within its validity period at now (expires " + fmtDuration(cert.NotAfter.Sub(now).Round(time.Hour)) + " after now)"
	}
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		ci.Key = fmt.Sprintf("RSA %d bits", k.N.BitLen())
	case *ecdsa.PublicKey:
		ci.Key = "ECDSA " + k.Curve.Params().Name
	default:
		ci.Key = fmt.Sprintf("%T", cert.PublicKey)
	}
	if len(pinned) > 0 {
		match := false
		for _, p := range pinned {
			ci.Configured = append(ci.Configured, saml.Fingerprint(p))
			if p.Equal(cert) {
				match = true
			}
		}
		ci.Matches = &match
	}
	return ci
}

func childText(el *etree.Element, tag string) string {
	if ch := el.SelectElement(tag); ch != nil {
		return strings.TrimSpace(ch.Text())
	}
	return ""
}

func isSHA1(alg string) bool {
	i := strings.LastIndexByte(alg, '#')
	return strings.HasSuffix(strings.ToLower(alg[i+1:]), "sha1")
}

// algorithmName shortens the algorithm URIs an admin sees in consoles.
func algorithmName(uri string) string {
	names := map[string]string{
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256":     "RSA-SHA256",
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384":     "RSA-SHA384",
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512":     "RSA-SHA512",
		"http://www.w3.org/2000/09/xmldsig#rsa-sha1":            "RSA-SHA1",
		"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256":   "ECDSA-SHA256",
		"http://www.w3.org/2001/04/xmlenc#sha256":               "SHA-256",
		"http://www.w3.org/2001/04/xmldsig-more#sha384":         "SHA-384",
		"http://www.w3.org/2001/04/xmlenc#sha512":               "SHA-512",
		"http://www.w3.org/2000/09/xmldsig#sha1":                "SHA-1",
		"http://www.w3.org/2001/10/xml-exc-c14n#":               "exclusive c14n",
		"http://www.w3.org/2001/10/xml-exc-c14n#WithComments":   "exclusive c14n with comments",
		"http://www.w3.org/TR/2001/REC-xml-c14n-20010315":       "inclusive c14n 1.0",
		"http://www.w3.org/2006/12/xml-c14n11":                  "c14n 1.1",
		"http://www.w3.org/2000/09/xmldsig#enveloped-signature": "enveloped",
	}
	if n, ok := names[uri]; ok {
		return n
	}
	if uri == "" {
		return "(none)"
	}
	return uri
}

// printReport writes the report for people.
func printReport(w io.Writer, r *report, clockSource string) {
	fmt.Fprintln(w, "NOT VERIFIED: this is what the response says, not whether it is genuine or acceptable; samlcheck verify checks it.")
	line := func(indent int, label, value string) {
		fmt.Fprintf(w, "%s%-15s %s\n", strings.Repeat(" ", indent), label, value)
	}
	if r.Response == nil {
		line(0, "root element", r.Root)
		for _, rm := range r.Remarks {
			fmt.Fprintf(w, "! %s\n", rm)
		}
		return
	}
	rs := r.Response
	fmt.Fprintln(w, "Response")
	line(2, "ID", rs.ID)
	line(2, "Issuer", orNone(rs.Issuer))
	dest := orNone(rs.Destination)
	if rs.Connection != "" {
		dest += "   (connection " + rs.Connection + ")"
	}
	line(2, "Destination", dest)
	line(2, "InResponseTo", inResponseTo(rs.InResponseTo))
	line(2, "IssueInstant", timeWithRelative(r, "Response IssueInstant", rs.IssueInstant))
	status := rs.Status
	if rs.StatusMessage != "" {
		status += fmt.Sprintf(" (%q)", rs.StatusMessage)
	}
	line(2, "Status", status)

	if a := r.Assertion; a != nil {
		fmt.Fprintln(w, "Assertion")
		line(2, "ID", a.ID)
		line(2, "Issuer", orNone(a.Issuer))
		line(2, "IssueInstant", timeWithRelative(r, "Assertion IssueInstant", a.IssueInstant))
		line(2, "NameID", orNone(a.NameID))
		line(2, "NameID format", orNone(a.NameIDFormat))
		line(2, "Audience", orNone(strings.Join(a.Audiences, ", ")))
		for _, sc := range a.SubjectConfirmations {
			line(2, "Recipient", orNone(sc.Recipient))
			line(4, "method", orNone(sc.Method))
			line(4, "InResponseTo", inResponseTo(sc.InResponseTo))
			if sc.NotBefore != "" {
				line(4, "NotBefore", timeWithRelative(r, "SubjectConfirmationData NotBefore", sc.NotBefore))
			}
			if sc.NotOnOrAfter != "" {
				line(4, "NotOnOrAfter", timeWithRelative(r, "SubjectConfirmationData NotOnOrAfter", sc.NotOnOrAfter))
			}
		}
		if a.NotBefore != "" || a.NotOnOrAfter != "" {
			fmt.Fprintln(w, "  Conditions")
			line(4, "NotBefore", timeWithRelative(r, "Conditions NotBefore", a.NotBefore))
			line(4, "NotOnOrAfter", timeWithRelative(r, "Conditions NotOnOrAfter", a.NotOnOrAfter))
		}
		for _, st := range a.AuthnStatements {
			line(2, "AuthnInstant", timeWithRelative(r, "AuthnInstant", st.AuthnInstant))
			line(2, "SessionIndex", orNone(st.SessionIndex))
			if st.SessionNotOnOrAfter != "" {
				line(2, "Session ends", timeWithRelative(r, "SessionNotOnOrAfter", st.SessionNotOnOrAfter))
			}
			if st.AuthnContext != "" {
				line(2, "AuthnContext", st.AuthnContext)
			}
		}
		fmt.Fprintf(w, "Attributes (%d)\n", len(r.Attributes))
		for _, at := range r.Attributes {
			name := at.Name
			if at.FriendlyName != "" && at.FriendlyName != at.Name {
				name += " (" + at.FriendlyName + ")"
			}
			switch len(at.Values) {
			case 0:
				line(2, name, "(no values)")
			case 1:
				line(2, name, at.Values[0])
			default:
				line(2, name, fmt.Sprintf("%d values:", len(at.Values)))
				for _, v := range at.Values {
					fmt.Fprintf(w, "      %s\n", v)
				}
			}
		}
	}

	fmt.Fprintln(w, "Signatures")
	for _, want := range []string{"Response", "Assertion"} {
		found := false
		for _, s := range r.Signatures {
			if s.Element == want {
				found = true
			}
		}
		if !found {
			line(2, want, "not signed")
		}
	}
	for _, s := range r.Signatures {
		line(2, s.Element, fmt.Sprintf("signed: %s, digest %s, %s", algorithmName(s.SignatureMethod), algorithmName(s.DigestMethod), algorithmName(s.Canonicalization)))
		ref := s.ReferenceURI
		if s.ReferencesParent {
			ref += " (the " + s.Element + "'s ID)"
		} else {
			ref += " (NOT the signed element's ID)"
		}
		line(4, "Reference", ref)
		transforms := make([]string, len(s.Transforms))
		for i, t := range s.Transforms {
			transforms[i] = algorithmName(t)
		}
		line(4, "Transforms", orNone(strings.Join(transforms, ", ")))
		c := s.Certificate
		if c == nil {
			line(4, "KeyInfo", "no certificate")
			continue
		}
		fmt.Fprintln(w, "    Certificate in KeyInfo")
		if c.Error != "" {
			line(6, "error", c.Error)
			continue
		}
		line(6, "SHA-256", c.Fingerprint)
		line(6, "subject", c.Subject)
		if c.Issuer != c.Subject {
			line(6, "issuer", c.Issuer)
		}
		line(6, "valid", c.NotBefore+" until "+c.NotAfter)
		line(6, "", c.Validity)
		line(6, "key", c.Key)
		if c.Matches != nil {
			if *c.Matches {
				line(6, "-idp-cert", "matches")
			} else {
				line(6, "-idp-cert", "does NOT match: -idp-cert is "+strings.Join(c.Configured, ", "))
			}
		}
	}
	fmt.Fprintf(w, "Now              %s (%s)\n", r.Now, clockSource)
	for _, rm := range r.Remarks {
		fmt.Fprintf(w, "! %s\n", rm)
	}
}

func inResponseTo(v string) string {
	if v == "" {
		return "(none: IdP-initiated)"
	}
	return v
}

func timeWithRelative(r *report, what, value string) string {
	if value == "" {
		return "(none)"
	}
	for _, t := range r.Times {
		if t.What == what && t.Value == value {
			s := value + " (" + t.Relative
			if t.Remark != "" {
				s += "; " + t.Remark
			}
			return s + ")"
		}
	}
	return value
}
