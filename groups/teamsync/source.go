package teamsync

import "strings"

// Source is where a membership comes from: SourceManual, or a link (its
// group, case-folded unless the link is case-sensitive). A user is in a
// team while at least one source holds them there; sync adds and removes
// only link sources, so a membership added by hand survives every sync, and
// the same user in the same team by hand and through a link is one
// membership with two sources.
type Source string

const (
	// SourceManual marks a membership added by an administrator (AddMember).
	SourceManual Source = "manual"

	linkSourcePrefix = "link:"
)

// IsLink reports whether s is a link's grant.
func (s Source) IsLink() bool { return strings.HasPrefix(string(s), linkSourcePrefix) }

// Group is the IdP group (or pattern) of a link source, as recorded
// (lower-cased for a case-insensitive link); "" for other sources.
func (s Source) Group() string {
	if !s.IsLink() || len(s) < len(linkSourcePrefix)+1 {
		return ""
	}
	return string(s[len(linkSourcePrefix)+1:])
}

// String is "manual", or "link " and the group, for pages and logs.
func (s Source) String() string {
	if s.IsLink() {
		return "link " + s.Group()
	}
	return string(s)
}

// Grant is one source holding a user in a team: one stored row.
type Grant struct {
	Team   string
	Source Source
}

// Membership is a user's place in one team, with every source that holds it.
type Membership struct {
	Team    string   `json:"team"`
	Sources []Source `json:"sources"`
}

// Member is one user of a team, keyed by (Connection, Subject); Email is
// for display only.
type Member struct {
	Connection string   `json:"connection"`
	Subject    string   `json:"subject"`
	Email      string   `json:"email,omitempty"`
	Sources    []Source `json:"sources"`
}

// User identifies whose memberships a sync touches: (Connection, Subject)
// is the key; Email is kept for display only and updated at each sync.
type User struct {
	Connection string
	Subject    string
	Email      string
}
