package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/samlconfig"
	"github.com/samlgate/samlgate/saml/samltest"
)

func TestCheckUpgrade(t *testing.T) {
	const origin = "https://gw.example.com"
	for _, tc := range []struct {
		name         string
		header       http.Header
		webSockets   bool
		wantUpgrade  string // left in the header
		wantStripped string
		wantRefuse   bool
	}{
		{name: "no upgrade", header: http.Header{}, webSockets: true},
		{name: "websocket, off", header: http.Header{"Upgrade": {"websocket"}}, wantStripped: "websocket"},
		{name: "websocket, on", header: http.Header{"Upgrade": {"websocket"}, "Origin": {origin}}, webSockets: true, wantUpgrade: "websocket"},
		{name: "WebSocket, any case", header: http.Header{"Upgrade": {"WebSocket"}, "Origin": {"HTTPS://GW.example.com"}}, webSockets: true, wantUpgrade: "WebSocket"},
		{name: "websocket without Origin (not a browser)", header: http.Header{"Upgrade": {"websocket"}}, webSockets: true, wantUpgrade: "websocket"},
		{name: "websocket from a sibling host", header: http.Header{"Upgrade": {"websocket"}, "Origin": {"https://evil.gw.example.com"}}, webSockets: true, wantUpgrade: "websocket", wantRefuse: true},
		{name: "websocket from http", header: http.Header{"Upgrade": {"websocket"}, "Origin": {"http://gw.example.com"}}, webSockets: true, wantUpgrade: "websocket", wantRefuse: true},
		{name: "h2c", header: http.Header{"Upgrade": {"h2c"}, "Http2-Settings": {"AAMAAABkAAQCAAAAAAIAAAAA"}}, webSockets: true, wantStripped: "h2c"},
		{name: "h2c, off", header: http.Header{"Upgrade": {"h2c"}}, wantStripped: "h2c"},
		{name: "a list with websocket", header: http.Header{"Upgrade": {"websocket, h2c"}}, webSockets: true, wantStripped: "websocket, h2c"},
		{name: "two headers", header: http.Header{"Upgrade": {"websocket", "h2c"}}, webSockets: true, wantStripped: "websocket, h2c"},
		{name: "TLS upgrade", header: http.Header{"Upgrade": {"TLS/1.2"}}, webSockets: true, wantStripped: "TLS/1.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stripped, refuse := checkUpgrade(tc.header, proxyOptions{webSockets: tc.webSockets, publicOrigin: origin})
			if stripped != tc.wantStripped || refuse != tc.wantRefuse || tc.header.Get("Upgrade") != tc.wantUpgrade {
				t.Errorf("checkUpgrade = %q, %v, Upgrade left %q; want %q, %v, %q", stripped, refuse, tc.header.Get("Upgrade"), tc.wantStripped, tc.wantRefuse, tc.wantUpgrade)
			}
		})
	}
}

// upgradeUpstream answers any Upgrade with 101 and then echoes one line
// in upper case; on /force101 it switches protocols even when no upgrade
// was asked for (a misbehaving upstream). It records the Upgrade header
// of each request.
type upgradeUpstream struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []string
}

func newUpgradeUpstream(t *testing.T) *upgradeUpstream {
	u := &upgradeUpstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up := r.Header.Get("Upgrade")
		u.mu.Lock()
		u.got = append(u.got, up)
		u.mu.Unlock()
		if up == "" && r.URL.Path != "/force101" {
			_, _ = io.WriteString(w, "plain")
			return
		}
		if up == "" {
			up = "h2c"
		}
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n", up)
		_ = brw.Flush()
		line, err := brw.ReadString('\n')
		if err != nil {
			return
		}
		_, _ = brw.WriteString(strings.ToUpper(line))
		_ = brw.Flush()
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upgradeUpstream) requests() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.got...)
}

// rawRequest sends a GET of path with headers over a new connection to
// addr, and returns the response and the connection (for an upgraded
// protocol).
func rawRequest(t *testing.T, addr, path string, header http.Header, cookies []*http.Cookie) (*http.Response, *bufio.Reader, net.Conn) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	req.Host = "gw.example.com"
	for k, v := range header {
		req.Header[k] = v
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	return res, br, conn
}

// TestProxyUpgrades: only WebSocket upgrades reach the upstream, only when
// websockets is set, only from the public origin, and only with a
// session; h2c and every other upgrade are stripped.
func TestProxyUpgrades(t *testing.T) {
	for _, tc := range []struct {
		name        string
		webSockets  bool
		path        string
		header      http.Header
		anonymous   bool
		wantStatus  int
		wantUpgrade string // what the upstream saw; "-" for not reached
	}{
		{name: "websocket, websockets off", path: "/ws", header: http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Origin": {testPublicURL}},
			wantStatus: 200, wantUpgrade: ""},
		{name: "websocket, websockets on", webSockets: true, path: "/ws", header: http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Origin": {testPublicURL}},
			wantStatus: 101, wantUpgrade: "websocket"},
		{name: "websocket from another origin", webSockets: true, path: "/ws", header: http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Origin": {"https://evil.gw.example.com"}},
			wantStatus: 403, wantUpgrade: "-"},
		{name: "websocket without a session", webSockets: true, path: "/ws", header: http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Origin": {testPublicURL}},
			anonymous: true, wantStatus: 401, wantUpgrade: "-"},
		{name: "h2c", webSockets: true, path: "/", header: http.Header{"Connection": {"Upgrade, HTTP2-Settings"}, "Upgrade": {"h2c"}, "Http2-Settings": {"AAMAAABkAAQCAAAAAAIAAAAA"}},
			wantStatus: 200, wantUpgrade: ""},
		{name: "h2c, websockets off", path: "/", header: http.Header{"Connection": {"Upgrade, HTTP2-Settings"}, "Upgrade": {"h2c"}},
			wantStatus: 200, wantUpgrade: ""},
		// The upstream switches protocols unasked: the proxy refuses it.
		{name: "101 to a stripped upgrade", path: "/force101", header: http.Header{"Connection": {"Upgrade"}, "Upgrade": {"h2c"}},
			wantStatus: 502, wantUpgrade: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newUpgradeUpstream(t)
			e := newTestEnv(t, func(c *Config) {
				c.Upstream = up.srv.URL
				c.WebSockets = tc.webSockets
			})
			gw := httptest.NewServer(e.handler)
			t.Cleanup(gw.Close)
			var cookies []*http.Cookie
			if !tc.anonymous {
				cookies = e.login(t, samltest.Response{})
			}
			res, br, conn := rawRequest(t, gw.Listener.Addr().String(), tc.path, tc.header, cookies)
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.wantStatus)
			}
			got := up.requests()
			switch {
			case tc.wantUpgrade == "-" && len(got) != 0:
				t.Errorf("the upstream was reached: %q", got)
			case tc.wantUpgrade != "-" && (len(got) != 1 || got[0] != tc.wantUpgrade):
				t.Errorf("the upstream saw Upgrade %q, want %q", got, tc.wantUpgrade)
			}
			if tc.wantStatus == http.StatusSwitchingProtocols {
				if _, err := io.WriteString(conn, "hello\n"); err != nil {
					t.Fatal(err)
				}
				if line, err := br.ReadString('\n'); err != nil || line != "HELLO\n" {
					t.Errorf("through the WebSocket: %q, %v", line, err)
				}
			}
		})
	}
}

// TestEmailHeaderPlainOnly: X-Forwarded-Email carries only a plain
// address; anything else is left out (absent, not empty), with a Warn line
// that does not print it.
func TestEmailHeaderPlainOnly(t *testing.T) {
	for _, tc := range []struct {
		email      string
		want       []string // X-Forwarded-Email values; nil: absent
		wantWarned bool
	}{
		{"alice@example.com", []string{"alice@example.com"}, false},
		{"Alice.Liddell+tag@Example.COM", []string{"Alice.Liddell+tag@Example.COM"}, false},
		{"jane@bücher.example", []string{"jane@b%C3%BCcher.example"}, false},
		{"", []string{""}, false},
		{"CEO <ceo@acme.example> x@beta.example", nil, true},
		{`"ceo@acme.example" <x@beta.example>`, nil, true},
		{"ceo@acme.example (x@beta.example)", nil, true},
		{"a@b@beta.example", nil, true},
		{"alice@example.com\r\nX-Forwarded-User: root", nil, true},
		{"alice@example.com ", nil, true},
		{"alice@[127.0.0.1]", nil, true},
		{"ceo@acme.example,x@beta.example", nil, true},
	} {
		t.Run(tc.email, func(t *testing.T) {
			var logs syncBuffer
			var got http.Header
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
			defer upstream.Close()
			u, _ := url.Parse(upstream.URL)
			proxy := newProxy(u, proxyOptions{}, newJSONLogger(&logs))
			id := &saml.Identity{Connection: "test", Subject: "alice", Email: tc.email, Groups: []string{}, Roles: []string{}}
			req := httptest.NewRequest(http.MethodGet, testPublicURL+"/", nil)
			req.Header.Set(HeaderEmail, "forged@example.com")
			rec := httptest.NewRecorder()
			proxy.ServeHTTP(rec, req.WithContext(gateway.ContextWithIdentity(req.Context(), id)))
			if rec.Code != http.StatusOK || got == nil {
				t.Fatalf("status %d", rec.Code)
			}
			if vals := got.Values(HeaderEmail); fmt.Sprint(vals) != fmt.Sprint(tc.want) || (tc.want == nil) != (vals == nil) {
				t.Errorf("%s = %q, want %q", HeaderEmail, vals, tc.want)
			}
			if got.Get(HeaderUser) != "alice" || got.Get(HeaderConnection) != "test" {
				t.Errorf("the other identity headers: %v", got)
			}
			out := logs.Bytes()
			warned := bytes.Contains(out, []byte(`"level":"WARN","msg":"identity email not forwarded`))
			if warned != tc.wantWarned || !bytes.Contains(out, []byte(`"connection":"test"`)) == tc.wantWarned {
				t.Errorf("warned = %v, want %v:\n%s", warned, tc.wantWarned, out)
			}
			if tc.wantWarned && (bytes.Contains(out, []byte("acme.example")) || bytes.Contains(out, []byte("beta.example")) || bytes.Contains(out, []byte("alice@"))) {
				t.Errorf("the log prints the email:\n%s", out)
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://app.example.com", "https://app.example.com"},
		{"https://app.example.com:443", "https://app.example.com"},
		{"https://app.example.com:8443", "https://app.example.com:8443"},
		{"http://127.0.0.1:80", "http://127.0.0.1"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"https://[2001:db8::1]:443", "https://[2001:db8::1]"},
	} {
		u, _ := url.Parse(tc.in)
		if got := origin(u); got != tc.want {
			t.Errorf("origin(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestClientKey(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 4000}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.7"), Port: 4000}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:3:4:5:6"), Port: 4000}, "2001:db8:1:2::/64"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:ffff::1"), Port: 4001}, "2001:db8:1:2::/64"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:3::1"), Port: 4000}, "2001:db8:1:3::/64"},
		{&net.UnixAddr{Name: "/run/gw.sock", Net: "unix"}, "/run/gw.sock"},
	} {
		if got := clientKey(tc.addr); got != tc.want {
			t.Errorf("clientKey(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

// TestPerIPListener holds connections open from 127.0.0.1, as slow clients
// would, over real loopback sockets.
func TestPerIPListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	logger := newJSONLogger(&logs)
	lim := limitPerIP(ln, 2, nil, logger).(*perIPListener)
	srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }), logger)
	go func() { _ = srv.Serve(lim) }()
	t.Cleanup(func() { _ = srv.Close() })
	addr := ln.Addr().String()
	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// Two slow clients: connected, and sending nothing yet.
	held := []net.Conn{dial(), dial()}
	if !waitFor(t, 2*time.Second, func() bool { return lim.open("127.0.0.1") == 2 }) {
		t.Fatalf("%d connections counted, want 2", lim.open("127.0.0.1"))
	}
	// A third from the same address is answered 503 and closed.
	third := dial()
	_ = third.SetReadDeadline(time.Now().Add(3 * time.Second))
	answer, err := io.ReadAll(third)
	if err != nil || !strings.HasPrefix(string(answer), "HTTP/1.1 503 ") || !strings.Contains(string(answer), "too many connections") {
		t.Fatalf("third connection read %q, %v", answer, err)
	}
	if n := lim.open("127.0.0.1"); n != 2 {
		t.Errorf("%d connections counted after a refusal, want 2", n)
	}
	if !bytes.Contains(logs.Bytes(), []byte(`"msg":"connections refused: too many open from one client address (max_conns_per_ip)"`)) ||
		!bytes.Contains(logs.Bytes(), []byte(`"max_conns_per_ip":2`)) {
		t.Errorf("no log line for the refusal:\n%s", logs.Bytes())
	}
	// A slow client goes away: its slot is free again.
	held[0].Close()
	if !waitFor(t, 2*time.Second, func() bool { return lim.open("127.0.0.1") == 1 }) {
		t.Fatalf("%d connections counted after one closed, want 1", lim.open("127.0.0.1"))
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("a request within the bound: %d %q", resp.StatusCode, body)
	}
	held[1].Close()
	if !waitFor(t, 2*time.Second, func() bool { return lim.open("127.0.0.1") == 0 }) {
		t.Errorf("%d connections counted after every one closed, want 0", lim.open("127.0.0.1"))
	}
	if limitPerIP(ln, 0, nil, logger) != ln {
		t.Error("max_conns_per_ip 0 still wraps the listener")
	}

	// A trusted proxy's connections are not counted: every client's
	// requests come from its address.
	proxied := limitPerIP(ln, 1, []*net.IPNet{{IP: net.IPv4(127, 0, 0, 1).To4(), Mask: net.CIDRMask(32, 32)}}, logger).(*perIPListener)
	if !proxied.exempted(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}) || proxied.exempted(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}) {
		t.Error("trusted proxy exemption does not match exactly the listed address")
	}
}

// TestRunConfigMaxConnsPerIP: the gateway's listener is bounded by
// default (max_conns_per_ip: 64), admin_listen is not.
func TestRunConfigMaxConnsPerIP(t *testing.T) {
	upstream := httptest.NewServer(upstreamHandler())
	defer upstream.Close()
	dir := writeConfigDir(t)
	cfg := strings.NewReplacer("KEY", testKey32, "127.0.0.1:8443", "127.0.0.1:0", "127.0.0.1:9191", "127.0.0.1:0", "http://127.0.0.1:3000", upstream.URL).Replace(goodYAML)
	// The proxy in front is elsewhere: the test's loopback clients are
	// clients, not a trusted proxy (loopback is trusted by default).
	cfg += "trusted_proxies: [192.0.2.1]\n"
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addrs := make(chan [2]string, 1)
	done := make(chan error, 1)
	var logs syncBuffer
	go func() {
		done <- runConfig(ctx, path, newJSONLogger(&logs), func(gw, m string) { addrs <- [2]string{gw, m} })
	}()
	var a [2]string
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatalf("runConfig: %v", err)
	}
	// 64 slow clients from 127.0.0.1 on each listener.
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for _, addr := range a {
		for range defaultMaxConnsPerIP {
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
	}
	// The gateway listener answers one more 503 and closes it.
	extra, err := net.DialTimeout("tcp", a[0], 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = extra.SetReadDeadline(time.Now().Add(3 * time.Second))
	answer, _ := io.ReadAll(extra)
	extra.Close()
	if !strings.HasPrefix(string(answer), "HTTP/1.1 503 ") {
		t.Errorf("connection %d from one address to the gateway listener: read %q, want a 503", defaultMaxConnsPerIP+1, answer)
	}
	// The metrics listener, internal, is not bounded.
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + a[1] + "/healthz")
	if err != nil {
		t.Fatalf("metrics listener: %v", err)
	}
	resp.Body.Close()
	if !bytes.Contains(logs.Bytes(), []byte(`"max_conns_per_ip":64`)) {
		t.Errorf("the start-up line does not give max_conns_per_ip:\n%s", logs.Bytes())
	}
	// Idle connections would hold up the graceful shutdown.
	for _, c := range held {
		c.Close()
	}
	held = nil
	cancel()
	<-done
}

// TestOverflowSessionsOption: an identity too large for a cookie is
// refused (413, session_too_large) unless overflow_sessions is set, and
// the start-up log says which.
func TestOverflowSessionsOption(t *testing.T) {
	groups := make([]string, 1000)
	for i := range groups {
		groups[i] = fmt.Sprintf("cn=group-%04d,ou=groups,o=acme", i)
	}
	for _, tc := range []struct {
		name       string
		overflow   *OverflowSessions
		wantStatus int
		wantLog    string
	}{
		{"default: refused", nil, http.StatusRequestEntityTooLarge, `"level":"INFO","msg":"sessions too large for a cookie (users in hundreds of groups) are refused with code session_too_large`},
		{"overflow_sessions set", &OverflowSessions{MaxPerUser: 2}, http.StatusSeeOther, `"level":"WARN","msg":"overflow_sessions is set`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			e := newTestEnvWithLogger(t, func(c *Config) { c.OverflowSessions = tc.overflow }, newJSONLogger(&logs))
			res := samltest.PostForm(e.handler, testACS, e.response(t, samltest.Response{Groups: groups}), "")
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("login in 1000 groups: %d\n%s", res.StatusCode, body)
			}
			if tc.wantStatus != http.StatusSeeOther {
				if !bytes.Contains(body, []byte(gateway.CodeSessionTooLarge)) {
					t.Errorf("the page lacks the code:\n%s", body)
				}
				if !bytes.Contains(logs.Bytes(), []byte(`"code":"session_too_large"`)) {
					t.Errorf("no log line for the refusal:\n%s", logs.Bytes())
				}
			} else if rec := e.get("/whoami.json", res.Cookies(), nil); rec.Code != http.StatusOK {
				t.Errorf("the overflow session: %d", rec.Code)
			}
			if !bytes.Contains(logs.Bytes(), []byte(tc.wantLog)) {
				t.Errorf("the start-up log lacks %s:\n%s", tc.wantLog, logs.Bytes())
			}
		})
	}
}

// TestRestartAppliesTightenedSettings: the example has no reload: a
// configuration change takes a restart, with the same session keys, and
// applies to the sessions that exist: required_groups and required_roles
// run on every request, and the connection's groups.allowed is checked
// again by the gateway.
func TestRestartAppliesTightenedSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tighten func(*Config)
		want    int
	}{
		{"same configuration", func(*Config) {}, http.StatusOK},
		{"required_groups", func(c *Config) { c.RequiredGroups = []string{"Admins"} }, http.StatusForbidden},
		{"required_roles", func(c *Config) { c.RequiredRoles = []string{"admin"} }, http.StatusForbidden},
		{"groups.allowed of the connection", func(c *Config) { c.Connections[0].Groups.Allowed = []string{"Admins"} }, http.StatusUnauthorized},
		{"required_connections", func(c *Config) {
			other := c.Connections[0]
			other.Name, other.SPEntityID = "other", "urn:samlgate:other"
			c.Connections = append(c.Connections, other)
			c.RequiredConnections = []string{"other"}
		}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := newTestEnv(t, nil)
			cookies := before.login(t, samltest.Response{Groups: []string{"Engineering"}})
			if rec := before.get("/whoami.json", cookies, nil); rec.Code != http.StatusOK {
				t.Fatalf("before: %d", rec.Code)
			}
			after := newTestEnv(t, tc.tighten)
			rec := after.get("/whoami.json", cookies, nil)
			if rec.Code != tc.want {
				t.Errorf("after the restart: %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if reached := after.receivedCount() > 0; reached != (tc.want == http.StatusOK) {
				t.Errorf("upstream reached = %v", reached)
			}
		})
	}
}

// signTestMetadata signs md as a federation does: an enveloped signature
// on the root, referencing its ID.
func signTestMetadata(t *testing.T, md []byte, key *rsa.PrivateKey, cert *x509.Certificate) []byte {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(md); err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	root.CreateAttr("ID", "_md-1")
	ctx, err := dsig.NewSigningContext(key, [][]byte{cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	signed, err := ctx.SignEnveloped(root)
	if err != nil {
		t.Fatal(err)
	}
	doc.SetRoot(signed)
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMetadataURLOptions fetches real metadata over loopback with
// idp_metadata_signing_cert_files and idp_metadata_allowed_hosts: the
// gateway starts only with metadata that passes both.
func TestMetadataURLOptions(t *testing.T) {
	idp := loadTestIdP(t)
	now := time.Now()
	mdKey, mdCert, err := samltest.NewKeyPair(2048, now.Add(-time.Hour), now.Add(24*time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
	otherKey, otherCert, err := samltest.NewKeyPair(2048, now.Add(-time.Hour), now.Add(24*time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string][]byte{
		"/unsigned": idp.Metadata(),
		"/signed":   signTestMetadata(t, idp.Metadata(), mdKey, mdCert),
		"/other":    signTestMetadata(t, idp.Metadata(), otherKey, otherCert),
	}
	var srvURL string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			// The same server under another name.
			http.Redirect(w, r, strings.Replace(srvURL, "127.0.0.1", "localhost", 1)+"/signed", http.StatusFound)
			return
		}
		md, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(md)
	}))
	defer srv.Close()
	srvURL = srv.URL
	dir := writeConfigDir(t)
	if err := os.WriteFile(filepath.Join(dir, "md-signing.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: mdCert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		path    string
		certs   []string
		hosts   []string
		wantErr string // "" = the gateway starts
	}{
		{name: "unsigned, no signature required", path: "/unsigned"},
		{name: "signed, signature required", path: "/signed", certs: []string{"md-signing.pem"}},
		{name: "unsigned, signature required", path: "/unsigned", certs: []string{"md-signing.pem"}, wantErr: `connection "test": fetching idp_metadata_url`},
		{name: "signed by another key", path: "/other", certs: []string{"md-signing.pem"}, wantErr: `connection "test": fetching idp_metadata_url`},
		{name: "redirect to another host, by default", path: "/redirect", wantErr: "localhost"},
		{name: "redirect to another host, allowed", path: "/redirect", hosts: []string{"127.0.0.1", "localhost"}},
		{name: "redirect to another host, not in the list", path: "/redirect", hosts: []string{"127.0.0.1"}, wantErr: "localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			cfg := &Config{
				Upstream:                    "http://127.0.0.1:1",
				PublicURL:                   testPublicURL,
				SessionKeys:                 []string{testKey32},
				IdPMetadataSigningCertFiles: tc.certs,
				IdPMetadataAllowedHosts:     tc.hosts,
				Connections:                 []samlconfig.Connection{{Name: "test", SPEntityID: testSPEntity, IdPMetadataURL: srv.URL + tc.path}},
				baseDir:                     dir,
			}
			if err := cfg.validate(); err != nil {
				t.Fatal(err)
			}
			_, err := newApp(t.Context(), cfg, newJSONLogger(&logs), nil)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("newApp: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("newApp: %v, want an error with %q", err, tc.wantErr)
			case tc.wantErr == "" && !bytes.Contains(logs.Bytes(), []byte(fmt.Sprintf(`"signature_required":%v`, len(tc.certs) > 0))):
				t.Errorf("the start-up log does not say whether a signature is required:\n%s", logs.Bytes())
			}
		})
	}
}
