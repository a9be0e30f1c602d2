package samltest

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Sign says which elements of a response are signed.
type Sign int

const (
	// SignAssertion signs the Assertion only: JumpCloud's default.
	SignAssertion Sign = iota
	// SignResponse signs the Response only.
	SignResponse
	// SignBoth signs the Assertion, then the Response around it.
	SignBoth
	// SignNone signs nothing.
	SignNone
)

// String returns "assertion", "response", "both" or "none".
func (s Sign) String() string {
	switch s {
	case SignAssertion:
		return "assertion"
	case SignResponse:
		return "response"
	case SignBoth:
		return "both"
	case SignNone:
		return "none"
	}
	return fmt.Sprintf("Sign(%d)", int(s))
}

// Attribute is a SAML attribute: one Attribute element with one
// AttributeValue per value.
type Attribute struct {
	Name   string
	Values []string
}

// Response holds the options for one response. The zero value, with an
// Audience and a Destination, is a JumpCloud IdP-initiated response with
// the Assertion signed; see the package documentation for the defaults.
type Response struct {
	// Sign selects the signed elements (default SignAssertion).
	Sign Sign
	// SHA1 signs with rsa-sha1 and a sha1 digest instead of SHA-256.
	SHA1 bool

	// Issuer of the Response and of the Assertion; "" means IdP.EntityID.
	Issuer string
	// Audience is the SP entity ID, in Conditions/AudienceRestriction.
	Audience string
	// Destination is the ACS URL the response is posted to.
	Destination string
	// Recipient of the SubjectConfirmationData; "" means Destination.
	Recipient string
	// InResponseTo is the AuthnRequest ID of an SP-initiated login; ""
	// makes an IdP-initiated response, without the attribute.
	InResponseTo string

	// IssueInstant of the Response and Assertion, also the AuthnInstant;
	// zero means IdP.Now().
	IssueInstant time.Time
	// NotBefore and NotOnOrAfter of the Conditions (NotOnOrAfter is also
	// the SubjectConfirmationData's); zero means IssueInstant ∓ 5 minutes.
	NotBefore, NotOnOrAfter time.Time

	// NameID of the Subject ("" means Email) and its Format ("" means
	// UnspecifiedNameIDFormat).
	NameID, NameIDFormat string

	// Email adds the attribute "email".
	Email string
	// EmailVerified adds the attribute "email_verified" with this value,
	// as JumpCloud's constant attribute does; "" leaves it out.
	EmailVerified string
	// GivenName and FamilyName add "given_name" and "family_name".
	GivenName, FamilyName string
	// Groups adds the attribute "memberOf" with one AttributeValue per
	// group; nil leaves it out, an empty non-nil slice sends no values.
	Groups []string
	// Attributes are further attributes, written in order after the
	// others. A name may repeat.
	Attributes []Attribute

	// StatusCode of the Response ("" means Success), an optional nested
	// second-level code and an optional StatusMessage. The codes may be
	// full URNs or their last part ("Responder", "RequestDenied").
	StatusCode, SubStatusCode, StatusMessage string
	// OmitAssertion leaves the Assertion out, as in an error response.
	OmitAssertion bool

	// SessionIndex of the AuthnStatement ("" means generated) and its
	// optional SessionNotOnOrAfter.
	SessionIndex        string
	SessionNotOnOrAfter time.Time

	// ResponseID and AssertionID; "" means generated.
	ResponseID, AssertionID string

	// BeforeSign, if set, edits the document before it is signed, so the
	// signatures cover the change. The signed elements are then the root
	// and its first Assertion child.
	BeforeSign func(doc *etree.Document)
	// Mutate, if set, edits the document after it is signed, for attack
	// tests (signature wrapping, tampering).
	Mutate func(doc *etree.Document)
}

const (
	timeFormat     = "2006-01-02T15:04:05.000Z"
	statusPrefix   = "urn:oasis:names:tc:SAML:2.0:status:"
	statusSuccess  = statusPrefix + "Success"
	entityFormat   = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
	basicNameFmt   = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
	bearerMethod   = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	consentUnspec  = "urn:oasis:names:tc:SAML:2.0:consent:unspecified"
	passwordClass  = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	defaultWindow  = 5 * time.Minute
	idLength       = 40
	idAlphabet     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lettersInIDAlp = 26
)

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func statusURN(code string) string {
	if strings.Contains(code, ":") {
		return code
	}
	return statusPrefix + code
}

// ResponseXML builds, signs and serializes one response.
func (idp *IdP) ResponseXML(r Response) ([]byte, error) {
	doc, err := idp.build(r)
	if err != nil {
		return nil, err
	}
	return doc.WriteToBytes()
}

// FormValue returns the base64 (standard encoding) of ResponseXML: the
// SAMLResponse value a browser posts to the ACS.
func (idp *IdP) FormValue(r Response) (string, error) {
	b, err := idp.ResponseXML(r)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func (r *Response) attributes() []Attribute {
	var attrs []Attribute
	if r.Email != "" {
		attrs = append(attrs, Attribute{Name: "email", Values: []string{r.Email}})
	}
	if r.EmailVerified != "" {
		attrs = append(attrs, Attribute{Name: "email_verified", Values: []string{r.EmailVerified}})
	}
	if r.GivenName != "" {
		attrs = append(attrs, Attribute{Name: "given_name", Values: []string{r.GivenName}})
	}
	if r.FamilyName != "" {
		attrs = append(attrs, Attribute{Name: "family_name", Values: []string{r.FamilyName}})
	}
	if r.Groups != nil {
		attrs = append(attrs, Attribute{Name: "memberOf", Values: r.Groups})
	}
	return append(attrs, r.Attributes...)
}
