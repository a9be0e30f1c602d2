package saml_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/samlgate/samlgate/attributes"
	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

// The assertion and session IDs of golden/jumpcloud-default.xml.
const (
	goldenAssertionID  = "P23WNTHZQG0GPG1OZAMSTC1XVNZK5JT58BQ08BFK"
	goldenSessionIndex = "fef346a4-10e9-4dd7-b913-f340016f3f4e"
)

func fingerprint(t testing.TB, name string) string {
	t.Helper()
	_, cert := keyPair(t, name)
	return saml.Fingerprint(cert)
}

// TestGoldenFixtures runs every golden fixture through a connection with
// the standard settings (a fresh one per case: most fixtures share an
// assertion ID) and the per-case configuration, as testdata/README.md says
// a correct SP does.
func TestGoldenFixtures(t *testing.T) {
	trust := func(names ...string) func(t testing.TB, c *saml.ConnectionConfig) {
		return func(t testing.TB, c *saml.ConnectionConfig) {
			c.IdPCertificatesPEM = nil
			for _, n := range names {
				c.IdPCertificatesPEM = append(c.IdPCertificatesPEM, certPEM(t, n))
			}
		}
	}
	tests := []struct {
		name    string
		fixture string
		config  func(t testing.TB, c *saml.ConnectionConfig)
		opts    []saml.VerifyOption
		want    saml.Code // "" means accepted
		check   func(t *testing.T, id *saml.Identity, e *saml.Error)
	}{
		{name: "jumpcloud-default", fixture: "jumpcloud-default", check: func(t *testing.T, id *saml.Identity, _ *saml.Error) {
			checkAlice(t, id)
			if id.AssertionID != goldenAssertionID || id.SessionIndex != goldenSessionIndex {
				t.Errorf("got assertion %q session %q", id.AssertionID, id.SessionIndex)
			}
		}},
		{name: "response-signed", fixture: "response-signed", check: func(t *testing.T, id *saml.Identity, _ *saml.Error) { checkAlice(t, id) }},
		{name: "both-signed", fixture: "both-signed", check: func(t *testing.T, id *saml.Identity, _ *saml.Error) { checkAlice(t, id) }},
		{name: "unsigned", fixture: "unsigned", want: saml.CodeSignatureMissing, check: func(t *testing.T, _ *saml.Identity, e *saml.Error) {
			checkMismatch(t, e, "signed: either", "signed: none")
		}},
		{name: "sha1 refused by default", fixture: "sha1", want: saml.CodeWeakSignatureAlgorithm, check: func(t *testing.T, _ *saml.Identity, e *saml.Error) {
			checkMismatch(t, e, "an RSA-SHA256 (or stronger) signature", "http://www.w3.org/2000/09/xmldsig#rsa-sha1")
		}},
		{name: "sha1 with AllowSHA1", fixture: "sha1", config: func(_ testing.TB, c *saml.ConnectionConfig) { c.AllowSHA1 = true },
			check: func(t *testing.T, id *saml.Identity, _ *saml.Error) { checkAlice(t, id) }},
		{name: "sp-initiated, request pending", fixture: "sp-initiated", opts: []saml.VerifyOption{saml.WithRequestIDs("id-REQUEST-0001")},
			check: func(t *testing.T, id *saml.Identity, _ *saml.Error) {
				checkAlice(t, id)
				if id.InResponseTo != "id-REQUEST-0001" {
					t.Errorf("InResponseTo = %q", id.InResponseTo)
				}
			}},
		{name: "sp-initiated, no request pending", fixture: "sp-initiated", want: saml.CodeInResponseToMismatch, check: func(t *testing.T, _ *saml.Identity, e *saml.Error) {
			checkMismatch(t, e, "no InResponseTo (no login request pending)", "id-REQUEST-0001")
		}},
		{name: "no-email-verified, require", fixture: "no-email-verified", want: saml.CodeEmailVerifiedInvalid, check: func(t *testing.T, _ *saml.Identity, e *saml.Error) {
			checkMismatch(t, e, "email_verified = true", "(missing)")
		}},
		{name: "no-email-verified, trust", fixture: "no-email-verified", config: func(_ testing.TB, c *saml.ConnectionConfig) { c.EmailVerified = saml.EmailVerifiedTrust },
			check: func(t *testing.T, id *saml.Identity, _ *saml.Error) { checkAlice(t, id) }},
		{name: "no-email-verified, ignore", fixture: "no-email-verified", config: func(_ testing.TB, c *saml.ConnectionConfig) { c.EmailVerified = saml.EmailVerifiedIgnore },
			check: func(t *testing.T, id *saml.Identity, _ *saml.Error) {
				if id.Email != aliceEmail || id.EmailVerified {
					t.Errorf("got %q verified=%v, want %q unverified", id.Email, id.EmailVerified, aliceEmail)
				}
			}},
		{name: "email-verified-false, require", fixture: "email-verified-false", want: saml.CodeEmailNotVerified, check: func(t *testing.T, _ *saml.Identity, e *saml.Error) {
			checkMismatch(t, e, "email_verified = true", "false")
		}},
		{name: "email-verified-false, ignore", fixture: "email-verified-false", config: func(_ testing.TB, c *saml.ConnectionConfig) { c.EmailVerified = saml.EmailVerifiedIgnore },
			check: func(t *testing.T, id *saml.Identity, _ *saml.Error) {
				if id.EmailVerified {
					t.Error("EmailVerified = true for email_verified=false under Ignore")
				}
			}},
		{name: "no-groups", fixture: "no-groups", check: func(t *testing.T, id *saml.Identity, _ *saml.Error) {
			if id.Groups == nil || len(id.Groups) != 0 || id.Roles == nil || len(id.Roles) != 0 {
				t.Errorf("got groups %#v roles %#v, want empty non-nil lists", id.Groups, id.Roles)
			}
		}},
		{name: "groups-repeated-attribute", fixture: "groups-repeated-attribute", check: func(t *testing.T, id *saml.Identity, _ *saml.Error) { checkAlice(t, id) }},
		{name: "groups-1000", fixture: "groups-1000", check: func(t *testing.T, id *saml.Identity, _ *saml.Error) { checkThousandGroups(t, id) }},
		{name: "groups-1000-response-signed", fixture: "groups-1000-response-signed", check: func(t *testing.T, id *saml.Identity, _ *saml.Error) { checkThousandGroups(t, id) }},
		{name: "request-denied", fixture: "request-denied", want: saml.CodeStatusNotSuccess, check: func(t *testing.T, _ *saml.Identity, e *saml.Error) {
			if e.Actual != "urn:oasis:names:tc:SAML:2.0:status:Responder / urn:oasis:names:tc:SAML:2.0:status:RequestDenied" {
				t.Errorf("Actual = %q", e.Actual)
			}
		}},
		{name: "wrong-key", fixture: "wrong-key", want: saml.CodeUntrustedCertificate, check: func(t *testing.T, _ *saml.Identity, e *saml.Error) {
			checkMismatch(t, e, fingerprint(t, "idp"), fingerprint(t, "attacker"))
		}},
		{name: "rotated-key, old cert only", fixture: "rotated-key", want: saml.CodeUntrustedCertificate, check: func(t *testing.T, _ *saml.Identity, e *saml.Error) {
			checkMismatch(t, e, fingerprint(t, "idp"), fingerprint(t, "idp2"))
		}},
		{name: "rotated-key, both certs", fixture: "rotated-key", config: trust("idp", "idp2"), check: func(t *testing.T, id *saml.Identity, _ *saml.Error) { checkAlice(t, id) }},
		{name: "expired-cert, not trusted", fixture: "expired-cert", want: saml.CodeUntrustedCertificate},
		{name: "expired-cert, expiry waived", fixture: "expired-cert", config: func(t testing.TB, c *saml.ConnectionConfig) {
			trust("expired")(t, c)
			c.AllowExpiredCertificate = true
		}, check: func(t *testing.T, id *saml.Identity, _ *saml.Error) { checkAlice(t, id) }},
		{name: "expiring-cert, trusted", fixture: "expiring-cert", config: trust("expiring"), check: func(t *testing.T, id *saml.Identity, _ *saml.Error) { checkAlice(t, id) }},
		{name: "weak-key, idp trusted", fixture: "weak-key", want: saml.CodeUntrustedCertificate, check: func(t *testing.T, _ *saml.Identity, e *saml.Error) {
			checkMismatch(t, e, fingerprint(t, "idp"), fingerprint(t, "weak"))
		}},
		{name: "no-destination (PingFederate's default)", fixture: "no-destination", check: func(t *testing.T, id *saml.Identity, _ *saml.Error) { checkAlice(t, id) }},
		{name: "no-destination-response-signed", fixture: "no-destination-response-signed", want: saml.CodeDestinationMismatch, check: func(t *testing.T, _ *saml.Identity, e *saml.Error) {
			checkMismatch(t, e, acsURL, "")
			checkMessage(t, e, "signed but has no Destination")
		}},
		{name: "no-destination, recipient checked at another connection", fixture: "no-destination", config: func(_ testing.TB, c *saml.ConnectionConfig) {
			c.ACSURL = "https://auth.example.com/login/callback?connection=globex"
		}, want: saml.CodeRecipientMismatch, check: func(t *testing.T, _ *saml.Identity, e *saml.Error) {
			checkMismatch(t, e, "https://auth.example.com/login/callback?connection=globex", acsURL)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(t)
			if tt.config != nil {
				tt.config(t, &cfg)
			}
			conn := newConn(t, cfg)
			form := golden(t, tt.fixture)
			if tt.want == "" {
				id := mustVerify(t, conn, form, tt.opts...)
				if id.Connection != "acme" {
					t.Errorf("Connection = %q", id.Connection)
				}
				if tt.check != nil {
					tt.check(t, id, nil)
				}
				return
			}
			e := refuse(t, conn, form, tt.want, tt.opts...)
			if tt.check != nil {
				tt.check(t, nil, e)
			}
		})
	}
}

func checkThousandGroups(t *testing.T, id *saml.Identity) {
	t.Helper()
	if len(id.Groups) != 1000 {
		t.Fatalf("got %d groups, want 1000", len(id.Groups))
	}
	for i, g := range id.Groups {
		if want := fmt.Sprintf("group-%04d", i+1); g != want {
			t.Fatalf("group %d is %q, want %q", i, g, want)
		}
	}
}

// TestIdentityFields checks every field of the Identity against what the
// IdP put in the signed assertion, with a role mapping and a filter.
func TestIdentityFields(t *testing.T) {
	idp := newIdP(t, "idp")
	r := standard()
	r.AssertionID = "A1234567890ABCDEFGHIJKLMNOPQRSTUVWXYZ012"
	r.SessionIndex = "session-42"
	r.SessionNotOnOrAfter = pinned.Add(8 * time.Hour)
	r.NameIDFormat = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	r.Groups = []string{" Engineering ", "Admins", "Engineering", "Everyone", "eng-platform"}
	r.Attributes = []samltest.Attribute{{Name: "department", Values: []string{"R&D"}}}
	cfg := baseConfig(t)
	cfg.Groups = groups.Config{
		Roles: []groups.RoleMapping{
			{Group: "Admins", Role: "admin"},
			{Group: "eng-*", Role: "developer"},
			{Group: "Engineering", Role: "developer"},
			{Group: "Finance", Role: "accountant"},
		},
	}
	conn := newConn(t, cfg)
	id := mustVerify(t, conn, mint(t, idp, r))

	want := saml.Identity{
		Connection:          "acme",
		Subject:             aliceEmail,
		SubjectFormat:       "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
		Email:               aliceEmail,
		EmailVerified:       true,
		EmailVerifiedBy:     saml.EmailVerifiedByIdP,
		GivenName:           "Alice",
		FamilyName:          "Liddell",
		Groups:              []string{"Engineering", "Admins", "Everyone", "eng-platform"},
		Roles:               []string{"developer", "admin"},
		Issuer:              idpEntityID,
		AssertionID:         "A1234567890ABCDEFGHIJKLMNOPQRSTUVWXYZ012",
		SessionIndex:        "session-42",
		AuthnInstant:        pinned,
		SessionNotOnOrAfter: pinned.Add(8 * time.Hour),
	}
	got := *id
	got.Attributes = nil
	if g, w := jsonString(t, got), jsonString(t, want); g != w {
		t.Errorf("identity\n got %s\nwant %s", g, w)
	}
	if !got.AuthnInstant.Equal(want.AuthnInstant) || !got.SessionNotOnOrAfter.Equal(want.SessionNotOnOrAfter) {
		t.Errorf("times: got %v %v", got.AuthnInstant, got.SessionNotOnOrAfter)
	}
	if !id.HasGroup("Admins") || id.HasGroup("admins") || !id.HasRole("admin") || id.HasRole("accountant") {
		t.Error("HasGroup/HasRole disagree with Groups/Roles")
	}
	names := make([]string, len(id.Attributes))
	for i, a := range id.Attributes {
		names[i] = a.Name
	}
	if wantNames := []string{"email", "email_verified", "given_name", "family_name", "memberOf", "department"}; !slices.Equal(names, wantNames) {
		t.Errorf("attribute names %q, want %q", names, wantNames)
	}
	if v := id.Attributes.Lookup("department"); len(v) != 1 || !slices.Equal(v[0].Values, []string{"R&D"}) {
		t.Errorf("department = %+v", v)
	}

	// Filter trims Groups but neither the roles nor the gate.
	cfg.Groups.Filter = []string{"eng-*"}
	cfg.Groups.AllowedGroups = []string{"Admins"}
	id = mustVerify(t, newConn(t, cfg), mint(t, idp, r))
	if !slices.Equal(id.Groups, []string{"eng-platform"}) || !slices.Equal(id.Roles, []string{"developer", "admin"}) {
		t.Errorf("with filter: groups %q roles %q", id.Groups, id.Roles)
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestXMLSecFixtures verifies responses signed by xmlsec1, an independent
// implementation, with its line-wrapped base64 and newlines.
func TestXMLSecFixtures(t *testing.T) {
	tests := []struct {
		file      string
		allowSHA1 bool
		want      saml.Code
	}{
		{file: "xmlsec-assertion-signed"},
		{file: "xmlsec-response-signed"},
		{file: "xmlsec-assertion-signed-inclusive-namespaces"},
		{file: "xmlsec-assertion-signed-sha1", want: saml.CodeWeakSignatureAlgorithm},
		{file: "xmlsec-assertion-signed-sha1", allowSHA1: true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/allowSHA1=%v", tt.file, tt.allowSHA1), func(t *testing.T) {
			raw := readFile(t, "xmlsec", tt.file+".xml")
			if !bytes.Contains(raw, []byte("\n")) {
				t.Fatal("fixture has no line breaks: not xmlsec1's output")
			}
			cfg := baseConfig(t)
			cfg.AllowSHA1 = tt.allowSHA1
			conn := newConn(t, cfg)
			if tt.want != "" {
				refuse(t, conn, encode(raw), tt.want)
				return
			}
			checkAlice(t, mustVerify(t, conn, encode(raw)))
		})
	}
}

type realCapture struct {
	SPEntityID string    `json:"sp_entity_id"`
	Now        time.Time `json:"now"`
	metadata   []byte
	response   []byte
	acs        string
}

func loadCapture(t testing.TB, name string) realCapture {
	t.Helper()
	var c realCapture
	if err := json.Unmarshal(readFile(t, "real-idps", name, "params.json"), &c); err != nil {
		t.Fatal(err)
	}
	c.metadata = readFile(t, "real-idps", name, "metadata.xml")
	c.response = readFile(t, "real-idps", name, "assertion.xml")
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(c.response); err != nil {
		t.Fatal(err)
	}
	c.acs = doc.Root().SelectAttrValue("Destination", "")
	if c.SPEntityID == "" || c.Now.IsZero() || c.acs == "" {
		t.Fatalf("incomplete capture %s: %+v", name, c)
	}
	return c
}

// TestRealCaptures verifies the three real IdP responses as
// testdata/real-idps/README.md says a correct SP does, with connections
// built from each IdP's metadata.
func TestRealCaptures(t *testing.T) {
	tests := []struct {
		idp     string
		policy  saml.EmailVerifiedPolicy
		want    saml.Code
		subject string
		issuer  string
	}{
		{idp: "jumpcloud", policy: saml.EmailVerifiedTrust, subject: "ulysse.carion@codomaindata.com", issuer: "IdP Entity ID"},
		{idp: "jumpcloud", policy: saml.EmailVerifiedIgnore, subject: "ulysse.carion@codomaindata.com", issuer: "IdP Entity ID"},
		{idp: "jumpcloud", policy: "", want: saml.CodeEmailVerifiedInvalid},
		{idp: "google", policy: saml.EmailVerifiedTrust, subject: "ulysse.carion@codomaindata.com", issuer: "https://accounts.google.com/o/saml2?idpid=C029op2ga"},
		{idp: "okta", policy: saml.EmailVerifiedTrust, want: saml.CodeSignatureInvalid},
		{idp: "okta", policy: "", want: saml.CodeSignatureInvalid},
		{idp: "google", policy: "", want: saml.CodeEmailVerifiedInvalid},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.idp, tt.policy), func(t *testing.T) {
			c := loadCapture(t, tt.idp)
			conn := newConn(t, saml.ConnectionConfig{
				Name:           tt.idp,
				SPEntityID:     c.SPEntityID,
				ACSURL:         c.acs,
				IdPMetadataXML: c.metadata,
				EmailVerified:  tt.policy,
				Now:            fixedClock(c.Now),
			})
			form := encode(c.response)
			if tt.want != "" {
				e := refuse(t, conn, form, tt.want)
				switch tt.want {
				case saml.CodeEmailVerifiedInvalid:
					checkMismatch(t, e, "email_verified = true", "(missing)")
				case saml.CodeSignatureInvalid:
					// The capture was altered outside the Assertion after
					// Okta signed it (real-idps/README.md): say which.
					checkMessage(t, e, "the Response's signature does not verify, while the Assertion's own signature does")
				}
				return
			}
			id := mustVerify(t, conn, form)
			if id.Subject != tt.subject || id.Email != tt.subject || id.Issuer != tt.issuer {
				t.Errorf("got subject %q email %q issuer %q", id.Subject, id.Email, id.Issuer)
			}
			if want := tt.policy == saml.EmailVerifiedTrust; id.EmailVerified != want {
				t.Errorf("EmailVerified = %v under %s", id.EmailVerified, tt.policy)
			}
		})
	}
}

// TestRotation trusts two certificates at once, as during JumpCloud's
// hard cut-over, given as two PEMs, one PEM bundle, or metadata with two
// signing keys.
func TestRotation(t *testing.T) {
	old, next := newIdP(t, "idp"), newIdP(t, "idp2")
	attacker := newIdP(t, "attacker")
	bundle := append(append([]byte{}, certPEM(t, "idp")...), certPEM(t, "idp2")...)

	md := etree.NewDocument()
	if err := md.ReadFromBytes(old.Metadata()); err != nil {
		t.Fatal(err)
	}
	kd := md.FindElement("//KeyDescriptor")
	kd2 := kd.Copy()
	_, cert2 := keyPair(t, "idp2")
	kd2.FindElement(".//X509Certificate").SetText(encode(cert2.Raw))
	kd.Parent().InsertChildAt(kd.Index()+1, kd2)
	metadata, err := md.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}

	configs := map[string]func(c *saml.ConnectionConfig){
		"two PEMs":   func(c *saml.ConnectionConfig) { c.IdPCertificatesPEM = [][]byte{certPEM(t, "idp"), certPEM(t, "idp2")} },
		"PEM bundle": func(c *saml.ConnectionConfig) { c.IdPCertificatesPEM = [][]byte{bundle} },
		"metadata": func(c *saml.ConnectionConfig) {
			c.IdPCertificatesPEM, c.IdPEntityID, c.IdPSSOURL = nil, "", ""
			c.IdPMetadataXML = metadata
		},
	}
	for name, configure := range configs {
		t.Run(name, func(t *testing.T) {
			cfg := baseConfig(t)
			configure(&cfg)
			conn := newConn(t, cfg)
			if certs, _ := conn.Certificates(context.Background()); len(certs) != 2 {
				n := len(certs)
				t.Fatalf("%d certificates pinned, want 2", n)
			}
			for _, sign := range []samltest.Sign{samltest.SignAssertion, samltest.SignResponse, samltest.SignBoth} {
				for _, idp := range []*samltest.IdP{old, next} {
					r := standard()
					r.Sign, r.AssertionID = sign, uniqueID()
					checkAlice(t, mustVerify(t, conn, mint(t, idp, r)))
				}
			}
			// Without KeyInfo, every pinned certificate is tried.
			r := standard()
			r.AssertionID = uniqueID()
			r.Mutate = removeAll("//KeyInfo")
			checkAlice(t, mustVerify(t, conn, mint(t, next, r)))
			// A third key is still refused.
			e := refuse(t, conn, mint(t, attacker, standard()), saml.CodeUntrustedCertificate)
			checkMismatch(t, e, fingerprint(t, "idp")+", "+fingerprint(t, "idp2"), fingerprint(t, "attacker"))
			r.Mutate = removeAll("//KeyInfo")
			refuse(t, conn, mint(t, attacker, r), saml.CodeSignatureInvalid)
		})
	}
}

// removeAll returns a Mutate removing every element matching path.
func removeAll(path string) func(*etree.Document) {
	return func(doc *etree.Document) {
		for _, el := range doc.FindElements(path) {
			el.Parent().RemoveChild(el)
		}
	}
}

// TestNewConnectionMetadataVsPEM builds the same connection from the IdP's
// metadata and from its certificate PEM; both must behave alike.
func TestNewConnectionMetadataVsPEM(t *testing.T) {
	idp := newIdP(t, "idp")
	idp.SSOURL = "https://sso.jumpcloud.com/saml2/acme-login"
	idp.DeclareRedirectEndpoint = true

	fromPEM := newConn(t, baseConfig(t))
	cfg := baseConfig(t)
	cfg.IdPCertificatesPEM, cfg.IdPEntityID, cfg.IdPSSOURL = nil, "", ""
	cfg.IdPMetadataXML = idp.Metadata()
	fromMD := newConn(t, cfg)

	got := fromMD.Config()
	if got.IdPEntityID != idpEntityID || got.IdPSSOURL != idp.SSOURL || !got.IdPSSORedirect {
		t.Errorf("from metadata: entity %q SSO %q redirect %v", got.IdPEntityID, got.IdPSSOURL, got.IdPSSORedirect)
	}
	if got.Signature != saml.SignatureEither || got.EmailVerified != saml.EmailVerifiedRequire {
		t.Errorf("defaults not filled in: %q %q", got.Signature, got.EmailVerified)
	}
	a, _ := fromPEM.Certificates(context.Background())
	b, _ := fromMD.Certificates(context.Background())
	if len(a) != 1 || len(b) != 1 || !a[0].Equal(b[0]) {
		t.Fatalf("pinned certificates differ: %d vs %d", len(a), len(b))
	}
	for name, conn := range map[string]*saml.Connection{"pem": fromPEM, "metadata": fromMD} {
		t.Run(name, func(t *testing.T) {
			checkAlice(t, mustVerify(t, conn, mint(t, idp, standard())))
			refuse(t, conn, mint(t, newIdP(t, "idp2"), standard()), saml.CodeUntrustedCertificate)
			r := standard()
			r.Issuer = "https://sso.jumpcloud.com/saml2/globex"
			e := refuse(t, conn, mint(t, idp, r), saml.CodeIssuerMismatch)
			checkMismatch(t, e, idpEntityID, r.Issuer)
		})
	}

	// A bare base64 DER body, as pasted from metadata, is a certificate too.
	_, cert := keyPair(t, "idp")
	cfg = baseConfig(t)
	cfg.IdPCertificatesPEM = [][]byte{[]byte("  " + encode(cert.Raw) + "\n")}
	checkAlice(t, mustVerify(t, newConn(t, cfg), mint(t, idp, standard())))
}

// TestSignaturePolicyMatrix runs every signature policy against every
// signing mode.
func TestSignaturePolicyMatrix(t *testing.T) {
	idp := newIdP(t, "idp")
	modes := []samltest.Sign{samltest.SignAssertion, samltest.SignResponse, samltest.SignBoth, samltest.SignNone}
	accept := map[saml.SignaturePolicy][]samltest.Sign{
		saml.SignatureEither:    {samltest.SignAssertion, samltest.SignResponse, samltest.SignBoth},
		saml.SignatureAssertion: {samltest.SignAssertion, samltest.SignBoth},
		saml.SignatureResponse:  {samltest.SignResponse, samltest.SignBoth},
		saml.SignatureBoth:      {samltest.SignBoth},
	}
	for _, policy := range []saml.SignaturePolicy{saml.SignatureEither, saml.SignatureAssertion, saml.SignatureResponse, saml.SignatureBoth} {
		cfg := baseConfig(t)
		cfg.Signature = policy
		conn := newConn(t, cfg)
		for _, mode := range modes {
			t.Run(fmt.Sprintf("policy=%s/sign=%s", policy, mode), func(t *testing.T) {
				r := standard()
				r.Sign = mode
				form := mint(t, idp, r)
				if slices.Contains(accept[policy], mode) {
					checkAlice(t, mustVerify(t, conn, form))
					return
				}
				e := refuse(t, conn, form, saml.CodeSignatureMissing)
				checkMismatch(t, e, "signed: "+string(policy), "signed: "+mode.String())
			})
		}
	}
}

// TestProtocolMismatches covers issuer, audience, destination and
// recipient, each with the values an admin compares with the console.
func TestProtocolMismatches(t *testing.T) {
	idp := newIdP(t, "idp")
	noQuery := "https://auth.example.com/login/callback"
	other := "https://auth.example.com/login/callback?connection=globex"
	tests := []struct {
		name             string
		edit             func(r *samltest.Response)
		want             saml.Code
		expected, actual string
		message          string
	}{
		{name: "issuer", edit: func(r *samltest.Response) { r.Issuer = "https://sso.jumpcloud.com/saml2/globex" },
			want: saml.CodeIssuerMismatch, expected: idpEntityID, actual: "https://sso.jumpcloud.com/saml2/globex"},
		{name: "issuer typed as free text", edit: func(r *samltest.Response) { r.Issuer = "JumpCloud" },
			want: saml.CodeIssuerMismatch, expected: idpEntityID, actual: "JumpCloud"},
		{name: "response issuer only (unsigned wrapper)", edit: func(r *samltest.Response) {
			r.Mutate = func(doc *etree.Document) { doc.Root().SelectElement("Issuer").SetText("https://evil.test/idp") }
		}, want: saml.CodeIssuerMismatch, expected: idpEntityID, actual: "https://evil.test/idp"},
		{name: "audience of another connection", edit: func(r *samltest.Response) { r.Audience = "urn:samlgate:globex" },
			want: saml.CodeAudienceMismatch, expected: spEntityID, actual: "urn:samlgate:globex", message: "SP entity ID of another connection"},
		{name: "audience of another service", edit: func(r *samltest.Response) { r.Audience = "https://app.example.org/saml" },
			want: saml.CodeAudienceMismatch, expected: spEntityID, actual: "https://app.example.org/saml", message: "meant for another service provider"},
		{name: "audience case differs", edit: func(r *samltest.Response) { r.Audience = "urn:samlgate:ACME" },
			want: saml.CodeAudienceMismatch, expected: spEntityID, actual: "urn:samlgate:ACME"},
		{name: "IdP URL pasted as SP entity ID", edit: func(r *samltest.Response) { r.Audience = idpEntityID },
			want: saml.CodeAudienceMismatch, expected: spEntityID, actual: idpEntityID, message: "IdP URL was pasted"},
		{name: "no AudienceRestriction", edit: func(r *samltest.Response) { r.Audience = "" },
			want: saml.CodeAudienceMismatch, expected: spEntityID, actual: ""},
		{name: "destination without ?connection=", edit: func(r *samltest.Response) { r.Destination = noQuery },
			want: saml.CodeDestinationMismatch, expected: acsURL, actual: noQuery, message: "lacks the ?connection= query"},
		{name: "destination of another connection", edit: func(r *samltest.Response) { r.Destination = other },
			want: saml.CodeDestinationMismatch, expected: acsURL, actual: other, message: "another connection"},
		{name: "destination of another host", edit: func(r *samltest.Response) { r.Destination = "https://evil.test/acs"; r.Recipient = acsURL },
			want: saml.CodeDestinationMismatch, expected: acsURL, actual: "https://evil.test/acs", message: "not this connection's ACS URL"},
		{name: "no destination, response signed", edit: func(r *samltest.Response) { r.Destination = ""; r.Recipient = acsURL; r.Sign = samltest.SignResponse },
			want: saml.CodeDestinationMismatch, expected: acsURL, actual: "", message: "signed but has no Destination"},
		{name: "no destination, both signed", edit: func(r *samltest.Response) { r.Destination = ""; r.Recipient = acsURL; r.Sign = samltest.SignBoth },
			want: saml.CodeDestinationMismatch, expected: acsURL, actual: "", message: "signed but has no Destination"},
		{name: "no destination, recipient of another connection", edit: func(r *samltest.Response) { r.Destination = ""; r.Recipient = other },
			want: saml.CodeRecipientMismatch, expected: acsURL, actual: other, message: "the Recipient is the ACS URL of another connection"},
		{name: "no destination, recipient without ?connection=", edit: func(r *samltest.Response) { r.Destination = ""; r.Recipient = noQuery },
			want: saml.CodeRecipientMismatch, expected: acsURL, actual: noQuery, message: "the Recipient lacks the ?connection= query"},
		{name: "no destination, no recipient", edit: func(r *samltest.Response) { r.Destination = ""; r.Recipient = "" },
			want: saml.CodeRecipientMismatch, expected: acsURL, actual: "", message: "has no Recipient"},
		{name: "recipient of another connection", edit: func(r *samltest.Response) { r.Recipient = other },
			want: saml.CodeRecipientMismatch, expected: acsURL, actual: other, message: "another connection"},
		{name: "recipient without ?connection=", edit: func(r *samltest.Response) { r.Recipient = noQuery },
			want: saml.CodeRecipientMismatch, expected: acsURL, actual: noQuery, message: "lacks the ?connection= query"},
		{name: "destination rewritten after signing", edit: func(r *samltest.Response) {
			r.Sign = samltest.SignResponse
			r.Mutate = func(doc *etree.Document) { doc.Root().CreateAttr("Destination", other) }
		}, want: saml.CodeSignatureInvalid},
	}
	conn := newConn(t, baseConfig(t))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := standard()
			tt.edit(&r)
			e := refuse(t, conn, mint(t, idp, r), tt.want)
			if tt.want != saml.CodeSignatureInvalid {
				checkMismatch(t, e, tt.expected, tt.actual)
			}
			if tt.message != "" {
				checkMessage(t, e, tt.message)
			}
		})
	}
}

func TestInResponseTo(t *testing.T) {
	idp := newIdP(t, "idp")
	spInit := func() samltest.Response {
		r := standard()
		r.InResponseTo = "id-REQUEST-0001"
		return r
	}
	disabled := baseConfig(t)
	disabled.DisableIdPInitiated = true
	tests := []struct {
		name             string
		cfg              saml.ConnectionConfig
		r                samltest.Response
		ids              []string
		want             saml.Code
		expected, actual string
	}{
		{name: "unknown request", cfg: baseConfig(t), r: spInit(), want: saml.CodeInResponseToMismatch,
			expected: "no InResponseTo (no login request pending)", actual: "id-REQUEST-0001"},
		{name: "other request pending", cfg: baseConfig(t), r: spInit(), ids: []string{"id-OTHER"}, want: saml.CodeInResponseToMismatch,
			expected: "id-OTHER", actual: "id-REQUEST-0001"},
		{name: "empty request ID never matches", cfg: baseConfig(t), r: spInit(), ids: []string{""}, want: saml.CodeInResponseToMismatch,
			actual: "id-REQUEST-0001"},
		{name: "matching request among several", cfg: baseConfig(t), r: spInit(), ids: []string{"id-OTHER", "id-REQUEST-0001"}},
		{name: "IdP-initiated with requests pending", cfg: baseConfig(t), r: standard(), ids: []string{"id-OTHER"}},
		{name: "IdP-initiated, disabled", cfg: disabled, r: standard(), want: saml.CodeInResponseToMismatch, actual: ""},
		{name: "IdP-initiated, disabled, requests pending", cfg: disabled, r: standard(), ids: []string{"id-OTHER"}, want: saml.CodeInResponseToMismatch,
			expected: "id-OTHER", actual: ""},
		{name: "SP-initiated, IdP-initiated disabled", cfg: disabled, r: spInit(), ids: []string{"id-REQUEST-0001"}},
		{name: "response InResponseTo rewritten after signing", cfg: baseConfig(t), r: func() samltest.Response {
			r := spInit()
			r.Mutate = func(doc *etree.Document) { doc.Root().CreateAttr("InResponseTo", "id-OTHER") }
			return r
		}(), ids: []string{"id-OTHER", "id-REQUEST-0001"}, want: saml.CodeInResponseToMismatch, expected: "id-OTHER", actual: "id-REQUEST-0001"},
		{name: "response InResponseTo removed after signing", cfg: baseConfig(t), r: func() samltest.Response {
			r := spInit()
			r.Mutate = func(doc *etree.Document) { doc.Root().RemoveAttr("InResponseTo") }
			return r
		}(), want: saml.CodeInResponseToMismatch, expected: "no InResponseTo (no login request pending)", actual: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := newConn(t, tt.cfg)
			form := mint(t, idp, tt.r)
			opts := []saml.VerifyOption{saml.WithRequestIDs(tt.ids...)}
			if tt.want == "" {
				id := mustVerify(t, conn, form, opts...)
				if id.InResponseTo != tt.r.InResponseTo {
					t.Errorf("InResponseTo = %q, want %q", id.InResponseTo, tt.r.InResponseTo)
				}
				return
			}
			e := refuse(t, conn, form, tt.want, opts...)
			if e.Actual != tt.actual {
				t.Errorf("Actual = %q, want %q", e.Actual, tt.actual)
			}
			if tt.expected != "" && e.Expected != tt.expected {
				t.Errorf("Expected = %q, want %q", e.Expected, tt.expected)
			}
			if e.Expected == "" || e.Expected == e.Actual {
				t.Errorf("Expected %q does not say what was expected (Actual %q)", e.Expected, e.Actual)
			}
		})
	}
}

// TestSignatureInvalidMessages: a broken signature under a pinned
// certificate is reported as an altered response; one under no named
// certificate keeps the generic message. Both keep a hint.
func TestSignatureInvalidMessages(t *testing.T) {
	idp, attacker := newIdP(t, "idp"), newIdP(t, "attacker")
	conn := newConn(t, baseConfig(t))
	tampered := standard()
	tampered.Mutate = func(doc *etree.Document) { doc.FindElement("//NameID").SetText("mallory@evil.test") }
	e := refuse(t, conn, mint(t, idp, tampered), saml.CodeSignatureInvalid)
	checkMessage(t, e, "altered after the IdP signed it")

	noKeyInfo := standard()
	noKeyInfo.Mutate = removeAll("//KeyInfo")
	e = refuse(t, conn, mint(t, attacker, noKeyInfo), saml.CodeSignatureInvalid)
	checkMessage(t, e, "does not verify against the configured IdP certificate")
	if strings.Contains(e.Message, "altered after the IdP signed it") {
		t.Errorf("a signature by an unknown key without KeyInfo is reported as altered: %q", e.Message)
	}
}

// TestSignatureInvalidWhich: with both the Response and the Assertion
// signed, the error says which signature failed.
func TestSignatureInvalidWhich(t *testing.T) {
	idp := newIdP(t, "idp")
	conn := newConn(t, baseConfig(t))
	tests := []struct {
		name    string
		sign    samltest.Sign
		groups  int // memberOf values, when not the standard ones
		mutate  func(t testing.TB, doc *etree.Document)
		message string
		absent  string // what the message must not say
	}{
		{name: "Response altered outside the Assertion", sign: samltest.SignBoth, mutate: func(_ testing.TB, doc *etree.Document) {
			doc.Root().CreateAttr("Consent", "urn:oasis:names:tc:SAML:2.0:consent:obtained")
		}, message: "the Response's signature does not verify, while the Assertion's own signature does"},
		{name: "Assertion altered", sign: samltest.SignBoth, mutate: func(_ testing.TB, doc *etree.Document) {
			doc.FindElement("//NameID").SetText(mallory)
		}, message: "neither the Response's signature nor the Assertion's verifies"},
		{name: "Assertion signature broken, then the Response signed over it", sign: samltest.SignAssertion, mutate: func(t testing.TB, doc *etree.Document) {
			sv := signatureOf(assertion(doc)).SelectElement("SignatureValue")
			sv.SetText("AAAA" + sv.Text()[4:])
			signCustom(t, "idp", response(doc), response(doc), nil)
		}, message: "the Response's signature verifies, but the Assertion's own signature does not"},
		{name: "Response signature of another key", sign: samltest.SignBoth, mutate: func(t testing.TB, doc *etree.Document) {
			signCustom(t, "attacker", response(doc), response(doc), nil)
			signatureOf(response(doc)).RemoveChild(signatureOf(response(doc)).SelectElement("KeyInfo"))
		}, message: "the Response's signature does not verify, while the Assertion's own signature does"},
		// The diagnosis checked the Assertion in place, and goxmldsig
		// copied it without the namespaces its ancestors declare: an
		// Assertion that declares none of its own looked altered too.
		{name: "Response altered outside the Assertion, saml2 declared on the Response only", sign: samltest.SignBoth, mutate: func(_ testing.TB, doc *etree.Document) {
			declareOnResponse(doc)
			doc.Root().CreateAttr("Consent", "urn:oasis:names:tc:SAML:2.0:consent:obtained")
		}, message: "the Response's signature does not verify, while the Assertion's own signature does"},
		{name: "Assertion altered, saml2 declared on the Response only", sign: samltest.SignBoth, mutate: func(_ testing.TB, doc *etree.Document) {
			declareOnResponse(doc)
			doc.FindElement("//NameID").SetText(mallory)
		}, message: "neither the Response's signature nor the Assertion's verifies"},
		// Detaching must not run out of goxmldsig's default node budget.
		{name: "Response altered outside an Assertion listing 2000 groups", sign: samltest.SignBoth, groups: 2000, mutate: func(_ testing.TB, doc *etree.Document) {
			doc.Root().CreateAttr("Consent", "urn:oasis:names:tc:SAML:2.0:consent:obtained")
		}, message: "the Response's signature does not verify, while the Assertion's own signature does"},
		{name: "only the Assertion signed", sign: samltest.SignAssertion, mutate: func(_ testing.TB, doc *etree.Document) {
			doc.FindElement("//NameID").SetText(mallory)
		}, message: "altered after the IdP signed it", absent: "Response's signature"},
		// crewjam refuses this before it checks either signature: nothing
		// says which one failed.
		{name: "both signed, the xml prefix redeclared on the Response", sign: samltest.SignBoth, mutate: func(_ testing.TB, doc *etree.Document) {
			doc.Root().CreateAttr("xmlns:xml", "urn:evil")
		}, message: "altered after the IdP signed it", absent: "Response's signature"},
		{name: "both signed, the xml prefix redeclared on the Assertion", sign: samltest.SignBoth, mutate: func(_ testing.TB, doc *etree.Document) {
			assertion(doc).CreateAttr("xmlns:xml", "urn:evil")
		}, message: "neither the Response's signature nor the Assertion's verifies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := standard()
			r.Sign = tt.sign
			for i := range tt.groups {
				r.Groups = append(r.Groups, fmt.Sprintf("group-%04d", i))
			}
			r.Mutate = func(doc *etree.Document) { tt.mutate(t, doc) }
			e := refuse(t, conn, mint(t, idp, r), saml.CodeSignatureInvalid)
			checkMessage(t, e, tt.message)
			if tt.absent != "" && strings.Contains(e.Message, tt.absent) {
				t.Errorf("Message %q says %q", e.Message, tt.absent)
			}
		})
	}
}

// declareOnResponse moves the saml2 namespace declarations of the
// Assertion and of the Response's Issuer to the Response, as IdPs that
// declare every prefix on the root do. Exclusive canonicalization renders
// a declaration where it is used, whatever element declares it, so both
// signatures still verify.
func declareOnResponse(doc *etree.Document) {
	for _, el := range []*etree.Element{assertion(doc), doc.Root().SelectElement("Issuer")} {
		el.RemoveAttr("xmlns:saml2")
	}
	doc.Root().CreateAttr("xmlns:saml2", nsAssertion)
}

// TestInResponseToDisabledIdPInitiatedMessage: with IdP-initiated logins
// disabled and no request pending, the error must not claim that "no
// InResponseTo" was expected, since that is exactly what was received.
func TestInResponseToDisabledIdPInitiatedMessage(t *testing.T) {
	cfg := baseConfig(t)
	cfg.DisableIdPInitiated = true
	e := refuse(t, newConn(t, cfg), mint(t, newIdP(t, "idp"), standard()), saml.CodeInResponseToMismatch)
	if strings.Contains(e.Expected, "no InResponseTo") {
		t.Errorf("Expected %q contradicts Actual %q: the response has no InResponseTo, and IdP-initiated logins are disabled", e.Expected, e.Actual)
	}
	checkMismatch(t, e, "the ID of a pending login request", "")
	checkMessage(t, e, "IdP-initiated")
}

// TestTimeWindow checks expired and not_yet_valid with the messages that
// give the offset, the window and the clock.
func TestTimeWindow(t *testing.T) {
	idp := newIdP(t, "idp")
	window := "from 2026-01-15T10:00:00.000Z until 2026-01-15T10:01:30.000Z, ± 3m0s clock skew"
	tests := []struct {
		name     string
		now      time.Time
		skew     time.Duration
		delay    time.Duration
		r        func() samltest.Response
		want     saml.Code
		message  string
		expected string
	}{
		{name: "expired 10 minutes later", now: pinned.Add(10 * time.Minute), want: saml.CodeExpired,
			message: "expired 5m30s ago", expected: window},
		{name: "a day later", now: pinned.Add(24 * time.Hour), want: saml.CodeExpired, expected: window},
		{name: "server clock 10 minutes behind", now: pinned.Add(-10 * time.Minute), want: saml.CodeNotYetValid,
			message: "becomes valid only in 7m0s", expected: window},
		{name: "IdP clock 10 minutes ahead", now: pinned, r: func() samltest.Response {
			r := standard()
			r.IssueInstant = pinned.Add(10 * time.Minute)
			return r
		}, want: saml.CodeNotYetValid, message: "becomes valid only in 7m0s",
			expected: "from 2026-01-15T10:10:00.000Z until 2026-01-15T10:11:30.000Z, ± 3m0s clock skew"},
		{name: "NotBefore later than IssueInstant", now: pinned.Add(time.Minute), skew: 30 * time.Second, delay: 10 * time.Minute, r: func() samltest.Response {
			r := standard()
			r.NotBefore = pinned.Add(2 * time.Minute)
			r.NotOnOrAfter = pinned.Add(10 * time.Minute)
			return r
		}, want: saml.CodeNotYetValid, message: "becomes valid only in 30s",
			expected: "from 2026-01-15T10:02:00.000Z until 2026-01-15T10:10:00.000Z, ± 30s clock skew"},
		// The Response's IssueInstant is judged with the connection's skew
		// too, not only by crewjam's wider tolerances.
		{name: "signed Response issued 150s after its Assertion, skew 10s", now: pinned.Add(10 * time.Second), skew: 10 * time.Second, delay: 10 * time.Minute, r: func() samltest.Response {
			return responseIssuedAt(pinned.Add(150 * time.Second))
		}, want: saml.CodeNotYetValid, message: "becomes valid only in 2m10s",
			expected: "from 2026-01-15T10:02:30.000Z until 2026-01-15T10:05:00.000Z, ± 10s clock skew"},
		{name: "signed Response issued 60s before its Assertion, past MaxIssueDelay", now: pinned.Add(50 * time.Second), skew: 10 * time.Second, r: func() samltest.Response {
			return responseIssuedAt(pinned.Add(-60 * time.Second))
		}, want: saml.CodeExpired, message: "expired 10s ago",
			expected: "from 2026-01-15T10:00:00.000Z until 2026-01-15T10:00:30.000Z, ± 10s clock skew"},
		{name: "SubjectConfirmationData NotOnOrAfter earlier than Conditions", now: pinned.Add(2 * time.Minute), skew: time.Second, delay: 10 * time.Minute, r: func() samltest.Response {
			r := standard()
			r.BeforeSign = func(doc *etree.Document) {
				doc.FindElement("//SubjectConfirmationData").CreateAttr("NotOnOrAfter", "2026-01-15T10:01:00.000Z")
			}
			return r
		}, want: saml.CodeExpired, message: "expired 59s ago",
			expected: "from 2026-01-15T10:00:00.000Z until 2026-01-15T10:01:00.000Z, ± 1s clock skew"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(t)
			cfg.Now, cfg.ClockSkew, cfg.MaxIssueDelay = fixedClock(tt.now), tt.skew, tt.delay
			r := standard()
			if tt.r != nil {
				r = tt.r()
			}
			e := refuse(t, newConn(t, cfg), mint(t, idp, r), tt.want)
			if tt.message != "" {
				checkMessage(t, e, tt.message)
			}
			checkMismatch(t, e, tt.expected, "clock "+tt.now.UTC().Format("2006-01-02T15:04:05.000Z"))
			if !e.Now.Equal(tt.now) {
				t.Errorf("Now = %v, want %v", e.Now, tt.now)
			}
		})
	}
}

// responseIssuedAt is the standard response, both signed, whose Response
// IssueInstant (not its Assertion's) is at.
func responseIssuedAt(at time.Time) samltest.Response {
	r := standard()
	r.Sign = samltest.SignBoth
	r.BeforeSign = func(doc *etree.Document) {
		doc.Root().CreateAttr("IssueInstant", at.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	return r
}

// TestInconsistentTimeBounds: timestamps of one response that contradict
// each other are judged, and worded, with the connection's skew. crewjam's
// own checks (fixed tolerances, one clock) get an instant at which they
// pass whenever one exists, so that a connection whose skew is wider than
// crewjam's is judged by its own; timestamps no instant reconciles are
// refused whatever the skew and the server's clock, naming both.
func TestInconsistentTimeBounds(t *testing.T) {
	idp := newIdP(t, "idp")
	window := func(nb, noa time.Duration) func(r *samltest.Response) {
		return func(r *samltest.Response) { r.NotBefore, r.NotOnOrAfter = pinned.Add(nb), pinned.Add(noa) }
	}
	tests := []struct {
		name     string
		skew     time.Duration
		now      time.Time
		edit     func(r *samltest.Response)
		want     saml.Code // "" means accepted
		message  []string
		expected string
	}{
		{name: "NotBefore 10 minutes after IssueInstant, skew 1h", skew: time.Hour, now: verifyAt, edit: window(10*time.Minute, 20*time.Minute),
			want: saml.CodeNotYetValid, message: []string{
				"Conditions NotBefore (2026-01-15T10:10:00.000Z) is 10m0s later than its Assertion IssueInstant (2026-01-15T10:00:00.000Z)",
				"whatever this connection's clock skew (1h0m0s)"},
			expected: "Conditions NotBefore less than 4m30s after Assertion IssueInstant"},
		{name: "NotOnOrAfter before IssueInstant, skew 1h", skew: time.Hour, now: verifyAt, edit: window(-20*time.Minute, -10*time.Minute),
			want: saml.CodeExpired, message: []string{
				"Assertion IssueInstant (2026-01-15T10:00:00.000Z) is 10m0s later than its Conditions NotOnOrAfter (2026-01-15T09:50:00.000Z)",
				"clock skew (1h0m0s)"}},
		{name: "Response issued 10 minutes after its Assertion", skew: time.Hour, now: verifyAt, edit: func(r *samltest.Response) {
			r.Mutate = func(doc *etree.Document) { doc.Root().CreateAttr("IssueInstant", "2026-01-15T10:10:00.000Z") }
		}, want: saml.CodeExpired, message: []string{"Response IssueInstant (2026-01-15T10:10:00.000Z) is 10m0s later than its Assertion IssueInstant"}},
		// crewjam alone, at the IssueInstant, refuses a NotBefore more than
		// its 3 minutes later: a 5-minute skew accepts it.
		{name: "NotBefore 4 minutes after IssueInstant, skew 5m", skew: 5 * time.Minute, now: pinned.Add(4 * time.Minute), edit: window(4*time.Minute, 20*time.Minute)},
		// With a 1-minute skew no clock is inside [NotBefore - 1m,
		// IssueInstant + 90s + 1m): the window itself is empty.
		{name: "NotBefore 4 minutes after IssueInstant, skew 1m", skew: time.Minute, now: pinned.Add(4 * time.Minute), edit: window(4*time.Minute, 20*time.Minute),
			want: saml.CodeNotYetValid, message: []string{
				"validity window is empty",
				"Conditions NotBefore, 2026-01-15T10:04:00.000Z) 2m30s after it ends (IssueInstant + MaxIssueDelay (1m30s)",
				"clock skew (1m0s)"},
			expected: "a window from Conditions NotBefore until IssueInstant + MaxIssueDelay (1m30s), ± 1m0s clock skew, that is not empty"},
		// crewjam, at the Assertion's IssueInstant, accepts a Response
		// issued up to its own skew (3 minutes) later: a 10-second skew
		// does not bridge a Response issued after the Assertion's
		// MaxIssueDelay ended.
		{name: "signed Response issued 150s after its Assertion, skew 10s", skew: 10 * time.Second, now: pinned.Add(10 * time.Second), edit: func(r *samltest.Response) {
			*r = responseIssuedAt(pinned.Add(150 * time.Second))
		}, want: saml.CodeExpired, message: []string{
			"validity window is empty",
			"(Response IssueInstant, 2026-01-15T10:02:30.000Z) 1m0s after it ends (IssueInstant + MaxIssueDelay (1m30s), 2026-01-15T10:01:30.000Z)",
			"clock skew (10s)"},
			expected: "a window from Response IssueInstant until IssueInstant + MaxIssueDelay (1m30s), ± 10s clock skew, that is not empty"},
		{name: "signed Response issued 20s after its Assertion, skew 10s", skew: 10 * time.Second, now: pinned.Add(25 * time.Second), edit: func(r *samltest.Response) {
			*r = responseIssuedAt(pinned.Add(20 * time.Second))
		}},
		{name: "SubjectConfirmationData NotOnOrAfter before NotBefore, skew 30s", skew: 30 * time.Second, now: verifyAt, edit: func(r *samltest.Response) {
			r.NotBefore = pinned.Add(-time.Minute)
			r.BeforeSign = func(doc *etree.Document) {
				doc.FindElement("//SubjectConfirmationData").CreateAttr("NotOnOrAfter", "2026-01-15T09:58:00.000Z")
			}
		}, want: saml.CodeExpired, message: []string{"validity window is empty", "SubjectConfirmationData NotOnOrAfter, 2026-01-15T09:58:00.000Z", "clock skew (30s)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := standard()
			tt.edit(&r)
			cfg := baseConfig(t)
			cfg.ClockSkew, cfg.Now = tt.skew, fixedClock(tt.now)
			conn := newConn(t, cfg)
			form := mint(t, idp, r)
			if tt.want == "" {
				checkAlice(t, mustVerify(t, conn, form))
				return
			}
			e := refuse(t, conn, form, tt.want)
			checkMessage(t, e, tt.message...)
			if tt.expected != "" && e.Expected != tt.expected {
				t.Errorf("Expected = %q, want %q", e.Expected, tt.expected)
			}
			if !strings.Contains(e.Hint, "timestamps") {
				t.Errorf("hint %q is not about the IdP's timestamps", e.Hint)
			}
		})
	}
}

// TestSkewBoundaries pins the exact edges of the window: the last
// millisecond accepted and the first refused, for the NotOnOrAfter bound,
// the MaxIssueDelay bound and the start.
func TestSkewBoundaries(t *testing.T) {
	idp := newIdP(t, "idp")
	ms := time.Millisecond
	shortLived := func() samltest.Response {
		r := standard()
		r.NotOnOrAfter = pinned.Add(time.Minute) // Conditions and SubjectConfirmationData
		return r
	}
	tests := []struct {
		name   string
		skew   time.Duration
		delay  time.Duration
		r      func() samltest.Response
		accept []time.Time
		refuse map[time.Time]saml.Code
	}{
		{name: "NotOnOrAfter + default skew", r: shortLived,
			accept: []time.Time{pinned.Add(time.Minute + 3*time.Minute - ms)},
			refuse: map[time.Time]saml.Code{pinned.Add(time.Minute + 3*time.Minute): saml.CodeExpired}},
		{name: "NotOnOrAfter + 10s skew", skew: 10 * time.Second, r: shortLived,
			accept: []time.Time{pinned.Add(time.Minute + 10*time.Second - ms)},
			refuse: map[time.Time]saml.Code{pinned.Add(time.Minute + 10*time.Second): saml.CodeExpired}},
		{name: "Conditions NotOnOrAfter with long MaxIssueDelay", delay: time.Hour, r: standard,
			accept: []time.Time{pinned.Add(5*time.Minute + 3*time.Minute - ms)},
			refuse: map[time.Time]saml.Code{pinned.Add(5*time.Minute + 3*time.Minute): saml.CodeExpired}},
		{name: "MaxIssueDelay + skew", r: standard,
			accept: []time.Time{pinned.Add(90*time.Second + 3*time.Minute - ms)},
			refuse: map[time.Time]saml.Code{pinned.Add(90*time.Second + 3*time.Minute): saml.CodeExpired}},
		{name: "start - skew", r: standard,
			accept: []time.Time{pinned.Add(-3 * time.Minute)},
			refuse: map[time.Time]saml.Code{pinned.Add(-3*time.Minute - ms): saml.CodeNotYetValid}},
		{name: "start - 1s skew", skew: time.Second, r: standard,
			accept: []time.Time{pinned.Add(-time.Second)},
			refuse: map[time.Time]saml.Code{pinned.Add(-time.Second - ms): saml.CodeNotYetValid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, at := range tt.accept {
				cfg := baseConfig(t)
				cfg.ClockSkew, cfg.MaxIssueDelay, cfg.Now = tt.skew, tt.delay, fixedClock(at)
				mustVerify(t, newConn(t, cfg), mint(t, idp, tt.r()))
			}
			for at, code := range tt.refuse {
				cfg := baseConfig(t)
				cfg.ClockSkew, cfg.MaxIssueDelay, cfg.Now = tt.skew, tt.delay, fixedClock(at)
				refuse(t, newConn(t, cfg), mint(t, idp, tt.r()), code)
			}
		})
	}
}

// TestConcurrentClockSkews uses two connections with different skews at
// the same time (run with -race): each keeps its own window, and nothing
// global is touched.
func TestConcurrentClockSkews(t *testing.T) {
	idp := newIdP(t, "idp")
	at := pinned.Add(90*time.Second + time.Minute) // past MaxIssueDelay by 1 minute
	tight := baseConfig(t)
	tight.Name, tight.ClockSkew, tight.Now = "tight", 10*time.Second, fixedClock(at)
	loose := baseConfig(t)
	loose.Name, loose.ClockSkew, loose.Now = "loose", 5*time.Minute, fixedClock(at)
	tightConn, looseConn := newConn(t, tight), newConn(t, loose)
	const n = 20
	forms := make([]string, 2*n)
	for i := range forms {
		forms[i] = mint(t, idp, standard()) // distinct assertion IDs
	}
	t.Run("group", func(t *testing.T) {
		for i := range n {
			t.Run(fmt.Sprintf("tight-%d", i), func(t *testing.T) {
				t.Parallel()
				e := refuse(t, tightConn, forms[2*i], saml.CodeExpired)
				checkMessage(t, e, "expired 50s ago")
			})
			t.Run(fmt.Sprintf("loose-%d", i), func(t *testing.T) {
				t.Parallel()
				checkAlice(t, mustVerify(t, looseConn, forms[2*i+1]))
			})
		}
	})
	if tightConn.Config().ClockSkew != 10*time.Second || looseConn.Config().ClockSkew != 5*time.Minute {
		t.Error("Config() does not return the configured skews")
	}
}

func TestStatusNotSuccess(t *testing.T) {
	idp := newIdP(t, "idp")
	tests := []struct {
		name   string
		r      samltest.Response
		actual string
	}{
		{name: "RequestDenied, no assertion", r: samltest.Response{Destination: acsURL, Sign: samltest.SignNone, StatusCode: "Responder", SubStatusCode: "RequestDenied", StatusMessage: "not assigned", OmitAssertion: true},
			actual: "urn:oasis:names:tc:SAML:2.0:status:Responder / urn:oasis:names:tc:SAML:2.0:status:RequestDenied"},
		{name: "Requester, signed response with an assertion", r: func() samltest.Response {
			r := standard()
			r.Sign = samltest.SignResponse
			r.StatusCode = "Requester"
			return r
		}(), actual: "urn:oasis:names:tc:SAML:2.0:status:Requester"},
		{name: "status removed", r: func() samltest.Response {
			r := standard()
			r.Mutate = removeAll("/Response/Status")
			return r
		}(), actual: "(no Status)"},
	}
	conn := newConn(t, baseConfig(t))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := refuse(t, conn, mint(t, idp, tt.r), saml.CodeStatusNotSuccess)
			if e.Actual != tt.actual {
				t.Errorf("Actual = %q, want %q", e.Actual, tt.actual)
			}
		})
	}
}

// TestEmailPolicy covers email_missing, email_not_verified and every shape
// of email_verified the Require policy refuses or accepts.
func TestEmailPolicy(t *testing.T) {
	idp := newIdP(t, "idp")
	withVerified := func(values ...[]string) func(r *samltest.Response) {
		return func(r *samltest.Response) {
			r.EmailVerified = ""
			for _, v := range values {
				r.Attributes = append(r.Attributes, samltest.Attribute{Name: "email_verified", Values: v})
			}
		}
	}
	tests := []struct {
		name             string
		edit             func(r *samltest.Response)
		policy           saml.EmailVerifiedPolicy
		want             saml.Code
		expected, actual string
		verified         bool // with want == ""
		by               saml.EmailVerifier
	}{
		{name: "missing", edit: withVerified(), want: saml.CodeEmailVerifiedInvalid, expected: "email_verified = true", actual: "(missing)"},
		{name: "attribute without values", edit: withVerified([]string{}), want: saml.CodeEmailVerifiedInvalid, expected: "email_verified = true", actual: "(missing)"},
		{name: "empty", edit: withVerified([]string{""}), want: saml.CodeEmailVerifiedInvalid, expected: "email_verified = true", actual: "(empty)"},
		{name: "blank", edit: withVerified([]string{"  "}), want: saml.CodeEmailVerifiedInvalid, expected: "email_verified = true", actual: "(empty)"},
		{name: "two values", edit: withVerified([]string{"true", "true"}), want: saml.CodeEmailVerifiedInvalid, expected: "email_verified = true", actual: "2 values"},
		{name: "two attributes", edit: withVerified([]string{"true"}, []string{"true"}), want: saml.CodeEmailVerifiedInvalid, expected: "email_verified = true", actual: "2 values"},
		{name: "two attributes, names differ in case", edit: func(r *samltest.Response) {
			r.Attributes = append(r.Attributes, samltest.Attribute{Name: "Email_Verified", Values: []string{"false"}})
		}, want: saml.CodeEmailVerifiedInvalid, expected: "email_verified = true", actual: "2 values"},
		{name: "yes", edit: withVerified([]string{"yes"}), want: saml.CodeEmailVerifiedInvalid, expected: "email_verified = true", actual: "yes"},
		{name: "long garbage is truncated", edit: withVerified([]string{strings.Repeat("x", 100)}), want: saml.CodeEmailVerifiedInvalid, expected: "email_verified = true", actual: strings.Repeat("x", 40) + "…"},
		{name: "false", edit: withVerified([]string{"false"}), want: saml.CodeEmailNotVerified, expected: "email_verified = true", actual: "false"},
		{name: "0", edit: withVerified([]string{"0"}), want: saml.CodeEmailNotVerified, expected: "email_verified = true", actual: "false"},
		{name: " FALSE ", edit: withVerified([]string{" FALSE "}), want: saml.CodeEmailNotVerified, expected: "email_verified = true", actual: "false"},
		{name: " TRUE ", edit: withVerified([]string{" TRUE "}), verified: true, by: saml.EmailVerifiedByIdP},
		{name: "1", edit: withVerified([]string{"1"}), verified: true, by: saml.EmailVerifiedByIdP},
		{name: "True", edit: withVerified([]string{"True"}), verified: true, by: saml.EmailVerifiedByIdP},
		{name: "yes, ignore", edit: withVerified([]string{"yes"}), policy: saml.EmailVerifiedIgnore, verified: false},
		{name: "two values, ignore", edit: withVerified([]string{"true", "true"}), policy: saml.EmailVerifiedIgnore, verified: false},
		{name: "true, ignore", edit: withVerified([]string{"true"}), policy: saml.EmailVerifiedIgnore, verified: true, by: saml.EmailVerifiedByIdP},
		// Under trust, who vouched is told apart: the configuration when
		// the IdP did not say so, the IdP when it did.
		{name: "false, trust", edit: withVerified([]string{"false"}), policy: saml.EmailVerifiedTrust, verified: true, by: saml.EmailVerifiedByConfiguration},
		{name: "missing, trust", edit: withVerified(), policy: saml.EmailVerifiedTrust, verified: true, by: saml.EmailVerifiedByConfiguration},
		{name: "true, trust", edit: withVerified([]string{"true"}), policy: saml.EmailVerifiedTrust, verified: true, by: saml.EmailVerifiedByIdP},
		{name: "no email, NameID not an address", edit: func(r *samltest.Response) { r.Email = ""; r.NameID = "jdoe" },
			want:     saml.CodeEmailMissing,
			expected: "one of the attributes " + strings.Join(attributes.DefaultEmail, ", "),
			actual:   "attributes: email_verified, given_name, family_name, memberOf"},
		{name: "no attributes at all, NameID not an address", edit: func(r *samltest.Response) {
			*r = samltest.Response{Audience: spEntityID, Destination: acsURL, NameID: "jdoe"}
		}, policy: saml.EmailVerifiedTrust, want: saml.CodeEmailMissing,
			expected: "one of the attributes " + strings.Join(attributes.DefaultEmail, ", "), actual: "attributes: (none)"},
		{name: "email attribute empty, NameID an address", edit: func(r *samltest.Response) {
			r.Email = ""
			r.Attributes = append(r.Attributes, samltest.Attribute{Name: "email", Values: []string{""}})
		}, want: saml.CodeEmailMissing,
			expected: "one of the attributes " + strings.Join(attributes.DefaultEmail, ", "),
			actual:   "attributes: email_verified, given_name, family_name, memberOf, email"},
		{name: "no email attribute, NameID an address", edit: func(r *samltest.Response) { r.Email = "" }, verified: true, by: saml.EmailVerifiedByIdP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := standard()
			tt.edit(&r)
			if r.NameID == "" {
				r.NameID = aliceEmail
			}
			cfg := baseConfig(t)
			cfg.EmailVerified = tt.policy
			conn := newConn(t, cfg)
			form := mint(t, idp, r)
			if tt.want != "" {
				e := refuse(t, conn, form, tt.want)
				checkMismatch(t, e, tt.expected, tt.actual)
				return
			}
			id := mustVerify(t, conn, form)
			if id.EmailVerified != tt.verified || id.Email != aliceEmail || id.EmailVerifiedBy != tt.by {
				t.Errorf("got email %q verified %v by %q, want %q %v %q", id.Email, id.EmailVerified, id.EmailVerifiedBy, aliceEmail, tt.verified, tt.by)
			}
		})
	}
}

// TestEmailOptional: with EmailOptional, an assertion that identifies the
// user by an opaque NameID alone is accepted with an empty email; the
// email_verified policy applies only to an email that is there, and
// AllowedEmailDomains still refuses an assertion without one. Without the
// opt-in such an assertion is refused, with a hint that names it.
func TestEmailOptional(t *testing.T) {
	idp := newIdP(t, "idp")
	const opaque = "00u1a2b3c4D5e6F7g8h9"
	noEmail := func(verified string) func(r *samltest.Response) {
		return func(r *samltest.Response) {
			r.Email, r.NameID, r.EmailVerified = "", opaque, verified
			r.NameIDFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
		}
	}
	tests := []struct {
		name     string
		optional bool
		policy   saml.EmailVerifiedPolicy
		domains  []string
		edit     func(r *samltest.Response)
		want     saml.Code
		email    string
		verified bool
	}{
		{name: "off: refused", edit: noEmail(""), want: saml.CodeEmailMissing},
		{name: "opaque NameID, no email_verified", optional: true, edit: noEmail("")},
		{name: "email_verified false vouches for no email", optional: true, edit: noEmail("false")},
		{name: "email_verified true vouches for no email", optional: true, edit: noEmail("true")},
		{name: "trust does not verify a missing email", optional: true, policy: saml.EmailVerifiedTrust, edit: noEmail("")},
		{name: "allowed domains still need an email", optional: true, domains: []string{"example.com"}, edit: noEmail(""), want: saml.CodeEmailDomainNotAllowed},
		{name: "an email that is there is still checked", optional: true, edit: func(r *samltest.Response) { r.EmailVerified = "" }, want: saml.CodeEmailVerifiedInvalid},
		{name: "an email that is there is kept", optional: true, edit: func(r *samltest.Response) {}, email: aliceEmail, verified: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := standard()
			tt.edit(&r)
			cfg := baseConfig(t)
			cfg.EmailOptional, cfg.EmailVerified, cfg.AllowedEmailDomains = tt.optional, tt.policy, tt.domains
			conn := newConn(t, cfg)
			form := mint(t, idp, r)
			if tt.want != "" {
				e := refuse(t, conn, form, tt.want)
				if tt.want == saml.CodeEmailMissing && !strings.Contains(e.Hint, "email_optional") {
					t.Errorf("hint %q does not name the EmailOptional opt-in", e.Hint)
				}
				return
			}
			id := mustVerify(t, conn, form)
			if id.Email != tt.email || id.EmailVerified != tt.verified {
				t.Errorf("got email %q verified %v, want %q %v", id.Email, id.EmailVerified, tt.email, tt.verified)
			}
			if tt.email == "" && (id.Subject != opaque || id.Connection != "acme" || id.EmailVerifiedBy != "") {
				t.Errorf("got subject %q connection %q verified by %q; want %q, acme, nobody", id.Subject, id.Connection, id.EmailVerifiedBy, opaque)
			}
			if !slices.Equal(id.Groups, aliceGroups) {
				t.Errorf("groups %q", id.Groups)
			}
		})
	}
}

// TestHintsOfRealCaptures: the hints of a real capture's refusal name the
// console of the IdP that sent it, recognized from its metadata.
func TestHintsOfRealCaptures(t *testing.T) {
	tests := []struct {
		idp       string
		want      saml.Code
		kind      saml.IdPKind
		hint, not []string
	}{
		{idp: "google", want: saml.CodeEmailVerifiedInvalid, kind: saml.IdPGoogle,
			hint: []string{"Google Admin console", "Apps → Web and mobile apps → your app", "email_verified: trust"}, not: []string{"JumpCloud", "Constant Attributes"}},
		{idp: "jumpcloud", want: saml.CodeEmailVerifiedInvalid, kind: saml.IdPJumpCloud,
			hint: []string{"JumpCloud SSO app", "Constant Attributes"}},
		{idp: "okta", want: saml.CodeSignatureInvalid, kind: saml.IdPOkta,
			hint: []string{"Capture the response again, unmodified"}, not: []string{"JumpCloud"}},
	}
	for _, tt := range tests {
		t.Run(tt.idp, func(t *testing.T) {
			c := loadCapture(t, tt.idp)
			conn := newConn(t, saml.ConnectionConfig{
				Name: tt.idp, SPEntityID: c.SPEntityID, ACSURL: c.acs, IdPMetadataXML: c.metadata, Now: fixedClock(c.Now),
			})
			if got := conn.Config().IdP; got != tt.kind {
				t.Errorf("detected IdP %q, want %q", got, tt.kind)
			}
			e := refuse(t, conn, encode(c.response), tt.want)
			for _, h := range tt.hint {
				if !strings.Contains(e.Hint, h) {
					t.Errorf("hint %q does not contain %q", e.Hint, h)
				}
			}
			for _, h := range tt.not {
				if strings.Contains(e.Hint, h) {
					t.Errorf("hint %q contains %q", e.Hint, h)
				}
			}
		})
	}
	// An explicit IdP overrides what is detected.
	c := loadCapture(t, "google")
	conn := newConn(t, saml.ConnectionConfig{
		Name: "google", SPEntityID: c.SPEntityID, ACSURL: c.acs, IdPMetadataXML: c.metadata, Now: fixedClock(c.Now), IdP: saml.IdPGeneric,
	})
	e := refuse(t, conn, encode(c.response), saml.CodeEmailVerifiedInvalid)
	if strings.Contains(e.Hint, "Google") || !strings.Contains(e.Hint, "email_verified") {
		t.Errorf("IdP generic: hint %q", e.Hint)
	}
}

func TestAttributeConflict(t *testing.T) {
	idp := newIdP(t, "idp")
	tests := []struct {
		name  string
		attrs []samltest.Attribute
		want  saml.Code
	}{
		{name: "email and mail differ", attrs: []samltest.Attribute{{Name: "mail", Values: []string{"mallory@example.com"}}}, want: saml.CodeAttributeConflict},
		{name: "second email value", attrs: []samltest.Attribute{{Name: "email", Values: []string{"mallory@example.com"}}}, want: saml.CodeAttributeConflict},
		{name: "Entra email claim differs", attrs: []samltest.Attribute{{Name: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", Values: []string{"mallory@example.com"}}}, want: saml.CodeAttributeConflict},
		{name: "same mailbox in another case", attrs: []samltest.Attribute{{Name: "mail", Values: []string{"Alice@Example.com"}}}},
		{name: "two given names are cosmetic", attrs: []samltest.Attribute{{Name: "firstname", Values: []string{"Mallory"}}}},
	}
	conn := newConn(t, baseConfig(t))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := standard()
			r.Attributes = tt.attrs
			form := mint(t, idp, r)
			if tt.want == "" {
				checkAlice(t, mustVerify(t, conn, form))
				return
			}
			e := refuse(t, conn, form, tt.want)
			checkMessage(t, e, "email")
			if strings.Contains(e.Error(), "mallory") {
				t.Errorf("the error quotes an attribute value: %v", e)
			}
		})
	}
}

func TestGroupPolicy(t *testing.T) {
	idp := newIdP(t, "idp")
	tests := []struct {
		name    string
		cfg     groups.Config
		edit    func(r *samltest.Response)
		want    saml.Code
		check   func(t *testing.T, e *saml.Error)
		groups  []string
		noGroup bool
	}{
		{name: "allowed group", cfg: groups.Config{AllowedGroups: []string{"Admins"}}, groups: aliceGroups},
		{name: "allowed by pattern", cfg: groups.Config{AllowedGroups: []string{"Eng*"}}, groups: aliceGroups},
		{name: "none allowed", cfg: groups.Config{AllowedGroups: []string{"Finance", "admins"}}, want: saml.CodeGroupNotAllowed,
			check: func(t *testing.T, e *saml.Error) {
				checkMismatch(t, e, "a member of Finance, admins", "")
				if strings.Contains(e.Hint, "include group attribute") {
					t.Errorf("hint for a user in other groups talks about the group attribute: %q", e.Hint)
				}
				if strings.Contains(e.Error(), "Engineering") {
					t.Errorf("the error lists group names: %v", e)
				}
			}},
		{name: "no groups attribute", cfg: groups.Config{AllowedGroups: []string{"Admins"}}, edit: func(r *samltest.Response) { r.Groups = nil },
			want: saml.CodeGroupNotAllowed, check: func(t *testing.T, e *saml.Error) {
				if !strings.Contains(e.Hint, "include group attribute") {
					t.Errorf("hint %q does not mention JumpCloud's include group attribute", e.Hint)
				}
				checkMismatch(t, e, "an attribute named memberOf or groups or "+groups.EntraGroupsClaim, "attributes: email, email_verified, given_name, family_name")
			}},
		{name: "groups attribute with no values", cfg: groups.Config{AllowedGroups: []string{"Admins"}}, edit: func(r *samltest.Response) { r.Groups = []string{} },
			want: saml.CodeGroupNotAllowed},
		{name: "group name differs in case", cfg: groups.Config{AllowedGroups: []string{"admins"}}, want: saml.CodeGroupNotAllowed},
		{name: "attribute name in another case", cfg: groups.Config{AllowedGroups: []string{"Admins"}}, edit: func(r *samltest.Response) {
			r.Groups = nil
			r.Attributes = []samltest.Attribute{{Name: "memberOF", Values: []string{"Admins"}}}
		}, groups: []string{"Admins"}},
		{name: "delimited single value", cfg: groups.Config{Delimiter: ";"}, edit: func(r *samltest.Response) { r.Groups = []string{"Engineering;Admins; Everyone"} }, groups: aliceGroups},
		{name: "Entra overage", edit: func(r *samltest.Response) {
			r.Groups = nil
			r.Attributes = []samltest.Attribute{{Name: groups.EntraOverageClaim, Values: []string{"https://graph.microsoft.com/v1.0/users/1/getMemberObjects"}}}
		}, want: saml.CodeGroupsOverage},
		{name: "Entra overage with a gate", cfg: groups.Config{AllowedGroups: []string{"Admins"}}, edit: func(r *samltest.Response) {
			r.Groups = nil
			r.Attributes = []samltest.Attribute{{Name: groups.EntraOverageClaim, Values: []string{"https://graph.microsoft.com/v1.0/users/1/getMemberObjects"}}}
		}, want: saml.CodeGroupsOverage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(t)
			cfg.Groups = tt.cfg
			conn := newConn(t, cfg)
			r := standard()
			if tt.edit != nil {
				tt.edit(&r)
			}
			form := mint(t, idp, r)
			if tt.want != "" {
				e := refuse(t, conn, form, tt.want)
				if tt.check != nil {
					tt.check(t, e)
				}
				// groups' own codes are saml's code names, and the cause
				// stays reachable: both match.
				if !errors.Is(e, groups.Code(tt.want)) || string(groups.Code(tt.want)) != string(e.Code) {
					t.Errorf("errors.Is(err, groups.Code(%q)) = false", tt.want)
				}
				return
			}
			id := mustVerify(t, conn, form)
			if !slices.Equal(id.Groups, tt.groups) {
				t.Errorf("groups %q, want %q", id.Groups, tt.groups)
			}
		})
	}
}

// TestCertificateExpiresAfterConstruction: a pinned certificate valid when
// the connection was built but expired when a response arrives.
func TestCertificateExpiresAfterConstruction(t *testing.T) {
	_, cert := keyPair(t, "expiring")
	clock := &mutableClock{t: pinned}
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("AllowExpiredCertificate=%v", allow), func(t *testing.T) {
			clock.set(pinned)
			cfg := baseConfig(t)
			cfg.IdPCertificatesPEM = [][]byte{certPEM(t, "expiring")}
			cfg.AllowExpiredCertificate = allow
			cfg.Now = clock.now
			conn := newConn(t, cfg)
			idp := newIdP(t, "expiring")
			checkAlice(t, mustVerify(t, conn, mint(t, idp, standard())))

			later := cert.NotAfter.Add(24 * time.Hour)
			clock.set(later)
			idp.Now = fixedClock(later)
			form := mint(t, idp, standard())
			if allow {
				checkAlice(t, mustVerify(t, conn, form))
				return
			}
			e := refuse(t, conn, form, saml.CodeCertificateExpired)
			checkMessage(t, e, fingerprint(t, "expiring"), cert.NotAfter.UTC().Format(time.RFC3339))
			if !e.Now.Equal(later) {
				t.Errorf("Now = %v, want %v", e.Now, later)
			}
		})
	}
}

func TestWeakSignatureAlgorithm(t *testing.T) {
	idp := newIdP(t, "idp")
	for _, sign := range []samltest.Sign{samltest.SignAssertion, samltest.SignResponse, samltest.SignBoth} {
		t.Run(sign.String(), func(t *testing.T) {
			r := standard()
			r.Sign, r.SHA1 = sign, true
			form := mint(t, idp, r)
			e := refuse(t, newConn(t, baseConfig(t)), form, saml.CodeWeakSignatureAlgorithm)
			checkMismatch(t, e, "an RSA-SHA256 (or stronger) signature", "http://www.w3.org/2000/09/xmldsig#rsa-sha1")
			cfg := baseConfig(t)
			cfg.AllowSHA1 = true
			checkAlice(t, mustVerify(t, newConn(t, cfg), form))
		})
	}
	// A SHA-256 signature over a SHA-1 digest is SHA-1 too; so is an
	// algorithm URI in another case. The edit breaks the signature, but
	// the algorithm is refused first.
	for name, edit := range map[string]func(doc *etree.Document){
		"sha1 digest": func(doc *etree.Document) {
			doc.FindElement("//DigestMethod").CreateAttr("Algorithm", "http://www.w3.org/2000/09/xmldsig#sha1")
		},
		"RSA-SHA1 upper case": func(doc *etree.Document) {
			doc.FindElement("//SignatureMethod").CreateAttr("Algorithm", "http://www.w3.org/2000/09/xmldsig#RSA-SHA1")
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := standard()
			r.Mutate = edit
			refuse(t, newConn(t, baseConfig(t)), mint(t, idp, r), saml.CodeWeakSignatureAlgorithm)
		})
	}
}

func TestUnsupported(t *testing.T) {
	idp := newIdP(t, "idp")
	tests := map[string]func(r *samltest.Response){
		"EncryptedAssertion": func(r *samltest.Response) {
			r.Mutate = func(doc *etree.Document) {
				a := doc.FindElement("//Assertion")
				enc := etree.NewElement("saml2:EncryptedAssertion")
				enc.CreateAttr("xmlns:saml2", "urn:oasis:names:tc:SAML:2.0:assertion")
				data := enc.CreateElement("xenc:EncryptedData")
				data.CreateAttr("xmlns:xenc", "http://www.w3.org/2001/04/xmlenc#")
				data.CreateElement("xenc:CipherData").CreateElement("xenc:CipherValue").SetText("AAAA")
				p := a.Parent()
				p.InsertChildAt(a.Index(), enc)
				p.RemoveChild(a)
			}
		},
		"EncryptedAssertion beside the signed Assertion": func(r *samltest.Response) {
			r.Mutate = func(doc *etree.Document) {
				enc := doc.Root().CreateElement("saml2:EncryptedAssertion")
				enc.CreateAttr("xmlns:saml2", "urn:oasis:names:tc:SAML:2.0:assertion")
			}
		},
		"assertion Version 1.1": func(r *samltest.Response) {
			r.BeforeSign = func(doc *etree.Document) { doc.FindElement("//Assertion").CreateAttr("Version", "1.1") }
		},
	}
	conn := newConn(t, baseConfig(t))
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			r := standard()
			edit(&r)
			refuse(t, conn, mint(t, idp, r), saml.CodeUnsupported)
		})
	}
}

func TestSizeLimits(t *testing.T) {
	form := golden(t, "jumpcloud-default")
	t.Run("2 MiB of non-base64 is too_large, not malformed", func(t *testing.T) {
		conn := newConn(t, baseConfig(t))
		e := refuse(t, conn, strings.Repeat("!", 2<<20), saml.CodeTooLarge)
		checkMessage(t, e, fmt.Sprint(2<<20), fmt.Sprint(saml.DefaultMaxResponseBytes))
	})
	t.Run("1 MiB + 1 byte", func(t *testing.T) {
		refuse(t, newConn(t, baseConfig(t)), form+strings.Repeat(" ", saml.DefaultMaxResponseBytes+1-len(form)), saml.CodeTooLarge)
	})
	t.Run("custom limit, exactly at it", func(t *testing.T) {
		cfg := baseConfig(t)
		cfg.MaxResponseBytes = len(form)
		checkAlice(t, mustVerify(t, newConn(t, cfg), form))
	})
	t.Run("custom limit, one byte over", func(t *testing.T) {
		cfg := baseConfig(t)
		cfg.MaxResponseBytes = len(form) - 1
		refuse(t, newConn(t, cfg), form, saml.CodeTooLarge)
	})
	t.Run("groups-1000 under the default limit", func(t *testing.T) {
		checkThousandGroups(t, mustVerify(t, newConn(t, baseConfig(t)), golden(t, "groups-1000")))
	})
}

// TestEncodings: the form value may be wrapped (MIME-style line breaks),
// but must be standard base64 of the XML.
func TestEncodings(t *testing.T) {
	raw := readFile(t, "golden", "jumpcloud-default.xml")
	form := encode(raw)
	var wrapped strings.Builder
	for i := 0; i < len(form); i += 76 {
		wrapped.WriteString(form[i:min(i+76, len(form))])
		wrapped.WriteString("\r\n")
	}
	checkAlice(t, mustVerify(t, newConn(t, baseConfig(t)), wrapped.String()))

	for name, input := range map[string]string{
		"empty":             "",
		"whitespace":        " \n\t",
		"not base64":        "<saml2p:Response/>",
		"raw XML":           string(raw),
		"URL-safe alphabet": strings.NewReplacer("+", "-", "/", "_").Replace(form) + "-_",
		"truncated":         form[:len(form)-3],
		"base64 of nothing": encode(nil),
		"base64 of text":    encode([]byte("hello")),
	} {
		t.Run(name, func(t *testing.T) {
			refuse(t, newConn(t, baseConfig(t)), input, saml.CodeMalformed)
		})
	}
}

// TestEmailFromNameIDFormat: the NameID stands in for a missing email
// attribute only when its Format allows an email address (unspecified or
// emailAddress), as attributes.Mapping.Extract documents for its callers.
// A persistent or transient NameID is an opaque identifier even when it
// looks like an address.
func TestEmailFromNameIDFormat(t *testing.T) {
	idp := newIdP(t, "idp")
	tests := []struct {
		format string
		want   saml.Code
	}{
		{format: "urn:oasis:names:tc:SAML:1.0:nameid-format:unspecified"},
		{format: "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"},
		{format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"},
		{format: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", want: saml.CodeEmailMissing},
		{format: "urn:oasis:names:tc:SAML:2.0:nameid-format:transient", want: saml.CodeEmailMissing},
		{format: "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName", want: saml.CodeEmailMissing},
	}
	conn := newConn(t, baseConfig(t))
	t.Run("no Format attribute", func(t *testing.T) {
		r := standard()
		r.Email = ""
		r.BeforeSign = func(doc *etree.Document) { doc.FindElement("//NameID").RemoveAttr("Format") }
		if id := mustVerify(t, conn, mint(t, idp, r)); id.Email != aliceEmail || id.SubjectFormat != "" {
			t.Errorf("email %q format %q", id.Email, id.SubjectFormat)
		}
	})
	for _, tt := range tests {
		t.Run(tt.format[strings.LastIndexByte(tt.format, ':')+1:], func(t *testing.T) {
			r := standard()
			r.Email, r.NameIDFormat = "", tt.format
			form := mint(t, idp, r)
			if tt.want != "" {
				refuse(t, conn, form, tt.want)
				return
			}
			if id := mustVerify(t, conn, form); id.Email != aliceEmail || id.SubjectFormat != tt.format {
				t.Errorf("email %q format %q", id.Email, id.SubjectFormat)
			}
		})
	}
}

// TestMissingAuthnStatement: an assertion without AuthnStatement (Keycloak
// with "Include AuthnStatement" off) is named as such, with the setting
// that turns it on, instead of "not a SAML 2.0 login response".
func TestMissingAuthnStatement(t *testing.T) {
	idp := newIdP(t, "idp")
	r := standard()
	r.BeforeSign = removeAll("//AuthnStatement")
	form := mint(t, idp, r)
	for _, tt := range []struct {
		kind saml.IdPKind
		hint string
	}{
		{saml.IdPKeycloak, "Clients → your client → Settings → SAML capabilities: turn \"Include AuthnStatement\" on"},
		{saml.IdPGeneric, "turn on the IdP application's option that includes it"},
	} {
		t.Run(string(tt.kind), func(t *testing.T) {
			cfg := baseConfig(t)
			cfg.IdP = tt.kind
			e := refuse(t, newConn(t, cfg), form, saml.CodeMalformed)
			checkMessage(t, e, "the assertion has no AuthnStatement")
			checkMismatch(t, e, "an AuthnStatement in the Assertion", "(none)")
			if !strings.Contains(e.Hint, tt.hint) {
				t.Errorf("hint %q does not contain %q", e.Hint, tt.hint)
			}
			if strings.Contains(e.Message, "not a valid SAML 2.0 login response") {
				t.Errorf("generic message: %q", e.Message)
			}
		})
	}
}
