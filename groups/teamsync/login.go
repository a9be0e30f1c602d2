package teamsync

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
)

// MaxSubject is the longest subject (NameID) a sync stores, in bytes.
const MaxSubject = 1024

// Login is what a sync needs to know of one verified login.
type Login struct {
	Connection string
	Subject    string
	Email      string // display only
	// Groups are the user's groups, after the connection's Filter (see the
	// package documentation, "Which groups links see").
	Groups []string
	// GroupsPresent: the assertion had a groups attribute. The zero value
	// (false, no Groups) is "absent", which the connection's AbsentPolicy
	// decides on; a Login with Groups is taken as present.
	GroupsPresent bool
	// Received is the number of groups before the Filter, compared with
	// Policy.MaxGroups.
	Received int
	// Overage: the IdP said the list is incomplete (Entra's overage
	// claim).
	Overage bool
}

// LoginFromIdentity is the Login of an identity that saml.Connection.Verify
// just returned. Only such an identity says whether the groups attribute
// was present (Identity.GroupsFound); one read back from a session does
// not, and syncing it would look like an absent attribute: sync at login
// only.
func LoginFromIdentity(id *saml.Identity) Login {
	return Login{
		Connection:    id.Connection,
		Subject:       id.Subject,
		Email:         id.Email,
		Groups:        id.Groups,
		GroupsPresent: id.GroupsFound,
		Received:      id.GroupsReceived,
		Overage:       len(id.Attributes.Lookup(groups.EntraOverageClaim)) > 0,
	}
}

// validate refuses a login the store cannot key or the links cannot
// compare safely. Group names are refused for what package groups refuses
// (control characters, invalid UTF-8), never for their length or number:
// those only cost matching time, and a correct sync of them is possible.
// The error never quotes a group.
func (l Login) validate() error {
	switch {
	case l.Connection == "":
		return fmt.Errorf("teamsync: the login has no connection: %w", ErrInvalidInput)
	case l.Subject == "":
		return fmt.Errorf("teamsync: the login has no subject: %w", ErrInvalidInput)
	case len(l.Subject) > MaxSubject:
		return fmt.Errorf("teamsync: the subject is %d bytes, over %d: %w", len(l.Subject), MaxSubject, ErrInvalidInput)
	case !utf8.ValidString(l.Subject) || strings.IndexFunc(l.Subject, unicode.IsControl) >= 0:
		return fmt.Errorf("teamsync: the subject has a control character or is not UTF-8: %w", ErrInvalidInput)
	case !utf8.ValidString(l.Email) || strings.IndexFunc(l.Email, unicode.IsControl) >= 0 || len(l.Email) > MaxSubject:
		return fmt.Errorf("teamsync: the email is not a plain address: %w", ErrInvalidInput)
	}
	for i, g := range l.Groups {
		if !utf8.ValidString(g) || strings.IndexFunc(g, unicode.IsControl) >= 0 {
			return fmt.Errorf("teamsync: group %d of %d has a control character or is not UTF-8; nothing was applied: %w", i+1, len(l.Groups), ErrInvalidInput)
		}
	}
	return nil
}
