package samltest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
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

func (idp *IdP) build(r Response) (*etree.Document, error) {
	if r.Sign < SignAssertion || r.Sign > SignNone {
		return nil, fmt.Errorf("samltest: unknown Sign value %d", int(r.Sign))
	}
	if r.Sign != SignNone && (idp.Key == nil || idp.Certificate == nil) {
		return nil, errors.New("samltest: signing needs IdP.Key and IdP.Certificate")
	}

	issueInstant := r.IssueInstant
	if issueInstant.IsZero() {
		issueInstant = idp.now()
	}
	issueInstant = issueInstant.UTC().Truncate(time.Millisecond)
	notBefore := r.NotBefore
	if notBefore.IsZero() {
		notBefore = issueInstant.Add(-defaultWindow)
	}
	notOnOrAfter := r.NotOnOrAfter
	if notOnOrAfter.IsZero() {
		notOnOrAfter = issueInstant.Add(defaultWindow)
	}
	issuer := r.Issuer
	if issuer == "" {
		issuer = idp.EntityID
	}
	recipient := r.Recipient
	if recipient == "" {
		recipient = r.Destination
	}
	nameID := r.NameID
	if nameID == "" {
		nameID = r.Email
	}
	nameIDFormat := r.NameIDFormat
	if nameIDFormat == "" {
		nameIDFormat = UnspecifiedNameIDFormat
	}

	seed := idp.seed(&r, issuer, recipient, nameID, issueInstant)
	responseID := r.ResponseID
	if responseID == "" {
		responseID = generateID(seed, "response")
	}
	assertionID := r.AssertionID
	if assertionID == "" {
		assertionID = generateID(seed, "assertion")
	}
	sessionIndex := r.SessionIndex
	if sessionIndex == "" {
		sessionIndex = generateUUID(seed, "session")
	}

	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)

	resp := doc.CreateElement("saml2p:Response")
	resp.CreateAttr("xmlns:saml2p", nsProtocol)
	resp.CreateAttr("Consent", consentUnspec)
	if r.Destination != "" {
		resp.CreateAttr("Destination", r.Destination)
	}
	resp.CreateAttr("ID", responseID)
	if r.InResponseTo != "" {
		resp.CreateAttr("InResponseTo", r.InResponseTo)
	}
	resp.CreateAttr("IssueInstant", formatTime(issueInstant))
	resp.CreateAttr("Version", "2.0")

	respIssuer := resp.CreateElement("saml2:Issuer")
	respIssuer.CreateAttr("xmlns:saml2", nsAssertion)
	respIssuer.CreateAttr("Format", entityFormat)
	respIssuer.SetText(issuer)

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

	var assertion *etree.Element
	if !r.OmitAssertion {
		assertion = resp.CreateElement("saml2:Assertion")
		assertion.CreateAttr("xmlns:saml2", nsAssertion)
		assertion.CreateAttr("ID", assertionID)
		assertion.CreateAttr("IssueInstant", formatTime(issueInstant))
		assertion.CreateAttr("Version", "2.0")

		ai := assertion.CreateElement("saml2:Issuer")
		ai.CreateAttr("Format", entityFormat)
		ai.SetText(issuer)

		subject := assertion.CreateElement("saml2:Subject")
		nid := subject.CreateElement("saml2:NameID")
		nid.CreateAttr("Format", nameIDFormat)
		nid.SetText(nameID)
		sc := subject.CreateElement("saml2:SubjectConfirmation")
		sc.CreateAttr("Method", bearerMethod)
		scd := sc.CreateElement("saml2:SubjectConfirmationData")
		if r.InResponseTo != "" {
			scd.CreateAttr("InResponseTo", r.InResponseTo)
		}
		scd.CreateAttr("NotOnOrAfter", formatTime(notOnOrAfter))
		if recipient != "" {
			scd.CreateAttr("Recipient", recipient)
		}

		cond := assertion.CreateElement("saml2:Conditions")
		cond.CreateAttr("NotBefore", formatTime(notBefore))
		cond.CreateAttr("NotOnOrAfter", formatTime(notOnOrAfter))
		if r.Audience != "" {
			cond.CreateElement("saml2:AudienceRestriction").CreateElement("saml2:Audience").SetText(r.Audience)
		}

		authn := assertion.CreateElement("saml2:AuthnStatement")
		authn.CreateAttr("AuthnInstant", formatTime(issueInstant))
		authn.CreateAttr("SessionIndex", sessionIndex)
		if !r.SessionNotOnOrAfter.IsZero() {
			authn.CreateAttr("SessionNotOnOrAfter", formatTime(r.SessionNotOnOrAfter))
		}
		authn.CreateElement("saml2:AuthnContext").CreateElement("saml2:AuthnContextClassRef").SetText(passwordClass)

		if attrs := r.attributes(); len(attrs) > 0 {
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

	if r.Sign == SignAssertion || r.Sign == SignBoth {
		if assertion == nil {
			return nil, errors.New("samltest: no Assertion to sign")
		}
		if err := idp.sign(assertion, r.SHA1); err != nil {
			return nil, err
		}
	}
	if r.Sign == SignResponse || r.Sign == SignBoth {
		if resp == nil {
			return nil, errors.New("samltest: no Response to sign")
		}
		if err := idp.sign(resp, r.SHA1); err != nil {
			return nil, err
		}
	}

	if r.Mutate != nil {
		r.Mutate(doc)
	}
	return doc, nil
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

// keyStore hands the IdP key pair to goxmldsig.
type keyStore struct {
	key  *rsa.PrivateKey
	cert []byte
}

func (ks keyStore) GetKeyPair() (*rsa.PrivateKey, []byte, error) { return ks.key, ks.cert, nil }

// sign makes an enveloped signature of el and inserts it right after el's
// Issuer child (first, if there is none), as the SAML schema requires.
func (idp *IdP) sign(el *etree.Element, sha1 bool) error {
	ctx := dsig.NewDefaultSigningContext(keyStore{key: idp.Key, cert: idp.Certificate.Raw})
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	ctx.Prefix = "ds"
	if sha1 {
		ctx.Hash = crypto.SHA1
	}
	// goxmldsig's exclusive canonicalizer rewrites the element it digests
	// (it drops namespace declarations it does not need, such as xmlns:xs
	// on AttributeValue), so digest a copy and leave the document as built.
	sig, err := ctx.ConstructSignature(detachedCopy(el), true)
	if err != nil {
		return fmt.Errorf("samltest: signing %s: %w", el.Tag, err)
	}
	at := 0
	if issuer := el.SelectElement("Issuer"); issuer != nil {
		at = issuer.Index() + 1
	}
	el.InsertChildAt(at, sig)
	return nil
}

// detachedCopy copies el and declares on the copy the namespaces it
// inherits from its ancestors, so that the copy canonicalizes (exclusive
// c14n) exactly as el does in place.
func detachedCopy(el *etree.Element) *etree.Element {
	c := el.Copy()
	declared := map[string]bool{}
	for _, a := range el.Attr {
		if a.Space == "xmlns" {
			declared[a.Key] = true
		} else if a.Space == "" && a.Key == "xmlns" {
			declared[""] = true
		}
	}
	for p := el.Parent(); p != nil; p = p.Parent() {
		for _, a := range p.Attr {
			switch {
			case a.Space == "xmlns" && !declared[a.Key]:
				declared[a.Key] = true
				c.CreateAttr("xmlns:"+a.Key, a.Value)
			case a.Space == "" && a.Key == "xmlns" && !declared[""]:
				declared[""] = true
				c.CreateAttr("xmlns", a.Value)
			}
		}
	}
	return c
}

// seed derives the material the generated IDs come from: the IdP's count
// of minted responses, its entity ID, and the options that tell responses
// apart.
func (idp *IdP) seed(r *Response, issuer, recipient, nameID string, issueInstant time.Time) []byte {
	n := idp.minted.Add(1)
	h := sha256.New()
	writeUint(h, n)
	for _, s := range []string{
		idp.EntityID, issuer, r.Audience, r.Destination, recipient,
		r.InResponseTo, nameID, r.Email, formatTime(issueInstant), r.Sign.String(),
	} {
		writeUint(h, uint64(len(s)))
		h.Write([]byte(s))
	}
	return h.Sum(nil)
}

func writeUint(h hash.Hash, n uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	h.Write(b[:])
}

// stream returns an endless deterministic byte stream for seed and label.
func stream(seed []byte, label string) func() byte {
	var buf []byte
	var block uint64
	return func() byte {
		if len(buf) == 0 {
			h := sha256.New()
			h.Write(seed)
			h.Write([]byte(label))
			writeUint(h, block)
			block++
			buf = h.Sum(nil)
		}
		b := buf[0]
		buf = buf[1:]
		return b
	}
}

// generateID returns 40 upper-case alphanumerics starting with a letter,
// drawn without bias from the stream of seed and label.
func generateID(seed []byte, label string) string {
	next := stream(seed, label)
	id := make([]byte, 0, idLength)
	for len(id) < idLength {
		b := next()
		if len(id) == 0 {
			if int(b) < 256/lettersInIDAlp*lettersInIDAlp {
				id = append(id, idAlphabet[int(b)%lettersInIDAlp])
			}
			continue
		}
		if int(b) < 256/len(idAlphabet)*len(idAlphabet) {
			id = append(id, idAlphabet[int(b)%len(idAlphabet)])
		}
	}
	return string(id)
}

// generateUUID returns a version 4 style UUID (like JumpCloud's
// SessionIndex) from the stream of seed and label.
func generateUUID(seed []byte, label string) string {
	next := stream(seed, label)
	var u [16]byte
	for i := range u {
		u[i] = next()
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
