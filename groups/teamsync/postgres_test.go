package teamsync_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/samlgate/samlgate/groups/teamsync"
	"github.com/samlgate/samlgate/groups/teamsync/teamsynctest"
)

// A real PostgreSQL for the SQL store's tests: Debian's server binaries
// (initdb, pg_ctl under /usr/lib/postgresql/*/bin), a cluster in a
// temporary directory with trust authentication on 127.0.0.1 and a free
// port, started on first use and stopped by TestMain. PostgreSQL refuses
// to run as root, and CI runs as root: there, the directory is given to
// the postgres system user and the binaries run as that user.
var pg struct {
	once    sync.Once
	dir     string
	bin     string
	dsn     string // the postgres database, as superuser postgres
	port    string
	skip    string // why there is no server
	err     error
	asUser  []string // the runuser prefix when running as root
	created atomic.Int64
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopPostgres()
	os.Exit(code)
}

// postgresDSN returns the DSN of a new, empty database on the test server,
// or skips (fails under CI) without the binaries.
func postgresDSN(t testing.TB) string {
	t.Helper()
	pg.once.Do(startPostgres)
	switch {
	case pg.skip != "" && os.Getenv("CI") != "":
		t.Fatalf("PostgreSQL is required under CI: %s", pg.skip)
	case pg.skip != "":
		t.Skipf("SKIPPING the PostgreSQL tests: %s (install the postgresql package; under CI this fails)", pg.skip)
	case pg.err != nil:
		t.Fatalf("cannot start PostgreSQL: %v", pg.err)
	}
	name := fmt.Sprintf("teamsync_%d", pg.created.Add(1))
	admin, err := sql.Open("pgx", pg.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("CREATE DATABASE: %v", err)
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%s/%s?sslmode=disable", pg.port, name)
}

func startPostgres() {
	initdbs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(initdbs) == 0 {
		pg.skip = "no /usr/lib/postgresql/*/bin/initdb"
		return
	}
	slices.SortFunc(initdbs, func(a, b string) int { return pgVersion(a) - pgVersion(b) })
	pg.bin = filepath.Dir(initdbs[len(initdbs)-1])
	dir, err := os.MkdirTemp("", "teamsync-pg-")
	if err != nil {
		pg.err = err
		return
	}
	pg.dir = dir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			pg.skip = "running as root and there is no postgres user to run the server as"
			return
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			pg.err = err
			return
		}
		pg.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	port, err := freePort()
	if err != nil {
		pg.err = err
		return
	}
	data := filepath.Join(dir, "data")
	if out, err := pgRun("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		pg.err = fmt.Errorf("initdb: %v: %s", err, out)
		return
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300", port, dir)
	if out, err := pgRun("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		pg.err = fmt.Errorf("pg_ctl start: %v: %s %s", err, out, log)
		return
	}
	pg.port = strconv.Itoa(port)
	pg.dsn = "postgres://postgres@127.0.0.1:" + pg.port + "/postgres?sslmode=disable"
}

func pgVersion(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

func pgRun(tool string, args ...string) ([]byte, error) {
	argv := append(append(slices.Clone(pg.asUser), filepath.Join(pg.bin, tool)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = pg.dir
	return cmd.CombinedOutput()
}

func stopPostgres() {
	if pg.dir == "" {
		return
	}
	if pg.dsn != "" {
		_, _ = pgRun("pg_ctl", "-D", filepath.Join(pg.dir, "data"), "-m", "immediate", "-w", "stop")
	}
	_ = os.RemoveAll(pg.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func openPostgres(t testing.TB) *teamsync.SQLStore {
	t.Helper()
	s, err := teamsync.Open(context.Background(), postgresDSN(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgresStore(t *testing.T) {
	teamsynctest.Run(t, func(t *testing.T) teamsync.Store { return openPostgres(t) })
}

// TestPostgresMigrationsConcurrent opens one database from several
// goroutines at once: the advisory lock lets one migrate, and every open
// succeeds with the schema recorded once.
func TestPostgresMigrationsConcurrent(t *testing.T) {
	dsn := postgresDSN(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			s, err := teamsync.Open(context.Background(), dsn)
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s := openPostgresDSN(t, dsn)
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM teamsync_schema`).Scan(&n); err != nil || n != teamsync.SchemaVersion {
		t.Fatalf("%d schema rows (%v), want %d", n, err, teamsync.SchemaVersion)
	}
}

func openPostgresDSN(t testing.TB, dsn string) *teamsync.SQLStore {
	t.Helper()
	s, err := teamsync.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPostgresTwoProcesses runs two processes (this test binary, again)
// that log alice in, many times each, with alternating group sets against
// one database: the end state is one login's, with no duplicate rows, one
// user row, and the manual membership intact.
func TestPostgresTwoProcesses(t *testing.T) {
	dsn := postgresDSN(t)
	store := openPostgresDSN(t, dsn)
	teamsynctest.PrepareConcurrent(t, teamsynctest.NewEngine(t, store, nil, nil))
	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestPostgresChildProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), "TEAMSYNC_CHILD_DSN="+dsn, "TEAMSYNC_CHILD_ID="+strconv.Itoa(i))
			outs[i], errs[i] = cmd.CombinedOutput()
		})
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil || !strings.Contains(string(outs[i]), "child done") {
			t.Fatalf("child %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	teamsynctest.CheckConcurrentEnd(t, store)
	var users, rows, distinct int
	db := store.DB()
	if err := db.QueryRow(`SELECT count(*) FROM teamsync_users`).Scan(&users); err != nil || users != 1 {
		t.Fatalf("%d user rows (%v), want 1", users, err)
	}
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT (user_id, team_id, source)) FROM teamsync_memberships`).Scan(&rows, &distinct); err != nil || rows != distinct {
		t.Fatalf("%d membership rows, %d distinct (%v)", rows, distinct, err)
	}
}

// TestPostgresChildProcess is the child of TestPostgresTwoProcesses; it
// does nothing in a normal run.
func TestPostgresChildProcess(t *testing.T) {
	dsn := os.Getenv("TEAMSYNC_CHILD_DSN")
	if dsn == "" {
		t.Skip("helper process of TestPostgresTwoProcesses")
	}
	id, _ := strconv.Atoi(os.Getenv("TEAMSYNC_CHILD_ID"))
	store := openPostgresDSN(t, dsn)
	e := teamsynctest.NewEngine(t, store, nil, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 25 {
				k := (id + g + i) % len(teamsynctest.GroupSets)
				d, err := e.Sync(context.Background(), teamsynctest.Login(teamsynctest.GroupSets[k]...))
				if err != nil {
					t.Error(err)
					return
				}
				if got, want := teamsynctest.Describe(d.Teams), teamsynctest.StateAfter(t, teamsynctest.GroupSets[k]); got != want {
					t.Errorf("login ended in %q, want %q", got, want)
				}
			}
		})
	}
	wg.Wait()
	fmt.Println("child done")
}
