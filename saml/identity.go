package saml

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/samlgate/samlgate/attributes"
	"github.com/samlgate/samlgate/groups"
)

// Identity is the normalized user a verified response describes. Every
// field comes from the verified assertion (or from what a valid Response
// signature covers), never from unsigned parts of the message.
//
// An IdP can assert any Subject, email or group name. When one application
// trusts several connections, key accounts by (Connection, Subject), never
// by Email alone, and bound each connection's emails with
// ConnectionConfig.AllowedEmailDomains. A connection with EmailOptional
// may return an Identity without Email: (Connection, Subject) is then the
// only key there is.
type Identity struct {
	// Connection is the name of the connection that verified the response.
	Connection string `json:"connection"`
	// Subject is the NameID: the stable user identifier at the IdP
	// (JumpCloud sends the email there).
	Subject       string `json:"subject"`
	SubjectFormat string `json:"subject_format,omitempty"`

	// Email, when set, is one plain address (attributes.PlainEmail: no
	// display name, comment, quoting, brackets or white space, exactly one
	// '@', a valid domain), as the IdP wrote it: letter case and the
	// domain's IDNA form are kept. Verify refuses a response whose email is
	// not plain.
	// Email is "" only on a connection with EmailOptional.
	Email string `json:"email,omitempty"`
	// EmailVerified follows the connection's EmailVerifiedPolicy; it is
	// false when there is no Email.
	EmailVerified bool `json:"email_verified"`
	// EmailVerifiedBy says who vouched for Email when EmailVerified is
	// true: the IdP (its email_verified attribute said true), or this
	// connection's configuration (EmailVerifiedTrust, the IdP did not say
	// so). "" when EmailVerified is false.
	EmailVerifiedBy EmailVerifier `json:"email_verified_by,omitempty"`
	GivenName       string        `json:"given_name,omitempty"`
	FamilyName      string        `json:"family_name,omitempty"`
	DisplayName     string        `json:"display_name,omitempty"`

	// Groups are the user's groups (memberOf), trimmed of ASCII white
	// space, de-duplicated and filtered by the connection's groups
	// configuration. Verify refuses a response with a group name padded
	// with other white space or invisible characters, or holding control
	// characters (see package groups), rather than merge or pass it on.
	Groups []string `json:"groups"`
	// GroupsFound reports whether the assertion had a groups attribute at
	// all: with it false, an empty Groups means "the IdP did not say",
	// not "in no group" (a sync must not revoke on it; see
	// groups/teamsync). GroupsReceived is the number of distinct groups
	// the attribute held before the connection's Filter, which is what
	// an IdP's cap on the list applies to. Neither is kept in a session.
	GroupsFound    bool `json:"-"`
	GroupsReceived int  `json:"-"`
	// Roles are the roles the connection's role mapping gives the groups.
	Roles []string `json:"roles"`

	Issuer       string    `json:"issuer"`
	AssertionID  string    `json:"assertion_id"`
	SessionIndex string    `json:"session_index,omitempty"`
	AuthnInstant time.Time `json:"authn_instant"`
	// SessionNotOnOrAfter, when set, is when the IdP wants the session to
	// end; a session layer must not outlive it.
	SessionNotOnOrAfter time.Time `json:"session_not_on_or_after,omitzero"`
	// InResponseTo is the request ID an SP-initiated response answers; ""
	// for IdP-initiated logins.
	InResponseTo string `json:"in_response_to,omitempty"`

	// Attributes are all attributes of the assertion, as received.
	Attributes attributes.Set `json:"-"`
}

// EmailVerifier is who vouched for an Identity's Email.
type EmailVerifier string

const (
	// EmailVerifiedByIdP: the assertion's email_verified attribute is true.
	EmailVerifiedByIdP EmailVerifier = "idp"
	// EmailVerifiedByConfiguration: the connection's EmailVerifiedTrust
	// policy vouches for the email; the IdP did not say it is verified.
	EmailVerifiedByConfiguration EmailVerifier = "configuration"
)

// HasGroup reports whether the identity is in group (exact name).
func (id *Identity) HasGroup(group string) bool {
	for _, g := range id.Groups {
		if g == group {
			return true
		}
	}
	return false
}

// HasRole reports whether the identity has role.
func (id *Identity) HasRole(role string) bool {
	for _, r := range id.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// identity builds the Identity from the verified assertion (and its
// checked bearer confirmation b) and applies the attribute,
// email_verified and group policies.
func (c *Connection) identity(a *assertionData, b *bearerData) (*Identity, *Error) {
	id := &Identity{
		Connection:    c.cfg.Name,
		Issuer:        a.issuer,
		AssertionID:   a.id,
		Attributes:    attributeSet(a),
		Subject:       strings.TrimSpace(a.nameID),
		SubjectFormat: a.nameIDFormat,
		InResponseTo:  b.inResponseTo,
	}
	if id.Subject == "" {
		return nil, newError(CodeMalformed, "the assertion has no NameID value")
	}
	if len(a.authn) > 0 {
		st := a.authn[0]
		id.SessionIndex = st.sessionIndex
		id.AuthnInstant = st.instant
		id.SessionNotOnOrAfter = st.sessionNotOnOrAfter
	}

	if err := c.readFields(id); err != nil {
		return nil, err
	}
	if err := c.checkEmail(id.Email); err != nil {
		return nil, err
	}
	if err := c.emailVerified(id); err != nil {
		return nil, err
	}

	res, err := c.groups.Resolve(id.Attributes)
	if err != nil {
		return nil, c.groupError(err)
	}
	id.Groups, id.Roles = res.Groups, res.Roles
	id.GroupsFound, id.GroupsReceived = res.AttributeFound, res.Received
	if id.Groups == nil {
		id.Groups = []string{}
	}
	if id.Roles == nil {
		id.Roles = []string{}
	}
	return id, nil
}

// checkEmail refuses an email that is not one plain address (see
// attributes.PlainEmail), and, when AllowedEmailDomains is set, one at
// another domain. A non-plain email is refused even without domain
// restrictions: "CEO <ceo@acme.example> x@beta.example" is no IdP's real
// address, and whatever reads Identity.Email next (an upstream parsing
// X-Forwarded-Email, a mailer, an account lookup) may read another
// address in it than the one this check saw. Neither error quotes the
// address: at most its domain.
func (c *Connection) checkEmail(email string) *Error {
	domain, plain := attributes.EmailDomain(email)
	switch {
	case email == "" && len(c.emailDomains) == 0:
		// No email (where the connection allows none) is not a bad one.
		return nil
	case email == "":
		// An IdP bound to domains must vouch for an address at one of them.
		e := newError(CodeEmailDomainNotAllowed, "the IdP asserted no email, and this connection accepts only emails at its domains")
		return e.mismatch("an email at "+strings.Join(c.emailDomains, ", "), "(no email)")
	case !plain && len(c.emailDomains) == 0:
		e := newError(CodeMalformed, "the IdP asserted an email that is not one plain address (it has a display name, comment, quoting, brackets, white space, several at-signs, or a domain that is not a valid domain name)")
		// Set by hand, in neutral words: the code's own hint is about
		// malformed messages, not attribute values.
		e.Hint = "In the IdP application, map the email attribute to the user's email address and nothing else, and check the address in the user's profile."
		return e.mismatch("one plain email address", "not a plain address")
	case !plain:
		// Only a plain address has one domain that every parser agrees
		// on; the text after the last '@' of anything else may not be
		// the domain an upstream reads.
		e := newError(CodeEmailDomainNotAllowed, "the IdP asserted an email that is not one plain address, and this connection accepts only plain addresses at its domains")
		return e.mismatch("an email at "+strings.Join(c.emailDomains, ", "), "not a plain address")
	case len(c.emailDomains) == 0 || slices.Contains(c.emailDomains, domain):
		// Both sides are in lower-case ASCII (Punycode) form.
		return nil
	}
	// The domain, not the address, is quoted: it says which tenant's
	// users the IdP tried to speak for without naming the user.
	e := newError(CodeEmailDomainNotAllowed, "the IdP asserted an email at a domain this connection does not accept")
	return e.mismatch("an email at "+strings.Join(c.emailDomains, ", "), domain)
}

// emailVerified applies the email_verified policy to the identity's email.
// Without an email (EmailOptional) there is nothing to verify, and an
// email_verified attribute, whatever it says, vouches for nothing.
func (c *Connection) emailVerified(id *Identity) *Error {
	if id.Email == "" {
		return nil
	}
	values, _ := c.mapping.EmailVerifiedValues(id.Attributes)
	ok, err := attributes.ParseBool(values)
	if err == nil && ok {
		id.EmailVerified, id.EmailVerifiedBy = true, EmailVerifiedByIdP
		return nil
	}
	switch c.cfg.EmailVerified {
	case EmailVerifiedTrust:
		// The admin vouches for this IdP's emails, whatever it says.
		id.EmailVerified, id.EmailVerifiedBy = true, EmailVerifiedByConfiguration
		return nil
	case EmailVerifiedIgnore:
		return nil
	}
	switch {
	case err == nil:
		e := newError(CodeEmailNotVerified, "the IdP says the email is not verified (email_verified is false)")
		return e.mismatch("email_verified = true", "false")
	case errors.Is(err, attributes.ErrMissing):
		e := newError(CodeEmailVerifiedInvalid, "the assertion has no email_verified attribute")
		return e.mismatch("email_verified = true", "(missing)")
	case errors.Is(err, attributes.ErrMultiple):
		e := newError(CodeEmailVerifiedInvalid, fmt.Sprintf("email_verified must have exactly one value; it has %d", len(values)))
		return e.mismatch("email_verified = true", fmt.Sprintf("%d values", len(values)))
	case errors.Is(err, attributes.ErrEmpty):
		e := newError(CodeEmailVerifiedInvalid, "email_verified is empty")
		return e.mismatch("email_verified = true", "(empty)")
	default:
		e := newError(CodeEmailVerifiedInvalid, "email_verified is neither true nor false")
		return e.mismatch("email_verified = true", truncate(values[0], 40)).withCause(err)
	}
}

func (c *Connection) groupError(err error) *Error {
	var na *groups.NotAllowedError
	switch {
	case errors.Is(err, groups.ErrOverage): // groups.Code values are saml's code names
		return newError(CodeGroupsOverage, "the IdP sent a link to the user's groups instead of the groups").withCause(err)
	case errors.As(err, &na):
		if !na.AttributeFound {
			e := newError(CodeGroupNotAllowed, "the assertion has no groups attribute, and this connection only admits members of allowed groups")
			e.withHint(hintGroupsAttributeMissing)
			return e.mismatch("an attribute named "+strings.Join(na.LookedFor, " or "), "attributes: "+strings.Join(na.Present, ", ")).withCause(err)
		}
		// Expected lists configuration, not the user's groups: those stay out
		// of error strings.
		e := newError(CodeGroupNotAllowed, "the user is in none of this connection's allowed groups").withCause(err)
		e.Expected = "a member of " + strings.Join(c.cfg.Groups.AllowedGroups, ", ")
		return e
	}
	if errors.Is(err, groups.ErrInvalidName) {
		// The name is not quoted: it is the user's group. The attribute's
		// name is in the cause (Detail).
		e := newError(CodeMalformed, "a group name in the groups attribute has outer whitespace other than ASCII spaces, an invisible or a control character, or is not UTF-8; such names are refused rather than merged with the group they imitate").withCause(err)
		e.Hint = "Rename the group at the IdP (remove the odd spaces or invisible characters), or stop sending it to this application."
		return e
	}
	return newError(CodeMalformed, "cannot read the groups attribute").withCause(err)
}

// attributeSet flattens the assertion's attribute statements, merging
// repeated Attribute elements with the same Name.
func attributeSet(a *assertionData) attributes.Set {
	var set attributes.Set
	index := map[string]int{}
	for _, at := range a.attributes {
		if i, ok := index[at.name]; ok {
			set[i].Values = append(set[i].Values, at.values...)
			continue
		}
		index[at.name] = len(set)
		set = append(set, attributes.Attribute{Name: at.name, FriendlyName: at.friendlyName, NameFormat: at.nameFormat, Values: slices.Clone(at.values)})
	}
	return set
}

func attributeNames(s attributes.Set) string {
	if len(s) == 0 {
		return "(none)"
	}
	names := make([]string, len(s))
	for i, a := range s {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

func orDefaultNames(names, def []string) []string {
	if names == nil {
		return def
	}
	return names
}

// readFields fills the email and names from the attributes (or the NameID).
func (c *Connection) readFields(id *Identity) *Error {
	// Only a NameID whose format says it is an email (or says nothing) may
	// stand in for a missing email attribute: a persistent or transient
	// NameID is an opaque identifier even when it looks like an address.
	nameIDEmail := ""
	switch id.SubjectFormat {
	case "", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
		"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
		"urn:oasis:names:tc:SAML:1.0:nameid-format:unspecified":
		nameIDEmail = id.Subject
	}
	f, err := c.mapping.Extract(id.Attributes, nameIDEmail)
	if err != nil {
		var ce *attributes.ConflictError
		if errors.As(err, &ce) {
			return newError(CodeAttributeConflict, fmt.Sprintf("the assertion has different values for %s (attributes %s)", ce.Field, strings.Join(ce.Names, ", "))).withCause(err)
		}
		return newError(CodeMalformed, "cannot read the identity attributes").withCause(err)
	}
	id.Email, id.GivenName, id.FamilyName, id.DisplayName = f.Email, f.GivenName, f.FamilyName, f.DisplayName
	if id.Email == "" && !c.cfg.EmailOptional {
		e := newError(CodeEmailMissing, "the assertion has no email attribute and its NameID is not an email address")
		e.Expected = "one of the attributes " + strings.Join(orDefaultNames(c.mapping.Email, attributes.DefaultEmail), ", ")
		e.Actual = "attributes: " + attributeNames(id.Attributes)
		return e
	}
	return nil
}
