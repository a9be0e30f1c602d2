package main

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlgate/samlgate/saml/samltest"
)

const root = "../.."

// TestGoldenUpToDate regenerates every fixture into a temporary directory,
// twice, and compares the runs with each other and with the committed
// files, byte for byte.
func TestGoldenUpToDate(t *testing.T) {
	keys := filepath.Join(root, "keys")
	files, err := Generate(keys)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Generate(keys)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	for i, f := range files {
		if again[i].Path != f.Path || !bytes.Equal(again[i].Data, f.Data) {
			t.Errorf("%s: two runs differ", f.Path)
		}
		path := filepath.Join(tmp, f.Path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		regenerated, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join(root, f.Path))
		if err != nil {
			t.Errorf("%s: %v (run go generate ./testdata/)", f.Path, err)
			continue
		}
		if !bytes.Equal(regenerated, committed) {
			t.Errorf("%s differs from what gengolden writes (run go generate ./testdata/)", f.Path)
		}
	}
	stale, err := Stale(root, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stale {
		t.Errorf("%s is not generated any more; delete it", s)
	}
}

func loadCert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	idp, err := samltest.LoadFixtureIdP(filepath.Join(root, "keys"), name)
	if err != nil {
		t.Fatal(err)
	}
	return idp.Certificate
}

// TestGoldenSignatures checks, with goxmldsig at the pinned clock, which
// elements of each golden response are signed and by which key, so that
// the fixtures mean what README.md says.
func TestGoldenSignatures(t *testing.T) {
	for _, tc := range []struct {
		file                     string
		key                      string
		response, assertion, ok  bool
		notValidAtClock, sha1Alg bool
	}{
		{file: "jumpcloud-default.xml", key: "idp", assertion: true},
		{file: "response-signed.xml", key: "idp", response: true},
		{file: "both-signed.xml", key: "idp", response: true, assertion: true},
		{file: "unsigned.xml", key: "idp"},
		{file: "sha1.xml", key: "idp", assertion: true, sha1Alg: true},
		{file: "sp-initiated.xml", key: "idp", assertion: true},
		{file: "no-email-verified.xml", key: "idp", assertion: true},
		{file: "email-verified-false.xml", key: "idp", assertion: true},
		{file: "no-groups.xml", key: "idp", assertion: true},
		{file: "groups-repeated-attribute.xml", key: "idp", assertion: true},
		{file: "groups-1000.xml", key: "idp", assertion: true},
		{file: "groups-1000-response-signed.xml", key: "idp", response: true},
		{file: "wrong-key.xml", key: "attacker", assertion: true},
		{file: "rotated-key.xml", key: "idp2", assertion: true},
		{file: "expired-cert.xml", key: "expired", assertion: true, notValidAtClock: true},
		{file: "expiring-cert.xml", key: "expiring", assertion: true},
		{file: "weak-key.xml", key: "weak", assertion: true},
		{file: "no-destination.xml", key: "idp", assertion: true},
		{file: "no-destination-response-signed.xml", key: "idp", response: true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(root, GoldenDir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(raw); err != nil {
				t.Fatal(err)
			}
			resp := doc.Root()
			cert := loadCert(t, tc.key)
			idp := loadCert(t, "idp")
			check := func(el *etree.Element, signed bool) {
				if el == nil {
					t.Fatal("element missing")
				}
				err := validate(el, cert, samltest.FixtureClock())
				if !signed {
					// goxmldsig searches the whole element for a signature
					// referencing it, within a budget of 1000 elements: in
					// the 1000-group fixtures it runs out (ErrTraversalLimit)
					// before it can report ErrMissingSignature.
					if el.SelectElement("Signature") != nil || err == nil {
						t.Errorf("%s: signed (%v)", el.Tag, err)
					}
					return
				}
				if tc.notValidAtClock {
					if err == nil {
						t.Errorf("%s: certificate accepted at the pinned clock", el.Tag)
					}
					// The signature itself is good.
					err = validate(el, cert, cert.NotAfter.Add(-time.Hour))
				}
				if err != nil {
					t.Errorf("%s: %v", el.Tag, err)
				}
				if tc.key != "idp" && validate(el, idp, samltest.FixtureClock()) == nil {
					t.Errorf("%s: verifies with the idp certificate", el.Tag)
				}
				wantAlg := "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
				if tc.sha1Alg {
					wantAlg = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
				}
				if got := el.FindElement("Signature/SignedInfo/SignatureMethod").SelectAttrValue("Algorithm", ""); got != wantAlg {
					t.Errorf("%s: SignatureMethod %s", el.Tag, got)
				}
			}
			check(resp, tc.response)
			check(resp.SelectElement("Assertion"), tc.assertion)
		})
	}

	for _, name := range []string{"no-destination.xml", "no-destination-response-signed.xml"} {
		raw, err := os.ReadFile(filepath.Join(root, GoldenDir, name))
		if err != nil {
			t.Fatal(err)
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			t.Fatal(err)
		}
		scd := doc.FindElement("//SubjectConfirmationData")
		if doc.Root().SelectAttr("Destination") != nil || scd == nil || scd.SelectAttrValue("Recipient", "") != samltest.FixtureACSURL {
			t.Errorf("%s: want no Destination and the Recipient %s", name, samltest.FixtureACSURL)
		}
	}

	raw, err := os.ReadFile(filepath.Join(root, GoldenDir, "request-denied.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("Assertion")) || bytes.Contains(raw, []byte("Signature")) || !bytes.Contains(raw, []byte("status:RequestDenied")) {
		t.Error("request-denied.xml is not an unsigned error response")
	}
}

func validate(el *etree.Element, cert *x509.Certificate, at time.Time) error {
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	ctx.Clock = dsig.NewFakeClockAt(at)
	_, err := ctx.Validate(el)
	return err
}
