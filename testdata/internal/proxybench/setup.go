package main

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/samlgate/samlgate/saml/samltest"
)

const (
	idpEntity  = "https://idp.bench.example/saml2/bench"
	spEntity   = "urn:samlgate:bench"
	connection = "bench"
	alice      = "alice@example.com"
)

// target is one proxy under measurement.
type target struct {
	name string
	url  string
	pid  int
}

func checkTools() error {
	for _, tool := range []string{"wrk", "taskset", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed (Debian: apt-get install wrk util-linux)", tool)
		}
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return errors.New("needs Linux (/proc)")
	}
	return nil
}

// setUp builds the gateway, starts the demo upstream, the proxies, and logs
// alice in: the targets, in measuring order, and her session cookie.
func setUp(o options, dir string, procs *processes) ([]target, string, error) {
	gw := filepath.Join(dir, "gateway")
	build := exec.Command("go", "build", "-o", gw, "./examples/gateway")
	build.Dir, build.Stdout, build.Stderr = o.repo, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, "", fmt.Errorf("building examples/gateway: %w", err)
	}
	if err := writeKeys(dir); err != nil {
		return nil, "", err
	}
	upstream := freeAddr()
	if _, err := procs.start("1", gw, "-addr", freeAddr(), "-idp-addr", freeAddr(), "-upstream-addr", upstream,
		"-admin-addr", freeAddr(), "-log-level", "warn"); err != nil {
		return nil, "", err
	}
	if err := waitHTTP("http://" + upstream + "/"); err != nil {
		return nil, "", fmt.Errorf("the demo upstream: %w", err)
	}
	gateways := []struct{ name, bin string }{{"gateway", gw}, {"gateway-before", o.before}}
	var targets []target
	for _, g := range gateways {
		if g.bin == "" {
			continue
		}
		t, err := startGateway(procs, dir, g.name, g.bin, upstream)
		if err != nil {
			return nil, "", err
		}
		targets = append(targets, t)
	}
	for _, variant := range []string{"bare", "bare-pooled", "bare-server"} {
		t, err := startBare(procs, variant, upstream)
		if err != nil {
			return nil, "", err
		}
		targets = append(targets, t)
	}
	cookie, err := login(dir, targets[0].url)
	if err != nil {
		return nil, "", err
	}
	return targets, cookie, checkTargets(targets, cookie)
}

// writeKeys writes the IdP's key pair (valid for a day) and a session key.
func writeKeys(dir string) error {
	now := time.Now()
	key, cert, err := samltest.NewKeyPair(2048, now.Add(-time.Hour), now.Add(24*time.Hour), "bench-idp")
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"idp.crt.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}),
		"idp.key.pem": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
	}
	sk := make([]byte, 32)
	_, _ = rand.Read(sk) // never fails (Go 1.24+)
	files["session.key"] = []byte(base64.StdEncoding.EncodeToString(sk))
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// gatewayConfig is the measured gateway's configuration: one connection,
// an allowed-groups gate and two role mappings, checked on every request.
const gatewayConfig = `listen: %[1]s
admin_listen: %[2]s
upstream: http://%[3]s
public_url: http://%[1]s
insecure_cookies: true
session_key_files: [session.key]
session_lifetime: 8h
default_return_to: /
connections:
  - name: bench
    sp_entity_id: urn:samlgate:bench
    acs_url: http://%[1]s/login/callback?connection=bench
    idp_entity_id: https://idp.bench.example/saml2/bench
    idp_sso_url: https://idp.bench.example/saml2/bench
    idp_certificate_files: [idp.crt.pem]
    email_verified: require
    groups:
      allowed: [Engineering, Admins]
      roles:
        - {group: Admins, role: admin}
        - {group: Engineering, role: developer}
`

func startGateway(procs *processes, dir, name, bin, upstream string) (target, error) {
	addr := freeAddr()
	cfg := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, gatewayConfig, addr, freeAddr(), upstream), 0o600); err != nil {
		return target{}, err
	}
	pid, err := procs.startIn(dir, "0", bin, "-config", cfg, "-log-level", "warn")
	if err != nil {
		return target{}, err
	}
	return target{name: name, url: "http://" + addr + "/", pid: pid}, waitHTTP("http://" + addr + "/healthz")
}

func startBare(procs *processes, variant, upstream string) (target, error) {
	self, err := os.Executable()
	if err != nil {
		return target{}, err
	}
	addr := freeAddr()
	pid, err := procs.start("0", self, "bare", "-listen", addr, "-upstream", "http://"+upstream, "-variant", variant)
	if err != nil {
		return target{}, err
	}
	return target{name: variant, url: "http://" + addr + "/", pid: pid}, waitHTTP("http://" + addr + "/")
}

// login POSTs an IdP-initiated response for alice to the gateway's ACS and
// returns the session cookie ("name=value").
func login(dir, gatewayURL string) (string, error) {
	key, cert, err := samltest.LoadKeyPair(filepath.Join(dir, "idp.crt.pem"), filepath.Join(dir, "idp.key.pem"))
	if err != nil {
		return "", err
	}
	acs := strings.TrimSuffix(gatewayURL, "/") + "/login/callback?connection=" + connection
	form, err := samltest.New(key, cert, idpEntity).FormValue(samltest.Response{Audience: spEntity, Destination: acs,
		Email: alice, EmailVerified: "true", Groups: []string{"Engineering", "Admins"}})
	if err != nil {
		return "", err
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.PostForm(acs, url.Values{"SAMLResponse": {form}})
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	for _, ck := range res.Cookies() {
		if ck.Name == "samlgate_session" {
			return ck.Name + "=" + ck.Value, nil
		}
	}
	return "", fmt.Errorf("login: no session cookie (status %s)", res.Status)
}

// checkTargets: every proxy answers GET / with alice's cookie with 200.
func checkTargets(targets []target, cookie string) error {
	for _, t := range targets {
		req, _ := http.NewRequest(http.MethodGet, t.url, nil)
		req.Header.Set("Cookie", cookie)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: GET / with the session answers %s", t.name, res.Status)
		}
	}
	return nil
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatalf("no free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHTTP(u string) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(u)
		if err == nil {
			res.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
