package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Chromium: $CHROMIUM, /usr/bin/chromium, or chromium on
// the PATH. When there is none the test is skipped loudly, or fails when
// CI is set, so that CI cannot pass without the real-browser test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium"}
	if p, err := exec.LookPath("chromium"); err == nil {
		candidates = append(candidates, p)
	}
	for _, p := range candidates {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	msg := "SKIPPING REAL-BROWSER TEST: chromium not found ($CHROMIUM, /usr/bin/chromium, PATH); apt-get install chromium"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set: this test must run)")
	}
	fmt.Fprintln(os.Stderr, "\n"+strings.Repeat("!", len(msg))+"\n"+msg+"\n"+strings.Repeat("!", len(msg)))
	t.Skip(msg)
	return ""
}

// newBrowser starts headless Chromium with a fresh profile and returns the
// context of its first tab and a func that stops the browser (also called
// at cleanup). extra are more command-line options.
func newBrowser(t *testing.T, ctx context.Context, extra ...chromedp.ExecAllocatorOption) (context.Context, func()) {
	t.Helper()
	var chromeOut syncBuffer
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // we run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
		chromedp.CombinedOutput(&chromeOut),
	}
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	stop := func() {
		cancelBrowser()
		cancelAlloc()
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("chromium output:\n%s", chromeOut.Bytes())
		}
	})
	// Start the browser now, so that a broken Chromium fails here.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting chromium: %v\n%s", err, chromeOut.Bytes())
	}
	return bctx, stop
}

// screenshot saves a PNG of the page to $BROWSER_SCREENSHOTS, if set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("BROWSER_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

// upstreamView is what the upstream page shows.
type upstreamView struct {
	URL, Hello, User, Email, Groups, Roles, Path string
}

func readUpstreamPage(ctx context.Context) (upstreamView, error) {
	var v upstreamView
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#hello"))); err != nil {
		return v, err
	}
	var err error
	if v.URL, err = chromedp.Run(ctx, chromedp.Location()); err != nil {
		return v, err
	}
	for _, f := range []struct {
		sel string
		dst *string
	}{{"#hello", &v.Hello}, {"#user", &v.User}, {"#email", &v.Email}, {"#groups", &v.Groups}, {"#roles", &v.Roles}, {"#path", &v.Path}} {
		if *f.dst, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(f.sel))); err != nil {
			return v, err
		}
	}
	return v, nil
}

// pageText is the visible text of the page's body.
func pageText(ctx context.Context) string {
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return strings.Join(strings.Fields(s), " ")
}

// waitForPage waits, across navigations, until the tab shows a page whose
// URL starts with urlPrefix and whose text contains text, and returns the
// last URL and text seen.
func waitForPage(ctx context.Context, urlPrefix, text string, timeout time.Duration) (loc, body string) {
	deadline := time.Now().Add(timeout)
	for {
		loc, _ = chromedp.Run(ctx, chromedp.Location())
		body = pageText(ctx)
		if strings.HasPrefix(loc, urlPrefix) && strings.Contains(body, text) || time.Now().After(deadline) {
			return loc, body
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cookiesFor returns the cookies the browser would send to u.
func cookiesFor(ctx context.Context, u string) ([]*network.Cookie, error) {
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{u}})
	return res.Cookies, err
}

func checkAlice(t *testing.T, v upstreamView, wantURL string) {
	t.Helper()
	if v.URL != wantURL {
		t.Errorf("landed on %s, want %s", v.URL, wantURL)
	}
	if v.Hello != "Hello alice@example.com" || v.User != "alice@example.com" || v.Email != "alice@example.com" {
		t.Errorf("upstream page shows %q, user %q, email %q", v.Hello, v.User, v.Email)
	}
	if v.Groups != "Engineering, Admins" || v.Roles != "developer, admin" {
		t.Errorf("upstream page shows groups %q, roles %q", v.Groups, v.Roles)
	}
}

// browserDemo starts Chromium and the demo on free ports for a browser
// test: both stop when the test ends (the browser first: its open or
// preconnected sockets would hold up the demo's graceful shutdown), and
// the demo's logs, returned for the test to read, are printed if it failed.
func browserDemo(t *testing.T, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) (browser context.Context, d *demo, logs *syncBuffer) {
	t.Helper()
	if testing.Short() {
		t.Skip("real-browser test skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	browser, stopBrowser := newBrowser(t, ctx, extra...)
	logs = &syncBuffer{}
	d, err := startDemo(ctx, freeDemoOptions, newJSONLogger(logs))
	if err != nil {
		stopBrowser()
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopBrowser()
		if err := d.shutdown(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("demo logs:\n%s", logs.Bytes())
		}
		cancel()
	})
	return browser, d, logs
}

// TestBrowser logs in with a real Chromium through both flows of the demo.
func TestBrowser(t *testing.T) {
	browser, d, logs := browserDemo(t, 90*time.Second)

	t.Run("idp-initiated", func(t *testing.T) {
		tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		defer cancelTab()
		err := chromedp.Do(tab,
			chromedp.Navigate(d.IdPURL+"/"),
			chromedp.WaitVisible(chromedp.CSS("#tile-alice")),
			chromedp.Click(chromedp.CSS("#tile-alice")),
		)
		if err != nil {
			t.Fatal(err)
		}
		v, err := readUpstreamPage(tab)
		screenshot(t, tab, "idp-initiated")
		if err != nil {
			t.Fatalf("no upstream page after the tile: %v", err)
		}
		checkAlice(t, v, d.GatewayURL+"/")
		t.Logf("IdP-initiated: %s shows %q, groups %q, roles %q", v.URL, v.Hello, v.Groups, v.Roles)
	})

	t.Run("sp-initiated", func(t *testing.T) {
		// A new browser context: no cookies from the first login.
		tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		defer cancelTab()
		deepLink := d.GatewayURL + "/reports/q3?team=eng"
		err := chromedp.Do(tab,
			chromedp.Navigate(deepLink),
			// The gateway's AuthnRequest form posts itself to the IdP.
			chromedp.WaitVisible(chromedp.CSS("#choose-alice")),
		)
		screenshot(t, tab, "sp-initiated-choose")
		if err != nil {
			t.Fatalf("the IdP's chooser did not appear after opening %s: %v\npage: %s", deepLink, err, pageText(tab))
		}
		// The cookie that binds the login to this browser, as Chromium
		// stored it: it must be sent with the IdP's POST to the ACS.
		reqCookies, err := cookiesFor(tab, d.Config.Connections[0].ACSURL)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		found := false
		for _, c := range reqCookies {
			names = append(names, fmt.Sprintf("%s (SameSite=%s, Secure=%v, Path=%s)", c.Name, c.SameSite, c.Secure, c.Path))
			if strings.HasPrefix(c.Name, "samlgate_req_") {
				found = true
			}
		}
		t.Logf("cookies Chromium holds for the ACS URL before the IdP posts: %v", names)
		if !found {
			t.Errorf("Chromium did not keep the gateway's login-request cookie (samlgate_req_*): the callback will refuse the response with in_response_to_mismatch")
		}
		if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS("#choose-alice"))); err != nil {
			t.Fatal(err)
		}
		v, err := readUpstreamPage(tab)
		screenshot(t, tab, "sp-initiated")
		if err != nil {
			t.Fatalf("no upstream page after choosing alice: %v\npage: %s", err, pageText(tab))
		}
		checkAlice(t, v, deepLink)
		if v.Path != "/reports/q3?team=eng" {
			t.Errorf("the upstream saw path %q", v.Path)
		}
		// The gateway matched InResponseTo against the cookie: a login that
		// answered our request, not an IdP-initiated one.
		if !bytes.Contains(logs.Bytes(), []byte(`"msg":"samlgate: login","event":"login","connection":"demo","flow":"sp-initiated"`)) {
			t.Errorf("no SP-initiated login in the gateway's logs")
		}
		t.Logf("SP-initiated: %s shows %q, groups %q, roles %q", v.URL, v.Hello, v.Groups, v.Roles)

		// Logging out ends the session and shows the signed-out page: it
		// does not start a new login, which the IdP's session would
		// complete at once.
		if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS("#logout"))); err != nil {
			t.Fatal(err)
		}
		if loc, body := waitForPage(tab, d.GatewayURL+logoutPath, "You are signed out", 15*time.Second); !strings.Contains(body, "You are signed out") {
			t.Errorf("after logout: %s\npage: %s", loc, body)
		}
	})

	t.Run("refused", func(t *testing.T) {
		tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		defer cancelTab()
		err := chromedp.Do(tab,
			chromedp.Navigate(d.IdPURL+"/"),
			chromedp.Click(chromedp.CSS("#tile-bob")),
		)
		if err != nil {
			t.Fatal(err)
		}
		// The IdP's page posts itself to the ACS, which refuses bob.
		loc, body := waitForPage(tab, d.GatewayURL+callbackPath, "group_not_allowed", 15*time.Second)
		screenshot(t, tab, "refused-bob")
		if !strings.HasPrefix(loc, d.GatewayURL+callbackPath) || !strings.Contains(body, "group_not_allowed") {
			t.Fatalf("bob ended on %s, want the gateway's group_not_allowed refusal at the ACS; page: %s", loc, body)
		}
		if strings.Contains(body, "Hello ") {
			t.Fatalf("bob reached the upstream: %s", body)
		}
		t.Logf("bob sees: %.200s", strings.Join(strings.Fields(body), " "))
	})

	t.Run("team sync diff", func(t *testing.T) { browserTeamSync(t, browser, d) })
}

// TestBrowserLoopbackRequestCookie runs the demo's setup, the gateway on
// http://127.0.0.1 with insecure_cookies, in a real Chromium, but with the
// IdP on another site (idp.test), as JumpCloud is: the login-request
// cookie the gateway sets there must be SameSite=None; Secure, so that
// Chromium keeps it from a loopback http origin and sends it on the IdP's
// cross-site POST to the ACS. A SameSite=Lax cookie (the gateway's
// fallback on other http hosts) would not be sent, and the login would be
// refused with in_response_to_mismatch.
func TestBrowserLoopbackRequestCookie(t *testing.T) {
	st := newBrowserStack(t, func(gwPort, idpPort string) (string, string) {
		return "http://127.0.0.1:" + gwPort, "http://idp.test:" + idpPort
	}, chromedp.Flag("host-resolver-rules", "MAP idp.test 127.0.0.1"))
	st.start(t, demoRoles, nil)
	browser, logs, gwURL, idpURL, acs := st.browser, st.logs, st.gwURL, st.idpURL, st.acs

	tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancelTab()
	deepLink := gwURL + "/reports/q3?team=eng"
	err := chromedp.Do(tab,
		chromedp.Navigate(deepLink),
		chromedp.WaitVisible(chromedp.CSS("#choose-alice")),
	)
	if err != nil {
		t.Fatalf("the IdP's chooser did not appear after opening %s: %v\npage: %s", deepLink, err, pageText(tab))
	}
	if loc, _ := chromedp.Run(tab, chromedp.Location()); !strings.HasPrefix(loc, idpURL) {
		t.Fatalf("the chooser is at %s, not on the IdP's site %s", loc, idpURL)
	}
	cookies, err := cookiesFor(tab, acs)
	if err != nil {
		t.Fatal(err)
	}
	var req *network.Cookie
	for _, c := range cookies {
		if strings.HasPrefix(c.Name, "samlgate_req_") {
			req = c
		}
	}
	if req == nil || req.SameSite != network.CookieSameSiteNone || !req.Secure || !req.HTTPOnly || req.Path != "/" {
		t.Fatalf("the login-request cookie as Chromium keeps it: %+v, want samlgate_req_* with SameSite=None, Secure, HttpOnly, Path=/", req)
	}
	if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS("#choose-alice"))); err != nil {
		t.Fatal(err)
	}
	waitCtx, cancelWait := context.WithTimeout(tab, 20*time.Second)
	defer cancelWait()
	v, err := readUpstreamPage(waitCtx)
	if err != nil {
		t.Fatalf("no upstream page after choosing alice (was the request cookie sent on the cross-site POST?): %v\npage: %s", err, pageText(tab))
	}
	checkAlice(t, v, deepLink)
	if !bytes.Contains(logs.Bytes(), []byte(`"flow":"sp-initiated"`)) {
		t.Error("no SP-initiated login in the gateway's logs")
	}
}

// TestBrowserHostCookies runs the gateway as in production (https, no
// insecure_cookies) in front of the demo IdP, in a real Chromium, on the
// names app.example.test (the gateway), evil.example.test (a sibling host
// an attacker controls) and idp.test (the IdP, another site). The sibling
// plants cookies for the whole of example.test: Chromium keeps the plain
// samlgate_session (cookie tossing is real) but refuses the __Host- ones;
// the gateway's own __Host- cookies are kept and sent on the IdP's
// cross-site POST, and the SP-initiated login completes.
func TestBrowserHostCookies(t *testing.T) {
	var evilURL string
	st := newBrowserStack(t, func(gwPort, idpPort string) (string, string) {
		evilURL = "https://evil.example.test:" + gwPort
		return "https://app.example.test:" + gwPort, "https://idp.test:" + idpPort
	},
		chromedp.Flag("ignore-certificate-errors", true), // httptest's certificate
		chromedp.Flag("host-resolver-rules", "MAP *.test 127.0.0.1"),
	)
	const tossedReq = "samlgate_req_0123456789abcdef"
	st.start(t, demoRoles, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.Host, "evil.") {
				h.ServeHTTP(w, r)
				return
			}
			// The attacker's sibling host: cookies for every host of the site.
			for _, name := range []string{"__Host-samlgate_session", "__Host-" + tossedReq, "samlgate_session", tossedReq} {
				http.SetCookie(w, &http.Cookie{Name: name, Value: "planted", Domain: "example.test", Path: "/", Secure: true, SameSite: http.SameSiteNoneMode})
			}
			_, _ = w.Write([]byte("<html><body>evil</body></html>"))
		})
	})
	browser, logs, gwURL, acs := st.browser, st.logs, st.gwURL, st.acs

	cookieMap := func(ctx context.Context, u string) map[string]*network.Cookie {
		t.Helper()
		cs, err := cookiesFor(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]*network.Cookie{}
		for _, c := range cs {
			m[c.Name] = c
		}
		return m
	}

	tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancelTab()
	if err := chromedp.Do(tab, chromedp.Navigate(evilURL+"/")); err != nil {
		t.Fatal(err)
	}
	planted := cookieMap(tab, gwURL+"/")
	if planted["samlgate_session"] == nil || planted[tossedReq] == nil {
		t.Fatalf("Chromium did not keep the sibling's plain cookies for %s, so this test proves nothing: %v", gwURL, planted)
	}
	for _, name := range []string{"__Host-samlgate_session", "__Host-" + tossedReq} {
		if planted[name] != nil {
			t.Fatalf("Chromium accepted %s with Domain=example.test from a sibling host", name)
		}
	}

	deepLink := gwURL + "/reports/q3?team=eng"
	err := chromedp.Do(tab,
		chromedp.Navigate(deepLink),
		chromedp.WaitVisible(chromedp.CSS("#choose-alice")),
	)
	if err != nil {
		t.Fatalf("the IdP's chooser did not appear after opening %s: %v\npage: %s", deepLink, err, pageText(tab))
	}
	var req *network.Cookie
	for name, c := range cookieMap(tab, acs) {
		if strings.HasPrefix(name, "__Host-samlgate_req_") {
			req = c
		}
	}
	if req == nil || !req.Secure || req.Path != "/" || req.SameSite != network.CookieSameSiteNone || !req.HTTPOnly {
		t.Fatalf("Chromium did not keep the gateway's __Host- login-request cookie as set: %+v", req)
	}
	if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS("#choose-alice"))); err != nil {
		t.Fatal(err)
	}
	v, err := readUpstreamPage(tab)
	if err != nil {
		t.Fatalf("no upstream page after choosing alice: %v\npage: %s", err, pageText(tab))
	}
	checkAlice(t, v, deepLink)
	conn, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#connection")))
	if err != nil || conn != demoConnection {
		t.Errorf("the upstream shows connection %q (%v), want %q", conn, err, demoConnection)
	}
	if !bytes.Contains(logs.Bytes(), []byte(`"flow":"sp-initiated"`)) {
		t.Error("no SP-initiated login in the gateway's logs")
	}
	after := cookieMap(tab, gwURL+"/")
	s := after["__Host-samlgate_session"]
	if s == nil || !s.Secure || s.Path != "/" || !s.HTTPOnly || s.Domain != "app.example.test" {
		t.Errorf("session cookie as Chromium keeps it: %+v", s)
	}
	for name := range after {
		if strings.HasPrefix(name, "__Host-samlgate_req_") {
			t.Errorf("login-request cookie %s left after the login", name)
		}
	}
}
