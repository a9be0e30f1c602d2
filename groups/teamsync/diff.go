package teamsync

import (
	"slices"
	"strings"
)

// Diff is what a sync changed (or, from Preview, would change) for one
// user.
type Diff struct {
	// Joined are the teams the user is in now and was not before; Left,
	// the teams the user was in and no longer is; Unchanged, the teams
	// the user is in before and after. Each is sorted.
	Joined    []string `json:"joined"`
	Left      []string `json:"left"`
	Unchanged []string `json:"unchanged"`
	// Granted and Revoked are the link sources added and removed, team
	// by team, including those that did not change whether the user is in
	// the team (a link now also holding a manual membership).
	Granted []Grant `json:"granted,omitempty"`
	Revoked []Grant `json:"revoked,omitempty"`
	// Teams are all the user's memberships afterwards, every source
	// included, sorted by team.
	Teams []Membership `json:"teams"`
	// Removals is false when the sync applied joins only: the groups
	// attribute was absent (policy keep) or the list is known to be
	// incomplete. Note says why.
	Removals bool   `json:"removals"`
	Note     string `json:"note,omitempty"`
}

// TeamNames returns the names of d.Teams.
func (d Diff) TeamNames() []string {
	out := make([]string, len(d.Teams))
	for i, m := range d.Teams {
		out[i] = m.Team
	}
	return out
}

// Changed reports whether the sync added or removed any source.
func (d Diff) Changed() bool { return len(d.Granted) > 0 || len(d.Revoked) > 0 }

// ComputeDiff is the one diff every Store applies, so that all stores
// agree: current are all the user's stored grants (every source), desired
// the link grants the user's groups call for now. It returns the link
// grants to add and, when removals is true, to delete: only link sources
// are ever deleted, so a manual grant is never touched. A Store calls it
// inside the transaction that holds the user's lock.
func ComputeDiff(current, desired []Grant, removals bool) (add, del []Grant, d Diff) {
	have := make(map[Grant]bool, len(current))
	before := map[string]bool{}
	for _, g := range current {
		have[g] = true
		before[g.Team] = true
	}
	want := make(map[Grant]bool, len(desired))
	for _, g := range desired {
		if !g.Source.IsLink() || want[g] {
			continue
		}
		want[g] = true
		if !have[g] {
			add = append(add, g)
		}
	}
	after := map[Grant]bool{}
	for _, g := range current {
		if removals && g.Source.IsLink() && !want[g] {
			del = append(del, g)
			continue
		}
		after[g] = true
	}
	for _, g := range add {
		after[g] = true
	}
	sortGrants(add)
	sortGrants(del)
	d = Diff{Granted: add, Revoked: del, Removals: removals, Teams: memberships(after)}
	now := map[string]bool{}
	for _, m := range d.Teams {
		now[m.Team] = true
		if before[m.Team] {
			d.Unchanged = append(d.Unchanged, m.Team)
		} else {
			d.Joined = append(d.Joined, m.Team)
		}
	}
	for t := range before {
		if !now[t] {
			d.Left = append(d.Left, t)
		}
	}
	slices.Sort(d.Left)
	d.Joined, d.Left, d.Unchanged = nonNil(d.Joined), nonNil(d.Left), nonNil(d.Unchanged)
	return add, del, d
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Memberships groups grants by team, sorted by team and then source.
func Memberships(grants []Grant) []Membership {
	set := make(map[Grant]bool, len(grants))
	for _, g := range grants {
		set[g] = true
	}
	return memberships(set)
}

func memberships(set map[Grant]bool) []Membership {
	byTeam := map[string][]Source{}
	for g := range set {
		byTeam[g.Team] = append(byTeam[g.Team], g.Source)
	}
	out := make([]Membership, 0, len(byTeam))
	for t, srcs := range byTeam {
		slices.Sort(srcs)
		out = append(out, Membership{Team: t, Sources: srcs})
	}
	slices.SortFunc(out, func(a, b Membership) int { return strings.Compare(a.Team, b.Team) })
	return out
}

func sortGrants(g []Grant) {
	slices.SortFunc(g, func(a, b Grant) int {
		if c := strings.Compare(a.Team, b.Team); c != 0 {
			return c
		}
		return strings.Compare(string(a.Source), string(b.Source))
	})
}
