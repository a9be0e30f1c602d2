package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/samlgate/samlgate/saml/samlconfig"
)

// nginxBinary returns the nginx to run, or skips the test loudly (fails
// under CI, where .ci/run installs it).
func nginxBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("NGINX"), "/usr/sbin/nginx"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	const msg = "nginx is not installed (apt-get install nginx, or set NGINX=/path/to/nginx): the forward-auth end-to-end test with a real nginx auth_request did NOT run"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED: " + msg)
	return ""
}

// freeLoopbackPort returns a port that was free a moment ago (nginx binds
// by number, not from a listener we could hand it).
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// nginxForwardAuthConf is the nginx configuration of the test, and the
// shape documented in doc.go: the gateway's own paths proxied to it, every
// other path behind auth_request /saml/auth, a 401 sent to /saml/sign_in,
// and the identity headers of the auth answer set on the request to the
// application (which replaces any copy the client sent).
var nginxForwardAuthConf = template.Must(template.New("nginx").Parse(`
{{if .Root}}user root;{{end}}
worker_processes 1;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log info;
events { worker_connections 64; }
http {
	access_log {{.Dir}}/access.log;
	client_body_temp_path {{.Dir}}/client_body;
	proxy_temp_path {{.Dir}}/proxy;
	fastcgi_temp_path {{.Dir}}/fastcgi;
	uwsgi_temp_path {{.Dir}}/uwsgi;
	scgi_temp_path {{.Dir}}/scgi;

	upstream samlgate { server {{.Gateway}}; }
	upstream app { server {{.App}}; }

	server {
		listen {{.Listen}};

		# The gateway's own paths: login, ACS, logout, SP metadata, sign-in.
		location = /login          { proxy_pass http://samlgate; proxy_set_header Host $http_host; }
		location = /login/callback { proxy_pass http://samlgate; proxy_set_header Host $http_host; }
		location = /logout         { proxy_pass http://samlgate; proxy_set_header Host $http_host; }
		location = /saml/metadata  { proxy_pass http://samlgate; proxy_set_header Host $http_host; }
		location = /saml/sign_in {
			proxy_pass http://samlgate;
			proxy_set_header Host $http_host;
			# After error_page's internal redirect, $request_uri is still
			# the URI the browser asked for: the return address.
			proxy_set_header X-Forwarded-Uri $request_uri;
		}
		location = /saml/auth {
			internal;
			proxy_pass http://samlgate;
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
			proxy_set_header Host $http_host;
			proxy_set_header X-Forwarded-Uri $request_uri;
			proxy_set_header X-Forwarded-Method $request_method;
		}

		location / {
			auth_request /saml/auth;
			auth_request_set $saml_user       $upstream_http_x_forwarded_user;
			auth_request_set $saml_email      $upstream_http_x_forwarded_email;
			auth_request_set $saml_groups     $upstream_http_x_forwarded_groups;
			auth_request_set $saml_roles      $upstream_http_x_forwarded_roles;
			auth_request_set $saml_connection $upstream_http_x_forwarded_connection;
			auth_request_set $saml_teams      $upstream_http_x_forwarded_teams;
			error_page 401 = /saml/sign_in;

			proxy_pass http://app;
			proxy_set_header Host $http_host;
			# Set even when empty: nginx then sends no such header at
			# all, and never the client's copy.
			proxy_set_header X-Forwarded-User       $saml_user;
			proxy_set_header X-Forwarded-Email      $saml_email;
			proxy_set_header X-Forwarded-Groups     $saml_groups;
			proxy_set_header X-Forwarded-Roles      $saml_roles;
			proxy_set_header X-Forwarded-Connection $saml_connection;
			proxy_set_header X-Forwarded-Teams      $saml_teams;
		}
	}
}
`))

// startNginx writes the configuration into a temporary directory and runs
// nginx in the foreground until the test ends.
func startNginx(t *testing.T, bin string, port int, gatewayAddr, appAddr string) {
	t.Helper()
	dir := t.TempDir()
	var conf bytes.Buffer
	if err := nginxForwardAuthConf.Execute(&conf, map[string]any{
		"Root": os.Geteuid() == 0, "Dir": dir,
		"Listen": fmt.Sprintf("127.0.0.1:%d", port), "Gateway": gatewayAddr, "App": appAddr,
	}); err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, conf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", confPath, "-e", filepath.Join(dir, "error.log"), "-g", "daemon off;")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting nginx: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	errorLog := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		return out.String() + string(b)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT) // graceful shutdown
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("nginx error log:\n%s", errorLog())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("nginx exited at start-up (%v):\n%s", err, errorLog())
		default:
		}
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not listen on port %d:\n%s", port, errorLog())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recordingApp is the demo upstream, recording what it received.
type recordingApp struct {
	mu       sync.Mutex
	received []receivedIdentity
}

func (a *recordingApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.received = append(a.received, readIdentityHeaders(r))
	a.mu.Unlock()
	upstreamHandler().ServeHTTP(w, r)
}

func (a *recordingApp) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.received)
}

// TestNginxForwardAuth runs a real nginx with auth_request in front of the
// demo application, and the gateway in forward-auth mode (no upstream of
// its own) beside it: without a session nginx sends the browser to the
// login, with the page it asked for as return_to; after an SP-initiated
// login through nginx the application sees the identity headers, and
// identity headers a client sends never reach it, logged in or not.
func TestNginxForwardAuth(t *testing.T) {
	bin := nginxBinary(t)
	ctx := t.Context()
	logger := testLogger(t)
	nginxPort := freeLoopbackPort(t)
	publicURL := fmt.Sprintf("http://127.0.0.1:%d", nginxPort)
	acsURL := publicURL + callbackPath + "?connection=" + demoConnection

	app := &recordingApp{}
	appSrv := httptest.NewServer(app)
	defer appSrv.Close()

	idpSrv := httptest.NewUnstartedServer(nil)
	idpURL := "http://" + idpSrv.Listener.Addr().String()
	idp, err := newDemoIdP(idpURL, demoSPEntityID, acsURL, publicURL, logger)
	if err != nil {
		t.Fatal(err)
	}
	idpSrv.Config.Handler = idp.handler()
	idpSrv.Start()
	defer idpSrv.Close()

	cfg := &Config{
		PublicURL:       publicURL,
		ForwardAuth:     true, // and no upstream: nginx proxies to the app
		SessionKeys:     []string{base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, sessionKeySize))},
		InsecureCookies: true,
		RequiredGroups:  []string{"Engineering"},
		Connections: []samlconfig.Connection{{
			Name:           demoConnection,
			SPEntityID:     demoSPEntityID,
			ACSURL:         acsURL,
			IdPMetadataURL: idpURL + idpMetadataPath,
			Groups:         samlconfig.Groups{Roles: []samlconfig.RoleMapping{{Group: "Admins", Role: "admin"}}},
		}},
		// Team sync as in the demo: X-Forwarded-Teams crosses nginx too.
		TeamsDB:  "sqlite://" + filepath.Join(t.TempDir(), "teams.db"),
		Teams:    demoLinks,
		TeamSync: &TeamSyncOptions{CreateTeams: true},
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	a, err := newApp(ctx, cfg, logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := a.handler()
	if err != nil {
		t.Fatal(err)
	}
	gwSrv := httptest.NewServer(h)
	defer gwSrv.Close()

	startNginx(t, bin, nginxPort, gwSrv.Listener.Addr().String(), appSrv.Listener.Addr().String())

	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	forged := http.Header{
		"X-Forwarded-User":       {"mallory@evil.example"},
		"x-forwarded-email":      {"mallory@evil.example"},
		"X-FORWARDED-GROUPS":     {"Admins"},
		"X-Forwarded-Roles":      {"admin"},
		"X-Forwarded-Connection": {"mallory-tenant"},
		"X_Forwarded_User":       {"mallory@evil.example"},
	}

	// 1. No session: nginx's 401 becomes the sign-in redirect, carrying
	// the whole URI asked for; spoofed headers change nothing.
	const deepLink = "/reports/q3?team=eng&view=full"
	anon := newWebClient(tr)
	anon.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, hdr := range []http.Header{nil, forged} {
		p, err := anon.get(ctx, publicURL+deepLink, hdr)
		if err != nil {
			t.Fatal(err)
		}
		want := "/login?connection=" + demoConnection + "&return_to=%2Freports%2Fq3%3Fteam%3Deng%26view%3Dfull"
		if p.Status != http.StatusFound || p.Header.Get("Location") != want {
			t.Fatalf("no session: %d Location %q, want 302 %q", p.Status, p.Header.Get("Location"), want)
		}
	}
	// A ?rd= in the protected URL does not steer the sign-in: nginx passes
	// the original URI in X-Forwarded-Uri.
	p, err := anon.get(ctx, publicURL+"/x?rd=https://evil.example/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "/login?connection=demo&return_to=%2Fx%3Frd%3Dhttps%3A%2F%2Fevil.example%2F"; p.Status != http.StatusFound || p.Header.Get("Location") != want {
		t.Fatalf("rd in the protected URL: %d %q, want 302 %q", p.Status, p.Header.Get("Location"), want)
	}
	if n := app.count(); n != 0 {
		t.Fatalf("the app received %d requests without a session", n)
	}

	// 2. SP-initiated login through nginx: the deep link, the sign-in
	// redirect, the AuthnRequest, alice chosen at the IdP, the response
	// posted to the ACS through nginx, back on the deep link.
	wc := newWebClient(tr)
	p, err = wc.get(ctx, publicURL+deepLink, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err = wc.submitSAMLForms(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	form, button, err := p.formWithButton("choose-alice")
	if err != nil {
		t.Fatalf("not at the IdP's chooser: %v", err)
	}
	if p, err = wc.submit(ctx, form, button); err != nil {
		t.Fatal(err)
	}
	if p, _, err = wc.submitSAMLForms(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p.Status != http.StatusOK || p.URL.String() != publicURL+deepLink {
		t.Fatalf("after the login: %s, want the app's page at %s", p, deepLink)
	}

	// 3. The app sees alice's identity headers, even when the client sends
	// its own.
	for _, hdr := range []http.Header{nil, forged} {
		p, err := wc.get(ctx, publicURL+"/whoami.json", hdr)
		if err != nil {
			t.Fatal(err)
		}
		var got receivedIdentity
		if err := json.Unmarshal(p.Body, &got); err != nil || p.Status != http.StatusOK {
			t.Fatalf("whoami: %s", p)
		}
		if got.User != "alice@example.com" || got.Email != "alice@example.com" || got.Connection != demoConnection ||
			strings.Join(got.Groups, ",") != "Engineering,Admins" || strings.Join(got.Roles, ",") != "admin" ||
			strings.Join(got.Teams, ",") != "admins,everyone,platform" {
			t.Errorf("the app received %+v", got)
		}
		for name, values := range got.ForwardedHeaders {
			if strings.Contains(strings.Join(values, ","), "mallory") {
				t.Errorf("a forged header reached the app: %s: %q", name, values)
			}
			if strings.Contains(name, "_") {
				t.Errorf("an underscore spelling reached the app: %s", name)
			}
		}
		for _, name := range identityHeaders {
			if n := len(got.ForwardedHeaders[name]); n != 1 {
				t.Errorf("%s arrived %d times", name, n)
			}
		}
	}

	// 4. bob (Sales) logs in, but required_groups is Engineering: nginx
	// answers the auth endpoint's 403, and the app never sees him.
	before := app.count()
	bob := newWebClient(tr)
	if p, err = bob.get(ctx, publicURL+"/app", nil); err != nil {
		t.Fatal(err)
	}
	if p, _, err = bob.submitSAMLForms(ctx, p); err != nil {
		t.Fatal(err)
	}
	if form, button, err = p.formWithButton("choose-bob"); err != nil {
		t.Fatalf("not at the IdP's chooser: %v", err)
	}
	if p, err = bob.submit(ctx, form, button); err != nil {
		t.Fatal(err)
	}
	if p, _, err = bob.submitSAMLForms(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p.Status != http.StatusForbidden || p.URL.String() != publicURL+"/app" {
		t.Fatalf("bob after his login: %s, want 403 at /app", p)
	}
	if app.count() != before {
		t.Fatal("the app received a request of a user outside required_groups")
	}

	// 5. The auth subrequest is internal: a client cannot ask it.
	if p, err := anon.get(ctx, publicURL+authPath, nil); err != nil || p.Status != http.StatusNotFound {
		t.Errorf("GET %s from a client: %v %v, want 404", authPath, p, err)
	}
}
