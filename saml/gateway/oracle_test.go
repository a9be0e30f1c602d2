package gateway_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/samlgate/samlgate/saml/gateway"
)

// TestGatewayNoConnectionOracle: by default, nobody can list the
// connections (tenants) of a gateway, nor tell a name that is a connection
// from one that is not without starting a login: no chooser, and the same
// status and page for a missing ?connection= as for an unknown one, at the
// login, the metadata and the callback.
func TestGatewayNoConnectionOracle(t *testing.T) {
	e := newGwEnv(t, gwOptions{connNames: []string{"acme", "beta"}})
	b := e.browser()
	type answer struct {
		status int
		body   string
	}
	ask := func(res *http.Response) answer { return answer{res.StatusCode, gwBody(t, res)} }
	query := func(name string) string {
		if name == "" {
			return ""
		}
		return "?connection=" + url.QueryEscape(name)
	}
	var first *answer
	for _, ep := range []struct {
		name string
		do   func(q string) *http.Response
	}{
		{"login", func(q string) *http.Response { return b.get(gwHost+"/login"+q, gwBrowserAccept) }},
		{"metadata", func(q string) *http.Response { return b.get(gwHost+"/saml/metadata"+q, "") }},
		{"callback", func(q string) *http.Response {
			return b.post(gwHost+"/login/callback"+q, e.mint(e.response("acme")), "")
		}},
	} {
		missing := ask(ep.do(""))
		if missing.status != http.StatusNotFound || !strings.Contains(missing.body, string(gateway.CodeUnknownConnection)) {
			t.Errorf("%s without a connection: %d\n%s", ep.name, missing.status, missing.body)
		}
		for _, name := range []string{"nope", "ACME", "acme ", strings.Repeat("x", 300)} {
			if got := ask(ep.do(query(name))); got != missing {
				t.Errorf("%s of %q: %d, differs from the answer without a connection (%d):\n%s", ep.name, name, got.status, missing.status, got.body)
			}
		}
		if first == nil {
			first = &missing
		} else if missing != *first {
			t.Errorf("%s: the unknown-connection page differs from the login's", ep.name)
		}
	}
	for _, name := range []string{"acme", "beta"} {
		if body := first.body; strings.Contains(body, name) {
			t.Errorf("the page names the connection %q:\n%s", name, body)
		}
	}

	// A protected page passes the request's ?connection= on as it came,
	// whether or not it exists: the redirect says nothing either.
	for _, name := range []string{"beta", "nope"} {
		res := b.get(gwHost+"/app?connection="+name, gwBrowserAccept)
		loc, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || loc.Query().Get("connection") != name {
			t.Errorf("protected page with ?connection=%s: %d %q", name, res.StatusCode, res.Header.Get("Location"))
		}
	}
}
