package teamsync_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/samlgate/samlgate/groups/teamsync"
	"github.com/samlgate/samlgate/groups/teamsync/teamsynctest"
)

func openSQLite(t testing.TB) *teamsync.SQLStore {
	t.Helper()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "teams.db")
	s, err := teamsync.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open(%s): %v", dsn, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteStore(t *testing.T) {
	teamsynctest.Run(t, func(t *testing.T) teamsync.Store { return openSQLite(t) })
}

// TestSQLiteMigrationsIdempotent opens one file several times: the schema
// is applied once, and every open succeeds.
func TestSQLiteMigrationsIdempotent(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "teams.db")
	for i := range 3 {
		s, err := teamsync.Open(context.Background(), dsn)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		var n int
		if err := s.DB().QueryRow(`SELECT count(*) FROM teamsync_schema`).Scan(&n); err != nil || n != teamsync.SchemaVersion {
			t.Fatalf("open %d: %d schema rows (%v), want %d", i, n, err, teamsync.SchemaVersion)
		}
		s.Close()
	}
}

func TestOpenRefusesOtherURLs(t *testing.T) {
	for _, dsn := range []string{"", "mysql://x", "sqlite:", "sqlite:///x.db?mode=ro", "/tmp/x.db"} {
		if s, err := teamsync.Open(context.Background(), dsn); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}
