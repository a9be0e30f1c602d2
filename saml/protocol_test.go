package saml_test

import (
	"fmt"
	"testing"

	"github.com/beevik/etree"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

// TestProtocolChecks covers the protocol checks Verify makes itself on the
// verified elements (protocol.go, verified.go) that no row of TestAttacks,
// TestProtocolMismatches or the other error-code tests names: the
// Response's Version, Issuer and Status as crewjam reads them (the last of
// several, only in the SAML namespaces), an attribute name repeated with
// another prefix (shape.go), and the Assertion's elements the schema
// allows once. Signed edits (before) are made before signing, as an
// IdP would; unsigned ones (after) in the envelope of an assertion-signed
// Response.
func TestProtocolChecks(t *testing.T) {
	idp := newIdP(t, "idp")
	dup := func(path, text string) func(doc *etree.Document) {
		return func(doc *etree.Document) {
			el := doc.FindElement(path)
			c := el.Copy()
			if text != "" {
				c.SetText(text)
			}
			el.Parent().InsertChildAt(el.Index()+1, c)
		}
	}
	foreign := func(path string) func(doc *etree.Document) {
		return func(doc *etree.Document) {
			el := doc.FindElement(path)
			el.CreateAttr("xmlns:x", "urn:evil")
			el.Space = "x"
		}
	}
	replaceNameID := func(tag string) func(doc *etree.Document) {
		return func(doc *etree.Document) {
			n := doc.FindElement("//Subject/NameID")
			n.Space, n.Tag = "saml2", tag
			n.SetText("opaque")
		}
	}
	tests := []struct {
		name          string
		sign          samltest.Sign
		before, after func(doc *etree.Document)
		want          saml.Code
		message       string // in the error's Message
		subject       string // when accepted
	}{
		{name: "Response Version 1.1, Response signed", sign: samltest.SignResponse,
			before: func(doc *etree.Document) { doc.Root().CreateAttr("Version", "1.1") }, want: saml.CodeUnsupported},
		{name: "Response Version removed from the unsigned envelope",
			after: func(doc *etree.Document) { doc.Root().RemoveAttr("Version") }, want: saml.CodeUnsupported},
		{name: "Destination repeated with a prefix in the unsigned envelope", after: func(doc *etree.Document) {
			doc.Root().CreateAttr("xmlns:x", "urn:x")
			doc.Root().CreateAttr("x:Destination", "https://evil.test/acs")
		}, want: saml.CodeMalformed, message: "two attributes named Destination"},
		{name: "namespace declaration named like an attribute", after: func(doc *etree.Document) {
			doc.Root().CreateAttr("xmlns:InResponseTo", "urn:x")
		}, want: saml.CodeMalformed, message: "begins with an upper-case letter"},
		{name: "second Response Issuer in the unsigned envelope", after: dup("/Response/Issuer", "https://evil.test"), want: saml.CodeMalformed, message: "the SAML schema allows one"},
		{name: "second Status saying Requester in the unsigned envelope", after: func(doc *etree.Document) {
			dup("/Response/Status", "")(doc)
			doc.Root().SelectElements("Status")[1].SelectElement("StatusCode").CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:Requester")
		}, want: saml.CodeStatusNotSuccess},
		{name: "Status in another namespace", after: foreign("/Response/Status"), want: saml.CodeStatusNotSuccess},
		{name: "StatusCode in another namespace", after: foreign("/Response/Status/StatusCode"), want: saml.CodeMalformed, message: "in the namespace \"urn:evil\""},
		{name: "assertion without Issuer", before: func(doc *etree.Document) {
			a := doc.FindElement("/Response/Assertion")
			a.RemoveChild(a.SelectElement("Issuer"))
		}, want: saml.CodeIssuerMismatch},
		{name: "BaseID instead of NameID", before: replaceNameID("BaseID"), want: saml.CodeUnsupported},
		{name: "EncryptedID instead of NameID", before: replaceNameID("EncryptedID"), want: saml.CodeUnsupported},
		{name: "two NameIDs", before: dup("//Subject/NameID", mallory), want: saml.CodeMalformed, message: "the SAML schema allows one"},
		{name: "two Subjects", before: dup("/Response/Assertion/Subject", ""), want: saml.CodeMalformed, message: "the SAML schema allows one"},
		{name: "two Conditions", before: dup("/Response/Assertion/Conditions", ""), want: saml.CodeMalformed, message: "the SAML schema allows one"},
		{name: "Subject in another namespace", before: foreign("/Response/Assertion/Subject"), want: saml.CodeMalformed, message: "in the namespace \"urn:evil\""},
		{name: "two SubjectConfirmationData in the bearer confirmation", before: dup("//SubjectConfirmation/SubjectConfirmationData", ""), want: saml.CodeMalformed, message: "the SAML schema allows one"},
		{name: "two bearer confirmations", before: dup("//Subject/SubjectConfirmation", ""), want: saml.CodeMalformed},
		{name: "holder-of-key confirmation with a malformed NotOnOrAfter beside the bearer", before: func(doc *etree.Document) {
			dup("//Subject/SubjectConfirmation", "")(doc)
			sc := doc.FindElements("//Subject/SubjectConfirmation")[1]
			sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key")
			sc.SelectElement("SubjectConfirmationData").CreateAttr("NotOnOrAfter", "tomorrow")
		}, want: saml.CodeMalformed},
		{name: "second AudienceRestriction without this SP", before: func(doc *etree.Document) {
			dup("//Conditions/AudienceRestriction", "")(doc)
			doc.FindElements("//Conditions/AudienceRestriction")[1].SelectElement("Audience").SetText("urn:samlgate:globex")
		}, want: saml.CodeAudienceMismatch},
		{name: "AudienceRestriction without Audience beside the right one", before: func(doc *etree.Document) {
			doc.FindElement("//Conditions").CreateElement("saml2:AudienceRestriction")
		}, want: saml.CodeAudienceMismatch},
		{name: "EncryptedAttribute", before: func(doc *etree.Document) {
			doc.FindElement("//AttributeStatement").CreateElement("saml2:EncryptedAttribute")
		}, want: saml.CodeUnsupported},
		{name: "AuthnInstant not a timestamp", before: func(doc *etree.Document) {
			doc.FindElement("//AuthnStatement").CreateAttr("AuthnInstant", "yesterday")
		}, want: saml.CodeMalformed},
		{name: "AttributeValue in another namespace", before: foreign("//AttributeStatement/Attribute/AttributeValue"), want: saml.CodeMalformed, message: "in the namespace \"urn:evil\""},
		// Character data around a child element is one value, as
		// encoding/xml reads it: never cut at the element.
		{name: "NameID text around a child element, signed", before: func(doc *etree.Document) {
			n := doc.FindElement("//Subject/NameID")
			n.SetText(aliceEmail)
			n.CreateElement("x:b").CreateAttr("xmlns:x", "urn:x")
			n.CreateText(".evil.test")
		}, subject: aliceEmail + ".evil.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := standard()
			r.Sign, r.BeforeSign, r.Mutate = tt.sign, tt.before, tt.after
			conn := newConn(t, baseConfig(t))
			form := mint(t, idp, r)
			if tt.want != "" {
				checkMessage(t, refuse(t, conn, form, tt.want), tt.message)
				return
			}
			if id := mustVerify(t, conn, form); id.Subject != tt.subject {
				t.Fatalf("Subject %q, want %q", id.Subject, tt.subject)
			}
		})
	}
}

// TestManyGroupsEverySigningMode verifies 5,000 groups with the Assertion,
// the Response, or both signed: goxmldsig's 1,000-node traversal budget
// must not be spent on the groups (it is, by detaching with the default
// namespace context). The response is about 1.2 MB encoded, so the
// connection raises MaxResponseBytes.
func TestManyGroupsEverySigningMode(t *testing.T) {
	if testing.Short() {
		t.Skip("5,000-group responses take seconds to sign under -race")
	}
	idp := newIdP(t, "idp")
	cfg := baseConfig(t)
	cfg.MaxResponseBytes = 2 << 20
	conn := newConn(t, cfg)
	for _, sign := range []samltest.Sign{samltest.SignAssertion, samltest.SignResponse, samltest.SignBoth} {
		t.Run(sign.String(), func(t *testing.T) {
			r := standard()
			r.Sign = sign
			r.Groups = make([]string, 5000)
			for i := range r.Groups {
				r.Groups[i] = fmt.Sprintf("group-%05d", i)
			}
			id := mustVerify(t, conn, mint(t, idp, r))
			if len(id.Groups) != 5000 || id.Groups[4999] != "group-04999" {
				t.Fatalf("got %d groups", len(id.Groups))
			}
		})
	}
}
