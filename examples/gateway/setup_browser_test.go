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
// every screenshot is checked to be a picture of a rendered page.
func TestBrowserSetupAssistant(t *testing.T) {
	browser, d, _ := browserDemo(t, 120*time.Second)
	s := &setupSession{t: t, d: d, shots: os.Getenv("BROWSER_SCREENSHOTS")}
	if s.shots == "" {
		s.shots = t.TempDir()
	}
	tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancelTab()
	s.tab = tab

	s.openFromPortal()
	alice := s.testLogin("alice")
	for _, want := range []string{"Accepted", "alice@example.com", "verified, by the IdP", "Engineering, Admins", "developer, admin", "Teams a sync would grant", "admins, everyone, platform", "No session was created"} {
		if !strings.Contains(alice, want) {
			t.Errorf("alice's test result lacks %q: %s", want, alice)
		}
	}
	// The app still asks for a login: the test made no session.
	if err := chromedp.Do(tab, chromedp.Navigate(d.GatewayURL+"/"), chromedp.WaitVisible(chromedp.CSS("#choose-alice"))); err != nil {
		t.Errorf("after alice's test login the app did not ask for a login: %v\npage: %s", err, pageText(tab))
	}
	bob := s.testLogin("bob")
	for _, want := range []string{"Refused", "group_not_allowed", "a member of Engineering", "Fix:", "JumpCloud"} {
		if !strings.Contains(bob, want) {
			t.Errorf("bob's diagnosis lacks %q: %s", want, bob)
		}
	}
	reqID, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#request-id")))
	if err != nil || reqID == "" {
		t.Fatalf("no request ID on bob's diagnosis: %v", err)
	}
	s.checkRefusalListed(reqID)
	s.checkForbidden(browser)
	t.Logf("screenshots in %s", s.shots)
}

// setupSession is one run of the setup assistant in a Chromium tab.
type setupSession struct {
	t     *testing.T
	d     *demo
	tab   context.Context
	shots string
}

func (s *setupSession) shoot(ctx context.Context, name string) {
	s.t.Helper()
	checkScreenshot(s.t, ctx, filepath.Join(s.shots, "setup-"+name+".png"))
}

// noSessionCookie fails when the browser holds a gateway session cookie.
func (s *setupSession) noSessionCookie(when string) {
	s.t.Helper()
	cookies, err := cookiesFor(s.tab, s.d.GatewayURL+"/")
	if err != nil {
		s.t.Fatal(err)
	}
	for _, c := range cookies {
		if strings.Contains(c.Name, "samlgate_session") {
			s.t.Errorf("%s: the browser holds a session cookie %s", when, c.Name)
		}
	}
}

// openFromPortal follows the demo IdP portal's link (token included) to
// the setup page and checks what it shows.
func (s *setupSession) openFromPortal() {
	s.t.Helper()
	err := chromedp.Do(s.tab,
		chromedp.Navigate(s.d.IdPURL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#setup-assistant")),
		chromedp.Click(chromedp.CSS("#setup-assistant")),
		chromedp.WaitVisible(chromedp.CSS("#test-login")),
	)
	if err != nil {
		s.t.Fatalf("the setup page did not open from the portal's link: %v\npage: %s", err, pageText(s.tab))
	}
	s.shoot(s.tab, "page")
	page := pageText(s.tab)
	for _, want := range []string{
		demoSPEntityID, s.d.Config.Connections[0].ACSURL, "email_verified = true", "memberOf",
		"bind the allowed groups: Engineering", "SHA-256", "last good refresh", "No refusal recorded",
	} {
		if !strings.Contains(page, want) {
			s.t.Errorf("the setup page lacks %q", want)
		}
	}
}

// testLogin presses Test login, signs in at the IdP as user and returns
// the text of the result page.
func (s *setupSession) testLogin(user string) string {
	s.t.Helper()
	err := chromedp.Do(s.tab,
		chromedp.Navigate(s.d.SetupURL),
		chromedp.WaitVisible(chromedp.CSS("#test-login")),
		chromedp.Click(chromedp.CSS("#test-login")),
		chromedp.WaitVisible(chromedp.CSS("#choose-"+user)),
		chromedp.Click(chromedp.CSS("#choose-"+user)),
	)
	if err != nil {
		s.t.Fatalf("test login as %s: %v\npage: %s", user, err, pageText(s.tab))
	}
	loc, body := waitForPage(s.tab, s.d.GatewayURL+callbackPath, "Test login of", 20*time.Second)
	if !strings.HasPrefix(loc, s.d.GatewayURL+callbackPath) || !strings.Contains(body, "Test login of") {
		s.t.Fatalf("test login as %s ended at %s: %s", user, loc, body)
	}
	s.shoot(s.tab, "test-"+user)
	s.noSessionCookie("after the test login as " + user)
	return body
}

// checkRefusalListed checks that the setup page lists the refusal of
// request reqID, without the user's email or groups.
func (s *setupSession) checkRefusalListed(reqID string) {
	s.t.Helper()
	err := chromedp.Do(s.tab, chromedp.Navigate(s.d.SetupURL), chromedp.WaitVisible(chromedp.CSS("#refusals")))
	if err != nil {
		s.t.Fatalf("no recent refusals on the setup page: %v\npage: %s", err, pageText(s.tab))
	}
	s.shoot(s.tab, "refusals")
	refusals, _ := chromedp.Run(s.tab, chromedp.Text(chromedp.CSS("#refusals")))
	if !strings.Contains(refusals, reqID) || !strings.Contains(refusals, "group_not_allowed") || !strings.Contains(refusals, "test login") {
		s.t.Errorf("recent refusals lack bob's (request %s): %s", reqID, refusals)
	}
	if strings.Contains(refusals, "bob@example.com") || strings.Contains(refusals, "Sales") {
		s.t.Errorf("recent refusals show the user's email or groups: %s", refusals)
	}
	s.noSessionCookie("at the end")
}

// checkForbidden opens the assistant with a failing authorization check
// (the wrong token) and with a missing one (a SetupHandler built without
// Authorize), each in a fresh browser context: 403 and nothing shown.
func (s *setupSession) checkForbidden(browser context.Context) {
	s.t.Helper()
	wrong, err := url.Parse(s.d.SetupURL)
	if err != nil {
		s.t.Fatal(err)
	}
	wrong.User = url.UserPassword("admin", "wrong-token-0123456789")
	missing := httptest.NewServer(s.d.app.gw.SetupHandler(gateway.SetupConfig{}))
	defer missing.Close()
	for _, tc := range []struct{ name, url string }{
		{"failing", wrong.String()},
		{"missing", missing.URL + "/setup/?connection=" + demoConnection},
	} {
		fresh, cancelFresh := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		res, err := chromedp.RunResponse(fresh, chromedp.Navigate(tc.url))
		if err != nil {
			s.t.Fatalf("%s check: %v", tc.name, err)
		}
		body := pageText(fresh)
		s.shoot(fresh, "forbidden-"+tc.name)
		if res.Status != http.StatusForbidden || !strings.Contains(body, "Access denied") || strings.Contains(body, demoSPEntityID) {
			s.t.Errorf("%s authorization check: status %d, page %s", tc.name, res.Status, body)
		}
		cancelFresh()
	}
}

// checkScreenshot saves a PNG of the page at path and checks it is one:
// it decodes, is at least 800 pixels wide, and is not a blank page.
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
