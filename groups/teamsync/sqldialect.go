package teamsync

import (
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite" (pure Go, no cgo)
)

// dialect is what differs between the SQL databases: the driver,
// placeholders, and how a transaction holds a user's rows.
type dialect struct {
	name   string // "sqlite" or "postgres"
	driver string
	// dollar: placeholders are $1, $2 (PostgreSQL) rather than ?.
	dollar bool
	// lockUser locks the user's row until the transaction ends; "" where
	// every write transaction is already serialized (SQLite, whose
	// transactions begin IMMEDIATE: one writer at a time).
	lockUser string
	// migrationLock serializes schema migrations across processes.
	migrationLock string
}

var (
	sqliteDialect = dialect{name: "sqlite", driver: "sqlite"}
	pgDialect     = dialect{name: "postgres", driver: "pgx", dollar: true,
		lockUser:      `SELECT id FROM teamsync_users WHERE id = ? FOR UPDATE`,
		migrationLock: `SELECT pg_advisory_xact_lock(7310268145372991)`}
)

// rebind turns ? placeholders into $n for PostgreSQL. The queries of this
// package hold no ? inside literals.
func (d dialect) rebind(q string) string {
	if !d.dollar {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// openDSN opens a database from a URL: sqlite:///absolute/path.db (or
// sqlite://relative.db, sqlite::memory: for a private in-memory database),
// or postgres://user@host:port/db?sslmode=... (also postgresql://), handed
// to pgx as it is.
func openDSN(dsn string) (*sql.DB, dialect, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := sql.Open(pgDialect.driver, dsn)
		return db, pgDialect, err
	case strings.HasPrefix(dsn, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		if p == "" {
			return nil, dialect{}, fmt.Errorf("teamsync: %q names no SQLite file: use sqlite:///path/to/teams.db: %w", dsn, ErrConfig)
		}
		if strings.ContainsAny(p, "?#") {
			return nil, dialect{}, fmt.Errorf("teamsync: the SQLite path may not hold ? or # (the store sets its own options): %w", ErrConfig)
		}
		db, err := sql.Open(sqliteDialect.driver, sqliteDSN(p))
		if err != nil {
			return nil, dialect{}, err
		}
		return db, sqliteDialect, nil
	}
	return nil, dialect{}, fmt.Errorf("teamsync: the teams database must be a sqlite:///path or postgres:// URL: %w", ErrConfig)
}

// sqliteDSN: every transaction begins IMMEDIATE (it takes the write lock
// at BEGIN, so two logins cannot both read and then both write), WAL lets
// readers run beside the writer, a busy timeout makes writers queue
// instead of failing, and foreign keys are on.
func sqliteDSN(p string) string {
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q["_pragma"] = []string{"busy_timeout(30000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"}
	if p == ":memory:" {
		return "file::memory:?" + q.Encode()
	}
	return "file:" + p + "?" + q.Encode()
}
