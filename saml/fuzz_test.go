package saml_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/samlgate/samlgate/saml"
)

// acceptAll is a ReplayCache that records nothing, so that a fuzz target
// stays deterministic: the same input always gives the same result, and a
// valid seed is accepted on every execution instead of only the first.
type acceptAll struct{}

func (acceptAll) Consume(context.Context, string, time.Time) error { return nil }

// fuzzConnection is the standard connection with a no-op replay cache.
func fuzzConnection(t testing.TB) *saml.Connection {
	cfg := baseConfig(t)
	cfg.ReplayCache = acceptAll{}
	return newConn(t, cfg)
}

// goldenFiles returns the raw XML of every golden fixture, by name.
func goldenFiles(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(testdata("golden", "*.xml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden fixtures: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".xml")] = b
	}
	return out
}

// attackSeeds are a few hostile inputs, as raw XML.
func attackSeeds(t testing.TB) [][]byte {
	t.Helper()
	std := readFile(t, "golden", "jumpcloud-default.xml")
	return [][]byte{
		afterDecl(`<!DOCTYPE r [<!ENTITY l0 "lol"><!ENTITY l1 "&l0;&l0;&l0;">]>`)(std),
		append(append([]byte{}, std...), "<x/>"...),
		replaceText("<saml2:Subject>", "<?evil?><saml2:Subject>")(std),
		replaceText(`encoding="UTF-8"`, `encoding="UTF-16"`)(std),
		[]byte(strings.Repeat("<a>", 100)),
		[]byte(`<saml2p:Response xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol" Destination="` + acsURL + `"><saml2p:Status><saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></saml2p:Status></saml2p:Response>`),
		replaceText(">alice@example.com</saml2:NameID>", ">alice@example.com<!---->.evil.test</saml2:NameID>")(std),
	}
}

// checkFuzzResult is the oracle of both fuzz targets. Only the seeds that
// are golden fixtures can be valid, so an accepted response must be
// alice's, as the IdP signed it; every refusal must be a well-formed
// *saml.Error with a known code.
func checkFuzzResult(t *testing.T, id *saml.Identity, err error) {
	if err != nil {
		if id != nil {
			t.Fatalf("identity returned with error %v", err)
		}
		var e *saml.Error
		if !errors.As(err, &e) {
			t.Fatalf("error %T %v is not an *saml.Error", err, err)
		}
		if e.Code == "" {
			t.Fatalf("error without code: %v", err)
		}
		if !slices.Contains(allCodes, e.Code) {
			t.Fatalf("unknown code %q: %v", e.Code, err)
		}
		if !errors.Is(err, e.Code) {
			t.Fatalf("errors.Is does not match the sentinel of %s", e.Code)
		}
		if e.Hint == "" || e.Connection != "acme" {
			t.Fatalf("error without hint or connection: %#v", e)
		}
		_ = e.Detail()
		return
	}
	if id == nil {
		t.Fatal("neither identity nor error")
	}
	if id.Subject != aliceEmail || id.Email != aliceEmail || !id.EmailVerified || id.Issuer != idpEntityID ||
		id.GivenName != "Alice" || id.FamilyName != "Liddell" || id.Connection != "acme" {
		t.Fatalf("accepted an identity the IdP did not sign: %+v", id)
	}
	switch len(id.Groups) {
	case 0:
	case 3:
		if !slices.Equal(id.Groups, aliceGroups) {
			t.Fatalf("accepted groups %q", id.Groups)
		}
	case 1000:
		for i, g := range id.Groups {
			if g != fmt.Sprintf("group-%04d", i+1) {
				t.Fatalf("accepted group %d %q", i, g)
			}
		}
	default:
		t.Fatalf("accepted %d groups", len(id.Groups))
	}
}

// FuzzVerify fuzzes the SAMLResponse form value, as a browser posts it.
// The seeds are every golden fixture and a few attacks, base64-encoded.
func FuzzVerify(f *testing.F) {
	for _, raw := range goldenFiles(f) {
		f.Add(encode(raw))
	}
	for _, raw := range attackSeeds(f) {
		f.Add(encode(raw))
	}
	f.Add("")
	f.Add("not base64!")
	conn := fuzzConnection(f)
	opt := saml.WithRequestIDs("id-REQUEST-0001") // sp-initiated.xml
	f.Fuzz(func(t *testing.T, form string) {
		id, err := conn.Verify(context.Background(), form, opt)
		checkFuzzResult(t, id, err)
	})
}

// FuzzRawXML fuzzes the decoded XML, which reaches the XML guard and the
// signature code far more often than mutated base64 does. The 1,000-group
// fixtures are left out of its seeds to keep executions fast.
func FuzzRawXML(f *testing.F) {
	for name, raw := range goldenFiles(f) {
		if !strings.Contains(name, "1000") {
			f.Add(raw)
		}
	}
	for _, raw := range attackSeeds(f) {
		f.Add(raw)
	}
	conn := fuzzConnection(f)
	opt := saml.WithRequestIDs("id-REQUEST-0001")
	f.Fuzz(func(t *testing.T, raw []byte) {
		id, err := conn.Verify(context.Background(), encode(raw), opt)
		checkFuzzResult(t, id, err)
	})
}

// FuzzParseUntrustedXML fuzzes the XML guard Verify runs first, through
// its exported form: it never panics, refuses with *saml.Error malformed,
// and what it accepts has exactly one root element and no DTD.
func FuzzParseUntrustedXML(f *testing.F) {
	for name, raw := range goldenFiles(f) {
		if !strings.Contains(name, "1000") {
			f.Add(raw)
		}
	}
	for _, raw := range attackSeeds(f) {
		f.Add(raw)
	}
	f.Add(readFile(f, "real-idps", "google", "metadata.xml"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		doc, err := saml.ParseUntrustedXML(raw)
		if err != nil {
			var e *saml.Error
			if !errors.As(err, &e) || e.Code != saml.CodeMalformed || e.Hint == "" {
				t.Fatalf("error %T %#v, want *saml.Error malformed", err, err)
			}
			if doc != nil {
				t.Fatal("document returned with an error")
			}
			return
		}
		if doc == nil || doc.Root() == nil {
			t.Fatal("no root element")
		}
		roots := 0
		for _, tok := range doc.Child {
			if _, ok := tok.(*etree.Element); ok {
				roots++
			}
		}
		if roots != 1 {
			t.Fatalf("%d root elements accepted", roots)
		}
		if bytes.Contains(bytes.ToUpper(raw), []byte("<!DOCTYPE")) {
			t.Fatal("a DOCTYPE was accepted")
		}
	})
}
