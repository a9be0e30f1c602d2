package attributes

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	// x/net/idna is the UTS #46 implementation the standard library itself
	// vendors for net/http (and does not export). It is golang.org/x, with
	// the Go team's compatibility and security process, and already in the
	// module graph (crewjam/saml → x/crypto → x/net); writing IDNA mapping
	// and Punycode by hand would be the riskier choice.
	"golang.org/x/net/idna"
)

// Limits of RFC 5321 (section 4.5.3.1): a longer address cannot be
// delivered, so no IdP has a reason to send one.
const (
	maxEmailBytes = 254
	maxLocalBytes = 64
)

// domainProfile maps a domain for lookup the way resolvers and browsers do
// (UTS #46, non-transitional, so "ß" stays "ß"), with the STD3 rules
// (letters, digits, hyphens), the Bidi rule and the DNS length limits.
var domainProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.VerifyDNSLength(true),
)

// PlainEmail reports whether s is one plain email address, such as
// jane.doe+tag@example.com or jane@bücher.example: the only form
// that every consumer reads the same way. An address that is not plain can
// be read as another one by a downstream parser (Python's
// email.utils.parseaddr reads "CEO <ceo@acme.example> x@beta.example" as
// ceo@acme.example), so a gateway must not hand it on as an email:
// examples/gateway forwards X-Forwarded-Email only when PlainEmail is true.
//
// Plain means all of:
//
//   - valid UTF-8, at most 254 bytes, and no white space, control, format
//     (bidi, zero-width), private-use or unassigned character;
//   - exactly one '@', with at most 64 bytes before it;
//   - no display name, comment, angle brackets or quoted local part:
//     net/mail parses s to exactly s, with no name;
//   - a domain name (not an address literal) that is valid IDNA and written
//     in its ASCII form (xn-- labels included) or its Unicode form, in any
//     letter case: "bücher.example", "BÜCHER.example" and
//     "XN--BCHER-KVA.example" are plain; a domain that only a mapping
//     makes valid is not: a character outside ASCII that lower-cases into
//     ASCII (the Kelvin sign that stands for k, "\u212Aey.example"),
//     full-width letters, ligatures. A trailing dot is not accepted.
//
// PlainEmail says nothing about whether the address exists or whom it
// belongs to; it never modifies s. It is safe on any input.
func PlainEmail(s string) bool {
	_, ok := EmailDomain(s)
	return ok
}

// EmailDomain returns the domain of s in lower-case ASCII (Punycode) form
// when s is a plain address (see [PlainEmail]), and ok false otherwise.
// Compare it with domains passed through [NormalizeDomain]: both sides are
// then in the same form, whatever case or IDNA form each was written in.
func EmailDomain(s string) (domain string, ok bool) {
	if len(s) > maxEmailBytes || !utf8.ValidString(s) || strings.Count(s, "@") != 1 {
		return "", false
	}
	for _, r := range s {
		// unicode.IsPrint refuses controls, format characters (U+200B,
		// U+202E...), every space but U+0020, private use and unassigned
		// code points; U+0020 is refused here.
		if r == ' ' || !unicode.IsPrint(r) {
			return "", false
		}
	}
	at := strings.IndexByte(s, '@')
	local, host := s[:at], s[at+1:]
	if local == "" || len(local) > maxLocalBytes {
		return "", false
	}
	// net/mail accepts quoting, comments and angle brackets, and returns
	// the address without them: a round trip to exactly s means there
	// were none.
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", false
	}
	ascii, err := asciiDomain(host)
	if err != nil || len(local)+1+len(ascii) > maxEmailBytes {
		return "", false
	}
	return ascii, true
}

// NormalizeDomain returns the lower-case ASCII (Punycode) form of the
// domain name d, for configuration such as allowed email domains. It
// applies the rules of [PlainEmail] to the domain: d must be a valid IDNA
// domain written in its ASCII or Unicode form (any letter case for ASCII
// letters, lower-case for the others), without a leading or trailing dot.
// The error quotes d.
func NormalizeDomain(d string) (string, error) {
	ascii, err := asciiDomain(d)
	if err != nil {
		return "", fmt.Errorf("attributes: %q is not a domain name such as example.com: %w", d, err)
	}
	return ascii, nil
}

var errNotCanonical = errors.New("not written in its ASCII or Unicode form")

// asciiDomain maps d to its ASCII form and checks that d was already
// written in one of the two canonical forms, up to letter case. UTS #46
// maps many strings to one domain (full-width "ｅxample.com" to
// example.com, the Kelvin sign U+212A to k); accepting only the forms that
// differ by letter case keeps what the IdP wrote and what a downstream
// system compares the same domain. A character outside ASCII that
// lower-cases into ASCII is refused first: Unicode lower-casing would turn
// the Kelvin sign into ASCII k, so "\u212Aey.example" would pass for
// key.example.
func asciiDomain(d string) (string, error) {
	if d == "" || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
		return "", errors.New("empty label")
	}
	ascii, err := domainProfile.ToASCII(d)
	if err != nil {
		return "", err
	}
	// Letter case is folded, but no character outside ASCII may become an
	// ASCII one on the way (the Kelvin sign K lower-cases to k, U+0130 to
	// i plus a dot): that would let ceo@\u212Aey.example pass for
	// key.example.
	for _, r := range d {
		if r >= utf8.RuneSelf && unicode.ToLower(r) < utf8.RuneSelf {
			return "", errNotCanonical
		}
	}
	lower := strings.ToLower(d)
	if lower == ascii {
		return ascii, nil
	}
	uni, err := domainProfile.ToUnicode(ascii)
	if err != nil {
		return "", err
	}
	if lower != uni {
		return "", errNotCanonical
	}
	return ascii, nil
}
