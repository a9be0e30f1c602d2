package attributes

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
)

// Field names used in [ConflictError.Field]. They follow the OpenID Connect
// claim names so that applications already speaking OIDC recognise them.
const (
	FieldEmail       = "email"
	FieldGivenName   = "given_name"
	FieldFamilyName  = "family_name"
	FieldDisplayName = "display_name"
)

// Mapping says which attribute names feed each identity field, in priority
// order. A nil field means the default list.
//
// A non-nil empty slice means "no attribute feeds this field", which lets an
// application switch a field off (for example DisplayName, when the IdP's
// display name is not trustworthy for the application's purpose) without
// the zero Mapping losing its defaults.
type Mapping struct {
	Email, GivenName, FamilyName, DisplayName, EmailVerified []string
}

// Clone returns a deep copy of m; nil and empty slices stay as they are.
func (m Mapping) Clone() Mapping {
	return Mapping{
		Email:         slices.Clone(m.Email),
		GivenName:     slices.Clone(m.GivenName),
		FamilyName:    slices.Clone(m.FamilyName),
		DisplayName:   slices.Clone(m.DisplayName),
		EmailVerified: slices.Clone(m.EmailVerified),
	}
}

// Default attribute names, covering what JumpCloud, Okta, Google, Entra ID
// and LDAP-backed IdPs (by OID) send out of the box. Lookups are
// case-insensitive, so "Email" and "EMAIL" are covered by "email".
var (
	DefaultEmail         = []string{"email", "mail", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "urn:oid:0.9.2342.19200300.100.1.3"}
	DefaultGivenName     = []string{"given_name", "firstname", "givenName", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "urn:oid:2.5.4.42"}
	DefaultFamilyName    = []string{"family_name", "lastname", "sn", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "urn:oid:2.5.4.4"}
	DefaultDisplayName   = []string{"name", "displayName", "display_name", "http://schemas.microsoft.com/identity/claims/displayname", "urn:oid:2.16.840.1.113730.3.1.241"}
	DefaultEmailVerified = []string{"email_verified"}
)

func orDefault(names, def []string) []string {
	if names == nil {
		return def
	}
	return names
}

// EmailVerifiedNames returns the attribute names consulted for the
// email_verified claim (the defaults when m.EmailVerified is nil), so that
// callers can name them in error messages. The slice is a copy.
func (m Mapping) EmailVerifiedNames() []string {
	return append([]string(nil), orDefault(m.EmailVerified, DefaultEmailVerified)...)
}

// EmailVerifiedValues returns the raw values of all attributes matching the
// EmailVerified names, and whether any such attribute exists.
//
// Unlike [Set.Values] the result is neither trimmed nor de-duplicated: a
// policy that requires exactly one email_verified value must see two
// attributes that each say "true" as two values, because an assertion that
// states the claim twice is ambiguous and [ParseBool] should reject it with
// [ErrMultiple].
func (m Mapping) EmailVerifiedValues(s Set) (values []string, found bool) {
	attrs := s.Lookup(orDefault(m.EmailVerified, DefaultEmailVerified)...)
	if len(attrs) == 0 {
		return nil, false
	}
	values = []string{}
	for _, a := range attrs {
		values = append(values, a.Values...)
	}
	return values, true
}

// Fields is what the identity takes from attributes.
type Fields struct {
	Email, GivenName, FamilyName, DisplayName string
	EmailFromNameID                           bool // Email came from the NameID fallback
}

// Extract reads Fields from s.
//
// For each field, every value of every attribute the mapping names is
// trimmed of surrounding white space, and empty values are dropped. No
// values leave the field "". The first remaining value, in the mapping's
// priority order, is used.
//
// When the remaining email values differ, Extract returns a [*ConflictError]
// for FieldEmail instead of choosing: the email is commonly the account key,
// and a wrong guess would be an account takeover. Values differing only in
// letter case are treated as the same mailbox and are not a conflict (the
// first one is returned unchanged; callers that key accounts by email should
// still normalise the case themselves). The name fields never conflict: if
// the IdP sends several different names the first one is used, because a
// wrong display name is cosmetic and refusing the login over it would not
// make anything safer.
//
// When no attribute matches the email names at all, and nameID (trimmed)
// is a bare email address, Email is set to it and EmailFromNameID is true.
// "Bare" means net/mail parses it to exactly the same address, with no
// display name, comment or quoting, and it contains exactly one '@'; so
// identifiers such as "jdoe" or "a@b@c" are never taken for addresses. An
// email attribute that is present but empty does not trigger the fallback:
// the IdP has said it has no email for this user, and that is respected.
// Callers should pass nameID only when its Format allows it to be an email
// address (emailAddress or unspecified); pass "" to disable the fallback.
//
// Extract does not check that attribute email values are well formed; the
// IdP is the authority on its users' addresses. Whether the result is one
// address every consumer reads alike is [PlainEmail]'s question (package
// saml refuses an email that is not).
func (m Mapping) Extract(s Set, nameID string) (Fields, error) {
	var f Fields
	var err error

	var emailFound bool
	f.Email, emailFound, err = extractField(s, orDefault(m.Email, DefaultEmail), FieldEmail, true)
	if err != nil {
		return Fields{}, err
	}
	if !emailFound {
		if addr, ok := bareEmail(nameID); ok {
			f.Email = addr
			f.EmailFromNameID = true
		}
	}
	// The name fields never return an error (strict is false).
	f.GivenName, _, _ = extractField(s, orDefault(m.GivenName, DefaultGivenName), FieldGivenName, false)
	f.FamilyName, _, _ = extractField(s, orDefault(m.FamilyName, DefaultFamilyName), FieldFamilyName, false)
	f.DisplayName, _, _ = extractField(s, orDefault(m.DisplayName, DefaultDisplayName), FieldDisplayName, false)
	return f, nil
}

// extractField returns the first trimmed non-empty value of the attributes
// matching names, and whether any attribute matched. With strict set, it
// returns a *ConflictError when two values differ other than in letter case.
func extractField(s Set, names []string, field string, strict bool) (value string, found bool, err error) {
	attrs := s.Lookup(names...)
	if len(attrs) == 0 {
		return "", false, nil
	}
	conflict := false
	var involved []string
	for _, a := range attrs {
		contributed := false
		for _, v := range a.Values {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			contributed = true
			switch {
			case value == "":
				value = v
			case strict && !strings.EqualFold(v, value):
				conflict = true
			}
		}
		if contributed && !containsString(involved, a.Name) {
			involved = append(involved, a.Name)
		}
		if !strict && value != "" {
			// Only the first value is used; the rest need no reading.
			break
		}
	}
	if conflict {
		return "", true, &ConflictError{Field: field, Names: involved}
	}
	return value, true, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// bareEmail reports whether nameID, trimmed, is nothing but an email address.
func bareEmail(nameID string) (string, bool) {
	id := strings.TrimSpace(nameID)
	if id == "" || strings.Count(id, "@") != 1 {
		return "", false
	}
	addr, err := mail.ParseAddress(id)
	if err != nil || addr.Name != "" || addr.Address != id {
		return "", false
	}
	return id, true
}

// ConflictError reports that an identity field got several different values.
// It names the attributes involved but, like all errors of this package,
// never their values.
type ConflictError struct {
	Field string   // one of the Field* constants
	Names []string // attribute names involved, in priority order
}

func (e *ConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "attributes: conflicting values for %s", e.Field)
	if len(e.Names) > 0 {
		b.WriteString(" in attribute")
		if len(e.Names) > 1 {
			b.WriteString("s")
		}
		for i, n := range e.Names {
			if i > 0 {
				b.WriteString(",")
			}
			// %q because attribute names come from the IdP and may contain
			// characters that would confuse a log reader.
			fmt.Fprintf(&b, " %q", n)
		}
	}
	return b.String()
}
