package attributes_test

import (
	"net/mail"
	"strings"
	"testing"
	"unicode"

	"github.com/samlgate/samlgate/attributes"
)

// TestPlainEmail: only one plain address is plain. The first four are the
// addresses by which an IdP allowed beta.example could pass a check that
// looked only after the last '@', while Python's email.utils.parseaddr
// (and so an upstream) reads ceo@acme.example.
func TestPlainEmail(t *testing.T) {
	tests := []struct {
		email  string
		domain string // "" when not plain
	}{
		// Attacks.
		{"ceo@acme.example@beta.example", ""},
		{"CEO <ceo@acme.example> x@beta.example", ""},
		{"<ceo@acme.example>@beta.example", ""},
		{"ceo@acme.example,@beta.example", ""},
		{"CEO <ceo@acme.example>", ""},
		{"<ceo@acme.example>", ""},
		{"ceo@acme.example (CEO)", ""},
		{"ceo(x)@beta.example", ""},
		{`"ceo@acme.example"@beta.example`, ""},
		{`"ceo"@beta.example`, ""},
		{`"c e o"@beta.example`, ""},
		{"ceo@acme.example;x@beta.example", ""},
		{"ceo@[192.0.2.1]", ""},
		{"ceo\\@acme.example@beta.example", ""},

		// White space, controls, invisible characters.
		{" alice@example.com", ""},
		{"alice@example.com ", ""},
		{"alice @example.com", ""},
		{"alice@example.com\n", ""},
		{"alice@example.com\x00", ""},
		{"alice\u00a0@example.com", ""},
		{"alice@example.com\u0085", ""},
		{"alice\u200b@example.com", ""},
		{"\u202ealice@example.com", ""},
		{"alice@exa\u200bmple.com", ""},
		{"alice\xff@example.com", ""},

		// Shape.
		{"", ""},
		{"alice", ""},
		{"@example.com", ""},
		{"alice@", ""},
		{"alice@@example.com", ""},
		{".alice@example.com", ""},
		{"al..ice@example.com", ""},
		{strings.Repeat("a", 65) + "@example.com", ""},
		{"a@" + strings.Repeat("b", 64) + ".com", ""},
		{"a@" + strings.Repeat(strings.Repeat("b", 60)+".", 5) + "com", ""},

		// Domains.
		{"alice@example.com.", ""},
		{"alice@.example.com", ""},
		{"alice@exa_mple.com", ""},
		{"alice@-example.com", ""},
		{"alice@ｅxample.com", ""},    // full-width e: only a compatibility mapping makes it example.com
		{"alice@ofﬁce.example", ""},  // ﬁ ligature
		{"alice@xn--zz.example", ""}, // invalid Punycode
		{"alice@xn--bcher-kva.ｅxample", ""},
		// No character outside ASCII may lower-case into ASCII: Go's
		// lower-casing turns the Kelvin sign into ASCII k, so
		// key.example's allow-list admitted this spelling of it.
		{"ceo@\u212Aey.example", ""},
		{"ceo@KEY.\u212A", ""},
		{"ceo@\u0130nfo.example", ""}, // Turkish dotted capital I
		// Letter case folds outside ASCII too: BÜCHER is bücher.
		{"alice@BÜCHER.example", "xn--bcher-kva.example"},
		{"alice@bÜcher.example", "xn--bcher-kva.example"},
		{"alice@ΑΘΗΝΑ.example", "xn--mxaard0a.example"},

		// Plain.
		{"alice@example.com", "example.com"},
		{"Alice.Liddell+saml@Example.COM", "example.com"},
		{"a@b", "b"},
		{"o'brien@example.ie", "example.ie"},
		{"user#EXT#@tenant.onmicrosoft.com", "tenant.onmicrosoft.com"},
		{"jürgen@example.de", "example.de"},
		{"alice@bücher.example", "xn--bcher-kva.example"},
		{"alice@BüCHER.example", "xn--bcher-kva.example"},
		{"alice@αθηνα.EXAMPLE", "xn--mxaard0a.example"},
		{"alice@xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"alice@XN--BCHER-KVA.EXAMPLE", "xn--bcher-kva.example"},
		{"alice@straße.de", "xn--strae-oqa.de"}, // non-transitional: not strasse.de
		{"alice@strasse.de", "strasse.de"},
		{strings.Repeat("a", 64) + "@example.com", "example.com"},
	}
	for _, tt := range tests {
		domain, ok := attributes.EmailDomain(tt.email)
		if ok != (tt.domain != "") || domain != tt.domain {
			t.Errorf("EmailDomain(%q) = %q, %v; want %q, %v", tt.email, domain, ok, tt.domain, tt.domain != "")
		}
		if got := attributes.PlainEmail(tt.email); got != (tt.domain != "") {
			t.Errorf("PlainEmail(%q) = %v", tt.email, got)
		}
	}
}

func TestNormalizeDomain(t *testing.T) {
	tests := []struct{ in, want string }{
		{"example.com", "example.com"},
		{"Example.COM", "example.com"},
		{"bücher.example", "xn--bcher-kva.example"},
		{"Bücher.Example", "xn--bcher-kva.example"},
		{"BÜCHER.example", "xn--bcher-kva.example"},
		{"\u212Aey.example", ""},
		{"key.example", "key.example"},
		{"KEY.example", "key.example"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"", ""},
		{".example.com", ""},
		{"example.com.", ""},
		{"@example.com", ""},
		{"a b.com", ""},
		{"example.com/x", ""},
		{"exa_mple.com", ""},
		{"ｅxample.com", ""},
		{"xn--zz.example", ""},
		{"*.example.com", ""},
	}
	for _, tt := range tests {
		got, err := attributes.NormalizeDomain(tt.in)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// FuzzPlainEmail: an address PlainEmail accepts has one '@', no white
// space or invisible characters, parses with net/mail to itself, and its
// domain is in the normal form NormalizeDomain keeps as it is.
func FuzzPlainEmail(f *testing.F) {
	for _, s := range []string{
		"alice@example.com", "ceo@acme.example@beta.example", "CEO <ceo@acme.example> x@beta.example",
		"<ceo@acme.example>@beta.example", "ceo@acme.example,@beta.example", `"a b"@example.com`,
		"alice@bücher.example", "alice@xn--bcher-kva.example", "alice@ｅxample.com", "a@b.", "a\u200b@b",
		"ceo@\u212Aey.example", "alice@BÜCHER.example",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		domain, ok := attributes.EmailDomain(s)
		if ok != attributes.PlainEmail(s) {
			t.Fatalf("EmailDomain and PlainEmail disagree on %q", s)
		}
		if !ok {
			if domain != "" {
				t.Fatalf("EmailDomain(%q) = %q with ok false", s, domain)
			}
			return
		}
		if strings.Count(s, "@") != 1 || len(s) > 254 {
			t.Fatalf("accepted %q", s)
		}
		for _, r := range s {
			if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("accepted %q, with %U", s, r)
			}
		}
		addr, err := mail.ParseAddress(s)
		if err != nil || addr.Name != "" || addr.Address != s {
			t.Fatalf("accepted %q, which net/mail reads as %v, %v", s, addr, err)
		}
		if again, err := attributes.NormalizeDomain(domain); err != nil || again != domain {
			t.Fatalf("domain %q of %q normalizes to %q, %v", domain, s, again, err)
		}
		if host := s[strings.IndexByte(s, '@')+1:]; !strings.EqualFold(host, domain) {
			if n, err := attributes.NormalizeDomain(host); err != nil || n != domain {
				t.Fatalf("domain of %q: EmailDomain %q, NormalizeDomain %q, %v", s, domain, n, err)
			}
		}
		for _, r := range domain {
			if r > unicode.MaxASCII || unicode.IsUpper(r) {
				t.Fatalf("domain %q of %q is not lower-case ASCII", domain, s)
			}
		}
	})
}
