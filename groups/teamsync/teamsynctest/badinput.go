package teamsynctest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/samlgate/samlgate/groups/teamsync"
)

// runBadInput feeds logins no IdP should send: each is a clear error with
// nothing applied, or a correct sync; never half of one.
func runBadInput(t *testing.T, newStore func(t *testing.T) teamsync.Store) {
	long := strings.Repeat("g", 10_000)
	many := make([]string, 5_000)
	for i := range many {
		many[i] = fmt.Sprintf("group-%04d", i)
	}
	many[4_999] = "Support"
	patternLinks := append([]teamsync.Link{{Connection: conn, Group: "g*g", Team: "ops"}}, baseLinks...)
	for _, tc := range []struct {
		name  string
		login teamsync.Login
		err   error
		want  []string // stored state afterwards (alice starts in eng by link)
	}{
		{"control character in a group", login("Support", "Eng\x00ineering"), teamsync.ErrInvalidInput, []string{m("eng", eng), m("staff", eng)}},
		{"newline in a group", login("Support\nAdmins"), teamsync.ErrInvalidInput, []string{m("eng", eng), m("staff", eng)}},
		{"invalid UTF-8 in a group", login("Support", "\xff"), teamsync.ErrInvalidInput, []string{m("eng", eng), m("staff", eng)}},
		{"control character in the subject", teamsync.Login{Connection: conn, Subject: "alice\r\n", Groups: []string{"Support"}, GroupsPresent: true}, teamsync.ErrInvalidInput, []string{m("eng", eng), m("staff", eng)}},
		{"empty subject", teamsync.Login{Connection: conn, Groups: []string{"Support"}, GroupsPresent: true}, teamsync.ErrInvalidInput, []string{m("eng", eng), m("staff", eng)}},
		{"10,000-character group names", login(long, "Support", long+"x"), nil, []string{m("ops", "link:~g*g"), m("support", sup)}},
		{"5,000 groups", login(many...), nil, []string{m("support", sup)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := newStore(t)
			e := NewEngine(t, store, patternLinks, nil)
			if _, err := e.Sync(ctx, login("Engineering")); err != nil {
				t.Fatal(err)
			}
			_, err := e.Sync(ctx, tc.login)
			if tc.err != nil && !errors.Is(err, tc.err) || tc.err == nil && err != nil {
				t.Fatalf("Sync: %v, want %v", err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "Support") {
				t.Fatalf("the error quotes a group: %v", err)
			}
			Check(t, store, conn, "alice", tc.want)
		})
	}
	t.Run("bad links and team names are configuration errors", func(t *testing.T) {
		ctx := context.Background()
		store := newStore(t)
		for _, l := range []teamsync.Link{
			{Connection: conn, Group: "", Team: "eng"},
			{Connection: "", Group: "g", Team: "eng"},
			{Connection: conn, Group: "g\x00", Team: "eng"},
			{Connection: conn, Group: strings.Repeat("g", teamsync.MaxLinkGroup+1), Team: "eng"},
			{Connection: conn, Group: "g", Team: "a,b"},
			{Connection: conn, Group: "g", Team: " eng"},
			{Connection: conn, Group: "g", Team: strings.Repeat("t", teamsync.MaxTeamName+1)},
		} {
			if _, err := teamsync.New(ctx, teamsync.Config{Store: store, Links: []teamsync.Link{l}, CreateTeams: true, Logger: quiet}); !errors.Is(err, teamsync.ErrConfig) {
				t.Errorf("link %.60q: %v, want ErrConfig", fmt.Sprint(l), err)
			}
		}
		if err := store.CreateTeam(ctx, "bad\nteam"); !errors.Is(err, teamsync.ErrInvalidInput) {
			t.Errorf("CreateTeam with a newline: %v, want ErrInvalidInput", err)
		}
		teams, err := store.Teams(ctx)
		if err != nil || len(teams) != 0 {
			t.Errorf("teams after refused configuration: %q, %v", teams, err)
		}
	})
}
