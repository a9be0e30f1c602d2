package saml

import (
	"time"

	"github.com/samlgate/samlgate/attributes"
)

// Identity is the normalized user a verified response describes. Every
// field comes from the verified assertion (or from what a valid Response
// signature covers), never from unsigned parts of the message.
//
// An IdP can assert any Subject, email or group name. When one application
// trusts several connections, key accounts by (Connection, Subject), never
// by Email alone, and bound each connection's emails with
// ConnectionConfig.AllowedEmailDomains.
type Identity struct {
	// Connection is the name of the connection that verified the response.
	Connection string `json:"connection"`
	// Subject is the NameID: the stable user identifier at the IdP
	// (JumpCloud sends the email there).
	Subject       string `json:"subject"`
	SubjectFormat string `json:"subject_format,omitempty"`

	Email string `json:"email,omitempty"`
	// EmailVerified follows the connection's EmailVerifiedPolicy.
	EmailVerified bool   `json:"email_verified"`
	GivenName     string `json:"given_name,omitempty"`
	FamilyName    string `json:"family_name,omitempty"`
	DisplayName   string `json:"display_name,omitempty"`

	// Groups are the user's groups (memberOf), trimmed, de-duplicated and
	// filtered by the connection's groups configuration.
	Groups []string `json:"groups"`
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
