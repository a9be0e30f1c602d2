package samltest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlgate/samlgate/saml/samltest"
)

const (
	rsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	sha256URI = "http://www.w3.org/2001/04/xmlenc#sha256"
	rsaSHA1   = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	sha1URI   = "http://www.w3.org/2000/09/xmldsig#sha1"
	excC14N   = "http://www.w3.org/2001/10/xml-exc-c14n#"
)

func TestSignModes(t *testing.T) {
	_, cert := keyPair(t, "idp")
	for _, tc := range []struct {
		sign                         samltest.Sign
		responseSigned, assertSigned bool
	}{
		{samltest.SignAssertion, false, true},
		{samltest.SignResponse, true, false},
		{samltest.SignBoth, true, true},
		{samltest.SignNone, false, false},
	} {
		t.Run(tc.sign.String(), func(t *testing.T) {
			r := standard()
			r.Sign = tc.sign
			root := parse(t, mint(t, newIdP(t), r))
			assertion := root.SelectElement("Assertion")

			for _, c := range []struct {
				name   string
				el     *etree.Element
				signed bool
			}{{"Response", root, tc.responseSigned}, {"Assertion", assertion, tc.assertSigned}} {
				sig := c.el.SelectElement("Signature")
				if !c.signed {
					if sig != nil {
						t.Errorf("%s has a Signature", c.name)
					}
					if err := verify(c.el, cert); !errors.Is(err, dsig.ErrMissingSignature) {
						t.Errorf("verify %s: got %v, want ErrMissingSignature", c.name, err)
					}
					continue
				}
				if sig == nil {
					t.Fatalf("%s has no Signature", c.name)
				}
				// Right after the Issuer, as the schema requires.
				if prev := c.el.ChildElements()[sig.Index()-1]; prev.Tag != "Issuer" || c.el.ChildElements()[0].Tag != "Issuer" {
					t.Errorf("%s Signature follows %s, want the Issuer", c.name, prev.Tag)
				}
				if sig.Space != "ds" {
					t.Errorf("%s Signature prefix %q, want ds", c.name, sig.Space)
				}
				for path, want := range map[string]string{
					"SignedInfo/CanonicalizationMethod":            excC14N,
					"SignedInfo/SignatureMethod":                   rsaSHA256,
					"SignedInfo/Reference/DigestMethod":            sha256URI,
					"SignedInfo/Reference/Transforms/Transform[2]": excC14N,
				} {
					if got := sig.FindElement(path).SelectAttrValue("Algorithm", ""); got != want {
						t.Errorf("%s %s = %q, want %q", c.name, path, got, want)
					}
				}
				if got, want := sig.FindElement("SignedInfo/Reference").SelectAttrValue("URI", ""), "#"+c.el.SelectAttrValue("ID", ""); got != want {
					t.Errorf("%s Reference URI %q, want %q", c.name, got, want)
				}
				if err := verify(c.el, cert); err != nil {
					t.Errorf("verify %s: %v", c.name, err)
				}
			}
		})
	}
}

func TestSignatureRejectsOtherCertsAndTampering(t *testing.T) {
	_, cert := keyPair(t, "idp")
	_, cert2 := keyPair(t, "idp2")
	_, attacker := keyPair(t, "attacker")

	b := mint(t, newIdP(t), standard())
	if err := verify(parse(t, b).SelectElement("Assertion"), cert2); err == nil {
		t.Error("verified against idp2's certificate")
	}
	if err := verify(parse(t, b).SelectElement("Assertion"), attacker); err == nil {
		t.Error("verified against the attacker's certificate")
	}

	// Signed by the attacker, whose certificate clones the IdP's names.
	akey, acert := keyPair(t, "attacker")
	if acert.Subject.String() != cert.Subject.String() || acert.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		t.Fatalf("attacker certificate does not clone the IdP's: %s %x", acert.Subject, acert.SerialNumber)
	}
	evil := samltest.New(akey, acert, entityID)
	evil.Now = func() time.Time { return pinned }
	if err := verify(parse(t, mint(t, evil, standard())).SelectElement("Assertion"), cert); err == nil {
		t.Error("attacker's signature verified against the IdP certificate")
	}

	tampered := bytes.Replace(b, []byte(">Admins<"), []byte(">Root<"), 1)
	if bytes.Equal(tampered, b) {
		t.Fatal("nothing replaced")
	}
	if err := verify(parse(t, tampered).SelectElement("Assertion"), cert); err == nil {
		t.Error("tampered assertion verified")
	}
}

func TestSHA1(t *testing.T) {
	_, cert := keyPair(t, "idp")
	r := standard()
	r.SHA1 = true
	r.Sign = samltest.SignBoth
	root := parse(t, mint(t, newIdP(t), r))
	for _, el := range []*etree.Element{root, root.SelectElement("Assertion")} {
		sig := el.SelectElement("Signature")
		if got := sig.FindElement("SignedInfo/SignatureMethod").SelectAttrValue("Algorithm", ""); got != rsaSHA1 {
			t.Errorf("%s SignatureMethod %q, want %q", el.Tag, got, rsaSHA1)
		}
		if got := sig.FindElement("SignedInfo/Reference/DigestMethod").SelectAttrValue("Algorithm", ""); got != sha1URI {
			t.Errorf("%s DigestMethod %q, want %q", el.Tag, got, sha1URI)
		}
		if err := verify(el, cert); err != nil {
			t.Errorf("verify %s: %v", el.Tag, err)
		}
	}
}

func TestDeterministic(t *testing.T) {
	for _, sign := range []samltest.Sign{samltest.SignAssertion, samltest.SignBoth, samltest.SignNone} {
		r := standard()
		r.Sign = sign
		a := mint(t, newIdP(t), r)
		b := mint(t, newIdP(t), r)
		if !bytes.Equal(a, b) {
			t.Errorf("%v: two fresh IdPs with the same options differ", sign)
		}
	}

	// One IdP never repeats an ID, even for identical options.
	idp := newIdP(t)
	seen := map[string]bool{}
	idRE := regexp.MustCompile(`^[A-Z][A-Z0-9]{39}$`)
	for range 200 {
		root := parse(t, mint(t, idp, samltest.Response{Audience: audience, Destination: acsURL, Sign: samltest.SignNone}))
		for _, id := range []string{root.SelectAttrValue("ID", ""), root.SelectElement("Assertion").SelectAttrValue("ID", "")} {
			if !idRE.MatchString(id) {
				t.Errorf("ID %q is not 40 upper-case alphanumerics starting with a letter", id)
			}
			if seen[id] {
				t.Errorf("ID %q repeated", id)
			}
			seen[id] = true
		}
	}

	// Pinned IDs.
	r := standard()
	r.ResponseID, r.AssertionID, r.SessionIndex = "RESPONSE1", "ASSERTION1", "session-1"
	root := parse(t, mint(t, idp, r))
	if root.SelectAttrValue("ID", "") != "RESPONSE1" || root.SelectElement("Assertion").SelectAttrValue("ID", "") != "ASSERTION1" ||
		root.FindElement("Assertion/AuthnStatement").SelectAttrValue("SessionIndex", "") != "session-1" {
		t.Error("ResponseID, AssertionID or SessionIndex not used")
	}
}

func TestTimestamps(t *testing.T) {
	idp := newIdP(t)
	check := func(t *testing.T, root *etree.Element, want map[string]string) {
		t.Helper()
		for path, w := range want {
			i := strings.LastIndex(path, "@")
			el := root
			if i > 0 {
				el = root.FindElement(path[:i])
			}
			if got := el.SelectAttrValue(path[i+1:], "<missing>"); got != w {
				t.Errorf("%s = %s, want %s", path, got, w)
			}
		}
	}
	t.Run("default", func(t *testing.T) {
		check(t, parse(t, mint(t, idp, standard())), map[string]string{
			"@IssueInstant":                     "2026-01-15T10:00:00.000Z",
			"Assertion@IssueInstant":            "2026-01-15T10:00:00.000Z",
			"Assertion/Conditions@NotBefore":    "2026-01-15T09:55:00.000Z",
			"Assertion/Conditions@NotOnOrAfter": "2026-01-15T10:05:00.000Z",
			"Assertion/Subject/SubjectConfirmation/SubjectConfirmationData@NotOnOrAfter": "2026-01-15T10:05:00.000Z",
			"Assertion/AuthnStatement@AuthnInstant":                                      "2026-01-15T10:00:00.000Z",
		})
	})
	t.Run("overrides", func(t *testing.T) {
		r := standard()
		// Not UTC, with sub-millisecond precision.
		r.IssueInstant = time.Date(2026, 1, 15, 11, 30, 0, 123456789, time.FixedZone("CET", 3600))
		r.NotBefore = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
		r.NotOnOrAfter = time.Date(2026, 1, 15, 11, 0, 0, 0, time.UTC)
		r.SessionNotOnOrAfter = time.Date(2026, 1, 15, 18, 0, 0, 0, time.UTC)
		check(t, parse(t, mint(t, idp, r)), map[string]string{
			"@IssueInstant":                     "2026-01-15T10:30:00.123Z",
			"Assertion/Conditions@NotBefore":    "2026-01-15T10:00:00.000Z",
			"Assertion/Conditions@NotOnOrAfter": "2026-01-15T11:00:00.000Z",
			"Assertion/Subject/SubjectConfirmation/SubjectConfirmationData@NotOnOrAfter": "2026-01-15T11:00:00.000Z",
			"Assertion/AuthnStatement@AuthnInstant":                                      "2026-01-15T10:30:00.123Z",
			"Assertion/AuthnStatement@SessionNotOnOrAfter":                               "2026-01-15T18:00:00.000Z",
		})
	})
}

func TestInResponseTo(t *testing.T) {
	idp := newIdP(t)
	b := mint(t, idp, standard())
	if bytes.Contains(b, []byte("InResponseTo")) {
		t.Error("IdP-initiated response has an InResponseTo")
	}
	r := standard()
	r.InResponseTo = "id-REQUEST-0001"
	root := parse(t, mint(t, idp, r))
	for _, el := range []*etree.Element{root, root.FindElement("Assertion/Subject/SubjectConfirmation/SubjectConfirmationData")} {
		if got := el.SelectAttrValue("InResponseTo", ""); got != "id-REQUEST-0001" {
			t.Errorf("%s InResponseTo = %q", el.Tag, got)
		}
	}
}

func TestAttributesAndSubject(t *testing.T) {
	idp := newIdP(t)
	type attr struct {
		name   string
		values []string
	}
	attrs := func(root *etree.Element) []attr {
		var out []attr
		for _, a := range root.FindElements("Assertion/AttributeStatement/Attribute") {
			if a.SelectAttrValue("NameFormat", "") != "urn:oasis:names:tc:SAML:2.0:attrname-format:basic" {
				t.Errorf("attribute %s NameFormat %q", a.SelectAttrValue("Name", ""), a.SelectAttrValue("NameFormat", ""))
			}
			values := []string{}
			for _, v := range a.SelectElements("AttributeValue") {
				if v.SelectAttrValue("xsi:type", "") != "xs:string" || v.SelectAttrValue("xmlns:xs", "") == "" || v.SelectAttrValue("xmlns:xsi", "") == "" {
					t.Errorf("AttributeValue %q lacks xsi:type xs:string or its namespaces", v.Text())
				}
				values = append(values, v.Text())
			}
			out = append(out, attr{a.SelectAttrValue("Name", ""), values})
		}
		return out
	}

	r := standard()
	r.Attributes = []samltest.Attribute{{Name: "department", Values: []string{"R&D <lab>"}}, {Name: "memberOf", Values: []string{"Extra"}}}
	root := parse(t, mint(t, idp, r))
	want := []attr{
		{"email", []string{aliceEmail}},
		{"email_verified", []string{"true"}},
		{"given_name", []string{"Alice"}},
		{"family_name", []string{"Liddell"}},
		{"memberOf", aliceGroups},
		{"department", []string{"R&D <lab>"}},
		{"memberOf", []string{"Extra"}},
	}
	if got := attrs(root); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("attributes\n got %v\nwant %v", got, want)
	}
	nameID := root.FindElement("Assertion/Subject/NameID")
	if nameID.Text() != aliceEmail || nameID.SelectAttrValue("Format", "") != samltest.UnspecifiedNameIDFormat {
		t.Errorf("NameID %q Format %q", nameID.Text(), nameID.SelectAttrValue("Format", ""))
	}

	// Empty convenience fields add nothing; nil Groups leaves memberOf out,
	// empty Groups sends it without values; NameID defaults to Email.
	root = parse(t, mint(t, idp, samltest.Response{Email: "bob@example.com", Groups: []string{}, NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"}))
	if got, want := fmt.Sprint(attrs(root)), fmt.Sprint([]attr{{"email", []string{"bob@example.com"}}, {"memberOf", []string{}}}); got != want {
		t.Errorf("attributes %s, want %s", got, want)
	}
	nameID = root.FindElement("Assertion/Subject/NameID")
	if nameID.Text() != "bob@example.com" || nameID.SelectAttrValue("Format", "") != "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" {
		t.Errorf("NameID %q Format %q", nameID.Text(), nameID.SelectAttrValue("Format", ""))
	}
	// No attributes at all: no AttributeStatement, and no Audience,
	// Destination or Recipient when they are empty.
	root = parse(t, mint(t, idp, samltest.Response{NameID: "x"}))
	for _, path := range []string{"Assertion/AttributeStatement", "Assertion/Conditions/AudienceRestriction"} {
		if root.FindElement(path) != nil {
			t.Errorf("%s present", path)
		}
	}
	if root.SelectAttr("Destination") != nil || root.FindElement("Assertion/Subject/SubjectConfirmation/SubjectConfirmationData").SelectAttr("Recipient") != nil {
		t.Error("Destination or Recipient present")
	}
	// Recipient and Issuer overrides.
	r = standard()
	r.Recipient = "https://other.example.com/acs"
	r.Issuer = "JumpCloud"
	root = parse(t, mint(t, idp, r))
	if got := root.FindElement("Assertion/Subject/SubjectConfirmation/SubjectConfirmationData").SelectAttrValue("Recipient", ""); got != r.Recipient {
		t.Errorf("Recipient %q", got)
	}
	if root.SelectAttrValue("Destination", "") != acsURL {
		t.Error("Destination changed with Recipient")
	}
	for _, el := range []*etree.Element{root.SelectElement("Issuer"), root.FindElement("Assertion/Issuer")} {
		if el.Text() != "JumpCloud" || el.SelectAttrValue("Format", "") != "urn:oasis:names:tc:SAML:2.0:nameid-format:entity" {
			t.Errorf("Issuer %q Format %q", el.Text(), el.SelectAttrValue("Format", ""))
		}
	}
}

func TestStatus(t *testing.T) {
	idp := newIdP(t)
	root := parse(t, mint(t, idp, standard()))
	if got := root.FindElement("Status/StatusCode").SelectAttrValue("Value", ""); got != "urn:oasis:names:tc:SAML:2.0:status:Success" {
		t.Errorf("default status %q", got)
	}
	r := standard()
	r.StatusCode, r.SubStatusCode, r.StatusMessage = "Responder", "urn:oasis:names:tc:SAML:2.0:status:RequestDenied", "no access"
	r.OmitAssertion = true
	r.Sign = samltest.SignNone
	root = parse(t, mint(t, idp, r))
	if got := root.FindElement("Status/StatusCode").SelectAttrValue("Value", ""); got != "urn:oasis:names:tc:SAML:2.0:status:Responder" {
		t.Errorf("status %q", got)
	}
	if got := root.FindElement("Status/StatusCode/StatusCode").SelectAttrValue("Value", ""); got != "urn:oasis:names:tc:SAML:2.0:status:RequestDenied" {
		t.Errorf("second-level status %q", got)
	}
	if got := root.FindElement("Status/StatusMessage").Text(); got != "no access" {
		t.Errorf("StatusMessage %q", got)
	}
	if root.SelectElement("Assertion") != nil {
		t.Error("OmitAssertion kept the Assertion")
	}
	r.Sign = samltest.SignAssertion
	if _, err := idp.ResponseXML(r); err == nil {
		t.Error("signing a missing Assertion succeeded")
	}
}

func TestBeforeSignAndMutate(t *testing.T) {
	_, cert := keyPair(t, "idp")
	idp := newIdP(t)

	// BeforeSign: the change is signed.
	r := standard()
	r.BeforeSign = func(doc *etree.Document) {
		sc := doc.FindElement("//SubjectConfirmation")
		sc.RemoveAttr("Method")
	}
	root := parse(t, mint(t, idp, r))
	if root.FindElement("Assertion/Subject/SubjectConfirmation").SelectAttr("Method") != nil {
		t.Error("BeforeSign change lost")
	}
	if err := verify(root.SelectElement("Assertion"), cert); err != nil {
		t.Errorf("BeforeSign change not covered by the signature: %v", err)
	}

	// Mutate: the change comes after signing, and breaks the signature...
	r = standard()
	r.Mutate = func(doc *etree.Document) {
		doc.FindElement("//NameID").SetText("mallory@example.com")
	}
	root = parse(t, mint(t, idp, r))
	if err := verify(root.SelectElement("Assertion"), cert); err == nil {
		t.Error("Mutate change verified")
	}
	// ...unless canonicalization hides it: a comment in the NameID.
	r = standard()
	r.NameID = "alice@example.com.evil.test"
	r.Mutate = func(doc *etree.Document) {
		n := doc.FindElement("//NameID")
		n.SetText("alice@example.com")
		n.CreateComment("")
		n.CreateText(".evil.test")
	}
	b := mint(t, idp, r)
	if !bytes.Contains(b, []byte(">alice@example.com<!---->.evil.test<")) {
		t.Errorf("comment not injected: %s", b)
	}
	if err := verify(parse(t, b).SelectElement("Assertion"), cert); err != nil {
		t.Errorf("comment injection should keep the signature valid: %v", err)
	}
}

func TestManyGroups(t *testing.T) {
	_, cert := keyPair(t, "idp")
	groups := make([]string, 1000)
	for i := range groups {
		groups[i] = fmt.Sprintf("group-%04d", i+1)
	}
	for _, sign := range []samltest.Sign{samltest.SignAssertion, samltest.SignResponse} {
		t.Run(sign.String(), func(t *testing.T) {
			r := standard()
			r.Groups = groups
			r.Sign = sign
			root := parse(t, mint(t, newIdP(t), r))
			values := root.FindElements("Assertion/AttributeStatement/Attribute[@Name='memberOf']/AttributeValue")
			if len(values) != 1000 || values[999].Text() != "group-1000" {
				t.Fatalf("%d memberOf values", len(values))
			}
			el := root.SelectElement("Assertion")
			if sign == samltest.SignResponse {
				el = root
			}
			if err := verify(el, cert); err != nil {
				t.Errorf("verify: %v", err)
			}
		})
	}
}

// TestCrewjamAccepts checks that an independent SP library accepts the
// responses at the pinned clock.
func TestCrewjamAccepts(t *testing.T) {
	idp := newIdP(t)
	md := &saml.EntityDescriptor{}
	err := xml.Unmarshal(idp.Metadata(), md)
	if err != nil {
		t.Fatal(err)
	}
	acs, err := url.Parse(acsURL)
	if err != nil {
		t.Fatal(err)
	}
	sp := saml.ServiceProvider{
		EntityID:          audience,
		AcsURL:            *acs,
		IDPMetadata:       md,
		AllowIDPInitiated: true,
		Clock:             dsig.NewFakeClockAt(pinned),
	}
	for _, tc := range []struct {
		name       string
		edit       func(*samltest.Response)
		requestIDs []string
		ok         bool
	}{
		{"default", func(*samltest.Response) {}, nil, true},
		{"response-signed", func(r *samltest.Response) { r.Sign = samltest.SignResponse }, nil, true},
		{"both-signed", func(r *samltest.Response) { r.Sign = samltest.SignBoth }, nil, true},
		{"sp-initiated", func(r *samltest.Response) { r.InResponseTo = "id-REQUEST-0001" }, []string{"id-REQUEST-0001"}, true},
		{"unsigned", func(r *samltest.Response) { r.Sign = samltest.SignNone }, nil, false},
		{"wrong-audience", func(r *samltest.Response) { r.Audience = "urn:samlgate:other" }, nil, false},
		{"expired", func(r *samltest.Response) { r.IssueInstant = pinned.Add(-time.Hour) }, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := standard()
			tc.edit(&r)
			assertion, err := sp.ParseXMLResponse(mint(t, idp, r), tc.requestIDs, *acs)
			if !tc.ok {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil {
				var ire *saml.InvalidResponseError
				if errors.As(err, &ire) {
					err = ire.PrivateErr
				}
				t.Fatal(err)
			}
			if assertion.Subject.NameID.Value != aliceEmail {
				t.Errorf("NameID %q", assertion.Subject.NameID.Value)
			}
			got := map[string][]string{}
			for _, st := range assertion.AttributeStatements {
				for _, a := range st.Attributes {
					for _, v := range a.Values {
						got[a.Name] = append(got[a.Name], v.Value)
					}
				}
			}
			if fmt.Sprint(got["memberOf"]) != fmt.Sprint(aliceGroups) || fmt.Sprint(got["email_verified"]) != "[true]" {
				t.Errorf("attributes %v", got)
			}
		})
	}
}

// TestShapeMatchesRealJumpCloud rebuilds the one public real JumpCloud
// response with its values and checks that, signatures aside, samltest
// writes the same bytes.
func TestShapeMatchesRealJumpCloud(t *testing.T) {
	real, err := os.ReadFile(filepath.Join("..", "..", "testdata", "real-idps", "jumpcloud", "assertion.xml"))
	if err != nil {
		t.Fatal(err)
	}
	key, cert := keyPair(t, "idp")
	idp := samltest.New(key, cert, "IdP Entity ID")
	ours := mint(t, idp, samltest.Response{
		Audience:     "ssoready-entity-id",
		Destination:  "http://localhost",
		NameID:       "ulysse.carion@codomaindata.com",
		IssueInstant: time.Date(2023, 11, 18, 16, 43, 5, 562e6, time.UTC),
		ResponseID:   "FQRGC12D4KDUUFHSRZXZ27C8ZT1WHAMF1JBQCISX",
		AssertionID:  "UQCW5ZYPIJUA5HQCFIIJQFKUTA7B4QPKZU5T1ZEE",
		SessionIndex: "247ae9c9-2820-42da-9f71-6c940231f614",
	})
	sigRE := regexp.MustCompile(`(?s)<ds:Signature .*?</ds:Signature>`)
	if len(sigRE.FindAll(real, -1)) != 1 || len(sigRE.FindAll(ours, -1)) != 1 {
		t.Fatal("expected one signature in each")
	}
	strip := func(b []byte) string { return string(sigRE.ReplaceAll(b, []byte("<SIGNATURE/>"))) }
	if strip(real) != strip(ours) {
		t.Errorf("shape differs from the real JumpCloud response:\nreal %s\nours %s", strip(real), strip(ours))
	}
	// The signatures differ only in values.
	valRE := regexp.MustCompile(`>[A-Za-z0-9+/=]{20,}<`)
	realSig := valRE.ReplaceAllString(sigRE.FindString(string(real)), "><")
	ourSig := valRE.ReplaceAllString(sigRE.FindString(string(ours)), "><")
	if realSig != ourSig {
		t.Errorf("signature shape differs:\nreal %s\nours %s", realSig, ourSig)
	}
}

func TestFormValue(t *testing.T) {
	a, err := newIdP(t).FormValue(standard())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(a)
	if err != nil {
		t.Fatal(err)
	}
	if b := mint(t, newIdP(t), standard()); !bytes.Equal(raw, b) {
		t.Error("FormValue is not the base64 of ResponseXML")
	}
}

// TestConcurrent mints from one IdP in parallel (run with -race): every
// response verifies and no two share an ID.
func TestConcurrent(t *testing.T) {
	_, cert := keyPair(t, "idp")
	idp := newIdP(t)
	const n = 16
	out := make(chan []byte, n)
	for range n {
		go func() {
			b, err := idp.ResponseXML(standard())
			if err != nil {
				t.Error(err)
			}
			out <- b
		}()
	}
	seen := map[string]bool{}
	for range n {
		root := parse(t, <-out)
		a := root.SelectElement("Assertion")
		if err := verify(a, cert); err != nil {
			t.Error(err)
		}
		id := a.SelectAttrValue("ID", "")
		if seen[id] {
			t.Errorf("assertion ID %s repeated", id)
		}
		seen[id] = true
	}
}

func TestErrors(t *testing.T) {
	idp := samltest.New(nil, nil, entityID)
	if _, err := idp.ResponseXML(standard()); err == nil {
		t.Error("signing without a key succeeded")
	}
	r := standard()
	r.Sign = samltest.SignNone
	if _, err := idp.ResponseXML(r); err != nil {
		t.Errorf("unsigned response without a key: %v", err)
	}
	r.Sign = samltest.Sign(42)
	if _, err := idp.ResponseXML(r); err == nil {
		t.Error("unknown Sign accepted")
	}
}
