package gateway_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"

	"github.com/samlgate/samlgate/saml/gateway"
)

// FuzzTestLoginToken sends arbitrary test tokens to LoginPath: none that
// the gateway did not seal starts a login (test or not); each gets 403.
// The seeds are well-formed tokens sealed under another key (a token of
// this gateway's would rightly open, in every fuzz worker).
func FuzzTestLoginToken(f *testing.F) {
	e := newGwEnv(f, gwOptions{})
	other := newGwEnv(f, gwOptions{cfgMod: func(c *gateway.Config) { c.SessionKeys = [][]byte{gwKey(2)} }})
	res := setupGet(other.gw.SetupHandler(gateway.SetupConfig{Authorize: allowAll}), "?connection=acme&action=test")
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		f.Fatal(err)
	}
	foreign := loc.Query().Get("setup_test")
	f.Add(foreign)
	f.Add(foreign[:len(foreign)-1])
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, tok string) {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		b := &gwBrowser{t: t, h: e.handler, jar: jar}
		res := b.get(gwHost+"/login?"+url.Values{"connection": {"acme"}, "setup_test": {tok}}.Encode(), gwBrowserAccept)
		if res.StatusCode != http.StatusForbidden || b.requestCookies() != 0 {
			t.Fatalf("token %q: status %d, %d request cookies", tok, res.StatusCode, b.requestCookies())
		}
	})
}
