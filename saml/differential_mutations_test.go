package saml_test

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
)

// The mutations TestDifferentialCrewjam applies to every fixture.

// envelopeMutations edit what an Assertion signature leaves uncovered: the
// Response's attributes, Issuer, Status and Extensions, and the
// signatures' KeyInfo and SignatureValue.
func envelopeMutations() []func(doc *etree.Document) {
	return append(attributeMutations(), elementMutations()...)
}

// attributeMutations edit the Response's own attributes.
func attributeMutations() []func(doc *etree.Document) {
	root := func(doc *etree.Document) *etree.Element { return doc.Root() }
	setAttr := func(k, v string) func(doc *etree.Document) {
		return func(doc *etree.Document) { root(doc).CreateAttr(k, v) }
	}
	removeAttr := func(k string) func(doc *etree.Document) {
		return func(doc *etree.Document) { root(doc).RemoveAttr(k) }
	}
	return []func(doc *etree.Document){
		removeAttr("Destination"),
		setAttr("Destination", acsURL+"x"),
		func(doc *etree.Document) {
			root(doc).CreateAttr("xmlns:x", "urn:x")
			root(doc).CreateAttr("x:Destination", "https://evil.test/acs")
		},
		func(doc *etree.Document) { root(doc).CreateAttr("xmlns:Destination", "https://evil.test/acs") },
		setAttr("InResponseTo", "FOREIGN"),
		setAttr("InResponseTo", "id-REQUEST-0001"),
		setAttr("InResponseTo", ""),
		removeAttr("InResponseTo"),
		setAttr("Version", "2.1"),
		removeAttr("Version"),
		setAttr("IssueInstant", "2026-01-01T00:00:00Z"),
		setAttr("IssueInstant", "not a time"),
		func(doc *etree.Document) { shiftAttr(root(doc), "IssueInstant", -100*time.Second) },
		func(doc *etree.Document) { shiftAttr(root(doc), "IssueInstant", 100*time.Second) },
		func(doc *etree.Document) { shiftAttr(root(doc), "IssueInstant", -time.Hour) },
	}
}

// elementMutations edit the Response's Issuer, Status and Extensions, and
// the signatures' KeyInfo and SignatureValue.
func elementMutations() []func(doc *etree.Document) {
	root := func(doc *etree.Document) *etree.Element { return doc.Root() }
	child := func(tag string) func(doc *etree.Document) *etree.Element {
		return func(doc *etree.Document) *etree.Element { return root(doc).SelectElement(tag) }
	}
	return []func(doc *etree.Document){
		func(doc *etree.Document) {
			if is := child("Issuer")(doc); is != nil {
				is.SetText("https://evil.test")
			}
		},
		func(doc *etree.Document) {
			if is := child("Issuer")(doc); is != nil {
				root(doc).RemoveChild(is)
			}
		},
		func(doc *etree.Document) {
			if is := child("Issuer")(doc); is != nil {
				c := is.Copy()
				c.SetText("https://evil.test")
				root(doc).InsertChildAt(is.Index()+1, c)
			}
		},
		func(doc *etree.Document) {
			if is := child("Issuer")(doc); is != nil {
				is.CreateAttr("xmlns:saml2", "urn:evil")
				is.Space = "saml2"
			}
		},
		func(doc *etree.Document) {
			if sc := doc.FindElement("/Response/Status/StatusCode"); sc != nil {
				sc.CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:Requester")
			}
		},
		func(doc *etree.Document) {
			if st := child("Status")(doc); st != nil {
				root(doc).RemoveChild(st)
			}
		},
		func(doc *etree.Document) {
			if st := child("Status")(doc); st != nil {
				c := st.Copy()
				c.FindElement("StatusCode").CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:Requester")
				root(doc).InsertChildAt(st.Index()+1, c)
			}
		},
		func(doc *etree.Document) {
			if sc := doc.FindElement("/Response/Status/StatusCode"); sc != nil {
				sc.CreateAttr("xmlns:p", "urn:evil")
				sc.Space = "p"
			}
		},
		func(doc *etree.Document) {
			if st := child("Status")(doc); st != nil {
				st.CreateAttr("xmlns:p", "urn:evil")
				st.Space = "p"
			}
		},
		func(doc *etree.Document) {
			if sc := doc.FindElement("/Response/Status/StatusCode"); sc != nil {
				sc.CreateElement(sc.FullTag()).CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed")
			}
		},
		func(doc *etree.Document) {
			ext := etree.NewElement("samlp:Extensions")
			ext.CreateAttr("xmlns:samlp", "urn:oasis:names:tc:SAML:2.0:protocol")
			ext.CreateElement("x:Foo").CreateAttr("xmlns:x", "urn:x")
			root(doc).InsertChildAt(1, ext)
		},
		func(doc *etree.Document) {
			root(doc).CreateAttr("Consent", "urn:oasis:names:tc:SAML:2.0:consent:obtained")
		},
		func(doc *etree.Document) {
			for _, sv := range doc.FindElements("//SignatureValue") {
				t := sv.Text()
				sv.SetText("\n  " + t[:len(t)/2] + "\n  " + t[len(t)/2:] + "\n")
			}
		},
		func(doc *etree.Document) {
			for _, ki := range doc.FindElements("//Signature/KeyInfo") {
				ki.Parent().RemoveChild(ki)
			}
		},
		func(doc *etree.Document) {
			for _, c := range doc.FindElements("//Signature/KeyInfo/X509Data/X509Certificate") {
				c.SetText("\n" + c.Text() + "\n")
			}
		},
	}
}

func shiftAttr(el *etree.Element, key string, d time.Duration) {
	var rt crewjam.RelaxedTime
	if err := rt.UnmarshalText([]byte(el.SelectAttrValue(key, ""))); err == nil {
		el.CreateAttr(key, time.Time(rt).Add(d).UTC().Format("2006-01-02T15:04:05.000Z"))
	}
}

// mutateXML applies m to a parse of raw.
func mutateXML(raw []byte, m func(doc *etree.Document)) ([]byte, bool) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil || doc.Root() == nil {
		return nil, false
	}
	m(doc)
	out, err := doc.WriteToBytes()
	return out, err == nil
}

// mutateBytes makes one to three random edits of raw: a byte changed to
// one of XML's structural characters or a letter, a span deleted, a span
// duplicated.
func mutateBytes(rnd *rand.Rand, raw []byte) []byte {
	out := slices.Clone(raw)
	const alphabet = `<>/="': xmlnsaAZ09&;#-` + "\n"
	for range 1 + rnd.IntN(3) {
		if len(out) < 2 {
			break
		}
		i := rnd.IntN(len(out))
		j := min(len(out), i+1+rnd.IntN(32))
		switch rnd.IntN(3) {
		case 0:
			out[i] = alphabet[rnd.IntN(len(alphabet))]
		case 1:
			out = append(out[:i], out[j:]...)
		case 2:
			out = slices.Insert(out, i, slices.Clone(out[i:j])...)
		}
	}
	return out
}
