package saml_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlgate/samlgate/attributes"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

// The differential test: Verify must never accept a response that
// crewjam's ParseXMLResponse, configured identically, refuses; and where
// both accept, the subject, email, attributes and groups must be the same.
// crewjam/saml is the reference because it is the implementation Verify
// used to delegate to, with a long record of fixes for signature wrapping
// and parser differentials. Verify may refuse more (its policies, its
// stricter shape): refusing is never a differential failure.
//
// The exceptions, where crewjam is wrong and Verify accepts, are these
// and no others (diffException):
//
//   - linewrapped SignatureValue: XML Schema's base64Binary allows white
//     space, Google Workspace sends the SignatureValue wrapped, xmlsec1
//     accepts it; goxmldsig, as crewjam calls it, does not decode it
//     ("Could not decode signature"). SignatureValue is not covered by the
//     signature, so removing its white space weakens nothing
//     (forPinnedKeys; testdata/real-idps/google).
//   - connection clock skew: Verify judges every time bound with the
//     connection's ClockSkew, the IssueInstant + MaxIssueDelay bound
//     included, where crewjam adds no skew to MaxIssueDelay (a package
//     global). The exception holds only if crewjam refused for time alone:
//     judged at one of the message's own timestamps (or just inside its
//     tolerances around one) it must accept, and that acceptance is
//     compared as usual (TestSkewBoundaries pins Verify's windows).

// diffConn is a connection under test and the crewjam ServiceProvider
// configured as it is.
type diffConn struct {
	conn *saml.Connection
	cfg  saml.ConnectionConfig // validated: conn.Config()
	sp   *crewjam.ServiceProvider
}

// newDiffConn builds the connection of cfg, with a replay cache that
// records nothing, and its crewjam twin: the same trusted certificates (as
// IdP metadata), IdP and SP entity IDs, ACS URL, clock, SHA-1 and
// IdP-initiated settings, certificate expiry checked or not alike.
func newDiffConn(t testing.TB, cfg saml.ConnectionConfig) *diffConn {
	t.Helper()
	cfg.ReplayCache = acceptAll{}
	conn := newConn(t, cfg)
	v := conn.Config()
	certs, err := conn.Certificates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	acs, err := url.Parse(v.ACSURL)
	if err != nil {
		t.Fatal(err)
	}
	return &diffConn{conn: conn, cfg: v, sp: &crewjam.ServiceProvider{
		EntityID:                v.SPEntityID,
		AcsURL:                  *acs,
		IDPMetadata:             idpMetadata(v.IdPEntityID, certs),
		AllowIDPInitiated:       !v.DisableIdPInitiated,
		RejectSHA1Signatures:    !v.AllowSHA1,
		IgnoreCertificateExpiry: v.AllowExpiredCertificate,
		Clock:                   dsig.NewFakeClockAt(v.Now()),
	}}
}

// idpMetadata is crewjam's IdP metadata trusting certs for signing.
func idpMetadata(entityID string, certs []*x509.Certificate) *crewjam.EntityDescriptor {
	kds := make([]crewjam.KeyDescriptor, len(certs))
	for i, c := range certs {
		kds[i] = crewjam.KeyDescriptor{Use: "signing", KeyInfo: crewjam.KeyInfo{X509Data: crewjam.X509Data{
			X509Certificates: []crewjam.X509Certificate{{Data: base64.StdEncoding.EncodeToString(c.Raw)}},
		}}}
	}
	return &crewjam.EntityDescriptor{EntityID: entityID, IDPSSODescriptors: []crewjam.IDPSSODescriptor{{
		SSODescriptor: crewjam.SSODescriptor{RoleDescriptor: crewjam.RoleDescriptor{
			ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol",
			KeyDescriptors:             kds,
		}},
	}}}
}

// check runs both on the form value (crewjam on its base64 decoding) and
// fails the test on a differential.
func (d *diffConn) check(t testing.TB, form string, requestIDs []string) {
	t.Helper()
	id, err := verify(d.conn, form, saml.WithRequestIDs(requestIDs...))
	if err != nil {
		var e *saml.Error
		if !errors.As(err, &e) {
			t.Fatalf("Verify: %T %v, not an *saml.Error", err, err)
		}
		return // refusing is never a differential
	}
	raw, derr := base64.StdEncoding.DecodeString(form)
	if derr != nil {
		// crewjam's ParseResponse decodes with the standard encoding too
		// (white space aside, which Verify strips as base64Binary allows).
		if raw, derr = base64.StdEncoding.DecodeString(stripWS(form)); derr != nil {
			t.Fatalf("Verify accepted a form value that is not base64: %v", derr)
		}
	}
	a, cerr := d.sp.ParseXMLResponse(raw, requestIDs, d.sp.AcsURL)
	if cerr != nil {
		if a = d.diffException(t, raw, requestIDs, cerr); a == nil {
			t.Fatalf("Verify accepted (subject %q) what crewjam refuses: %v", id.Subject, privateErr(cerr))
		}
	}
	d.compare(t, id, a)
}

// diffException returns crewjam's assertion when its refusal is one of the
// documented exceptions, else nil.
func (d *diffConn) diffException(t testing.TB, raw []byte, requestIDs []string, cerr error) *crewjam.Assertion {
	t.Helper()
	if undecodable(cerr) {
		// linewrapped SignatureValue: crewjam judges the unwrapped value.
		fixed, ok := unwrapSignatureValues(raw)
		if !ok {
			return nil
		}
		a, err := d.sp.ParseXMLResponse(fixed, requestIDs, d.sp.AcsURL)
		if err == nil {
			return a
		}
		raw, cerr = fixed, err // then perhaps the clock too
	}
	if errors.Is(cerr, crewjam.ErrExpired) || errors.Is(cerr, crewjam.ErrNotYetValid) {
		// connection clock skew: crewjam must accept at some instant near
		// the message's own timestamps (a linewrapped SignatureValue
		// unwrapped, should crewjam reach it only there).
		fixed, _ := unwrapSignatureValues(raw)
		for _, at := range candidateInstants(raw) {
			sp := *d.sp
			sp.Clock = dsig.NewFakeClockAt(at)
			a, err := sp.ParseXMLResponse(raw, requestIDs, sp.AcsURL)
			if err != nil && undecodable(err) && fixed != nil {
				a, err = sp.ParseXMLResponse(fixed, requestIDs, sp.AcsURL)
			}
			if err == nil {
				return a
			}
		}
	}
	return nil
}

// undecodable reports goxmldsig's refusal of a SignatureValue it cannot
// decode as base64, white space included.
func undecodable(err error) bool {
	return strings.Contains(privateErr(err).Error(), "Could not decode signature")
}

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

// diffConfigs are the connection settings every fixture is checked under:
// the standard connection, and ones that accept more (another trusted
// key, SHA-1, email_verified trusted, IdP-initiated refused).
func diffConfigs(t testing.TB) map[string]*diffConn {
	two := baseConfig(t)
	two.IdPCertificatesPEM = append(two.IdPCertificatesPEM, certPEM(t, "idp2"))
	sha1 := baseConfig(t)
	sha1.AllowSHA1 = true
	trust := baseConfig(t)
	trust.EmailVerified = saml.EmailVerifiedTrust
	trust.AllowExpiredCertificate = true
	spOnly := baseConfig(t)
	spOnly.DisableIdPInitiated = true
	out := map[string]*diffConn{}
	for name, cfg := range map[string]saml.ConnectionConfig{
		"standard": baseConfig(t), "two keys": two, "sha1": sha1, "trust": trust, "sp-initiated only": spOnly,
	} {
		out[name] = newDiffConn(t, cfg)
	}
	return out
}

// diffRequestIDs are the pending requests of every check: the one
// sp-initiated.xml answers, and another.
var diffRequestIDs = []string{"id-REQUEST-0001", "id-REQUEST-other"}

// TestDifferentialCrewjam checks every golden fixture under every
// diffConfigs connection, every attack row of TestAttacks, every real
// capture, the fuzz seeds, and mutations of them: targeted edits of what a
// signature leaves uncovered (the envelope of an assertion-signed
// Response, KeyInfo, SignatureValue) and seeded random byte edits.
func TestDifferentialCrewjam(t *testing.T) {
	conns := diffConfigs(t)
	golden := goldenFiles(t)
	t.Run("golden", func(t *testing.T) {
		for name, raw := range golden {
			for cname, d := range conns {
				t.Run(name+"/"+cname, func(t *testing.T) { d.check(t, encode(raw), diffRequestIDs) })
			}
		}
	})
	t.Run("attacks", func(t *testing.T) {
		idp := newIdP(t, "idp")
		for _, tt := range attacks() {
			t.Run(tt.name, func(t *testing.T) {
				form, cfg := attackInput(t, idp, tt)
				newDiffConn(t, cfg).check(t, form, diffRequestIDs)
			})
		}
	})
	t.Run("real captures", func(t *testing.T) {
		for _, name := range []string{"jumpcloud", "google", "okta"} {
			c := loadCapture(t, name)
			for _, policy := range []saml.EmailVerifiedPolicy{saml.EmailVerifiedTrust, saml.EmailVerifiedRequire} {
				t.Run(name+"/"+string(policy), func(t *testing.T) {
					d := newDiffConn(t, saml.ConnectionConfig{Name: name, SPEntityID: c.SPEntityID, ACSURL: c.acs,
						IdPMetadataXML: c.metadata, EmailVerified: policy, Now: fixedClock(c.Now)})
					d.check(t, encode(c.response), nil)
					for i, m := range envelopeMutations() {
						if out, ok := mutateXML(c.response, m); ok {
							t.Run(fmt.Sprint("envelope", i), func(t *testing.T) { d.check(t, encode(out), nil) })
						}
					}
				})
			}
		}
	})
	t.Run("fuzz seeds", func(t *testing.T) {
		d := conns["standard"]
		for i, raw := range attackSeeds(t) {
			t.Run(fmt.Sprint(i), func(t *testing.T) { d.check(t, encode(raw), diffRequestIDs) })
		}
	})
	t.Run("mutations", func(t *testing.T) {
		rounds := 40
		if testing.Short() {
			rounds = 5
		}
		for name, raw := range golden {
			if strings.Contains(name, "1000") {
				continue
			}
			for cname, d := range conns {
				t.Run(name+"/"+cname, func(t *testing.T) {
					for i, m := range envelopeMutations() {
						if out, ok := mutateXML(raw, m); ok {
							t.Run(fmt.Sprint("envelope", i), func(t *testing.T) { d.check(t, encode(out), diffRequestIDs) })
						}
					}
					rnd := rand.New(rand.NewPCG(uint64(len(raw)), uint64(len(cname))))
					for range rounds {
						d.check(t, encode(mutateBytes(rnd, raw)), diffRequestIDs)
					}
				})
			}
		}
	})
}

// attackInput builds the form value and connection settings of an attack
// row exactly as TestAttacks does.
func attackInput(t testing.TB, idp *samltest.IdP, tt attack) (string, saml.ConnectionConfig) {
	t.Helper()
	cfg := baseConfig(t)
	if tt.config != nil {
		tt.config(&cfg)
	}
	if tt.form != nil {
		return tt.form(t), cfg
	}
	r := standard()
	r.Sign = tt.sign
	if tt.edit != nil {
		tt.edit(&r)
	}
	if tt.mutate != nil {
		r.Mutate = func(doc *etree.Document) { tt.mutate(t, doc) }
	}
	raw, err := idp.ResponseXML(r)
	if err != nil {
		t.Fatal(err)
	}
	if tt.raw != nil {
		raw = tt.raw(raw)
	}
	return encode(raw), cfg
}

// envelopeMutations edit what an Assertion signature leaves uncovered: the
// Response's attributes, Issuer, Status and Extensions, and the
// signatures' KeyInfo and SignatureValue.
func envelopeMutations() []func(doc *etree.Document) {
	root := func(doc *etree.Document) *etree.Element { return doc.Root() }
	setAttr := func(k, v string) func(doc *etree.Document) {
		return func(doc *etree.Document) { root(doc).CreateAttr(k, v) }
	}
	removeAttr := func(k string) func(doc *etree.Document) {
		return func(doc *etree.Document) { root(doc).RemoveAttr(k) }
	}
	child := func(tag string) func(doc *etree.Document) *etree.Element {
		return func(doc *etree.Document) *etree.Element { return root(doc).SelectElement(tag) }
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
		setAttr("Consent", "urn:oasis:names:tc:SAML:2.0:consent:obtained"),
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

// FuzzDifferential fuzzes the decoded XML (seeds: the golden fixtures but
// the 1,000-group ones, and the fuzz seeds of FuzzRawXML) against the
// differential oracle, on the standard connection with a request pending.
func FuzzDifferential(f *testing.F) {
	for name, raw := range goldenFiles(f) {
		if !strings.Contains(name, "1000") {
			f.Add(raw)
		}
	}
	for _, raw := range attackSeeds(f) {
		f.Add(raw)
	}
	d := newDiffConn(f, baseConfig(f))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d.check(t, encode(raw), diffRequestIDs)
	})
}
