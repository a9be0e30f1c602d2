package main

import (
	"fmt"
	"io"
	"strings"
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

// printer writes the aligned "label  value" lines of the report for people.
type printer struct{ w io.Writer }

// line writes one label and value, indented by indent spaces.
func (p printer) line(indent int, label, value string) {
	fmt.Fprintf(p.w, "%s%-15s %s\n", strings.Repeat(" ", indent), label, value)
}

// printReport writes the report for people.
func printReport(w io.Writer, r *report, clockSource string) {
	fmt.Fprintln(w, "NOT VERIFIED: this is what the response says, not whether it is genuine or acceptable; samlcheck verify checks it.")
	p := printer{w}
	if r.Response == nil {
		p.line(0, "root element", r.Root)
		printRemarks(w, r.Remarks)
		return
	}
	p.printResponse(r)
	if a := r.Assertion; a != nil {
		p.printAssertion(r, a)
		p.printAttributes(r.Attributes)
	}
	p.printSignatures(r.Signatures)
	fmt.Fprintf(w, "Now              %s (%s)\n", r.Now, clockSource)
	printRemarks(w, r.Remarks)
}

// printRemarks writes each remark on a line of its own, marked with "!".
func printRemarks(w io.Writer, remarks []string) {
	for _, rm := range remarks {
		fmt.Fprintf(w, "! %s\n", rm)
	}
}

// printResponse writes the Response element's fields and status.
func (p printer) printResponse(r *report) {
	rs := r.Response
	fmt.Fprintln(p.w, "Response")
	p.line(2, "ID", rs.ID)
	p.line(2, "Issuer", orNone(rs.Issuer))
	dest := orNone(rs.Destination)
	if rs.Connection != "" {
		dest += "   (connection " + rs.Connection + ")"
	}
	p.line(2, "Destination", dest)
	p.line(2, "InResponseTo", inResponseTo(rs.InResponseTo))
	p.line(2, "IssueInstant", timeWithRelative(r, "Response IssueInstant", rs.IssueInstant))
	status := rs.Status
	if rs.StatusMessage != "" {
		status += fmt.Sprintf(" (%q)", rs.StatusMessage)
	}
	p.line(2, "Status", status)
}

// printAssertion writes the Assertion's subject, conditions and authn
// statements, each time with how it relates to now.
func (p printer) printAssertion(r *report, a *assertionInfo) {
	fmt.Fprintln(p.w, "Assertion")
	p.line(2, "ID", a.ID)
	p.line(2, "Issuer", orNone(a.Issuer))
	p.line(2, "IssueInstant", timeWithRelative(r, "Assertion IssueInstant", a.IssueInstant))
	p.line(2, "NameID", orNone(a.NameID))
	p.line(2, "NameID format", orNone(a.NameIDFormat))
	p.line(2, "Audience", orNone(strings.Join(a.Audiences, ", ")))
	for _, sc := range a.SubjectConfirmations {
		p.line(2, "Recipient", orNone(sc.Recipient))
		p.line(4, "method", orNone(sc.Method))
		p.line(4, "InResponseTo", inResponseTo(sc.InResponseTo))
		if sc.NotBefore != "" {
			p.line(4, "NotBefore", timeWithRelative(r, "SubjectConfirmationData NotBefore", sc.NotBefore))
		}
		if sc.NotOnOrAfter != "" {
			p.line(4, "NotOnOrAfter", timeWithRelative(r, "SubjectConfirmationData NotOnOrAfter", sc.NotOnOrAfter))
		}
	}
	if a.NotBefore != "" || a.NotOnOrAfter != "" {
		fmt.Fprintln(p.w, "  Conditions")
		p.line(4, "NotBefore", timeWithRelative(r, "Conditions NotBefore", a.NotBefore))
		p.line(4, "NotOnOrAfter", timeWithRelative(r, "Conditions NotOnOrAfter", a.NotOnOrAfter))
	}
	for _, st := range a.AuthnStatements {
		p.line(2, "AuthnInstant", timeWithRelative(r, "AuthnInstant", st.AuthnInstant))
		p.line(2, "SessionIndex", orNone(st.SessionIndex))
		if st.SessionNotOnOrAfter != "" {
			p.line(2, "Session ends", timeWithRelative(r, "SessionNotOnOrAfter", st.SessionNotOnOrAfter))
		}
		if st.AuthnContext != "" {
			p.line(2, "AuthnContext", st.AuthnContext)
		}
	}
}

// printAttributes writes each attribute, a multi-valued one a value a line.
func (p printer) printAttributes(attrs []attributeInfo) {
	fmt.Fprintf(p.w, "Attributes (%d)\n", len(attrs))
	for _, at := range attrs {
		name := at.Name
		if at.FriendlyName != "" && at.FriendlyName != at.Name {
			name += " (" + at.FriendlyName + ")"
		}
		switch len(at.Values) {
		case 0:
			p.line(2, name, "(no values)")
		case 1:
			p.line(2, name, at.Values[0])
		default:
			p.line(2, name, fmt.Sprintf("%d values:", len(at.Values)))
			for _, v := range at.Values {
				fmt.Fprintf(p.w, "      %s\n", v)
			}
		}
	}
}

// printSignatures says which of Response and Assertion is unsigned, then
// describes every signature found.
func (p printer) printSignatures(sigs []signatureInfo) {
	fmt.Fprintln(p.w, "Signatures")
	for _, want := range []string{"Response", "Assertion"} {
		found := false
		for _, s := range sigs {
			if s.Element == want {
				found = true
			}
		}
		if !found {
			p.line(2, want, "not signed")
		}
	}
	for _, s := range sigs {
		p.printSignature(s)
	}
}

// printSignature writes a signature's algorithms, reference and transforms
// and the certificate in its KeyInfo.
func (p printer) printSignature(s signatureInfo) {
	p.line(2, s.Element, fmt.Sprintf("signed: %s, digest %s, %s", algorithmName(s.SignatureMethod), algorithmName(s.DigestMethod), algorithmName(s.Canonicalization)))
	ref := s.ReferenceURI
	if s.ReferencesParent {
		ref += " (the " + s.Element + "'s ID)"
	} else {
		ref += " (NOT the signed element's ID)"
	}
	p.line(4, "Reference", ref)
	transforms := make([]string, len(s.Transforms))
	for i, t := range s.Transforms {
		transforms[i] = algorithmName(t)
	}
	p.line(4, "Transforms", orNone(strings.Join(transforms, ", ")))
	if s.Certificate == nil {
		p.line(4, "KeyInfo", "no certificate")
		return
	}
	p.printCertificate(s.Certificate)
}

// printCertificate writes the KeyInfo certificate: fingerprint, names,
// validity against now, key, and whether it is the -idp-cert.
func (p printer) printCertificate(c *certInfo) {
	fmt.Fprintln(p.w, "    Certificate in KeyInfo")
	if c.Error != "" {
		p.line(6, "error", c.Error)
		return
	}
	p.line(6, "SHA-256", c.Fingerprint)
	p.line(6, "subject", c.Subject)
	if c.Issuer != c.Subject {
		p.line(6, "issuer", c.Issuer)
	}
	p.line(6, "valid", c.NotBefore+" until "+c.NotAfter)
	p.line(6, "", c.Validity)
	p.line(6, "key", c.Key)
	if c.Matches != nil {
		if *c.Matches {
			p.line(6, "-idp-cert", "matches")
		} else {
			p.line(6, "-idp-cert", "does NOT match: -idp-cert is "+strings.Join(c.Configured, ", "))
		}
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
