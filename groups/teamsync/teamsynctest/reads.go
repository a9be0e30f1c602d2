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

// testConcurrent logs alice in from n goroutines at once, each with another
// group set, beside a manual membership. Every sync must end in its own
// login's state (it saw a consistent state), the stored state must be that
// of one of the logins (the last applied), with no duplicate sources, and
// the manual membership intact.
func testConcurrent(t *testing.T, store teamsync.Store, n int) {
	ctx := context.Background()
	e := NewEngine(t, store, nil, nil)
	if err := e.AddMember(ctx, teamsync.User{Connection: conn, Subject: "alice"}, "eng"); err != nil {
		t.Fatal(err)
	}
	sets := [][]string{{"Engineering"}, {"Support"}, {"Everyone", "dev-x"}, {}, {"Engineering", "Support", "Admins"}}
	expect := func(groups []string) string {
		e2 := NewEngine(t, teamsync.NewMemoryStore(), nil, nil)
		_ = e2.AddMember(ctx, teamsync.User{Connection: conn, Subject: "alice"}, "eng")
		d, err := e2.Sync(ctx, login(groups...))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(describe(d.Teams), " ")
	}
	states := make([]string, len(sets))
	for i, s := range sets {
		states[i] = expect(s)
	}
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			set := sets[i%len(sets)]
			d, err := e.Sync(ctx, login(set...))
			if err != nil {
				errs <- err
				return
			}
			if got := strings.Join(describe(d.Teams), " "); got != states[i%len(sets)] {
				errs <- fmt.Errorf("login %d ended in %q, want %q", i, got, states[i%len(sets)])
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	final, err := store.UserTeams(ctx, conn, "alice")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(describe(final), " ")
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
