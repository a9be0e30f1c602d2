package teamsync_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/groups/teamsync"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

// TestLoginFromIdentity: a verified identity tells an absent groups
// attribute from an empty one, counts the groups before the filter, and
// flags an overage claim; LoginFromIdentity carries all three to the sync.
func TestLoginFromIdentity(t *testing.T) {
	idp, err := samltest.LoadFixtureIdP(filepath.Join("..", "..", "testdata", "keys"), "idp")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := saml.NewConnection(saml.ConnectionConfig{
		Name: "acme", SPEntityID: samltest.FixtureSPEntityID, ACSURL: samltest.FixtureACSURL,
		IdPEntityID: samltest.FixtureIdPEntityID, IdPSSOURL: "https://idp.example.com/sso",
		IdPCertificatesPEM: [][]byte{idp.CertificatePEM()}, Now: samltest.FixtureClock,
		Groups: groups.Config{Filter: []string{"Eng*"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		groups   []string
		extra    []samltest.Attribute
		want     teamsync.Login
		wantNote string
	}{
		{name: "absent", groups: nil, want: teamsync.Login{Groups: []string{}}, wantNote: teamsync.NoteAbsentKept},
		{name: "empty", groups: []string{}, want: teamsync.Login{Groups: []string{}, GroupsPresent: true}},
		{name: "filtered", groups: []string{"Engineering", "Admins", "Everyone"}, want: teamsync.Login{Groups: []string{"Engineering"}, GroupsPresent: true, Received: 3}},
		{name: "overage", groups: []string{"Engineering"}, extra: []samltest.Attribute{{Name: groups.EntraOverageClaim, Values: []string{"https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}},
			want: teamsync.Login{Groups: []string{"Engineering"}, GroupsPresent: true, Received: 1, Overage: true}, wantNote: teamsync.NoteOverage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := samltest.FixtureResponse()
			r.Groups, r.Attributes = tc.groups, tc.extra
			v, err := idp.FormValue(r)
			if err != nil {
				t.Fatal(err)
			}
			id, err := conn.Verify(context.Background(), v)
			if err != nil {
				t.Fatal(err)
			}
			l := teamsync.LoginFromIdentity(id)
			tc.want.Connection, tc.want.Subject, tc.want.Email = "acme", samltest.FixtureEmail, samltest.FixtureEmail
			if l.GroupsPresent != tc.want.GroupsPresent || l.Received != tc.want.Received || l.Overage != tc.want.Overage ||
				len(l.Groups) != len(tc.want.Groups) || l.Subject != tc.want.Subject {
				t.Fatalf("LoginFromIdentity = %+v, want %+v", l, tc.want)
			}
			e, err := teamsync.New(context.Background(), teamsync.Config{Store: teamsync.NewMemoryStore(), Logger: quietLogger})
			if err != nil {
				t.Fatal(err)
			}
			d, err := e.Preview(context.Background(), l)
			if err != nil || d.Note != tc.wantNote {
				t.Fatalf("Preview: note %q (%v), want %q", d.Note, err, tc.wantNote)
			}
		})
	}
}
