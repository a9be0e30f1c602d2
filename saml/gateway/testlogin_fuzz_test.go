package gateway_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/samlgate/samlgate/saml/gateway"
)

// FuzzTestLoginToken sends arbitrary test tokens to LoginPath: none that
// the gateway did not seal starts a login (test or not); each gets 403.
func FuzzTestLoginToken(f *testing.F) {
	e := newGwEnv(f, gwOptions{})
	res := setupGet(e.gw.SetupHandler(gateway.SetupConfig{Authorize: allowAll}), "?connection=acme&action=test")
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		f.Fatal(err)
	}
	good := loc.Query().Get("setup_test")
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(good + "A")
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, tok string) {
		if tok == good {
			return
		}
		b := e.browser()
		res := b.get(gwHost+"/login?"+url.Values{"connection": {"acme"}, "setup_test": {tok}}.Encode(), gwBrowserAccept)
		if res.StatusCode != http.StatusForbidden || b.requestCookies() != 0 {
			t.Fatalf("token %q: status %d, %d request cookies", tok, res.StatusCode, b.requestCookies())
		}
	})
}
