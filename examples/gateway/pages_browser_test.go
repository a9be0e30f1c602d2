package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/samlgate/samlgate/saml/samltest"
)

// pageShots is where TestBrowserPages saves its screenshots:
// $BROWSER_SCREENSHOTS when set (to look at them), else a temporary
// directory (they are never committed).
func pageShots(t *testing.T) string {
	if dir := os.Getenv("BROWSER_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// shoot saves a PNG of the whole page as dir/name.png.
func shoot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Error(err)
		return
	}
	t.Logf("screenshot: %s", p)
}

// postPages serves the HTTP-POST binding pages of chosen responses, as an
// IdP would: GET /NAME auto-posts the response stored under NAME to the
// ACS. It lets the test post a response twice (a replay), or one the demo
// IdP would not send (an unverified email).
type postPages struct {
	mu    sync.Mutex
	pages map[string][]byte
}

func (p *postPages) set(name string, page []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pages == nil {
		p.pages = map[string][]byte{}
	}
	p.pages[name] = page
}

func (p *postPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	page, ok := p.pages[strings.TrimPrefix(r.URL.Path, "/")]
	p.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(page)
}

// TestBrowserPages shows the pages of logout and of each refusal in a real
// Chromium, driving real refusals through the demo IdP (bob is in no
// allowed group, carol gets JumpCloud's RequestDenied), a replayed
// response and one with an unverified email; it checks the visible text of
// each and saves a screenshot of each (see pageShots).
func TestBrowserPages(t *testing.T) {
	dir := pageShots(t)
	posts := &postPages{}
	poster := httptest.NewServer(posts)
	t.Cleanup(poster.Close) // after the browser's (cleanups run last first)
	browser, d, _ := browserDemo(t, 120*time.Second, chromedp.WindowSize(1000, 760))
	acs := d.Config.Connections[0].ACSURL

	// newTab is a fresh browser profile: no cookies of another subtest.
	newTab := func(t *testing.T) context.Context {
		tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancelTab)
		return tab
	}
	// expect waits for a page of the gateway at path whose text holds
	// every one of want, and fails with what was shown instead.
	expect := func(t *testing.T, tab context.Context, path string, want ...string) string {
		t.Helper()
		loc, body := waitForPage(tab, d.GatewayURL+path, want[0], 15*time.Second)
		if !strings.HasPrefix(loc, d.GatewayURL+path) {
			t.Fatalf("at %s, want %s%s; page: %s", loc, d.GatewayURL, path, body)
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("the page at %s lacks %q; it shows: %s", loc, w, body)
			}
		}
		return body
	}
	// refusal checks a refusal page: its words, the code and a request ID
	// for the administrator, and "Sign in again" only when retry.
	refusal := func(t *testing.T, tab context.Context, code string, retry bool, want ...string) {
		t.Helper()
		body := expect(t, tab, callbackPath, append(want, "For your administrator: code "+code+" · request ID ")...)
		if got := strings.Contains(body, "Sign in again"); got != retry {
			t.Errorf("Sign in again offered: %v, want %v; page: %s", got, retry, body)
		}
		for _, secret := range []string{"@example.com", "Sales", "Contractors"} {
			if strings.Contains(body, secret) {
				t.Errorf("the page shows %q: %s", secret, body)
			}
		}
	}
	loginAlice := func(t *testing.T, tab context.Context) {
		t.Helper()
		err := chromedp.Do(tab,
			chromedp.Navigate(d.IdPURL+"/"),
			chromedp.Click(chromedp.CSS("#tile-alice")),
			chromedp.WaitVisible(chromedp.CSS("#hello")),
		)
		if err != nil {
			t.Fatalf("alice's login: %v\npage: %s", err, pageText(tab))
		}
	}

	t.Run("logout", func(t *testing.T) {
		tab := newTab(t)
		loginAlice(t, tab)
		if err := chromedp.Do(tab, chromedp.Navigate(d.GatewayURL+logoutPath+"?return_to=/reports")); err != nil {
			t.Fatal(err)
		}
		expect(t, tab, logoutPath, "Sign out of samlgate demo?", "You are signed in to samlgate demo.", "Signing out ends your session here.", "Sign out")
		shoot(t, tab, dir, "logout-confirm")
		if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS("#signout"))); err != nil {
			t.Fatal(err)
		}
		body := expect(t, tab, logoutPath, "You are signed out of samlgate demo.", "You may still be signed in to JumpCloud.", "Sign in again")
		shoot(t, tab, dir, "signed-out")
		if strings.Contains(body, "code ") {
			t.Errorf("the signed-out page shows a code: %s", body)
		}
		// The session is over: the application needs a new login, which
		// "Sign in again" starts, landing on return_to.
		if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS("#retry")), chromedp.WaitVisible(chromedp.CSS("#choose-alice"))); err != nil {
			t.Fatalf("Sign in again: %v\npage: %s", err, pageText(tab))
		}
		if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS("#choose-alice"))); err != nil {
			t.Fatal(err)
		}
		v, err := readUpstreamPage(tab)
		if err != nil || v.Path != "/reports" {
			t.Errorf("after signing in again: %+v, %v", v, err)
		}
	})

	t.Run("not in an allowed group", func(t *testing.T) {
		tab := newTab(t)
		if err := chromedp.Do(tab, chromedp.Navigate(d.IdPURL+"/"), chromedp.Click(chromedp.CSS("#tile-bob"))); err != nil {
			t.Fatal(err)
		}
		refusal(t, tab, "group_not_allowed", false,
			"No access to samlgate demo", "You signed in with JumpCloud, but your account is not in a group that may use samlgate demo.",
			"Ask your administrator to add you to a group that has access to samlgate demo.")
		shoot(t, tab, dir, "refused-group-not-allowed")
	})

	t.Run("not assigned at the IdP (RequestDenied)", func(t *testing.T) {
		tab := newTab(t)
		if err := chromedp.Do(tab, chromedp.Navigate(d.IdPURL+"/"), chromedp.Click(chromedp.CSS("#tile-carol"))); err != nil {
			t.Fatal(err)
		}
		refusal(t, tab, "status_not_success", false,
			"JumpCloud did not let you sign in to samlgate demo.", "not assigned to this application at JumpCloud",
			"Ask your administrator to give your account access to samlgate demo in JumpCloud.")
		shoot(t, tab, dir, "refused-status-not-success")
	})

	t.Run("replayed", func(t *testing.T) {
		// Alice's tile, fetched without a browser: the page that posts her
		// response, which the browser then submits twice.
		res, err := http.Get(d.IdPURL + idpIdPInitiatedPath + "?user=alice")
		if err != nil {
			t.Fatal(err)
		}
		page, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		posts.set("alice", page)
		tab := newTab(t)
		if err := chromedp.Do(tab, chromedp.Navigate(poster.URL+"/alice"), chromedp.WaitVisible(chromedp.CSS("#hello"))); err != nil {
			t.Fatalf("the first post: %v\npage: %s", err, pageText(tab))
		}
		if err := chromedp.Do(tab, chromedp.Navigate(poster.URL+"/alice")); err != nil {
			t.Fatal(err)
		}
		refusal(t, tab, "replayed", true, "Sign-in link already used", "a sign-in can be used only once", "Sign in again to continue.")
		shoot(t, tab, dir, "refused-replayed")
		// A retry can succeed: it starts a new login at the IdP.
		if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS("#retry")), chromedp.WaitVisible(chromedp.CSS("#choose-alice"))); err != nil {
			t.Errorf("Sign in again: %v\npage: %s", err, pageText(tab))
		}
	})

	t.Run("email not verified", func(t *testing.T) {
		// A JumpCloud app without the constant attribute email_verified =
		// true, signed with the demo IdP's key.
		v, err := d.idp.idp.FormValue(samltest.Response{
			Audience: demoSPEntityID, Destination: acs,
			Email: "dave@example.com", EmailVerified: "false", Groups: []string{"Engineering"},
		})
		if err != nil {
			t.Fatal(err)
		}
		posts.set("dave", d.idp.idp.HTMLPostForm(acs, v, ""))
		tab := newTab(t)
		if err := chromedp.Do(tab, chromedp.Navigate(poster.URL+"/dave")); err != nil {
			t.Fatal(err)
		}
		refusal(t, tab, "email_not_verified", false,
			"Email address not verified", "Only verified email addresses may sign in to samlgate demo, and JumpCloud did not confirm that yours is verified.")
		shoot(t, tab, dir, "refused-email-not-verified")
	})

	t.Run("unknown connection", func(t *testing.T) {
		tab := newTab(t)
		if err := chromedp.Do(tab, chromedp.Navigate(d.GatewayURL+loginPath+"?connection=nope")); err != nil {
			t.Fatal(err)
		}
		expect(t, tab, loginPath, "Unknown sign-in link", "does not name a connection of samlgate demo", "code unknown_connection")
		shoot(t, tab, dir, "unknown-connection")
	})
}

// TestBrowserLogoutURL: with a connection's logout_url, both ways of
// signing out (the upstream's form, and the gateway's confirmation page,
// whose Content-Security-Policy form-action must allow the redirect:
// Chromium checks it on the redirect of a form's POST too) end the session
// and land on that URL, here the demo IdP's portal.
func TestBrowserLogoutURL(t *testing.T) {
	st := newBrowserStack(t, func(gwPort, idpPort string) (string, string) {
		return "http://127.0.0.1:" + gwPort, "http://127.0.0.1:" + idpPort
	})
	st.start(t, func(cfg *Config) { cfg.Connections[0].LogoutURL = st.idpURL + "/" }, nil)
	browser, gwURL, idpURL := st.browser, st.gwURL, st.idpURL

	for _, tc := range []struct {
		name    string
		signOut func(tab context.Context) error
	}{
		{"upstream form", func(tab context.Context) error { return chromedp.Do(tab, chromedp.Click(chromedp.CSS("#logout"))) }},
		{"confirmation page", func(tab context.Context) error {
			return chromedp.Do(tab, chromedp.Navigate(gwURL+logoutPath), chromedp.Click(chromedp.CSS("#signout")))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
			defer cancelTab()
			err := chromedp.Do(tab,
				chromedp.Navigate(idpURL+"/"),
				chromedp.Click(chromedp.CSS("#tile-alice")),
				chromedp.WaitVisible(chromedp.CSS("#hello")),
			)
			if err != nil {
				t.Fatalf("login: %v\npage: %s", err, pageText(tab))
			}
			if err := tc.signOut(tab); err != nil {
				t.Fatal(err)
			}
			loc, body := waitForPage(tab, idpURL+"/", "JumpCloud user portal", 15*time.Second)
			if loc != idpURL+"/" || !strings.Contains(body, "JumpCloud user portal") {
				t.Fatalf("after signing out: %s, want the logout_url %s/; page: %s", loc, idpURL, body)
			}
			// The session is over: the app needs a login again.
			if err := chromedp.Do(tab, chromedp.Navigate(gwURL+"/"), chromedp.WaitVisible(chromedp.CSS("#choose-alice"))); err != nil {
				t.Errorf("after logout the app did not ask for a login: %v\npage: %s", err, pageText(tab))
			}
		})
	}
}
