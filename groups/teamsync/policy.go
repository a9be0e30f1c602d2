package teamsync

import "fmt"

// AbsentPolicy is what a sync does when the assertion has no groups
// attribute at all. That is not "in no group": an IdP application that was
// never set up to send groups, or one whose attribute mapping broke, sends
// none, and clearing every membership on it is the trap Keycloak (FORCE)
// and GitLab fall into.
type AbsentPolicy string

const (
	// AbsentKeep (the default) applies no removals, and logs a warning.
	AbsentKeep AbsentPolicy = "keep"
	// AbsentClear treats the absent attribute as an empty list: every link
	// grant of the user is removed.
	AbsentClear AbsentPolicy = "clear"
	// AbsentDeny refuses the login (ErrGroupsAbsent); nothing is applied.
	AbsentDeny AbsentPolicy = "deny"
)

// Policy is how one connection's group lists are trusted.
type Policy struct {
	// Absent is the policy for an assertion without a groups attribute;
	// "" means AbsentKeep. A present but empty attribute always applies
	// removals: the IdP said "no groups".
	Absent AbsentPolicy `json:"absent_groups,omitempty" yaml:"absent_groups,omitempty"`
	// MaxGroups, when set, is the IdP's documented cap on the group list:
	// a list of at least MaxGroups groups (counted before the connection's
	// Filter) may have been cut there, so the sync applies joins only.
	// An Entra ID overage claim (groups.EntraOverageClaim) always means an
	// incomplete list.
	MaxGroups int `json:"max_groups,omitempty" yaml:"max_groups,omitempty"`
}

func (p Policy) validate() error {
	switch p.Absent {
	case "", AbsentKeep, AbsentClear, AbsentDeny:
	default:
		return fmt.Errorf("teamsync: absent groups policy %q: use keep, clear or deny: %w", p.Absent, ErrConfig)
	}
	if p.MaxGroups < 0 {
		return fmt.Errorf("teamsync: max_groups %d is negative: %w", p.MaxGroups, ErrConfig)
	}
	return nil
}

// Notes of a joins-only or cleared sync, in Diff.Note and the log.
const (
	NoteAbsentKept    = "the groups attribute is absent; policy keep: joins only, no removals"
	NoteAbsentCleared = "the groups attribute is absent; policy clear: every link grant removed"
	NoteOverage       = "the IdP signalled more groups than it sent (overage claim): joins only, no removals"
	NoteCapped        = "the group list reaches the IdP's cap (max_groups) and may be cut: joins only, no removals"
)

// plan decides, from the policy and what the login says of its group list,
// whether removals apply and which groups count.
func (p Policy) plan(l Login) (groups []string, removals bool, note string, err error) {
	switch {
	case !l.GroupsPresent && len(l.Groups) == 0:
		switch p.Absent {
		case AbsentClear:
			return nil, true, NoteAbsentCleared, nil
		case AbsentDeny:
			return nil, false, "", fmt.Errorf("teamsync: connection %q: the assertion has no groups attribute, and its policy is deny: %w", l.Connection, ErrGroupsAbsent)
		}
		return nil, false, NoteAbsentKept, nil
	case l.Overage:
		return l.Groups, false, NoteOverage, nil
	case p.MaxGroups > 0 && max(l.Received, len(l.Groups)) >= p.MaxGroups:
		return l.Groups, false, NoteCapped, nil
	}
	return l.Groups, true, "", nil
}
