package saml

import (
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// assertionData is what Verify reads from the verified Assertion element:
// the element goxmldsig returns, parsed from the very bytes whose digest
// the IdP signed (see verifySignatures). Every identity field and every
// protocol value the checks judge comes from here, never from the
// document as received.
type assertionData struct {
	id, version, issuer string
	hasIssuer           bool
	issueInstant        time.Time

	hasSubject                bool
	nameID, nameIDFormat      string
	hasNameID, hasOtherSubjID bool // hasOtherSubjID: a BaseID or EncryptedID
	bearers                   []bearerData

	hasConditions           bool
	notBefore, notOnOrAfter time.Time
	audienceRestrictions    [][]string

	authn      []authnData
	attributes []attributeData
}

// bearerData is one bearer SubjectConfirmation; data is false when it has
// no SubjectConfirmationData.
type bearerData struct {
	data                    bool
	notBefore, notOnOrAfter time.Time
	recipient, inResponseTo string
}

type authnData struct {
	instant             time.Time
	sessionIndex        string
	sessionNotOnOrAfter time.Time // zero: absent
}

type attributeData struct {
	name, friendlyName, nameFormat string
	values                         []string
}

// The reading rules, for each element read: the element must be in the
// SAML assertion namespace (an element of that name in another namespace
// is refused rather than skipped, as crewjam's encoding/xml structs refuse
// it), an element the schema allows once must appear once (encoding/xml
// would keep the last of several, etree's lookups the first: two readers
// must never disagree on which), text is all character data directly in
// the element (encoding/xml's ",chardata", which a comment does not cut
// short), and attributes are found by local name (findParts refuses an
// element with two attributes of one local name).

// readAssertion reads the verified Assertion element el.
func readVerifiedAssertion(el *etree.Element) (*assertionData, *Error) {
	a := &assertionData{id: el.SelectAttrValue("ID", ""), version: el.SelectAttrValue("Version", "")}
	var err *Error
	if a.issueInstant, err = samlTime(el, "IssueInstant", "Assertion IssueInstant", true); err != nil {
		return nil, err
	}
	kids, err := samlChildren(el, "Issuer", "Subject", "Conditions", "AuthnStatement", "AttributeStatement")
	if err != nil {
		return nil, err
	}
	if err := once(kids, "Assertion", "Issuer", "Subject", "Conditions"); err != nil {
		return nil, err
	}
	if is := kids["Issuer"]; len(is) == 1 {
		a.hasIssuer, a.issuer = true, chardata(is[0])
	}
	if s := kids["Subject"]; len(s) == 1 {
		if err := a.readSubject(s[0]); err != nil {
			return nil, err
		}
	}
	if c := kids["Conditions"]; len(c) == 1 {
		if err := a.readConditions(c[0]); err != nil {
			return nil, err
		}
	}
	for _, st := range kids["AuthnStatement"] {
		au := authnData{sessionIndex: st.SelectAttrValue("SessionIndex", "")}
		if au.instant, err = samlTime(st, "AuthnInstant", "AuthnStatement AuthnInstant", false); err != nil {
			return nil, err
		}
		if au.sessionNotOnOrAfter, err = samlTime(st, "SessionNotOnOrAfter", "AuthnStatement SessionNotOnOrAfter", false); err != nil {
			return nil, err
		}
		a.authn = append(a.authn, au)
	}
	for _, st := range kids["AttributeStatement"] {
		if err := a.readAttributes(st); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *assertionData) readSubject(subject *etree.Element) *Error {
	a.hasSubject = true
	kids, err := samlChildren(subject, "NameID", "BaseID", "EncryptedID", "SubjectConfirmation")
	if err != nil {
		return err
	}
	if err := once(kids, "Subject", "NameID", "BaseID", "EncryptedID"); err != nil {
		return err
	}
	if n := kids["NameID"]; len(n) == 1 {
		a.hasNameID, a.nameID, a.nameIDFormat = true, chardata(n[0]), n[0].SelectAttrValue("Format", "")
	}
	a.hasOtherSubjID = len(kids["BaseID"])+len(kids["EncryptedID"]) > 0
	// Every confirmation is read (a malformed one refuses the assertion,
	// whatever its method); only bearer ones are kept.
	for _, sc := range kids["SubjectConfirmation"] {
		scKids, err := samlChildren(sc, "SubjectConfirmationData", "NameID", "EncryptedID")
		if err != nil {
			return err
		}
		if err := once(scKids, "SubjectConfirmation", "SubjectConfirmationData", "NameID", "EncryptedID"); err != nil {
			return err
		}
		if len(scKids["EncryptedID"]) > 0 {
			return newError(CodeUnsupported, "the assertion's SubjectConfirmation carries an EncryptedID; samlgate accepts only unencrypted assertions")
		}
		var b bearerData
		if d := scKids["SubjectConfirmationData"]; len(d) == 1 {
			b.data = true
			b.recipient = d[0].SelectAttrValue("Recipient", "")
			b.inResponseTo = d[0].SelectAttrValue("InResponseTo", "")
			if b.notBefore, err = samlTime(d[0], "NotBefore", "SubjectConfirmationData NotBefore", false); err != nil {
				return err
			}
			if b.notOnOrAfter, err = samlTime(d[0], "NotOnOrAfter", "SubjectConfirmationData NotOnOrAfter", false); err != nil {
				return err
			}
		}
		if sc.SelectAttrValue("Method", "") == bearer {
			a.bearers = append(a.bearers, b)
		}
	}
	return nil
}

func (a *assertionData) readConditions(cond *etree.Element) *Error {
	a.hasConditions = true
	var err *Error
	if a.notBefore, err = samlTime(cond, "NotBefore", "Conditions NotBefore", false); err != nil {
		return err
	}
	if a.notOnOrAfter, err = samlTime(cond, "NotOnOrAfter", "Conditions NotOnOrAfter", false); err != nil {
		return err
	}
	// Other conditions (OneTimeUse, ProxyRestriction, unknown ones) are
	// ignored, as by crewjam without RejectUnknownConditions: a
	// one-time-use assertion is what the replay cache enforces anyway.
	kids, err := samlChildren(cond, "AudienceRestriction")
	if err != nil {
		return err
	}
	for _, ar := range kids["AudienceRestriction"] {
		auds, err := samlChildren(ar, "Audience")
		if err != nil {
			return err
		}
		values := []string{}
		for _, au := range auds["Audience"] {
			values = append(values, chardata(au))
		}
		a.audienceRestrictions = append(a.audienceRestrictions, values)
	}
	return nil
}

func (a *assertionData) readAttributes(st *etree.Element) *Error {
	attrs, err := samlChildren(st, "Attribute", "EncryptedAttribute")
	if err != nil {
		return err
	}
	if len(attrs["EncryptedAttribute"]) > 0 {
		return newError(CodeUnsupported, "the assertion carries an EncryptedAttribute; samlgate accepts only unencrypted assertions")
	}
	for _, at := range attrs["Attribute"] {
		ad := attributeData{
			name:         at.SelectAttrValue("Name", ""),
			friendlyName: at.SelectAttrValue("FriendlyName", ""),
			nameFormat:   at.SelectAttrValue("NameFormat", ""),
		}
		vals, err := samlChildren(at, "AttributeValue")
		if err != nil {
			return err
		}
		ad.values = make([]string, 0, len(vals["AttributeValue"]))
		for _, v := range vals["AttributeValue"] {
			// A value may be a NameID (saml-core §2.7.3.1.1); its text is
			// the value then, as crewjam reads it.
			ids, err := samlChildren(v, "NameID")
			if err != nil {
				return err
			}
			if err := once(ids, "AttributeValue", "NameID"); err != nil {
				return err
			}
			if n := ids["NameID"]; len(n) == 1 {
				ad.values = append(ad.values, chardata(n[0]))
				continue
			}
			ad.values = append(ad.values, chardata(v))
		}
		a.attributes = append(a.attributes, ad)
	}
	return nil
}

// samlChildren groups el's child elements named one of names by name,
// refusing one of those names in a namespace other than SAML's assertion
// namespace. Children of other names are not looked at.
func samlChildren(el *etree.Element, names ...string) (map[string][]*etree.Element, *Error) {
	out := make(map[string][]*etree.Element, len(names))
	for _, ch := range el.Child {
		ce, ok := ch.(*etree.Element)
		if !ok {
			continue
		}
		for _, n := range names {
			if ce.Tag != n {
				continue
			}
			if ns := ce.NamespaceURI(); ns != nsAssertion {
				return nil, newError(CodeMalformed, fmt.Sprintf("the assertion's %s holds a %s element in the namespace %q instead of %q", el.Tag, n, truncate(ns, 100), nsAssertion))
			}
			out[n] = append(out[n], ce)
		}
	}
	return out, nil
}

// once refuses more than one element of each of names, which the SAML
// schema allows once in parent.
func once(kids map[string][]*etree.Element, parent string, names ...string) *Error {
	for _, n := range names {
		if len(kids[n]) > 1 {
			return newError(CodeMalformed, fmt.Sprintf("the assertion's %s has %d %s elements; the SAML schema allows one", parent, len(kids[n]), n))
		}
	}
	return nil
}

// chardata is all character data directly inside el, CDATA included,
// comments and child elements left out: what encoding/xml's ",chardata"
// reads. etree's Text stops at the first child element.
func chardata(el *etree.Element) string {
	var only *etree.CharData
	n := 0
	for _, ch := range el.Child {
		if cd, ok := ch.(*etree.CharData); ok {
			only = cd
			n++
		}
	}
	switch n {
	case 0:
		return ""
	case 1:
		return only.Data
	}
	var b strings.Builder
	for _, ch := range el.Child {
		if cd, ok := ch.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return b.String()
}
