package main

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/samlgate/samlgate/saml/gateway"
)

// TestBrowserSetupAssistant drives the demo's setup assistant in a real
// Chromium: the setup page, a test login as alice (the verified identity)
// and as bob (the group_not_allowed diagnosis with its hint), bob's
// refusal under recent refusals, no session cookie from either test
// login, and 403 for a missing or failing authorization check. Each page
// is screenshot into $BROWSER_SCREENSHOTS, or a temporary directory, and
// every screenshot is checked to be a real picture of a page.
func TestBrowserSetupAssistant(t *testing.T) {
	if testing.Short() {
		t.Skip("real-browser test skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	browser, stopBrowser := newBrowser(t, ctx)
	var logs syncBuffer
	d, err := startDemo(ctx, freeDemoOptions, newJSONLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		stopBrowser()
		if err := d.shutdown(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("demo logs:\n%s", logs.Bytes())
		}
	}()
	shots := os.Getenv("BROWSER_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	shoot := func(ctx context.Context, name string) {
		t.Helper()
		checkScreenshot(t, ctx, filepath.Join(shots, "setup-"+name+".png"))
	}
	noSessionCookie := func(ctx context.Context, when string) {
		t.Helper()
		cookies, err := cookiesFor(ctx, d.GatewayURL+"/")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cookies {
			if strings.Contains(c.Name, "samlgate_session") {
				t.Errorf("%s: the browser holds a session cookie %s", when, c.Name)
			}
		}
	}

	tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancelTab()
	// The demo IdP's portal links to the assistant, token included.
	err = chromedp.Do(tab,
		chromedp.Navigate(d.IdPURL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#setup-assistant")),
		chromedp.Click(chromedp.CSS("#setup-assistant")),
		chromedp.WaitVisible(chromedp.CSS("#test-login")),
	)
	if err != nil {
		t.Fatalf("the setup page did not open from the portal's link: %v\npage: %s", err, pageText(tab))
	}
	shoot(tab, "page")
	page := pageText(tab)
	for _, want := range []string{
		demoSPEntityID, d.Config.Connections[0].ACSURL, "email_verified = true", "memberOf",
		"bind the allowed groups: Engineering", "SHA-256", "last good refresh", "No refusal recorded",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the setup page lacks %q", want)
		}
	}

	testLogin := func(user string) string {
		t.Helper()
		err := chromedp.Do(tab,
			chromedp.Navigate(d.SetupURL),
			chromedp.WaitVisible(chromedp.CSS("#test-login")),
			chromedp.Click(chromedp.CSS("#test-login")),
			chromedp.WaitVisible(chromedp.CSS("#choose-"+user)),
			chromedp.Click(chromedp.CSS("#choose-"+user)),
		)
		if err != nil {
			t.Fatalf("test login as %s: %v\npage: %s", user, err, pageText(tab))
		}
		loc, body := waitForPage(tab, d.GatewayURL+callbackPath, "Test login of", 20*time.Second)
		if !strings.HasPrefix(loc, d.GatewayURL+callbackPath) {
			t.Fatalf("test login as %s ended at %s: %s", user, loc, body)
		}
		shoot(tab, "test-"+user)
		noSessionCookie(tab, "after the test login as "+user)
		return body
	}

	alice := testLogin("alice")
	for _, want := range []string{"Accepted", "alice@example.com", "verified, by the IdP", "Engineering, Admins", "developer, admin", "No session was created"} {
		if !strings.Contains(alice, want) {
			t.Errorf("alice's test result lacks %q: %s", want, alice)
		}
	}
	// The app still asks for a login: the test made no session.
	if err := chromedp.Do(tab, chromedp.Navigate(d.GatewayURL+"/"), chromedp.WaitVisible(chromedp.CSS("#choose-alice"))); err != nil {
		t.Errorf("after alice's test login the app did not ask for a login: %v\npage: %s", err, pageText(tab))
	}

	bob := testLogin("bob")
	for _, want := range []string{"Refused", "group_not_allowed", "a member of Engineering", "Fix:", "JumpCloud"} {
		if !strings.Contains(bob, want) {
			t.Errorf("bob's diagnosis lacks %q: %s", want, bob)
		}
	}
	reqID, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#request-id")))
	if err != nil || reqID == "" {
		t.Fatalf("no request ID on bob's diagnosis: %v", err)
	}

	// Bob's refusal is listed on the setup page, under its request ID.
	err = chromedp.Do(tab, chromedp.Navigate(d.SetupURL), chromedp.WaitVisible(chromedp.CSS("#refusals")))
	if err != nil {
		t.Fatalf("no recent refusals on the setup page: %v\npage: %s", err, pageText(tab))
	}
	shoot(tab, "refusals")
	refusals, _ := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#refusals")))
	if !strings.Contains(refusals, reqID) || !strings.Contains(refusals, "group_not_allowed") || !strings.Contains(refusals, "test login") {
		t.Errorf("recent refusals lack bob's (request %s): %s", reqID, refusals)
	}
	if strings.Contains(refusals, "bob@example.com") || strings.Contains(refusals, "Sales") {
		t.Errorf("recent refusals show the user's email or groups: %s", refusals)
	}
	noSessionCookie(tab, "at the end")

	// 403: a failing check (the wrong token) and a missing one (a
	// SetupHandler built without Authorize).
	admin, err := url.Parse(d.SetupURL)
	if err != nil {
		t.Fatal(err)
	}
	admin.User = url.UserPassword("admin", "wrong-token-0123456789")
	missing := httptest.NewServer(d.app.gw.SetupHandler(gateway.SetupConfig{}))
	defer missing.Close()
	for _, tc := range []struct{ name, url string }{
		{"failing", admin.String()},
		{"missing", missing.URL + "/setup/?connection=" + demoConnection},
	} {
		fresh, cancelFresh := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		res, err := chromedp.RunResponse(fresh, chromedp.Navigate(tc.url))
		if err != nil {
			t.Fatalf("%s check: %v", tc.name, err)
		}
		body := pageText(fresh)
		shoot(fresh, "forbidden-"+tc.name)
		if res.Status != http.StatusForbidden || !strings.Contains(body, "Access denied") || strings.Contains(body, demoSPEntityID) {
			t.Errorf("%s authorization check: status %d, page %s", tc.name, res.Status, body)
		}
		cancelFresh()
	}
	t.Logf("screenshots in %s", shots)
}

// checkScreenshot saves a PNG of the page at path and checks it is one:
// it decodes, is the window's width, and is not a blank page.
func checkScreenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", path, err)
		return
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Errorf("screenshot %s does not decode: %v", path, err)
		return
	}
	bounds := img.Bounds()
	colors := map[[4]uint32]bool{}
	for y := bounds.Min.Y; y < bounds.Max.Y && len(colors) < 16; y += 7 {
		for x := bounds.Min.X; x < bounds.Max.X && len(colors) < 16; x += 7 {
			r, g, b, a := img.At(x, y).RGBA()
			colors[[4]uint32{r, g, b, a}] = true
		}
	}
	if bounds.Dx() < 800 || len(colors) < 3 {
		t.Errorf("screenshot %s: %dx%d with %d colours: not a rendered page", path, bounds.Dx(), bounds.Dy(), len(colors))
	}
}
