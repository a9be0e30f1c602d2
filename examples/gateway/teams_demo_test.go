package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestDemoTeamSync runs the demo: alice's first login joins the teams her
// groups link to; after her groups change on the demo IdP's portal, the
// next login shows the diff (joined, left) on the upstream page, and a
// forged X-Forwarded-Teams never reaches the upstream.
func TestDemoTeamSync(t *testing.T) {
	ctx := t.Context()
	d, err := startDemo(ctx, freeDemoOptions, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		if err := d.shutdown(); err != nil {
			t.Error(err)
		}
	})
	loginAndRead := func() receivedIdentity {
		t.Helper()
		wc := newWebClient(tr)
		if _, _, err := idpInitiated(ctx, wc, d, "alice"); err != nil {
			t.Fatal(err)
		}
		h := forgedHeaders()
		h.Set("X-Forwarded-Teams", "root")
		h.Set("X_Forwarded_Teams", "root")
		p, err := wc.get(ctx, d.GatewayURL+"/whoami.json", h)
		if err != nil || p.Status != http.StatusOK {
			t.Fatalf("whoami: %v %s", err, p)
		}
		var id receivedIdentity
		if err := json.Unmarshal(p.Body, &id); err != nil {
			t.Fatal(err)
		}
		if hv := id.ForwardedHeaders["X-Forwarded-Teams"]; len(hv) != 1 || strings.Contains(hv[0], "root") {
			t.Fatalf("X-Forwarded-Teams reaching the upstream: %q", hv)
		}
		page, err := wc.get(ctx, d.GatewayURL+"/", nil)
		if err != nil || !strings.Contains(string(page.Body), `id="last-login"`) {
			t.Fatalf("the upstream page shows no team sync diff: %v %s", err, page)
		}
		return id
	}

	first := loginAndRead()
	if want := []string{"admins", "everyone", "platform"}; !slices.Equal(first.Teams, want) {
		t.Fatalf("teams after the first login: %q, want %q", first.Teams, want)
	}
	if ts := first.TeamSync; ts == nil || ts.LastLogin == nil || !slices.Equal(ts.LastLogin.Joined, []string{"admins", "everyone", "platform"}) {
		t.Fatalf("first login's team sync: %+v", first.TeamSync)
	}
	if src := first.TeamSync.Teams[0].Sources; len(src) != 1 || src[0].String() != "link admins" {
		t.Fatalf("sources of admins: %q", src)
	}

	// The admin drops Admins and adds Support on the demo IdP.
	res, err := (&http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).
		PostForm(d.IdPURL+idpGroupsPath, url.Values{"group": {"Engineering", "Support", "NotAChoice"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST %s: %s", idpGroupsPath, res.Status)
	}

	second := loginAndRead()
	if want := []string{"everyone", "platform", "support"}; !slices.Equal(second.Teams, want) {
		t.Fatalf("teams after the second login: %q, want %q", second.Teams, want)
	}
	ll := second.TeamSync.LastLogin
	if ll == nil || !slices.Equal(ll.Joined, []string{"support"}) || !slices.Equal(ll.Left, []string{"admins"}) {
		t.Fatalf("second login's diff: %+v", ll)
	}
}

// browserTeamSync (a step of TestBrowser, after alice's logins) changes
// alice's groups on the demo IdP's portal, as an admin would, and logs her
// in again: the upstream page shows the teams joined and left.
func browserTeamSync(t *testing.T, browser context.Context, d *demo) {
	tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancelTab()
	err := chromedp.Do(tab,
		chromedp.Navigate(d.IdPURL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#groups-form")),
		chromedp.Click(chromedp.CSS("#group-Admins")),
		chromedp.Click(chromedp.CSS("#group-Support")),
		chromedp.Click(chromedp.CSS("#groups-save")),
		// The page after the POST, not the one before it (whose nodes
		// go away under the click).
		chromedp.WaitVisible(chromedp.CSS("#groups-saved")),
		chromedp.WaitVisible(chromedp.CSS("#tile-alice")),
		chromedp.Click(chromedp.CSS("#tile-alice")),
		chromedp.WaitVisible(chromedp.CSS("#last-login")),
	)
	screenshot(t, tab, "team-sync-diff")
	if err != nil {
		t.Fatalf("changing alice's groups and logging in again: %v\npage: %s", err, pageText(tab))
	}
	joined, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#joined")))
	if err != nil {
		t.Fatal(err)
	}
	left, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#left")))
	if err != nil {
		t.Fatal(err)
	}
	teams, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#teams")))
	if err != nil {
		t.Fatal(err)
	}
	if joined != "support" || left != "admins" || teams != "everyone, platform, support" {
		t.Fatalf("after the change the page shows joined %q, left %q, teams %q; want support, admins, everyone, platform, support", joined, left, teams)
	}
	t.Logf("team sync: joined %q, left %q, teams %q", joined, left, teams)
}
