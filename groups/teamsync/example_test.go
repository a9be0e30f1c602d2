package teamsync_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/samlgate/samlgate/groups/teamsync"
)

// Two logins of one user: the first joins the linked teams; the second,
// after the IdP dropped a group, leaves its team, while a membership
// added by hand stays.
func Example() {
	ctx := context.Background()
	store := teamsync.NewMemoryStore() // or teamsync.Open(ctx, "sqlite:///var/lib/app/teams.db")
	for _, team := range []string{"eng", "oncall", "security"} {
		if err := store.CreateTeam(ctx, team); err != nil {
			panic(err)
		}
	}
	engine, err := teamsync.New(ctx, teamsync.Config{
		Store: store,
		Links: []teamsync.Link{
			{Connection: "acme", Group: "Engineering", Team: "eng"},
			{Connection: "acme", Group: "sre-*", Team: "oncall"},
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	alice := teamsync.User{Connection: "acme", Subject: "alice@acme.example"}
	if err := engine.AddMember(ctx, alice, "security"); err != nil {
		panic(err)
	}

	login := teamsync.Login{Connection: "acme", Subject: alice.Subject, GroupsPresent: true,
		Groups: []string{"engineering", "SRE-EU"}}
	d, err := engine.Sync(ctx, login)
	if err != nil {
		panic(err)
	}
	fmt.Println("joined", d.Joined, "left", d.Left)

	login.Groups = []string{"Engineering"}
	d, err = engine.Sync(ctx, login)
	if err != nil {
		panic(err)
	}
	fmt.Println("joined", d.Joined, "left", d.Left)
	for _, m := range d.Teams {
		fmt.Println(m.Team, m.Sources)
	}
	// Output:
	// joined [eng oncall] left []
	// joined [] left [oncall]
	// eng [link engineering]
	// security [manual]
}

// Preview is what a "test login" page shows: the diff a sync would apply,
// with nothing written.
func ExampleEngine_Preview() {
	ctx := context.Background()
	store := teamsync.NewMemoryStore()
	engine, err := teamsync.New(ctx, teamsync.Config{
		Store:       store,
		Links:       []teamsync.Link{{Connection: "acme", Group: "Engineering", Team: "eng"}},
		CreateTeams: true,
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	d, err := engine.Preview(ctx, teamsync.Login{Connection: "acme", Subject: "bob", GroupsPresent: true, Groups: []string{"Engineering"}})
	if err != nil {
		panic(err)
	}
	stored, _ := engine.UserTeams(ctx, "acme", "bob")
	fmt.Println("would join", d.Joined, "stored", len(stored))
	// Output: would join [eng] stored 0
}
