package teamsync

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SQLStore is a Store in a SQL database through database/sql: SQLite
// (modernc.org/sqlite, pure Go) or PostgreSQL (github.com/jackc/pgx/v5),
// with the same queries. The schema is created and migrated on open.
type SQLStore struct {
	db  *sql.DB
	d   dialect
	own bool // Close closes db
}

// Open opens (and migrates) the store at dsn: sqlite:///path/to/teams.db
// or postgres://user@host:port/dbname.
func Open(ctx context.Context, dsn string) (*SQLStore, error) {
	db, d, err := openDSN(dsn)
	if err != nil {
		return nil, err
	}
	if d.name == "sqlite" && dsn == "sqlite::memory:" {
		// Every connection would open its own empty database.
		db.SetMaxOpenConns(1)
	}
	s := &SQLStore{db: db, d: d, own: true}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// OpenDB uses an open database: driver is "sqlite" (modernc.org/sqlite,
// opened with _txlock=immediate and a busy_timeout: see the package
// documentation) or "pgx". Close does not close db.
func OpenDB(ctx context.Context, db *sql.DB, driver string) (*SQLStore, error) {
	var d dialect
	switch driver {
	case "sqlite":
		d = sqliteDialect
	case "pgx":
		d = pgDialect
	default:
		return nil, fmt.Errorf("teamsync: driver %q: use sqlite or pgx: %w", driver, ErrConfig)
	}
	s := &SQLStore{db: db, d: d}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// DB returns the database, for health checks.
func (s *SQLStore) DB() *sql.DB { return s.db }

// Close implements Store.
func (s *SQLStore) Close() error {
	if s.own {
		return s.db.Close()
	}
	return nil
}

func storeErr(op string, err error) error {
	return fmt.Errorf("teamsync: %s: %w: %w", op, ErrStore, err)
}

// q is a querier: the database or a transaction.
type q interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Apply implements Store: one transaction, with the user's row locked
// (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the IMMEDIATE
// transaction holds the database's write lock).
func (s *SQLStore) Apply(ctx context.Context, u User, desired []Grant, opts ApplyOptions) (Diff, error) {
	if opts.DryRun {
		return s.preview(ctx, u, desired, opts)
	}
	var d Diff
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		uid, err := s.lockUser(ctx, tx, u, true)
		if err != nil {
			return err
		}
		current, err := s.grants(ctx, tx, uid)
		if err != nil {
			return err
		}
		add, del, diff := ComputeDiff(current, desired, opts.Removals)
		if err := s.write(ctx, tx, uid, add, del, opts.CreateTeams); err != nil {
			return err
		}
		d = diff
		return nil
	})
	return d, err
}

func (s *SQLStore) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return storeErr("begin", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return storeErr("commit", err)
	}
	return nil
}

// lockUser creates or updates the user's row and locks it; the email is
// updated when setEmail, or when the stored one is empty.
func (s *SQLStore) lockUser(ctx context.Context, tx *sql.Tx, u User, setEmail bool) (int64, error) {
	set := `email = excluded.email`
	if !setEmail {
		set = `email = CASE WHEN excluded.email <> '' THEN excluded.email ELSE teamsync_users.email END`
	}
	var id int64
	err := tx.QueryRowContext(ctx, s.d.rebind(`INSERT INTO teamsync_users (connection, subject, email, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (connection, subject) DO UPDATE SET `+set+`, updated_at = excluded.updated_at RETURNING id`),
		u.Connection, u.Subject, u.Email, time.Now().UnixMilli()).Scan(&id)
	if err != nil {
		return 0, storeErr("upsert user", err)
	}
	if s.d.lockUser != "" {
		if _, err := tx.ExecContext(ctx, s.d.rebind(s.d.lockUser), id); err != nil {
			return 0, storeErr("lock user", err)
		}
	}
	return id, nil
}

// grants reads all the user's grants.
func (s *SQLStore) grants(ctx context.Context, db q, uid int64) ([]Grant, error) {
	rows, err := db.QueryContext(ctx, s.d.rebind(`SELECT t.name, m.source FROM teamsync_memberships m
		JOIN teamsync_teams t ON t.id = m.team_id WHERE m.user_id = ?`), uid)
	if err != nil {
		return nil, storeErr("read memberships", err)
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		var g Grant
		if err := rows.Scan(&g.Team, &g.Source); err != nil {
			return nil, storeErr("read memberships", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr("read memberships", err)
	}
	return out, nil
}

// write deletes del and inserts add for the user: the team IDs in one
// query, the rows in multi-row INSERTs, to keep round trips few.
func (s *SQLStore) write(ctx context.Context, tx *sql.Tx, uid int64, add, del []Grant, create bool) error {
	for _, g := range del {
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM teamsync_memberships WHERE user_id = ? AND source = ?
			AND team_id = (SELECT id FROM teamsync_teams WHERE name = ?)`), uid, string(g.Source), g.Team); err != nil {
			return storeErr("delete membership", err)
		}
	}
	if len(add) == 0 {
		return nil
	}
	var names []string
	for _, g := range add {
		if !slices.Contains(names, g.Team) {
			names = append(names, g.Team)
		}
	}
	ids, err := s.teamIDs(ctx, tx, names)
	if err != nil {
		return err
	}
	var missing []string
	for _, n := range names {
		if _, ok := ids[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		if !create {
			return missingError(missing)
		}
		for _, n := range missing {
			id, err := s.teamID(ctx, tx, n, true)
			if err != nil {
				return err
			}
			ids[n] = id
		}
	}
	now := time.Now().UnixMilli()
	for chunk := range slices.Chunk(add, insertChunk) {
		var b strings.Builder
		b.WriteString(`INSERT INTO teamsync_memberships (user_id, team_id, source, created_at) VALUES `)
		args := make([]any, 0, 4*len(chunk))
		for k, g := range chunk {
			if k > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?)")
			args = append(args, uid, ids[g.Team], string(g.Source), now)
		}
		b.WriteString(` ON CONFLICT DO NOTHING`)
		if _, err := tx.ExecContext(ctx, s.d.rebind(b.String()), args...); err != nil {
			return storeErr("insert memberships", err)
		}
	}
	return nil
}

// insertChunk bounds the rows of one INSERT (4 parameters each), far
// under SQLite's and PostgreSQL's parameter limits.
const insertChunk = 200

// teamIDs returns the IDs of the teams of names that exist.
func (s *SQLStore) teamIDs(ctx context.Context, db q, names []string) (map[string]int64, error) {
	ids := make(map[string]int64, len(names))
	for chunk := range slices.Chunk(names, 4*insertChunk) {
		args := make([]any, len(chunk))
		for i, n := range chunk {
			args[i] = n
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")
		rows, err := db.QueryContext(ctx, s.d.rebind(`SELECT id, name FROM teamsync_teams WHERE name IN (`+marks+`)`), args...)
		if err != nil {
			return nil, storeErr("read teams", err)
		}
		for rows.Next() {
			var id int64
			var n string
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, storeErr("read teams", err)
			}
			ids[n] = id
		}
		if err := rows.Close(); err != nil {
			return nil, storeErr("read teams", err)
		}
	}
	return ids, nil
}

// teamID finds (or, with create, creates) a team; sql.ErrNoRows when it
// does not exist.
func (s *SQLStore) teamID(ctx context.Context, db q, name string, create bool) (int64, error) {
	if create {
		if _, err := db.ExecContext(ctx, s.d.rebind(`INSERT INTO teamsync_teams (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`), name, time.Now().UnixMilli()); err != nil {
			return 0, storeErr("create team", err)
		}
	}
	var id int64
	err := db.QueryRowContext(ctx, s.d.rebind(`SELECT id FROM teamsync_teams WHERE name = ?`), name).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, err
	case err != nil:
		return 0, storeErr("read team", err)
	}
	return id, nil
}

// preview computes the diff without a transaction or a lock: it writes
// nothing, and a concurrent login may change the state right after.
func (s *SQLStore) preview(ctx context.Context, u User, desired []Grant, opts ApplyOptions) (Diff, error) {
	var uid int64
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT id FROM teamsync_users WHERE connection = ? AND subject = ?`), u.Connection, u.Subject).Scan(&uid)
	var current []Grant
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return Diff{}, storeErr("read user", err)
	default:
		if current, err = s.grants(ctx, s.db, uid); err != nil {
			return Diff{}, err
		}
	}
	_, _, d := ComputeDiff(current, desired, opts.Removals)
	return d, nil
}
