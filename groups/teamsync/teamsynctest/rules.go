package teamsynctest

import (
	"context"
	"slices"
	"testing"

	"github.com/samlgate/samlgate/groups/teamsync"
)

// ruleCase is one rule of team sync, as a sequence of logins and admin
// actions with the stored state after each.
type ruleCase struct {
	name     string
	links    []teamsync.Link // nil: baseLinks
	policies map[string]teamsync.Policy
	steps    []step
}

var none = []string{}

func ruleCases() []ruleCase {
	keep := map[string]teamsync.Policy{conn: {Absent: teamsync.AbsentKeep}}
	return []ruleCase{
		{name: "first login joins linked teams; links are case-insensitive, many-to-many and patterns", steps: []step{
			{do: syncLogin(login("engineering", "DEV-backend", "dev-frontend", "unlinked")),
				want: []string{m("devs", dev), m("eng", eng), m("staff", eng)}, joined: []string{"devs", "eng", "staff"}, left: none},
		}},
		{name: "a case-sensitive link matches only its own case", steps: []step{
			{do: syncLogin(login("admins", "ADMINS")), want: none, joined: none},
			{do: syncLogin(login("Admins")), want: []string{m("admins", adm)}, joined: []string{"admins"}},
		}},
		{name: "two links to one team are one membership with two sources", steps: []step{
			{do: syncLogin(login("Engineering", "Everyone")), want: []string{m("eng", eng), m("staff", eng, every)}},
			{do: syncLogin(login("Everyone")), want: []string{m("staff", every)}, joined: none, left: []string{"eng"}},
		}},
		{name: "unchanged re-login changes nothing", steps: []step{
			{do: syncLogin(login("Engineering")), want: []string{m("eng", eng), m("staff", eng)}},
			{do: syncLogin(login("Engineering")), want: []string{m("eng", eng), m("staff", eng)}, joined: none, left: none},
		}},
		{name: "a group lost leaves its teams", steps: []step{
			{do: syncLogin(login("Engineering", "Support")), want: []string{m("eng", eng), m("staff", eng), m("support", sup)}},
			{do: syncLogin(login("Support")), want: []string{m("support", sup)}, left: []string{"eng", "staff"}, joined: none},
		}},
		{name: "a present but empty list removes every link grant", steps: []step{
			{do: syncLogin(login("Engineering")), want: []string{m("eng", eng), m("staff", eng)}},
			{do: syncLogin(login()), want: none, left: []string{"eng", "staff"}},
		}},
		{name: "a manual membership is never touched by sync", steps: []step{
			{do: manual("ops"), want: []string{m("ops", man)}},
			{do: syncLogin(login("Engineering")), want: []string{m("eng", eng), m("ops", man), m("staff", eng)}},
			{do: syncLogin(login()), want: []string{m("ops", man)}, left: []string{"eng", "staff"}},
		}},
		{name: "manual then link: one membership, two sources; losing one keeps the other", steps: []step{
			{do: manual("eng"), want: []string{m("eng", man)}},
			{do: syncLogin(login("Engineering")), want: []string{m("eng", eng, man), m("staff", eng)}, joined: []string{"staff"}},
			{do: syncLogin(login()), want: []string{m("eng", man)}, left: []string{"staff"}},
			{do: syncLogin(login("Engineering")), want: []string{m("eng", eng, man), m("staff", eng)}},
			{do: unmanual("eng"), want: []string{m("eng", eng), m("staff", eng)}},
		}},
		{name: "absent attribute, default policy keep: no removals", steps: []step{
			{do: syncLogin(login("Engineering")), want: []string{m("eng", eng), m("staff", eng)}},
			{do: syncLogin(absent()), want: []string{m("eng", eng), m("staff", eng)}, left: none},
		}},
		{name: "absent attribute, explicit keep: no removals", policies: keep, steps: []step{
			{do: syncLogin(login("Support")), want: []string{m("support", sup)}},
			{do: syncLogin(absent()), want: []string{m("support", sup)}, left: none},
		}},
		{name: "absent attribute, policy clear: removals", policies: map[string]teamsync.Policy{conn: {Absent: teamsync.AbsentClear}}, steps: []step{
			{do: manual("ops")},
			{do: syncLogin(login("Support")), want: []string{m("ops", man), m("support", sup)}},
			{do: syncLogin(absent()), want: []string{m("ops", man)}, left: []string{"support"}},
		}},
		{name: "absent attribute, policy deny: refused, nothing applied", policies: map[string]teamsync.Policy{conn: {Absent: teamsync.AbsentDeny}}, steps: []step{
			{do: syncLogin(login("Support")), want: []string{m("support", sup)}},
			{do: syncLogin(absent()), err: teamsync.ErrGroupsAbsent, want: []string{m("support", sup)}},
		}},
		{name: "overage claim: joins only", steps: []step{
			{do: syncLogin(login("Support")), want: []string{m("support", sup)}},
			{do: syncLogin(teamsync.Login{Connection: conn, Subject: "alice", Groups: []string{"Engineering"}, GroupsPresent: true, Overage: true}),
				want: []string{m("eng", eng), m("staff", eng), m("support", sup)}, joined: []string{"eng", "staff"}, left: none},
		}},
		{name: "a list at the IdP's cap: joins only; under it: removals", policies: map[string]teamsync.Policy{conn: {MaxGroups: 2}}, steps: []step{
			{do: syncLogin(login("Support")), want: []string{m("support", sup)}},
			{do: syncLogin(login("Engineering", "x")), want: []string{m("eng", eng), m("staff", eng), m("support", sup)}, left: none},
			{do: syncLogin(teamsync.Login{Connection: conn, Subject: "alice", Groups: []string{"Engineering"}, GroupsPresent: true, Received: 5}),
				want: []string{m("eng", eng), m("staff", eng), m("support", sup)}, left: none},
			{do: syncLogin(login("Engineering")), want: []string{m("eng", eng), m("staff", eng)}, left: []string{"support"}},
		}},
		{name: "a removed link revokes at the next login", steps: []step{
			{do: syncLogin(login("Engineering", "Support")), want: []string{m("eng", eng), m("staff", eng), m("support", sup)}},
			{do: setLinks(withLinks("Support→support")...)},
			{do: syncLogin(login("Engineering", "Support")), want: []string{m("eng", eng), m("staff", eng)}, left: []string{"support"}},
		}},
		{name: "a removed link is revoked for everyone by Reconcile", steps: []step{
			{do: manual("support")},
			{do: syncLogin(login("Engineering", "Support")), want: []string{m("eng", eng), m("staff", eng), m("support", sup, man)}},
			{do: setLinks(withLinks("Engineering→eng")...)},
			{do: reconcile, want: []string{m("staff", eng), m("support", sup, man)}},
			{do: setLinks(withLinks("Support→support")...)},
			{do: reconcile, want: []string{m("staff", eng), m("support", man)}},
		}},
		{name: "a retargeted link moves the grant", steps: []step{
			{do: syncLogin(login("Support")), want: []string{m("support", sup)}},
			{do: setLinks(withLinks("Support→support", teamsync.Link{Connection: conn, Group: "support", Team: "ops"})...)},
			{do: syncLogin(login("Support")), want: []string{m("ops", sup)}, joined: []string{"ops"}, left: []string{"support"}},
		}},
		{name: "a link re-spelt in another case keeps its grants", steps: []step{
			{do: syncLogin(login("Support")), want: []string{m("support", sup)}},
			{do: setLinks(withLinks("Support→support", teamsync.Link{Connection: conn, Group: "SUPPORT", Team: "support"})...)},
			{do: reconcile, want: []string{m("support", sup)}},
		}},
		{name: "links of another connection do not apply", steps: []step{
			{do: syncLogin(login("Ops")), want: none},
		}},
		{name: "a link to a missing team is refused and the old links stay", steps: []step{
			{do: setLinks(teamsync.Link{Connection: conn, Group: "Support", Team: "nosuchteam"}), err: teamsync.ErrTeamMissing},
			{do: syncLogin(login("Support")), want: []string{m("support", sup)}},
		}},
		{name: "preview writes nothing", steps: []step{
			{do: preview(login("Engineering")), want: none, joined: []string{"eng", "staff"}},
			{do: syncLogin(login("Support")), want: []string{m("support", sup)}},
			{do: preview(login("Engineering")), want: []string{m("support", sup)}, joined: []string{"eng", "staff"}, left: []string{"support"}},
			{do: preview(absent()), want: []string{m("support", sup)}, left: none},
		}},
	}
}

func runRules(t *testing.T, newStore func(t *testing.T) teamsync.Store) {
	for _, tc := range ruleCases() {
		t.Run(tc.name, func(t *testing.T) {
			store := newStore(t)
			e := NewEngine(t, store, tc.links, tc.policies)
			runSteps(t, store, e, tc.steps)
		})
	}
	t.Run("missing teams are a start-up error unless CreateTeams", func(t *testing.T) {
		ctx := context.Background()
		store := newStore(t)
		links := []teamsync.Link{{Connection: conn, Group: "g", Team: "brand-new"}}
		if _, err := teamsync.New(ctx, teamsync.Config{Store: store, Links: links, Logger: quiet}); !errorIs(err, teamsync.ErrTeamMissing) {
			t.Fatalf("New with a link to a missing team: %v, want ErrTeamMissing", err)
		}
		e, err := teamsync.New(ctx, teamsync.Config{Store: store, Links: links, CreateTeams: true, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		teams, err := store.Teams(ctx)
		if err != nil || !slices.Equal(teams, []string{"brand-new"}) {
			t.Fatalf("teams after New with CreateTeams: %q, %v", teams, err)
		}
		if _, err := e.Sync(ctx, login("g")); err != nil {
			t.Fatal(err)
		}
		Check(t, store, conn, "alice", []string{m("brand-new", "link:~g")})
	})
	t.Run("preview does not create the user or teams", func(t *testing.T) {
		ctx := context.Background()
		store := newStore(t)
		e := NewEngine(t, store, nil, nil)
		if _, err := e.Preview(ctx, login("Engineering")); err != nil {
			t.Fatal(err)
		}
		members, err := store.TeamMembers(ctx, "eng")
		if err != nil || len(members) != 0 {
			t.Fatalf("TeamMembers after Preview: %v, %v", members, err)
		}
	})
}
