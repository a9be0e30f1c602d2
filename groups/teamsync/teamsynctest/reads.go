package teamsynctest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/samlgate/samlgate/groups/teamsync"
)

func errorIs(err, target error) bool { return errors.Is(err, target) }

// testReads checks the read APIs: a team's members, keyed by (connection,
// subject), with the latest email for display.
func testReads(t *testing.T, store teamsync.Store) {
	ctx := context.Background()
	e := NewEngine(t, store, nil, nil)
	logins := []teamsync.Login{
		{Connection: conn, Subject: "bob", Email: "old@acme.example", Groups: []string{"Support"}, GroupsPresent: true},
		{Connection: conn, Subject: "bob", Email: "bob@acme.example", Groups: []string{"Support"}, GroupsPresent: true},
		{Connection: other, Subject: "bob", Email: "bob@beta.example", Groups: []string{"Ops"}, GroupsPresent: true},
		{Connection: conn, Subject: "alice", Groups: []string{"Engineering"}, GroupsPresent: true},
	}
	for _, l := range logins {
		if _, err := e.Sync(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.AddMember(ctx, teamsync.User{Connection: other, Subject: "bob"}, "support"); err != nil {
		t.Fatal(err)
	}
	if err := e.AddMember(ctx, teamsync.User{Connection: other, Subject: "bob"}, "nosuchteam"); !errors.Is(err, teamsync.ErrTeamMissing) {
		t.Fatalf("AddMember to a missing team: %v", err)
	}
	got, err := e.TeamMembers(ctx, "support")
	if err != nil {
		t.Fatal(err)
	}
	want := []teamsync.Member{
		{Connection: conn, Subject: "bob", Email: "bob@acme.example", Sources: []teamsync.Source{"link:~support"}},
		{Connection: other, Subject: "bob", Email: "bob@beta.example", Sources: []teamsync.Source{teamsync.SourceManual}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("TeamMembers(support):\n got %+v\nwant %+v", got, want)
	}
	Check(t, store, other, "bob", []string{m("ops", "link:~ops"), m("support", man)})
	Check(t, store, conn, "nobody", none)
}

// GroupSets are the group sets concurrent logins of alice alternate
// between: several teams, none, and one.
var GroupSets = [][]string{{"Engineering"}, {"Support"}, {"Everyone", "dev-x"}, {}, {"Engineering", "Support", "Admins"}}

// Login is a login of alice at the suite's connection with groups (the
// attribute present).
func Login(groups ...string) teamsync.Login { return login(groups...) }

// PrepareConcurrent gives alice the manual membership of "eng" that
// concurrent logins must leave intact.
func PrepareConcurrent(t testing.TB, e *teamsync.Engine) {
	t.Helper()
	if err := e.AddMember(context.Background(), teamsync.User{Connection: conn, Subject: "alice"}, "eng"); err != nil {
		t.Fatal(err)
	}
}

// StateAfter is alice's state, as Describe spells it, after a login with
// groups beside the manual membership of PrepareConcurrent.
func StateAfter(t testing.TB, groups []string) string {
	t.Helper()
	e := NewEngine(t, teamsync.NewMemoryStore(), nil, nil)
	PrepareConcurrent(t, e)
	d, err := e.Sync(context.Background(), login(groups...))
	if err != nil {
		t.Fatal(err)
	}
	return Describe(d.Teams)
}

// Describe spells memberships as "team=source,source team=source".
func Describe(ms []teamsync.Membership) string { return strings.Join(describe(ms), " ") }

// CheckConcurrentEnd checks alice's stored state after concurrent logins:
// the state of one of the logins (the last applied), no duplicate
// sources, and the manual membership intact.
func CheckConcurrentEnd(t testing.TB, store teamsync.Store) {
	t.Helper()
	states := make([]string, len(GroupSets))
	for i, s := range GroupSets {
		states[i] = StateAfter(t, s)
	}
	final, err := store.UserTeams(context.Background(), conn, "alice")
	if err != nil {
		t.Fatal(err)
	}
	got := Describe(final)
	if !slices.Contains(states, got) {
		t.Fatalf("final state %q is no login's state %q", got, states)
	}
	if !strings.Contains(got, "eng=") || !strings.Contains(got, man) {
		t.Fatalf("the manual membership is gone: %q", got)
	}
	for _, ms := range final {
		if len(slices.Compact(slices.Clone(ms.Sources))) != len(ms.Sources) {
			t.Fatalf("duplicate sources in %v", ms)
		}
	}
}

// testConcurrent logs alice in from n goroutines at once, each with another
// group set, beside a manual membership. Every sync must end in its own
// login's state (it saw a consistent state and nothing interleaved), and
// the stored state must be that of one of the logins (the last applied),
// with no duplicate sources and the manual membership intact.
func testConcurrent(t *testing.T, store teamsync.Store, n int) {
	ctx := context.Background()
	e := NewEngine(t, store, nil, nil)
	PrepareConcurrent(t, e)
	states := make([]string, len(GroupSets))
	for i, s := range GroupSets {
		states[i] = StateAfter(t, s)
	}
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k := i % len(GroupSets)
			d, err := e.Sync(ctx, login(GroupSets[k]...))
			if err != nil {
				errs <- err
				return
			}
			if got := Describe(d.Teams); got != states[k] {
				errs <- fmt.Errorf("login %d ended in %q, want %q", i, got, states[k])
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	CheckConcurrentEnd(t, store)
}
