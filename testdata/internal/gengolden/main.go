// Command gengolden writes the generated fixtures of testdata: the golden
// responses in golden/ and the xmlsec1 signing templates in
// xmlsec/templates/. It is run by go generate in testdata:
//
//	go generate ./testdata/
//
// The output depends only on the committed keys (testdata/keys), so it is
// the same byte for byte on every run; TestGoldenUpToDate checks that the
// committed files are what this program writes. After changing the
// templates, run testdata/xmlsec/make.sh to re-sign them.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/beevik/etree"

	"github.com/samlgate/samlgate/saml/samltest"
)

// The generated directories, relative to testdata. The standard settings
// of the fixtures (testdata/README.md) are samltest's Fixture* ones.
var (
	GoldenDir   = "golden"
	TemplateDir = filepath.Join("xmlsec", "templates")
)

// fixture is one generated file: the standard response edited by edit and
// signed with the key pair named key.
type fixture struct {
	dir, name string
	key       string
	edit      func(r *samltest.Response)
}

func manyGroups(n int) []string {
	g := make([]string, n)
	for i := range g {
		g[i] = fmt.Sprintf("group-%04d", i+1)
	}
	return g
}

var fixtures = []fixture{
	{GoldenDir, "jumpcloud-default.xml", "idp", func(r *samltest.Response) {}},
	{GoldenDir, "response-signed.xml", "idp", func(r *samltest.Response) { r.Sign = samltest.SignResponse }},
	{GoldenDir, "both-signed.xml", "idp", func(r *samltest.Response) { r.Sign = samltest.SignBoth }},
	{GoldenDir, "unsigned.xml", "idp", func(r *samltest.Response) { r.Sign = samltest.SignNone }},
	{GoldenDir, "sha1.xml", "idp", func(r *samltest.Response) { r.SHA1 = true }},
	{GoldenDir, "sp-initiated.xml", "idp", func(r *samltest.Response) { r.InResponseTo = samltest.FixtureRequestID }},
	{GoldenDir, "no-email-verified.xml", "idp", func(r *samltest.Response) { r.EmailVerified = "" }},
	{GoldenDir, "email-verified-false.xml", "idp", func(r *samltest.Response) { r.EmailVerified = "false" }},
	{GoldenDir, "no-groups.xml", "idp", func(r *samltest.Response) { r.Groups = nil }},
	{GoldenDir, "groups-repeated-attribute.xml", "idp", func(r *samltest.Response) {
		groups := r.Groups
		r.Groups = nil
		for _, g := range groups {
			r.Attributes = append(r.Attributes, samltest.Attribute{Name: "memberOf", Values: []string{g}})
		}
	}},
	{GoldenDir, "groups-1000.xml", "idp", func(r *samltest.Response) { r.Groups = manyGroups(1000) }},
	{GoldenDir, "groups-1000-response-signed.xml", "idp", func(r *samltest.Response) {
		r.Groups = manyGroups(1000)
		r.Sign = samltest.SignResponse
	}},
	{GoldenDir, "request-denied.xml", "idp", func(r *samltest.Response) {
		r.Sign = samltest.SignNone
		r.OmitAssertion = true
		r.StatusCode = "Responder"
		r.SubStatusCode = "RequestDenied"
		r.StatusMessage = "The user is not allowed to use this application"
	}},
	{GoldenDir, "wrong-key.xml", "attacker", func(r *samltest.Response) {}},
	{GoldenDir, "rotated-key.xml", "idp2", func(r *samltest.Response) {}},
	{GoldenDir, "expired-cert.xml", "expired", func(r *samltest.Response) {}},
	{GoldenDir, "expiring-cert.xml", "expiring", func(r *samltest.Response) {}},
	{GoldenDir, "weak-key.xml", "weak", func(r *samltest.Response) {}},
	// PingFederate's default: no Destination when only the Assertion is
	// signed; the signed Recipient names the ACS URL.
	{GoldenDir, "no-destination.xml", "idp", func(r *samltest.Response) {
		r.Recipient = r.Destination
		r.Destination = ""
	}},
	{GoldenDir, "no-destination-response-signed.xml", "idp", func(r *samltest.Response) {
		r.Recipient = r.Destination
		r.Destination = ""
		r.Sign = samltest.SignResponse
	}},

	// Templates for xmlsec1 (xmlsec/make.sh): unsigned responses with an
	// empty Signature template after the Issuer of the signed element.
	{TemplateDir, "assertion-signed.xml", "idp", template("Assertion", false, "")},
	{TemplateDir, "response-signed.xml", "idp", template("Response", false, "")},
	{TemplateDir, "assertion-signed-sha1.xml", "idp", template("Assertion", true, "")},
	{TemplateDir, "assertion-signed-inclusive-namespaces.xml", "idp", template("Assertion", false, "xs")},
}

const (
	nsDSig     = "http://www.w3.org/2000/09/xmldsig#"
	excC14N    = "http://www.w3.org/2001/10/xml-exc-c14n#"
	enveloped  = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	rsaSHA256  = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	digSHA256  = "http://www.w3.org/2001/04/xmlenc#sha256"
	rsaSHA1    = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	digSHA1    = "http://www.w3.org/2000/09/xmldsig#sha1"
	prefixTmpl = "ds"
)

// template returns an edit that leaves the response unsigned and puts an
// empty enveloped Signature template (exclusive c14n, optionally with an
// InclusiveNamespaces PrefixList) after the Issuer of the Response or of
// the Assertion, for xmlsec1 to fill in.
func template(target string, sha1 bool, prefixList string) func(r *samltest.Response) {
	return func(r *samltest.Response) {
		r.Sign = samltest.SignNone
		r.Mutate = func(doc *etree.Document) {
			el := doc.Root()
			if target == "Assertion" {
				el = el.SelectElement("Assertion")
			}
			sigMethod, digMethod := rsaSHA256, digSHA256
			if sha1 {
				sigMethod, digMethod = rsaSHA1, digSHA1
			}
			sig := etree.NewElement(prefixTmpl + ":Signature")
			sig.CreateAttr("xmlns:"+prefixTmpl, nsDSig)
			si := sig.CreateElement("ds:SignedInfo")
			si.CreateElement("ds:CanonicalizationMethod").CreateAttr("Algorithm", excC14N)
			si.CreateElement("ds:SignatureMethod").CreateAttr("Algorithm", sigMethod)
			ref := si.CreateElement("ds:Reference")
			ref.CreateAttr("URI", "#"+el.SelectAttrValue("ID", ""))
			tr := ref.CreateElement("ds:Transforms")
			tr.CreateElement("ds:Transform").CreateAttr("Algorithm", enveloped)
			c14n := tr.CreateElement("ds:Transform")
			c14n.CreateAttr("Algorithm", excC14N)
			if prefixList != "" {
				in := c14n.CreateElement("ec:InclusiveNamespaces")
				in.CreateAttr("xmlns:ec", excC14N)
				in.CreateAttr("PrefixList", prefixList)
			}
			ref.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", digMethod)
			ref.CreateElement("ds:DigestValue")
			sig.CreateElement("ds:SignatureValue")
			sig.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data")
			el.InsertChildAt(el.SelectElement("Issuer").Index()+1, sig)
		}
	}
}

// File is one generated file, at Path relative to testdata.
type File struct {
	Path string
	Data []byte
}

// Generate builds every fixture with the key pairs in keysDir. Each
// fixture comes from a new IdP, so adding or reordering fixtures does not
// change the others.
func Generate(keysDir string) ([]File, error) {
	var files []File
	for _, f := range fixtures {
		idp, err := samltest.LoadFixtureIdP(keysDir, f.key)
		if err != nil {
			return nil, err
		}
		r := samltest.FixtureResponse()
		f.edit(&r)
		data, err := idp.ResponseXML(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		files = append(files, File{Path: filepath.Join(f.dir, f.name), Data: data})
	}
	return files, nil
}

// Stale lists the .xml files in the generated directories under root that
// Generate does not produce.
func Stale(root string, files []File) ([]string, error) {
	want := map[string]bool{}
	for _, f := range files {
		want[f.Path] = true
	}
	var stale []string
	for _, dir := range []string{GoldenDir, TemplateDir} {
		matches, err := filepath.Glob(filepath.Join(root, dir, "*.xml"))
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			rel, err := filepath.Rel(root, m)
			if err != nil {
				return nil, err
			}
			if !want[rel] {
				stale = append(stale, rel)
			}
		}
	}
	sort.Strings(stale)
	return stale, nil
}

func main() {
	root := flag.String("root", ".", "the testdata directory")
	flag.Parse()
	files, err := Generate(filepath.Join(*root, "keys"))
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		path := filepath.Join(*root, f.Path)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, f.Data) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			log.Fatal(err)
		}
		log.Printf("wrote %s", f.Path)
	}
	stale, err := Stale(*root, files)
	if err != nil {
		log.Fatal(err)
	}
	if len(stale) > 0 {
		log.Fatalf("stale generated files (delete them): %s", strings.Join(stale, " "))
	}
}
