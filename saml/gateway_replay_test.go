package saml_test

import (
	"context"
	"errors"
	"testing"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

// A connection swapped in by SetConnection (a metadata refresh) must still
// refuse an assertion the connection it replaced consumed; with its own
// fresh default cache, the replay window would reopen.
func TestSetConnectionKeepsReplayCache(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ownCache   bool // the replacement brings its own (empty) cache
		wantReplay bool
	}{
		{name: "default caches are carried over", wantReplay: true},
		{name: "an explicit cache is respected", ownCache: true, wantReplay: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newGwEnv(t, gwOptions{})
			form, err := env.idp.FormValue(samltest.Response{
				Audience: "urn:samlgate:acme", Destination: gwACS("acme"),
				Email: gwEmail, EmailVerified: "true",
			})
			if err != nil {
				t.Fatal(err)
			}
			old, _ := env.gw.Connection("acme")
			if _, err := old.Verify(context.Background(), form); err != nil {
				t.Fatalf("first use: %v", err)
			}
			env.gw.SetConnection(gwConn(t, "acme", env.idp, env.clk, func(c *saml.ConnectionConfig) {
				if tc.ownCache {
					c.ReplayCache = saml.NewMemoryReplayCache(0, env.clk.Now)
				}
			}))
			cur, _ := env.gw.Connection("acme")
			_, err = cur.Verify(context.Background(), form)
			if got := errors.Is(err, saml.ErrReplayed); got != tc.wantReplay {
				t.Fatalf("replayed = %v (err %v), want %v", got, err, tc.wantReplay)
			}
		})
	}
}
