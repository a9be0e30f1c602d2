package saml_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

// TestHardening: bearer confirmations, SessionNotOnOrAfter, bounded quotes
// in errors and allowed email domains; each case failed on the code before
// its fix.
func TestHardening(t *testing.T) {
	idp := newIdP(t, "idp")
	secondBearer := func(irt string) func(*etree.Document) {
		return func(doc *etree.Document) {
			subj := doc.FindElement("//Subject")
			sc := subj.FindElement("./SubjectConfirmation").Copy()
			if irt != "" {
				sc.FindElement("./SubjectConfirmationData").CreateAttr("InResponseTo", irt)
			}
			subj.InsertChildAt(1, sc)
		}
	}
	tests := []struct {
		name string
		r    samltest.Response
		want saml.Code
		msg  string
	}{
		{
			// The IdP signs it (BeforeSign): crewjam accepts when any
			// confirmation is valid, and the identity must not take its
			// InResponseTo from another one.
			name: "two bearer confirmations, one naming a foreign request",
			r:    func() samltest.Response { r := standard(); r.BeforeSign = secondBearer("FOREIGN"); return r }(),
			want: saml.CodeMalformed, msg: "more than one bearer SubjectConfirmation",
		},
		{
			// A bearer without SubjectConfirmationData was not counted.
			name: "a bearer confirmation without data, then one with data",
			r: func() samltest.Response {
				r := standard()
				r.BeforeSign = func(doc *etree.Document) {
					subj := doc.FindElement("//Subject")
					sc := subj.FindElement("./SubjectConfirmation").Copy()
					sc.RemoveChild(sc.FindElement("./SubjectConfirmationData"))
					subj.InsertChildAt(1, sc)
				}
				return r
			}(),
			want: saml.CodeMalformed, msg: "more than one bearer SubjectConfirmation",
		},
		{
			name: "IdP session already over",
			r: func() samltest.Response {
				r := standard()
				r.SessionNotOnOrAfter = pinned.Add(-time.Hour)
				return r
			}(),
			want: saml.CodeExpired, msg: "SessionNotOnOrAfter",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := refuse(t, newConn(t, baseConfig(t)), mint(t, idp, tt.r), tt.want)
			checkMessage(t, e, tt.msg)
		})
	}

	t.Run("IdP session still running is accepted", func(t *testing.T) {
		r := standard()
		r.SessionNotOnOrAfter = pinned.Add(8 * time.Hour)
		id := mustVerify(t, newConn(t, baseConfig(t)), mint(t, idp, r))
		if !id.SessionNotOnOrAfter.Equal(pinned.Add(8 * time.Hour)) {
			t.Errorf("SessionNotOnOrAfter = %v", id.SessionNotOnOrAfter)
		}
	})
}

// An unauthenticated POST cannot put megabytes of its own text into the
// error string that servers log.
func TestErrorQuotesAreBounded(t *testing.T) {
	huge := strings.Repeat("A", 600_000)
	r := standard()
	r.Mutate = func(doc *etree.Document) { doc.Root().SelectElement("Issuer").SetText(huge) }
	e := refuse(t, newConn(t, baseConfig(t)), mint(t, newIdP(t, "idp"), r), saml.CodeIssuerMismatch)
	if n := len(e.Error()); n > 2048 {
		t.Fatalf("Error() is %d bytes", n)
	}
	if !strings.HasPrefix(e.Actual, "AAAA") {
		t.Fatalf("Actual = %.40q…", e.Actual)
	}
	// The cut never splits a UTF-8 sequence, whatever the offset.
	for _, prefix := range []string{"", "a", "ab", "abc"} {
		r := standard()
		r.Mutate = func(doc *etree.Document) {
			doc.Root().SelectElement("Issuer").SetText(prefix + strings.Repeat("é€😀", 200))
		}
		e := refuse(t, newConn(t, baseConfig(t)), mint(t, newIdP(t, "idp"), r), saml.CodeIssuerMismatch)
		if !utf8.ValidString(e.Actual) || !utf8.ValidString(e.Error()) || len(e.Actual) > 256+len("…") {
			t.Errorf("prefix %q: Actual is %d bytes, valid UTF-8 %v", prefix, len(e.Actual), utf8.ValidString(e.Actual))
		}
	}
}

// A gateway trusting several IdPs must not let one assert another
// tenant's users: AllowedEmailDomains bounds what each IdP may vouch for.
func TestAllowedEmailDomains(t *testing.T) {
	idp := newIdP(t, "idp")
	tests := []struct {
		name    string
		domains []string
		email   string
		want    saml.Code
		actual  string
	}{
		{name: "no restriction", email: "ceo@globex.test"},
		{name: "allowed domain", domains: []string{"example.com"}, email: "alice@example.com"},
		{name: "case-insensitive", domains: []string{"Example.COM"}, email: "alice@EXAMPLE.com"},
		{name: "other tenant's domain", domains: []string{"example.com"}, email: "ceo@globex.test",
			want: saml.CodeEmailDomainNotAllowed, actual: "globex.test"},
		{name: "subdomain is not the domain", domains: []string{"example.com"}, email: "a@evil.example.com",
			want: saml.CodeEmailDomainNotAllowed, actual: "evil.example.com"},
		{name: "suffix trick", domains: []string{"example.com"}, email: "a@notexample.com",
			want: saml.CodeEmailDomainNotAllowed, actual: "notexample.com"},

		// Issue 12: only the text after the last '@' was checked, while
		// Python's email.utils.parseaddr (an upstream) reads
		// ceo@acme.example in each of these four.
		{name: "second @", domains: []string{"beta.example"}, email: "ceo@acme.example@beta.example",
			want: saml.CodeEmailDomainNotAllowed, actual: "not a plain address"},
		{name: "display name and a second address", domains: []string{"beta.example"}, email: "CEO <ceo@acme.example> x@beta.example",
			want: saml.CodeEmailDomainNotAllowed, actual: "not a plain address"},
		{name: "angle-addr before @", domains: []string{"beta.example"}, email: "<ceo@acme.example>@beta.example",
			want: saml.CodeEmailDomainNotAllowed, actual: "not a plain address"},
		{name: "address list", domains: []string{"beta.example"}, email: "ceo@acme.example,@beta.example",
			want: saml.CodeEmailDomainNotAllowed, actual: "not a plain address"},
		{name: "quoted local part", domains: []string{"beta.example"}, email: `"ceo@acme.example"@beta.example`,
			want: saml.CodeEmailDomainNotAllowed, actual: "not a plain address"},
		{name: "comment", domains: []string{"beta.example"}, email: "ceo@beta.example (ceo@acme.example)",
			want: saml.CodeEmailDomainNotAllowed, actual: "not a plain address"},
		{name: "trailing dot", domains: []string{"example.com"}, email: "alice@example.com.",
			want: saml.CodeEmailDomainNotAllowed, actual: "not a plain address"},
		{name: "full-width domain", domains: []string{"example.com"}, email: "alice@ｅxample.com",
			want: saml.CodeEmailDomainNotAllowed, actual: "not a plain address"},
		{name: "zero-width space", domains: []string{"example.com"}, email: "alice\u200b@example.com",
			want: saml.CodeEmailDomainNotAllowed, actual: "not a plain address"},
		{name: "IDNA: Unicode domain allowed, Punycode asserted", domains: []string{"Bücher.example"}, email: "alice@xn--bcher-kva.example"},
		{name: "IDNA: Punycode allowed, Unicode asserted", domains: []string{"xn--bcher-kva.example"}, email: "alice@Bücher.EXAMPLE"},
		// Unicode lower-casing is a mapping: the Kelvin sign became ASCII
		// k, so this spelling passed for key.example.
		{name: "IDNA: Kelvin sign for k", domains: []string{"key.example"}, email: "ceo@\u212Aey.example",
			want: saml.CodeEmailDomainNotAllowed, actual: "not a plain address"},
		{name: "IDNA: upper-case non-ASCII letter", domains: []string{"xn--bcher-kva.example"}, email: "alice@BÜCHER.example"},
		{name: "IDNA: another domain", domains: []string{"bücher.example"}, email: "alice@bucher.example",
			want: saml.CodeEmailDomainNotAllowed, actual: "bucher.example"},
		{name: "IDNA: actual is the ASCII form", domains: []string{"example.com"}, email: "alice@bücher.example",
			want: saml.CodeEmailDomainNotAllowed, actual: "xn--bcher-kva.example"},

		// Without domain restrictions a non-plain email is refused too:
		// every consumer of Identity.Email must read the same address.
		{name: "no restriction, second @", email: "ceo@acme.example@beta.example",
			want: saml.CodeMalformed, actual: "not a plain address"},
		{name: "no restriction, display name", email: "CEO <ceo@acme.example> x@beta.example",
			want: saml.CodeMalformed, actual: "not a plain address"},
		{name: "no restriction, angle-addr", email: "<ceo@acme.example>@beta.example",
			want: saml.CodeMalformed, actual: "not a plain address"},
		{name: "no restriction, address list", email: "ceo@acme.example,@beta.example",
			want: saml.CodeMalformed, actual: "not a plain address"},
		{name: "no restriction, not an address", email: "Alice Liddell",
			want: saml.CodeMalformed, actual: "not a plain address"},
		{name: "no restriction, IDNA", email: "alice@bücher.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(t)
			cfg.AllowedEmailDomains = tt.domains
			r := standard()
			r.Email, r.NameID = tt.email, tt.email
			form := mint(t, idp, r)
			if tt.want == "" {
				if id := mustVerify(t, newConn(t, cfg), form); id.Email != tt.email {
					t.Errorf("Email = %q", id.Email)
				}
				return
			}
			e := refuse(t, newConn(t, cfg), form, tt.want)
			if e.Actual != tt.actual || strings.Contains(e.Error(), "@") {
				t.Errorf("Actual = %q, Error() = %q: want the domain, never the address", e.Actual, e.Error())
			}
		})
	}
	for _, bad := range []string{"", "@example.com", ".example.com", "a b.com", "example.com.", "ｅxample.com", "exa_mple.com", "xn--zz.example", "\u212Aey.example"} {
		cfg := baseConfig(t)
		cfg.AllowedEmailDomains = []string{bad}
		if _, err := saml.NewConnection(cfg); !errors.Is(err, saml.CodeConfigInvalid) {
			t.Errorf("AllowedEmailDomains %q: err = %v, want config_invalid", bad, err)
		}
	}
}

// JumpCloud's IDs are 40 upper-case alphanumerics; whether one can start
// with a digit is unknown (xs:ID forbids it), so such a response must
// still verify rather than fail a share of real logins.
func TestDigitLeadingIDs(t *testing.T) {
	r := standard()
	r.AssertionID = "1QCW5ZYPIJUA5HQCFIIJQFKUTA7B4QPKZU5T1ZEE"
	r.ResponseID = "2QRGC12D4KDUUFHSRZXZ27C8ZT1WHAMF1JBQCISX"
	for _, sign := range []samltest.Sign{samltest.SignAssertion, samltest.SignResponse, samltest.SignBoth} {
		r.Sign = sign
		id := mustVerify(t, newConn(t, baseConfig(t)), mint(t, newIdP(t, "idp"), r))
		if id.AssertionID != r.AssertionID {
			t.Errorf("%v: AssertionID = %q", sign, id.AssertionID)
		}
	}
}

// TestErrorHoldsNoAssertion: an *Error is often logged whole, as JSON or
// with %+v. crewjam's InvalidResponseError carries the full response XML in
// an exported field; Err held it, so json.Marshal of a refused response's
// error revealed the user's email and groups.
func TestErrorHoldsNoAssertion(t *testing.T) {
	idp := newIdP(t, "idp")
	tampered := func(doc *etree.Document) { doc.FindElement("//NameID").SetText("x" + aliceEmail) }
	tests := []struct {
		name string
		edit func(r *samltest.Response)
		cfg  func(c *saml.ConnectionConfig)
		want saml.Code
	}{
		{name: "signature invalid", edit: func(r *samltest.Response) { r.Mutate = tampered }, want: saml.CodeSignatureInvalid},
		{name: "signature invalid, both signed", edit: func(r *samltest.Response) { r.Sign, r.Mutate = samltest.SignBoth, tampered }, want: saml.CodeSignatureInvalid},
		{name: "audience mismatch", edit: func(r *samltest.Response) { r.Audience = "urn:samlgate:globex" }, want: saml.CodeAudienceMismatch},
		{name: "issuer mismatch", edit: func(r *samltest.Response) { r.Issuer = "https://sso.jumpcloud.com/saml2/globex" }, want: saml.CodeIssuerMismatch},
		{name: "in response to mismatch", edit: func(r *samltest.Response) { r.InResponseTo = "FOREIGN" }, want: saml.CodeInResponseToMismatch},
		{name: "recipient mismatch", edit: func(r *samltest.Response) { r.Recipient = acsURL + "x" }, want: saml.CodeRecipientMismatch},
		{name: "group not allowed", cfg: func(c *saml.ConnectionConfig) {
			c.Groups.AllowedGroups = []string{"Nobody"}
		}, want: saml.CodeGroupNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := standard()
			if tt.edit != nil {
				tt.edit(&r)
			}
			cfg := baseConfig(t)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			e := refuse(t, newConn(t, cfg), mint(t, idp, r), tt.want)
			// Nor can a caller reach the response through the chain.
			if ire := (*crewjam.InvalidResponseError)(nil); errors.As(e, &ire) {
				t.Errorf("the error chain holds crewjam's InvalidResponseError, with the response XML (%d bytes)", len(ire.Response))
			}
			j, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			outputs := map[string]string{
				"json":      string(j),
				"%+v":       fmt.Sprintf("%+v", e),
				"%+v value": fmt.Sprintf("%+v", *e),
				"%#v value": fmt.Sprintf("%#v", *e),
			}
			for how, out := range outputs {
				for _, secret := range append([]string{aliceEmail, "Alice", "Liddell", "<saml", `\u003csaml`, "xmlns", "SignatureValue"}, aliceGroups...) {
					if strings.Contains(out, secret) {
						t.Errorf("%s of the error holds %q:\n%s", how, secret, out)
					}
				}
			}
		})
	}
}
