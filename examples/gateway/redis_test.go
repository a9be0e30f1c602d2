package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml/samltest"
)

// startRedis runs a redis-server of the test's own on a free loopback
// port (no persistence) and returns its URL and the process. Without the
// binary the test is skipped, loudly, unless CI is set.
func startRedis(t *testing.T) (string, *os.Process) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "SKIPPING: redis-server is not installed (Debian: apt-get install redis-server); this test checks redis_url, /healthz and /admin/revoke"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set: failing instead)")
		}
		t.Skip(msg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if !waitFor(t, 10*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		_, _ = c.Write([]byte("PING\r\n"))
		line, _ := bufio.NewReader(c).ReadString('\n')
		return line == "+PONG\r\n"
	}) {
		t.Fatal("redis-server did not answer PING")
	}
	return "redis://" + addr, cmd.Process
}

func TestRedisConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"scheme", func(c *Config) { c.RedisURL = "http://:s3cret@h:6379" }, "redis_url: not a redis://"},
		{"no host", func(c *Config) { c.RedisURL = "redis://" }, "redis_url: not a redis://"},
		{"with overflow_sessions", func(c *Config) { c.RedisURL = "redis://h:6379"; c.OverflowSessions = &OverflowSessions{} }, "exclusive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{Upstream: "http://127.0.0.1:1", PublicURL: testPublicURL}
			tc.mod(c)
			err := c.validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("validate: %v; want %q, without the password", err, tc.want)
			}
		})
	}
	c := &Config{}
	if err := withRedis("redis://:pw@h:6379/0")(c); err != nil || c.RedisURL != "redis://:pw@h:6379/0" {
		t.Errorf("-redis: %v, %q", err, c.RedisURL)
	}
	if got := redactedRedisURL("redis://user:s3cret@h:6379"); strings.Contains(got, "s3cret") {
		t.Errorf("redacted URL %q shows the password", got)
	}
}

// TestRedisAdmin: with redis_url, sessions live in Redis; the admin
// listener's /healthz reports Redis, /metrics counts its failures, and
// POST /admin/revoke ends a user's sessions (on the admin listener only).
func TestRedisAdmin(t *testing.T) {
	redisURL, proc := startRedis(t)
	e := newTestEnv(t, func(c *Config) { c.RedisURL = redisURL })
	t.Cleanup(func() { _ = e.app.store.Close() })
	admin := e.app.adminHandler()
	adminDo := func(method, path string, form url.Values, header http.Header) *httptest.ResponseRecorder {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req := httptest.NewRequest(method, "http://127.0.0.1:9090"+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for k, v := range header {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		admin.ServeHTTP(rec, req)
		return rec
	}
	json := http.Header{"Accept": {"application/json"}}

	if rec := adminDo("GET", "/healthz", nil, nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), "redis: ok") {
		t.Errorf("/healthz: %d %q", rec.Code, rec.Body.String())
	}
	cookies := e.login(t, samltest.Response{})
	if rec := e.get("/", cookies, json); rec.Code != 200 {
		t.Fatalf("a session in Redis: %d", rec.Code)
	}

	// Redis paused: 503 for the session (cookie kept), /healthz 503, and
	// the failures counted.
	_ = proc.Signal(syscall.SIGSTOP)
	rec := e.get("/", cookies, json)
	if rec.Code != http.StatusServiceUnavailable || len(rec.Result().Cookies()) != 0 {
		t.Errorf("a session with Redis paused: %d, cookies set %v; want 503, cookie kept", rec.Code, rec.Result().Cookies())
	}
	if rec := adminDo("GET", "/healthz", nil, nil); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/healthz with Redis paused: %d", rec.Code)
	}
	_ = proc.Signal(syscall.SIGCONT)
	metrics := adminDo("GET", "/metrics", nil, nil).Body.String()
	for _, want := range []string{`samlgate_store_errors_total{op="session_load"} 1`, `samlgate_store_errors_total{op="ping"} 1`, `samlgate_store_errors_total{op="replay"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if rec := adminDo("GET", "/healthz", nil, nil); rec.Code != 200 {
		t.Errorf("/healthz with Redis back: %d", rec.Code)
	}
	if rec := e.get("/", cookies, json); rec.Code != 200 {
		t.Errorf("the session with Redis back: %d", rec.Code)
	}

	// Revoke: not on the public listener, refused cross-origin, and it
	// ends the session.
	pub := httptest.NewRecorder()
	e.handler.ServeHTTP(pub, httptest.NewRequest("POST", testPublicURL+"/admin/revoke?connection=test&subject=alice@example.com", nil))
	if pub.Code == 200 && strings.Contains(pub.Body.String(), "revoked") {
		t.Error("/admin/revoke is served on the public listener")
	}
	form := url.Values{"connection": {"test"}, "subject": {"alice@example.com"}}
	if rec := adminDo("POST", "/admin/revoke", form, http.Header{"Sec-Fetch-Site": {"cross-site"}}); rec.Code != http.StatusForbidden {
		t.Errorf("a cross-site revoke: %d", rec.Code)
	}
	if rec := e.get("/", cookies, json); rec.Code != 200 {
		t.Fatalf("the session before the revoke: %d", rec.Code)
	}
	for _, tc := range []struct {
		form url.Values
		want int
	}{
		{url.Values{"connection": {"nope"}, "subject": {"x"}}, http.StatusNotFound},
		{url.Values{"connection": {"test"}}, http.StatusBadRequest},
		{form, http.StatusOK},
	} {
		if rec := adminDo("POST", "/admin/revoke", tc.form, nil); rec.Code != tc.want {
			t.Errorf("revoke %v: %d %s; want %d", tc.form, rec.Code, rec.Body.String(), tc.want)
		}
	}
	if rec := e.get("/", cookies, json); rec.Code != http.StatusUnauthorized {
		t.Errorf("the session after the revoke: %d; want 401", rec.Code)
	}
}

// TestRevokeWithoutRedis: without a shared store, sessions are cookies the
// server cannot end: the admin endpoint says so (409), it does not claim
// success.
func TestRevokeWithoutRedis(t *testing.T) {
	e := newTestEnv(t, nil)
	req := httptest.NewRequest("POST", "http://127.0.0.1:9090/admin/revoke", strings.NewReader("connection=test&subject=alice@example.com"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	e.app.adminHandler().ServeHTTP(rec, req.WithContext(context.Background()))
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "config_invalid") {
		t.Errorf("revoke without Redis: %d %s", rec.Code, rec.Body.String())
	}
	if rec := httptest.NewRecorder(); true {
		e.app.adminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		if rec.Code != 200 {
			t.Errorf("/healthz without Redis: %d", rec.Code)
		}
	}
}
