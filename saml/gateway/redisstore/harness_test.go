package redisstore_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/samlgate/samlgate/saml/gateway/redisstore"
)

// redisServer is a redis-server of the test's own: loopback, a free port,
// a temporary directory, no persistence. Pause, Resume, Kill and Restart
// (on the same port) make real failures.
type redisServer struct {
	t     testing.TB
	bin   string
	dir   string
	port  int
	extra []string // more redis-server arguments
	args  []string // all of them, replacing the defaults (a Sentinel)

	mu  sync.Mutex
	cmd *exec.Cmd
}

const redisBinary = "/usr/bin/redis-server"

// startRedis starts a server for t, stopped at cleanup. Without the binary
// the test is skipped with a message saying how to run it, except when CI
// is set, where that is a failure.
func startRedis(t testing.TB, extra ...string) *redisServer {
	t.Helper()
	bin := redisBinary
	if _, err := os.Stat(bin); err != nil {
		var lerr error
		if bin, lerr = exec.LookPath("redis-server"); lerr != nil {
			msg := "SKIPPING Redis tests: redis-server is not installed (Debian: apt-get install redis-server); they prove replay, sessions and login state across replicas"
			if os.Getenv("CI") != "" {
				t.Fatal(msg + " (CI is set: failing instead)")
			}
			t.Skip(msg)
		}
	}
	s := &redisServer{t: t, bin: bin, dir: t.TempDir(), port: freePort(t), extra: extra}
	s.start()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(s.dir, "redis.log")); err == nil {
				t.Logf("redis-server log:\n%s", log)
			}
		}
	})
	return s
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is the server's redis:// URL.
func (s *redisServer) URL() string { return "redis://" + s.addr() }

func (s *redisServer) start() {
	s.t.Helper()
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--loglevel", "warning"}, s.extra...)
	if s.args != nil {
		args = s.args
	}
	cmd := exec.Command(s.bin, args...)
	// The server's own log goes to its directory, shown only when a test
	// fails.
	logf, err := os.OpenFile(filepath.Join(s.dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := ping(s.addr()); err == nil {
			return
		} else if time.Now().After(deadline) {
			s.stop()
			s.t.Fatalf("redis-server on %s did not answer PING: %v", s.addr(), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ping speaks just enough RESP to see the server up.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

func (s *redisServer) signal(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatal("redis-server is not running")
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal %v: %v", sig, err)
	}
}

// Pause stops the server (SIGSTOP): connections stay open, nothing answers.
func (s *redisServer) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused server.
func (s *redisServer) Resume() { s.signal(syscall.SIGCONT) }

// Kill ends the server: its data is gone.
func (s *redisServer) Kill() {
	s.t.Helper()
	s.stop()
}

// Restart starts a new, empty server on the same port.
func (s *redisServer) Restart() { s.start() }

func (s *redisServer) stop() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT) // a paused server cannot die of SIGKILL's wait otherwise
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

var prefixSeq struct {
	sync.Mutex
	n int
}

// newStore returns a store on srv under a prefix of its own (an empty
// store), closed at cleanup.
func newStore(t testing.TB, srv *redisServer, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	prefixSeq.Lock()
	prefixSeq.n++
	n := prefixSeq.n
	prefixSeq.Unlock()
	if opts.Prefix == "" {
		opts.Prefix = fmt.Sprintf("test%d:", n)
	}
	if opts.Timeout == 0 {
		// Generous: -race on a busy machine is slow, and a call timing out
		// here would be a 503 where a test expects an answer.
		opts.Timeout = time.Second
	}
	s, err := redisstore.New(srv.URL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	return s
}

// quiet drops go-redis's own log lines (reconnects, Sentinel lookups),
// which the fault tests provoke by the hundred; -v keeps them.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Verbose() {
		redis.SetLogger(quiet{})
	}
	os.Exit(m.Run())
}
