package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/samltest"
)

func TestHealthz(t *testing.T) {
	e := newTestEnv(t, nil)
	tests := []struct {
		name    string
		handler http.Handler
		method  string
		want    int
	}{
		{"gateway listener", e.handler, http.MethodGet, http.StatusOK},
		{"metrics listener", e.app.adminHandler(), http.MethodGet, http.StatusOK},
		{"post is not allowed", e.handler, http.MethodPost, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tt.handler.ServeHTTP(rec, httptest.NewRequest(tt.method, "/healthz", nil))
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d", rec.Code, tt.want)
			}
			if tt.want == http.StatusOK && rec.Body.String() != "ok" {
				t.Fatalf("body %q, want ok", rec.Body)
			}
		})
	}
	if e.receivedCount() != 0 {
		t.Fatal("/healthz was proxied to the upstream")
	}
}

func TestMetricsNotOnGatewayListener(t *testing.T) {
	e := newTestEnv(t, nil)
	rec := e.get("/metrics", nil, nil)
	if strings.Contains(rec.Body.String(), "samlgate_logins_total") {
		t.Fatal("the gateway listener serves the metrics")
	}
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	return rec.Body.String()
}

// TestMetrics drives real logins through the ACS and reads the counters.
func TestMetrics(t *testing.T) {
	e := newTestEnv(t, nil)
	mh := e.app.adminHandler()

	counts := func() map[string]int {
		c, err := parseLoginCounts(strings.NewReader(scrape(t, mh)))
		if err != nil {
			t.Fatal(err)
		}
		return c["test"]
	}
	if n := counts()["ok"]; n != 0 {
		t.Fatalf("ok = %d before any login", n)
	}

	steps := []struct {
		name string
		post func() *http.Response
		code string
	}{
		{"ok", func() *http.Response {
			return samltest.PostForm(e.handler, testACS, e.response(t, samltest.Response{}), "")
		}, "ok"},
		{"second ok", func() *http.Response {
			return samltest.PostForm(e.handler, testACS, e.response(t, samltest.Response{}), "")
		}, "ok"},
		{"wrong audience", func() *http.Response {
			return samltest.PostForm(e.handler, testACS, e.response(t, samltest.Response{Audience: "urn:other"}), "")
		}, string(saml.CodeAudienceMismatch)},
		{"email not verified", func() *http.Response {
			return samltest.PostForm(e.handler, testACS, e.response(t, samltest.Response{EmailVerified: "false"}), "")
		}, string(saml.CodeEmailNotVerified)},
		{"request denied", func() *http.Response {
			return samltest.PostForm(e.handler, testACS, e.response(t, samltest.Response{StatusCode: "Responder", SubStatusCode: "RequestDenied", OmitAssertion: true, Sign: samltest.SignNone}), "")
		}, string(saml.CodeStatusNotSuccess)},
	}
	want := map[string]int{}
	for _, s := range steps {
		res := s.post()
		want[s.code]++
		if got := counts(); got[s.code] != want[s.code] {
			t.Fatalf("%s: samlgate_logins_total{code=%q} = %d, want %d (all: %v; status %d)", s.name, s.code, got[s.code], want[s.code], got, res.StatusCode)
		}
	}

	text := scrape(t, mh)
	for _, line := range []string{
		`samlgate_verify_duration_seconds_count{connection="test"} 5`,
		"# TYPE samlgate_verify_duration_seconds histogram",
		"# TYPE samlgate_logins_total counter",
		"go_goroutines",
	} {
		if !strings.Contains(text, line) {
			t.Errorf("metrics lack %q", line)
		}
	}

	// A made-up ?connection= is counted under "unknown", not as a new label.
	samltest.PostForm(e.handler, testPublicURL+"/login/callback?connection=made-up-"+strings.Repeat("x", 20), e.response(t, samltest.Response{}), "")
	text = scrape(t, mh)
	if strings.Contains(text, "made-up") {
		t.Error("a client-chosen connection name became a label value")
	}
	all, _ := parseLoginCounts(strings.NewReader(text))
	if all["unknown"][string(gateway.CodeUnknownConnection)] != 1 {
		t.Errorf("unknown connection not counted: %v", all)
	}
}

func TestObserveLabels(t *testing.T) {
	m := newMetrics([]string{"acme"})
	m.observe(gateway.LoginEvent{Connection: "acme", Duration: 3 * time.Millisecond})
	m.observe(gateway.LoginEvent{Connection: "acme", Code: saml.CodeReplayed})
	m.observe(gateway.LoginEvent{Connection: "", Code: gateway.CodeUnknownConnection})
	m.observe(gateway.LoginEvent{Connection: "evil", Code: saml.CodeMalformed})
	got, err := parseLoginCounts(strings.NewReader(scrape(t, m.handler())))
	if err != nil {
		t.Fatal(err)
	}
	if got["acme"]["ok"] != 1 || got["acme"]["replayed"] != 1 || got["unknown"]["unknown_connection"] != 1 || got["unknown"]["malformed"] != 1 || len(got) != 2 {
		t.Fatalf("counts = %v", got)
	}
}

// TestGracefulShutdown checks that cancelling the context lets an
// in-flight request finish, refuses new connections, and returns nil.
func TestGracefulShutdown(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = w.Write([]byte("finished"))
	})
	ln, err := listen("test", "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	g := newServerGroup(testLogger(t))
	g.start(&listener{name: "test", ln: ln, srv: newHTTPServer(h, testLogger(t))})

	ctx, cancel := context.WithCancel(t.Context())
	waitErr := make(chan error, 1)
	go func() { waitErr <- g.wait(ctx, 5*time.Second) }()

	type result struct {
		body string
		err  error
	}
	inflight := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		inflight <- result{string(b), err}
	}()
	<-entered
	cancel() // SIGINT/SIGTERM in main, through signal.NotifyContext

	// The listener closes at once...
	if !waitFor(t, 2*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	}) {
		t.Error("the server still accepts connections during shutdown")
	}
	// ...while the in-flight request is still served.
	select {
	case err := <-waitErr:
		t.Fatalf("shutdown returned (%v) before the in-flight request finished", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	r := <-inflight
	if r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request: %q, %v", r.body, r.err)
	}
	if err := <-waitErr; err != nil {
		t.Fatalf("wait: %v", err)
	}
}

// TestShutdownTimeout checks that a request that never ends cannot hold
// the process: after the timeout the connections are closed.
func TestShutdownTimeout(t *testing.T) {
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
	})
	ln, err := listen("test", "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	g := newServerGroup(testLogger(t))
	g.start(&listener{name: "stuck", ln: ln, srv: newHTTPServer(h, testLogger(t))})
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	err = g.wait(ctx, 200*time.Millisecond)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
}

func TestListenPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = listen("gateway", ln.Addr().String(), "addr")
	if err == nil {
		t.Fatal("listening twice on one port succeeded")
	}
	for _, want := range []string{"gateway", ln.Addr().String(), "already in use", "-addr"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// The demo reports it before starting anything.
	opts := freeDemoOptions
	opts.IdPAddr = ln.Addr().String()
	if _, err := startDemo(t.Context(), opts, testLogger(t)); err == nil || !strings.Contains(err.Error(), "-idp-addr") {
		t.Fatalf("startDemo with a taken port: %v", err)
	}
	opts = freeDemoOptions
	opts.GatewayAddr = "0.0.0.0:0"
	if _, err := startDemo(t.Context(), opts, testLogger(t)); err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("startDemo on a public address: %v", err)
	}
}

// TestRunConfig runs the gateway from a configuration file, as
// `gateway -config` does, and stops it by cancelling the context.
func TestRunConfig(t *testing.T) {
	upstream := httptest.NewServer(upstreamHandler())
	defer upstream.Close()
	dir := writeConfigDir(t)
	cfg := strings.NewReplacer("KEY", testKey32, "127.0.0.1:8443", "127.0.0.1:0", "127.0.0.1:9191", "127.0.0.1:0", "http://127.0.0.1:3000", upstream.URL).Replace(goodYAML)
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	addrs := make(chan [2]string, 1)
	done := make(chan error, 1)
	var logs syncBuffer
	logger := newJSONLogger(&logs)
	go func() {
		done <- runConfig(ctx, path, logger, func(gw, m string) { addrs <- [2]string{gw, m} })
	}()
	var a [2]string
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatalf("runConfig: %v", err)
	}
	for _, u := range []string{"http://" + a[0] + "/healthz", "http://" + a[1] + "/healthz", "http://" + a[1] + "/metrics"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", u, resp.StatusCode)
		}
	}
	// Unauthenticated requests go to the login, which starts at JumpCloud.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, "http://"+a[0]+"/app", nil)
	req.Header.Set("Accept", browserAccept)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 3 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("GET /app: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runConfig after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runConfig did not stop")
	}
	if !bytes.Contains(logs.Bytes(), []byte(`"msg":"shutting down"`)) {
		t.Errorf("no shutdown log line: %s", logs.Bytes())
	}
}
