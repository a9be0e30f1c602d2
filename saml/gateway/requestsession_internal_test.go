package gateway

import (
	"fmt"
	"slices"
	"testing"

	"github.com/samlgate/samlgate/attributes"
	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
)

func names(prefix string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%s-%d", prefix, i))
	}
	return out
}

// TestNewRequestSession: a request's copy holds what the shared session
// holds, and nothing a handler does to it (writing an element, appending
// to one list, rewriting a field) reaches the shared session or the
// other lists of the copy, whether the lists fit in the copy's own array
// or not.
func TestNewRequestSession(t *testing.T) {
	for _, tc := range []struct{ groups, roles, teams int }{
		{0, 0, 0}, {2, 1, 0}, {2, 1, 3}, {3, 3, 2}, {3, 3, 3}, {100, 5, 40},
	} {
		t.Run(fmt.Sprintf("%d-%d-%d", tc.groups, tc.roles, tc.teams), func(t *testing.T) {
			st := &sessionState{
				ID: &saml.Identity{Connection: "acme", Subject: "alice", Email: "alice@example.com",
					Groups: names("g", tc.groups), Roles: names("r", tc.roles),
					Attributes: attributes.Set{{Name: "x", Values: []string{"y"}}}},
				Teams: names("t", tc.teams),
			}
			want := struct{ g, r, t []string }{slices.Clone(st.ID.Groups), slices.Clone(st.ID.Roles), slices.Clone(st.Teams)}
			rs := newRequestSession(st)
			id, teams := rs.ctx.id, rs.ctx.teams
			if id.Subject != "alice" || id.Email != "alice@example.com" || id.Connection != "acme" || id.Attributes != nil {
				t.Fatalf("copy: %+v", id)
			}
			if id.Groups == nil || id.Roles == nil {
				t.Error("Groups or Roles nil: they must be [] when empty")
			}
			if (teams == nil) != (tc.teams == 0) {
				t.Errorf("teams %v for %d teams: nil exactly when there are none", teams, tc.teams)
			}
			if !slices.Equal(id.Groups, want.g) || !slices.Equal(id.Roles, want.r) || !slices.Equal(teams, want.t) {
				t.Fatalf("copy holds %v %v %v", id.Groups, id.Roles, teams)
			}
			// A careless handler.
			id.Subject = "mallory"
			for _, l := range [][]string{id.Groups, id.Roles, teams} {
				for i := range l {
					l[i] = "changed"
				}
			}
			id.Groups = append(id.Groups, "Root")
			id.Roles = append(id.Roles, "admin")
			if st.ID.Subject != "alice" || !slices.Equal(st.ID.Groups, want.g) || !slices.Equal(st.ID.Roles, want.r) || !slices.Equal(st.Teams, want.t) {
				t.Errorf("the shared session changed: %+v %v", st.ID, st.Teams)
			}
			if len(teams) > 0 && teams[0] != "changed" {
				t.Errorf("an append to Roles wrote into the teams: %v", teams)
			}
			// A fresh copy is the session as it was.
			rs2 := newRequestSession(st)
			if !slices.Equal(rs2.id.Groups, want.g) || !slices.Equal(rs2.id.Roles, want.r) || !slices.Equal(rs2.ctx.teams, want.t) {
				t.Errorf("a second copy holds %v %v %v", rs2.id.Groups, rs2.id.Roles, rs2.ctx.teams)
			}
		})
	}
}

// TestAdmitsRemembersPerAccess: admits keeps its answer on the session
// for the rules it was given only: the same session under other rules
// (the connection replaced) is checked again, each way.
func TestAdmitsRemembersPerAccess(t *testing.T) {
	access := func(allowed ...string) *sessionAccess {
		a := newSessionAccess(saml.ConnectionConfig{Groups: groups.Config{AllowedGroups: allowed}})
		return &a
	}
	engineering, admins := access("Engineering"), access("Admins")
	if engineering.policy != admins.policy {
		t.Fatal("the allowed groups changed the policy fingerprint; this test needs them apart")
	}
	st := &sessionState{ID: &saml.Identity{Groups: []string{"Engineering"}}, Policy: engineering.policy}
	for i, step := range []struct {
		a    *sessionAccess
		want bool
	}{{engineering, true}, {engineering, true}, {admins, false}, {admins, false}, {engineering, true}, {admins, false}} {
		if ok, why := step.a.admits(st); ok != step.want {
			t.Errorf("step %d: admits = %v (%q), want %v", i, ok, why, step.want)
		}
		if ok, _ := step.a.check(st); ok != step.want {
			t.Errorf("step %d: check = %v, want %v", i, ok, step.want)
		}
	}
}
