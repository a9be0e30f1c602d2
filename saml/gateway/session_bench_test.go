package gateway_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/samlgate/samlgate/saml/gateway"
)

// BenchmarkSessionCheck measures what the gateway adds to every proxied
// request once a user is logged in: RequireLogin reading the session
// cookie, opening it (AES-GCM) and, with a SessionStore, loading the
// session, then putting the identity into the request context; the
// wrapped handler does nothing. The identity holds the given number of
// groups: a stateless cookie holds them all (up to the cookie's size,
// beyond which the in-memory overflow store takes the session), a store
// holds them server-side.
//
//	go test -run '^$' -bench BenchmarkSessionCheck -benchmem -count 6 ./saml/gateway/
func BenchmarkSessionCheck(b *testing.B) {
	stores := []struct {
		name string
		cfg  func(c *gateway.Config)
	}{
		{"cookie", nil},
		{"memory-store", func(c *gateway.Config) {
			c.SessionStore = gateway.NewMemorySessionStore(gateway.MemorySessionLimits{}, c.Now)
		}},
	}
	for _, st := range stores {
		for _, n := range []int{2, 100} {
			b.Run(fmt.Sprintf("store=%s/groups=%d", st.name, n), func(b *testing.B) {
				e := newGwEnv(b, gwOptions{cfgMod: st.cfg})
				r := e.response("acme")
				r.Groups = nil
				for i := range n {
					r.Groups = append(r.Groups, fmt.Sprintf("group-%04d", i))
				}
				cookie := gwSessionCookie(b, e.login(e.browser(), r))
				ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if _, found := gateway.IdentityFromContext(r.Context()); !found {
						http.Error(w, "no identity", http.StatusInternalServerError)
					}
				})
				h := e.gw.RequireLogin(ok)
				req := httptest.NewRequest(http.MethodGet, gwHost+"/api/items", nil)
				req.Header.Set("Accept", "application/json")
				req.AddCookie(cookie)
				if rec := sessionBenchServe(h, req); rec.Code != http.StatusOK {
					b.Fatalf("setup: status %d %s", rec.Code, rec.Body)
				}
				b.ReportAllocs()
				for b.Loop() {
					if rec := sessionBenchServe(h, req); rec.Code != http.StatusOK {
						b.Fatalf("status %d", rec.Code)
					}
				}
			})
		}
	}
}

func sessionBenchServe(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
