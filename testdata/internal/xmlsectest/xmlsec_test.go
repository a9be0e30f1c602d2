package xmlsectest

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

const root = "../.."

// clock is the pinned clock of the fixtures (testdata/README.md).
var clock = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

func loadCert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "keys", name+".crt.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM", name)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func validate(el *etree.Element, cert *x509.Certificate) error {
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	ctx.Clock = dsig.NewFakeClockAt(clock)
	_, err := ctx.Validate(el)
	return err
}

// outputs returns the xmlsec-NAME.xml files, one per template, by name.
func outputs(t *testing.T) map[string]string {
	t.Helper()
	templates, err := filepath.Glob(filepath.Join(root, "xmlsec", "templates", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(templates) < 2 {
		t.Fatalf("only %d templates", len(templates))
	}
	out := map[string]string{}
	for _, tmpl := range templates {
		name := strings.TrimSuffix(filepath.Base(tmpl), ".xml")
		out[name] = filepath.Join(root, "xmlsec", "xmlsec-"+name+".xml")
	}
	return out
}

// TestXMLSecSignedVerifyWithGoxmldsig checks that what xmlsec1 signed
// verifies with goxmldsig against idp.crt.pem, with the algorithms each
// template asks for, and that only the intended element is signed.
func TestXMLSecSignedVerifyWithGoxmldsig(t *testing.T) {
	cert := loadCert(t, "idp")
	for name, path := range outputs(t) {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run testdata/xmlsec/make.sh)", err)
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(raw); err != nil {
				t.Fatal(err)
			}
			resp := doc.Root()
			signed, unsigned := resp.SelectElement("Assertion"), resp
			if strings.HasPrefix(name, "response-") {
				signed, unsigned = resp, resp.SelectElement("Assertion")
			}
			if err := validate(signed, cert); err != nil {
				t.Errorf("%s signature: %v", signed.Tag, err)
			}
			if unsigned.SelectElement("Signature") != nil || validate(unsigned, cert) == nil {
				t.Errorf("%s is signed too", unsigned.Tag)
			}
			if validate(signed, loadCert(t, "attacker")) == nil {
				t.Error("verifies with the attacker certificate")
			}

			sig := signed.SelectElement("Signature")
			wantSig, wantDigest := "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/04/xmlenc#sha256"
			if strings.Contains(name, "sha1") {
				wantSig, wantDigest = "http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2000/09/xmldsig#sha1"
			}
			if got := sig.FindElement("SignedInfo/SignatureMethod").SelectAttrValue("Algorithm", ""); got != wantSig {
				t.Errorf("SignatureMethod %s, want %s", got, wantSig)
			}
			if got := sig.FindElement("SignedInfo/Reference/DigestMethod").SelectAttrValue("Algorithm", ""); got != wantDigest {
				t.Errorf("DigestMethod %s, want %s", got, wantDigest)
			}
			if got := sig.FindElement("SignedInfo/CanonicalizationMethod").SelectAttrValue("Algorithm", ""); got != "http://www.w3.org/2001/10/xml-exc-c14n#" {
				t.Errorf("CanonicalizationMethod %s", got)
			}
			inclusive := sig.FindElement("SignedInfo/Reference/Transforms/Transform/InclusiveNamespaces")
			if strings.Contains(name, "inclusive-namespaces") != (inclusive != nil) {
				t.Errorf("InclusiveNamespaces: %v", inclusive != nil)
			}
			// The X509Certificate xmlsec1 filled in is the IdP's.
			if !strings.Contains(strings.Join(strings.Fields(sig.FindElement("KeyInfo/X509Data/X509Certificate").Text()), ""),
				strings.Join(strings.Fields(string(pemBody(t, "idp"))), "")) {
				t.Error("KeyInfo does not hold idp.crt.pem")
			}
		})
	}
}

func pemBody(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join(root, "keys", name+".crt.pem"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return []byte(strings.Join(lines[1:len(lines)-1], ""))
}

// TestXMLSecOutputsMatchTemplates checks that each xmlsec output was made
// from the committed template: signatures aside, the bytes are the same
// (so make.sh was re-run after the templates changed).
func TestXMLSecOutputsMatchTemplates(t *testing.T) {
	sigRE := regexp.MustCompile(`(?s)<ds:Signature .*?</ds:Signature>`)
	for name, path := range outputs(t) {
		tmpl, err := os.ReadFile(filepath.Join(root, "xmlsec", "templates", name+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run testdata/xmlsec/make.sh)", err)
		}
		norm := func(b []byte) string {
			// xmlsec1 adds a newline after the XML declaration and at the end.
			b = sigRE.ReplaceAll(b, []byte("<SIGNATURE/>"))
			return strings.ReplaceAll(strings.TrimSpace(string(b)), "?>\n<", "?><")
		}
		if norm(tmpl) != norm(out) {
			t.Errorf("%s was not signed from the committed template (run testdata/xmlsec/make.sh)", name)
		}
	}
}

// TestXMLSec1VerifiesGolden checks the golden responses samltest signed
// with xmlsec1, when it is installed: the IdP's verify against its
// certificate, and the attacker's (a clone of the IdP certificate around
// another key) does not.
func TestXMLSec1VerifiesGolden(t *testing.T) {
	xmlsec1, err := exec.LookPath("xmlsec1")
	if err != nil {
		t.Skip("xmlsec1 is not installed (Debian package xmlsec1)")
	}
	run := func(file, cert string) error {
		cmd := exec.Command(xmlsec1, "--verify",
			"--trusted-pem", filepath.Join(root, "keys", cert+".crt.pem"),
			"--verification-gmt-time", clock.Format("2006-01-02 15:04:05"),
			"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
			"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
			filepath.Join(root, "golden", file))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%v: %s", err, bytes.TrimSpace(stderr.Bytes()))
		}
		return nil
	}
	for _, f := range []string{
		"jumpcloud-default.xml", "response-signed.xml", "both-signed.xml", "sha1.xml", "sp-initiated.xml",
		"no-email-verified.xml", "email-verified-false.xml", "no-groups.xml", "groups-repeated-attribute.xml",
		"groups-1000.xml", "groups-1000-response-signed.xml",
	} {
		if err := run(f, "idp"); err != nil {
			t.Errorf("%s: xmlsec1 rejects it: %v", f, err)
		}
	}
	if err := run("rotated-key.xml", "idp2"); err != nil {
		t.Errorf("rotated-key.xml: xmlsec1 rejects it with idp2.crt.pem: %v", err)
	}
	for _, f := range []string{"wrong-key.xml", "rotated-key.xml", "unsigned.xml"} {
		if run(f, "idp") == nil {
			t.Errorf("%s: xmlsec1 accepts it with idp.crt.pem", f)
		}
	}
}
