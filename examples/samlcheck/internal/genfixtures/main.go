// Command genfixtures writes the fixtures of samlcheck's tests that the
// repository's testdata/golden does not have into examples/samlcheck/testdata:
// responses with the mistakes only samlcheck diagnoses (another connection's
// settings, an Issuer typed in the console, an ACS URL without its
// ?connection= query, an edit after signing), minted by saml/samltest with
// the standard fixture settings (samltest.FixtureResponse, at
// samltest.FixtureClock, with the committed keys of testdata/keys); the
// golden responses in the other forms an admin captures (base64, a
// URL-encoded form body, HAR exports); and the IdP metadata. It is run by go
// generate in examples/samlcheck:
//
//	go generate ./examples/samlcheck/
//
// The output depends only on the keys and the golden files, so it is the
// same byte for byte on every run; TestFixturesUpToDate checks the committed
// files.
package main

import (
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/samlgate/samlgate/saml/samltest"
)

// The settings of another connection of the same gateway; the rest are
// samltest's Fixture* settings.
const (
	OtherAudience = "urn:samlgate:globex"
	OtherACSURL   = "https://auth.example.com/login/callback?connection=globex"
	// BareACSURL is the ACS URL without its ?connection= query.
	BareACSURL = "https://auth.example.com/login/callback"
)

// response is one signed response: the standard one edited by edit and
// signed with the idp key pair.
type response struct {
	name string
	edit func(r *samltest.Response)
}

var responses = []response{
	{"issuer-typed.xml", func(r *samltest.Response) { r.Issuer = "JumpCloud" }},
	{"idp-url-as-audience.xml", func(r *samltest.Response) { r.Audience = samltest.FixtureIdPEntityID }},
	{"acs-missing-connection.xml", func(r *samltest.Response) { r.Destination = BareACSURL }},
	{"recipient-missing-connection.xml", func(r *samltest.Response) { r.Recipient = BareACSURL }},
	{"other-connection.xml", func(r *samltest.Response) {
		r.Audience, r.Destination = OtherAudience, OtherACSURL
	}},
	{"audience-other-connection.xml", func(r *samltest.Response) { r.Audience = OtherAudience }},
	{"recipient-other-connection.xml", func(r *samltest.Response) { r.Recipient = OtherACSURL }},
	// An IdP that identifies users by an opaque, persistent NameID and
	// sends no email (PingOne's and Okta's default), for -email-optional.
	{"opaque-nameid.xml", func(r *samltest.Response) {
		r.NameID, r.NameIDFormat = "00u1a2b3c4D5e6F7g8h9", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
		r.Email, r.EmailVerified = "", ""
	}},
	// Altered after signing, as an editor or a proxy might: the email
	// attribute no longer says what was signed.
	{"tampered.xml", func(r *samltest.Response) {
		r.Mutate = func(doc *etree.Document) {
			for _, v := range doc.FindElements("//Attribute[@Name='email']/AttributeValue") {
				v.SetText("mallory@example.com")
			}
		}
	}},
}

// File is one generated file, at Path relative to the output directory.
type File struct {
	Path string
	Data []byte
}

// Generate builds every fixture with the key pairs in keysDir and the
// golden responses in goldenDir. Each response comes from a new IdP, so
// adding or reordering fixtures does not change the others.
func Generate(keysDir, goldenDir string) ([]File, error) {
	files, signed, err := mintResponses(keysDir)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"jumpcloud-default.xml", "wrong-key.xml"} {
		data, err := os.ReadFile(filepath.Join(goldenDir, name))
		if err != nil {
			return nil, err
		}
		signed[name] = data
	}
	captures, err := captureForms(signed)
	if err != nil {
		return nil, err
	}
	files = append(files, captures...)

	// JumpCloud's "Export Metadata" for the app, for -idp-metadata.
	idp, err := samltest.LoadFixtureIdP(keysDir, "idp")
	if err != nil {
		return nil, err
	}
	files = append(files, File{"idp-metadata.xml", idp.Metadata()})
	return files, nil
}

// mintResponses signs each of responses with a fresh fixture IdP; signed
// maps each file name to its XML, for the captures made from them.
func mintResponses(keysDir string) (files []File, signed map[string][]byte, err error) {
	signed = map[string][]byte{}
	for _, r := range responses {
		idp, err := samltest.LoadFixtureIdP(keysDir, "idp")
		if err != nil {
			return nil, nil, err
		}
		opts := samltest.FixtureResponse()
		r.edit(&opts)
		data, err := idp.ResponseXML(opts)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", r.name, err)
		}
		signed[r.name] = data
		files = append(files, File{Path: r.name, Data: data})
	}
	return files, signed, nil
}

// captureForms writes the standard response in every other form an admin
// may capture: wrapped base64, a form body and HAR exports.
func captureForms(signed map[string][]byte) ([]File, error) {
	clock, acsURL := samltest.FixtureClock(), samltest.FixtureACSURL
	value := base64.StdEncoding.EncodeToString(signed["jumpcloud-default.xml"])
	wrongKey := base64.StdEncoding.EncodeToString(signed["wrong-key.xml"])
	files := []File{
		{"jumpcloud-default.b64", []byte(wrap(value, 76))},
		{"jumpcloud-default.form", []byte(formBody(value, "/dashboard") + "\n")},
	}
	for _, h := range []struct {
		name       string
		posts      []harPost
		paramsOnly bool
	}{
		{"jumpcloud-default.har", []harPost{
			// An earlier login in the same capture, which failed: the
			// tool must take the last POST to the ACS.
			{url: acsURL, value: wrongKey, at: clock.Add(200 * time.Millisecond)},
			{url: acsURL, value: value, at: clock.Add(30 * time.Second), relayState: "/dashboard"},
		}, false},
		{"jumpcloud-default-params.har", []harPost{{url: acsURL, value: value, at: clock.Add(200 * time.Millisecond), relayState: "/dashboard"}}, true},
		{"other-connection.har", []harPost{{url: OtherACSURL, value: base64.StdEncoding.EncodeToString(signed["other-connection.xml"]), at: clock.Add(200 * time.Millisecond)}}, false},
		{"no-response.har", nil, false},
	} {
		har, err := harFile(h.posts, h.paramsOnly)
		if err != nil {
			return nil, err
		}
		files = append(files, File{h.name, har})
	}
	return append(files, File{"wrong-key.form", []byte(formBody(wrongKey, ""))}), nil
}

// wrap breaks s into lines of n characters, as a value copied from a
// terminal or an e-mail often is.
func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n])
		b.WriteByte('\n')
		s = s[n:]
	}
	b.WriteString(s)
	b.WriteByte('\n')
	return b.String()
}

// formBody is the application/x-www-form-urlencoded body the browser
// posts to the ACS.
func formBody(value, relayState string) string {
	body := "SAMLResponse=" + url.QueryEscape(value)
	if relayState != "" {
		body += "&RelayState=" + url.QueryEscape(relayState)
	}
	return body
}

func main() {
	keys := flag.String("keys", filepath.Join("..", "..", "testdata", "keys"), "the directory of the key pairs")
	golden := flag.String("golden", filepath.Join("..", "..", "testdata", "golden"), "the directory of the golden responses")
	out := flag.String("out", "testdata", "the directory to write the fixtures into")
	flag.Parse()
	files, err := Generate(*keys, *golden)
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		path := filepath.Join(*out, f.Path)
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
}
