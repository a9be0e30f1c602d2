package teamsync

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The schema is a list of numbered SQL files per dialect, embedded and
// applied on open in one transaction: each version once (recorded in
// teamsync_schema), each file idempotent on its own (IF NOT EXISTS), so
// that two replicas starting at once, or a crash between a file and its
// record, leave a correct schema.
//
//go:embed migrations
var migrationFS embed.FS

type migration struct {
	version int
	sql     string
}

func migrations(d dialect) ([]migration, error) {
	dir := path.Join("migrations", d.name)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("teamsync: migration file %s is not named NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	return out, nil
}

// SchemaVersion is the newest schema version this package applies.
const SchemaVersion = 1

// migrate brings the schema up to date.
func (s *SQLStore) migrate(ctx context.Context) error {
	ms, err := migrations(s.d)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return storeErr("begin migration", err)
	}
	defer func() { _ = tx.Rollback() }()
	if s.d.migrationLock != "" {
		// Replicas starting together wait for each other here: CREATE
		// TABLE IF NOT EXISTS alone races on PostgreSQL.
		if _, err := tx.ExecContext(ctx, s.d.migrationLock); err != nil {
			return storeErr("lock for migration", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS teamsync_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return storeErr("create teamsync_schema", err)
	}
	applied := map[int]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT version FROM teamsync_schema`)
	if err != nil {
		return storeErr("read teamsync_schema", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return storeErr("read teamsync_schema", err)
		}
		applied[v] = true
	}
	if err := rows.Close(); err != nil {
		return storeErr("read teamsync_schema", err)
	}
	for v := range applied {
		if v > SchemaVersion {
			return fmt.Errorf("teamsync: the database has schema version %d, newer than this program's %d: run the newer version: %w", v, SchemaVersion, ErrConfig)
		}
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return storeErr(fmt.Sprintf("apply schema version %d", m.version), err)
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO teamsync_schema (version, applied_at) VALUES (?, ?)`), m.version, time.Now().UnixMilli()); err != nil {
			return storeErr("record schema version", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return storeErr("commit migration", err)
	}
	return nil
}
