package saml_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/samlgate/samlgate/attributes"
	"github.com/samlgate/samlgate/saml"
)

// The differential oracle's comparison and its helpers (differential_test.go).

// compare requires the identity Verify returned to be crewjam's assertion,
// read as the connection's mapping and groups configuration read it.
func (d *diffConn) compare(t testing.TB, id *saml.Identity, a *crewjam.Assertion) {
	t.Helper()
	if a.Subject == nil || a.Subject.NameID == nil {
		t.Fatalf("crewjam accepted an assertion without NameID; Verify returned %q", id.Subject)
	}
	nameID := a.Subject.NameID
	if want := strings.TrimSpace(nameID.Value); id.Subject != want || id.SubjectFormat != nameID.Format {
		t.Fatalf("subject: Verify %q (%s), crewjam %q (%s)", id.Subject, id.SubjectFormat, want, nameID.Format)
	}
	if id.Issuer != a.Issuer.Value || id.AssertionID != a.ID {
		t.Fatalf("issuer/ID: Verify %q %q, crewjam %q %q", id.Issuer, id.AssertionID, a.Issuer.Value, a.ID)
	}
	set := crewjamAttributes(a)
	if !reflect.DeepEqual(id.Attributes, set) {
		t.Fatalf("attributes differ:\nVerify:  %+v\ncrewjam: %+v", id.Attributes, set)
	}
	nameIDEmail := ""
	switch nameID.Format {
	case "", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
		"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
		"urn:oasis:names:tc:SAML:1.0:nameid-format:unspecified":
		nameIDEmail = strings.TrimSpace(nameID.Value)
	}
	f, err := d.cfg.Attributes.Extract(set, nameIDEmail)
	if err != nil || f.Email != id.Email {
		t.Fatalf("email: Verify %q, crewjam's attributes give %q (%v)", id.Email, f.Email, err)
	}
	r, err := d.cfg.Groups.Compile()
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Resolve(set)
	if err != nil {
		t.Fatalf("Verify accepted groups crewjam's attributes refuse: %v", err)
	}
	if !slices.Equal(id.Groups, res.Groups) && !(len(id.Groups) == 0 && len(res.Groups) == 0) {
		t.Fatalf("groups: Verify %q, crewjam's attributes give %q", id.Groups, res.Groups)
	}
}

// crewjamAttributes flattens crewjam's attribute statements as Verify
// documents it: repeated Names merged, a NameID value read as its text.
func crewjamAttributes(a *crewjam.Assertion) attributes.Set {
	var set attributes.Set
	index := map[string]int{}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			values := []string{}
			for _, v := range at.Values {
				if v.NameID != nil {
					values = append(values, v.NameID.Value)
				} else {
					values = append(values, v.Value)
				}
			}
			if i, ok := index[at.Name]; ok {
				set[i].Values = append(set[i].Values, values...)
				continue
			}
			index[at.Name] = len(set)
			set = append(set, attributes.Attribute{Name: at.Name, FriendlyName: at.FriendlyName, NameFormat: at.NameFormat, Values: values})
		}
	}
	return set
}

// privateErr is the reason inside crewjam's InvalidResponseError.
func privateErr(err error) error {
	var ire *crewjam.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		return ire.PrivateErr
	}
	return err
}

func stripWS(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

// unwrapSignatureValues removes the white space inside every
// SignatureValue of raw.
func unwrapSignatureValues(raw []byte) ([]byte, bool) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, false
	}
	for _, sv := range doc.FindElements("//SignatureValue") {
		sv.SetText(stripWS(sv.Text()))
	}
	out, err := doc.WriteToBytes()
	return out, err == nil
}

// candidateInstants are the instants at which crewjam's time checks can
// pass if any does: each timestamp of raw, and just inside crewjam's
// tolerances around it.
func candidateInstants(raw []byte) []time.Time {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil || doc.Root() == nil {
		return nil
	}
	var out []time.Time
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) {
		for _, a := range el.Attr {
			switch a.Key {
			case "IssueInstant", "NotBefore", "NotOnOrAfter":
				var rt crewjam.RelaxedTime
				if rt.UnmarshalText([]byte(a.Value)) == nil {
					t := time.Time(rt)
					for _, d := range []time.Duration{0, -crewjam.MaxClockSkew + time.Second, crewjam.MaxIssueDelay - time.Second, crewjam.MaxClockSkew - time.Second, -time.Second} {
						out = append(out, t.Add(d))
					}
				}
			}
		}
		for _, ch := range el.ChildElements() {
			walk(ch)
		}
	}
	walk(doc.Root())
	return out
}
