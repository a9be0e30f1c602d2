// Package teamsynctest is the conformance suite every teamsync.Store runs:
// the memory store, SQLite and PostgreSQL through the SQL store, and yours.
//
//	func TestMyStore(t *testing.T) {
//		teamsynctest.Run(t, func(t *testing.T) teamsync.Store { return newMyStore(t) })
//	}
//
// Each factory call must return an empty store. The suite drives the store
// through a teamsync.Engine, so it checks the rules as users meet them:
// every diff rule in a table (links, provenance, policies for absent,
// empty and incomplete group lists, link removal and reconcile, preview),
// bad input that must leave nothing half-applied, and concurrent logins of
// one user that must end in the state of the last applied login.
package teamsynctest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/samlgate/samlgate/groups/teamsync"
)

// Run runs the whole suite against the stores newStore returns.
func Run(t *testing.T, newStore func(t *testing.T) teamsync.Store) {
	t.Run("rules", func(t *testing.T) { runRules(t, newStore) })
	t.Run("bad input", func(t *testing.T) { runBadInput(t, newStore) })
	t.Run("reads", func(t *testing.T) { testReads(t, newStore(t)) })
	t.Run("concurrent logins", func(t *testing.T) { testConcurrent(t, newStore(t), 24) })
}

// quiet discards the engine's log lines: the suite checks results.
var quiet = slog.New(slog.DiscardHandler)

// Connection names of the suite.
const (
	conn  = "acme"
	other = "beta"
)

// Teams every case starts with.
var baseTeams = []string{"admins", "devs", "eng", "ops", "staff", "support"}

// baseLinks link acme's groups to the base teams: exact, case-insensitive,
// a pattern, many-to-many, and one link of another connection.
var baseLinks = []teamsync.Link{
	{Connection: conn, Group: "Engineering", Team: "eng"},
	{Connection: conn, Group: "Engineering", Team: "staff"},
	{Connection: conn, Group: "Everyone", Team: "staff"},
	{Connection: conn, Group: "dev-*", Team: "devs"},
	{Connection: conn, Group: "Admins", Team: "admins", CaseSensitive: true},
	{Connection: conn, Group: "Support", Team: "support"},
	{Connection: other, Group: "Ops", Team: "ops"},
}

// NewEngine returns an engine over store with baseTeams created and the
// given links (baseLinks when nil).
func NewEngine(t testing.TB, store teamsync.Store, links []teamsync.Link, policies map[string]teamsync.Policy) *teamsync.Engine {
	t.Helper()
	ctx := context.Background()
	for _, team := range baseTeams {
		if err := store.CreateTeam(ctx, team); err != nil {
			t.Fatalf("CreateTeam(%q): %v", team, err)
		}
	}
	if links == nil {
		links = baseLinks
	}
	e, err := teamsync.New(ctx, teamsync.Config{Store: store, Links: links, Policies: policies, Logger: quiet})
	if err != nil {
		t.Fatalf("teamsync.New: %v", err)
	}
	return e
}

// login is a login of alice at acme with its groups attribute present.
func login(groups ...string) teamsync.Login {
	return teamsync.Login{Connection: conn, Subject: "alice", Email: "alice@acme.example", Groups: groups, GroupsPresent: true, Received: len(groups)}
}

// absent is a login of alice without a groups attribute.
func absent() teamsync.Login {
	return teamsync.Login{Connection: conn, Subject: "alice", Email: "alice@acme.example"}
}

// step is one action of a rule case, and what must follow.
type step struct {
	do func(ctx context.Context, e *teamsync.Engine) (teamsync.Diff, error)
	// want: the teams afterwards as "team=source,source" sorted; joined
	// and left when not nil; err when set.
	want         []string
	joined, left []string
	err          error
}

func syncLogin(l teamsync.Login) func(context.Context, *teamsync.Engine) (teamsync.Diff, error) {
	return func(ctx context.Context, e *teamsync.Engine) (teamsync.Diff, error) { return e.Sync(ctx, l) }
}

func manual(team string) func(context.Context, *teamsync.Engine) (teamsync.Diff, error) {
	return func(ctx context.Context, e *teamsync.Engine) (teamsync.Diff, error) {
		return teamsync.Diff{}, e.AddMember(ctx, teamsync.User{Connection: conn, Subject: "alice"}, team)
	}
}

func unmanual(team string) func(context.Context, *teamsync.Engine) (teamsync.Diff, error) {
	return func(ctx context.Context, e *teamsync.Engine) (teamsync.Diff, error) {
		return teamsync.Diff{}, e.RemoveMember(ctx, conn, "alice", team)
	}
}

func setLinks(links ...teamsync.Link) func(context.Context, *teamsync.Engine) (teamsync.Diff, error) {
	return func(ctx context.Context, e *teamsync.Engine) (teamsync.Diff, error) {
		return teamsync.Diff{}, e.SetLinks(ctx, links)
	}
}

func reconcile(ctx context.Context, e *teamsync.Engine) (teamsync.Diff, error) {
	_, err := e.Reconcile(ctx)
	return teamsync.Diff{}, err
}

func preview(l teamsync.Login) func(context.Context, *teamsync.Engine) (teamsync.Diff, error) {
	return func(ctx context.Context, e *teamsync.Engine) (teamsync.Diff, error) { return e.Preview(ctx, l) }
}

func withLinks(drop string, add ...teamsync.Link) []teamsync.Link {
	var out []teamsync.Link
	for _, l := range baseLinks {
		if l.Group+"→"+l.Team != drop {
			out = append(out, l)
		}
	}
	return append(out, add...)
}

// Sources as the suite spells them in want lists.
const (
	eng   = "link:~engineering"
	every = "link:~everyone"
	dev   = "link:~dev-*"
	adm   = "link:=Admins"
	sup   = "link:~support"
	man   = "manual"
)

func m(team string, sources ...string) string { return team + "=" + strings.Join(sources, ",") }

// describe renders memberships as the want lists spell them.
func describe(ms []teamsync.Membership) []string {
	out := []string{}
	for _, ms := range ms {
		srcs := make([]string, len(ms.Sources))
		for i, s := range ms.Sources {
			srcs[i] = string(s)
		}
		out = append(out, m(ms.Team, srcs...))
	}
	return out
}

// Check compares the stored memberships of (connection, subject) with want.
func Check(t testing.TB, s teamsync.Store, connection, subject string, want []string) {
	t.Helper()
	got, err := s.UserTeams(context.Background(), connection, subject)
	if err != nil {
		t.Fatalf("UserTeams: %v", err)
	}
	if d := describe(got); !slices.Equal(d, want) {
		t.Fatalf("stored memberships of %s/%s:\n got %q\nwant %q", connection, truncate(subject), d, want)
	}
}

func truncate(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%s…(%d bytes)", s[:40], len(s))
	}
	return s
}

func runSteps(t *testing.T, store teamsync.Store, e *teamsync.Engine, steps []step) {
	ctx := context.Background()
	for i, st := range steps {
		d, err := st.do(ctx, e)
		if st.err != nil {
			if !errors.Is(err, st.err) {
				t.Fatalf("step %d: error %v, want %v", i, err, st.err)
			}
		} else if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if st.joined != nil && !slices.Equal(d.Joined, st.joined) {
			t.Fatalf("step %d: joined %q, want %q", i, d.Joined, st.joined)
		}
		if st.left != nil && !slices.Equal(d.Left, st.left) {
			t.Fatalf("step %d: left %q, want %q", i, d.Left, st.left)
		}
		if st.want != nil {
			Check(t, store, conn, "alice", st.want)
		}
	}
}
