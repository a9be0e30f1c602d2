package teamsync

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/samlgate/samlgate/groups"
)

// Limits on what links and teams may name. Team names and link groups end
// up in stored rows, headers (X-Forwarded-Teams) and log lines, so they are
// bounded and free of control characters; group names from the IdP are
// only compared, never stored, and are not bounded here.
const (
	// MaxTeamName is the longest team name, in bytes.
	MaxTeamName = 200
	// MaxLinkGroup is the longest group name or pattern of a link, in bytes.
	MaxLinkGroup = 1024
)

// Link grants Team to the users of Connection who are in Group.
//
// Links are data: many links may name one team, one group may lead to many
// teams, and a link may be removed or retargeted at any time. A membership
// granted by a link records that link (Source), so removing the link revokes
// what it granted: at each user's next login, and for everyone at once
// through Engine.Reconcile.
type Link struct {
	// Connection is the saml.Connection name whose logins the link applies
	// to.
	Connection string `json:"connection" yaml:"connection"`
	// Group is an IdP group name, or a pattern with '*' (any run of
	// characters, none included) and '?' (one character). Matching is
	// case-insensitive unless CaseSensitive is set (directory group names
	// are usually case-insensitive, and IdPs change their case).
	Group string `json:"group" yaml:"group"`
	// Team is the team the link grants.
	Team string `json:"team" yaml:"team"`
	// CaseSensitive matches Group byte for byte.
	CaseSensitive bool `json:"case_sensitive,omitempty" yaml:"case_sensitive,omitempty"`
}

// key is how a link's grants are recorded: its group, case-folded unless
// the link is case-sensitive (so that a link re-spelt "Eng" → "eng" keeps
// its grants), prefixed so that the two kinds never collide.
func (l Link) key() string {
	if l.CaseSensitive {
		return "=" + l.Group
	}
	return "~" + strings.ToLower(l.Group)
}

// validate reports what makes a link unusable; the error names the field,
// and quotes the team (configuration, not user data).
func (l Link) validate() error {
	if l.Connection == "" {
		return fmt.Errorf("teamsync: link to team %q: empty connection", l.Team)
	}
	if err := checkName("group", l.Group, MaxLinkGroup); err != nil {
		return fmt.Errorf("teamsync: link of connection %q to team %q: %w", l.Connection, l.Team, err)
	}
	if err := CheckTeamName(l.Team); err != nil {
		return fmt.Errorf("teamsync: link of connection %q: %w", l.Connection, err)
	}
	return nil
}

// CheckTeamName reports whether name can be a team: non-empty, at most
// MaxTeamName bytes, valid UTF-8 without control characters or outer white
// space, and without a comma (X-Forwarded-Teams is a comma-separated list).
func CheckTeamName(name string) error {
	if err := checkName("team", name, MaxTeamName); err != nil {
		return err
	}
	if strings.ContainsRune(name, ',') {
		return fmt.Errorf("team %q: a comma is not allowed (teams are forwarded as a comma-separated list)", name)
	}
	return nil
}

func checkName(what, s string, max int) error {
	switch {
	case s == "":
		return fmt.Errorf("empty %s", what)
	case len(s) > max:
		return fmt.Errorf("%s is %d bytes, over the limit of %d", what, len(s), max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", what)
	case strings.TrimFunc(s, unicode.IsSpace) != s:
		return fmt.Errorf("%s has leading or trailing white space", what)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fmt.Errorf("%s has a control character", what)
	}
	return nil
}

// compiledLink is a link ready to match: its pattern case-folded once.
type compiledLink struct {
	Link
	pattern string // the group, lower-cased unless case-sensitive
	glob    bool
	source  string // Source.key of its grants
}

func compileLink(l Link) compiledLink {
	c := compiledLink{Link: l, pattern: l.Group, source: linkSourcePrefix + l.key()}
	if !l.CaseSensitive {
		c.pattern = strings.ToLower(l.Group)
	}
	c.glob = strings.ContainsAny(l.Group, "*?")
	return c
}

// match reports whether the link matches group; folded is group
// lower-cased (computed once per group by the caller).
func (c *compiledLink) match(group, folded string) bool {
	name := group
	if !c.CaseSensitive {
		name = folded
	}
	if !c.glob {
		return name == c.pattern
	}
	return groups.MatchGlob(c.pattern, name)
}
