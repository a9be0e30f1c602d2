package teamsync_test

import (
	"context"
	"errors"
	"testing"

	"github.com/samlgate/samlgate/groups/teamsync"
	"github.com/samlgate/samlgate/groups/teamsync/teamsynctest"
)

// TestSQLNoHalfAppliedDiff: a sync that fails after its first write (a
// linked team deleted from the database behind the engine's back: the
// removal of eng is written, then support is missing) leaves the stored
// state as it was, on both SQL databases.
func TestSQLNoHalfAppliedDiff(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *teamsync.SQLStore
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		t.Run(db.name, func(t *testing.T) {
			ctx := context.Background()
			store := db.open(t)
			e := teamsynctest.NewEngine(t, store, nil, nil)
			if _, err := e.Sync(ctx, teamsynctest.Login("Engineering")); err != nil {
				t.Fatal(err)
			}
			before := []string{"eng=link:~engineering", "staff=link:~engineering"}
			teamsynctest.Check(t, store, "acme", "alice", before)
			if _, err := store.DB().Exec(`DELETE FROM teamsync_teams WHERE name = 'support'`); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Sync(ctx, teamsynctest.Login("Support")); !errors.Is(err, teamsync.ErrTeamMissing) {
				t.Fatalf("Sync with a deleted team: %v, want ErrTeamMissing", err)
			}
			teamsynctest.Check(t, store, "acme", "alice", before)
		})
	}
}

// TestSQLiteNewerSchemaRefused: a database migrated by a newer version is
// refused, not written with an older schema's assumptions.
func TestSQLiteNewerSchemaRefused(t *testing.T) {
	s := openSQLite(t)
	if _, err := s.DB().Exec(`INSERT INTO teamsync_schema (version, applied_at) VALUES (99, 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := teamsync.OpenDB(context.Background(), s.DB(), "sqlite"); !errors.Is(err, teamsync.ErrConfig) {
		t.Fatalf("OpenDB on schema version 99: %v, want ErrConfig", err)
	}
}
