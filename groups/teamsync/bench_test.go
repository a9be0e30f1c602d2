package teamsync_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/samlgate/samlgate/groups/teamsync"
)

// benchStores are the stores the benchmarks run against; PostgreSQL skips
// without its binaries, as the tests do.
var benchStores = []struct {
	name string
	open func(b *testing.B) teamsync.Store
}{
	{"memory", func(*testing.B) teamsync.Store { return teamsync.NewMemoryStore() }},
	{"sqlite", func(b *testing.B) teamsync.Store { return openSQLite(b) }},
	{"postgres", func(b *testing.B) teamsync.Store { return openPostgres(b) }},
}

// benchEngine links group-0000 … group-0049 to 50 teams, and the pattern
// dept-* to one more: a login with n groups group-0000 … (n-1) is granted
// min(n, 50) teams.
func benchEngine(b *testing.B, store teamsync.Store) *teamsync.Engine {
	b.Helper()
	var links []teamsync.Link
	for i := range 50 {
		links = append(links, teamsync.Link{Connection: "acme", Group: fmt.Sprintf("group-%04d", i), Team: fmt.Sprintf("team-%02d", i)})
	}
	links = append(links, teamsync.Link{Connection: "acme", Group: "dept-*", Team: "departments"})
	e, err := teamsync.New(context.Background(), teamsync.Config{Store: store, Links: links, CreateTeams: true, Logger: quietLogger})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func benchGroups(n int) []string {
	g := make([]string, n)
	for i := range g {
		g[i] = fmt.Sprintf("group-%04d", i)
	}
	return g
}

// BenchmarkSync is one login's sync: "first" is a user's first login (every
// grant inserted), "unchanged" a re-login with the same groups (the user
// row locked and updated, the grants read, nothing else written).
func BenchmarkSync(b *testing.B) {
	ctx := context.Background()
	for _, s := range benchStores {
		for _, n := range []int{10, 1000} {
			groups := benchGroups(n)
			b.Run(fmt.Sprintf("store=%s/groups=%d/login=first", s.name, n), func(b *testing.B) {
				e := benchEngine(b, s.open(b))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					l := teamsync.Login{Connection: "acme", Subject: fmt.Sprintf("user-%d", i), GroupsPresent: true, Groups: groups}
					if _, err := e.Sync(ctx, l); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("store=%s/groups=%d/login=unchanged", s.name, n), func(b *testing.B) {
				e := benchEngine(b, s.open(b))
				l := teamsync.Login{Connection: "acme", Subject: "alice", GroupsPresent: true, Groups: groups}
				if _, err := e.Sync(ctx, l); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					d, err := e.Sync(ctx, l)
					if err != nil || d.Changed() {
						b.Fatal(err, d.Changed())
					}
				}
			})
		}
	}
}

// BenchmarkConcurrentLogins is 100 first logins of different users (10
// groups each) at once; one op is the whole batch, and logins/s is
// reported.
func BenchmarkConcurrentLogins(b *testing.B) {
	ctx := context.Background()
	groups := benchGroups(10)
	for _, s := range benchStores[1:] {
		b.Run("store="+s.name, func(b *testing.B) {
			e := benchEngine(b, s.open(b))
			var user atomic.Int64
			for b.Loop() {
				var wg sync.WaitGroup
				errs := make(chan error, 100)
				for range 100 {
					wg.Go(func() {
						l := teamsync.Login{Connection: "acme", Subject: fmt.Sprintf("user-%d", user.Add(1)), GroupsPresent: true, Groups: groups}
						if _, err := e.Sync(ctx, l); err != nil {
							errs <- err
						}
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "logins/s")
		})
	}
}
