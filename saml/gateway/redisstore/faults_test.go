package redisstore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/samltest"
)

// clears reports whether res clears the session cookie.
func clears(res *http.Response) bool {
	for _, c := range res.Cookies() {
		if c.Name == gateway.DefaultCookieName && c.MaxAge < 0 {
			return true
		}
	}
	return false
}

func setsSession(res *http.Response) bool {
	for _, c := range res.Cookies() {
		if c.Name == gateway.DefaultCookieName && c.Value != "" {
			return true
		}
	}
	return false
}

// TestReplicasFaults: Redis paused (SIGSTOP) or killed while users are
// signed in. Every request fails closed and keeps what it can: the ACS
// answers 503 unavailable and accepts nothing, requests with a session
// get 503 and keep their cookie. When Redis comes back (resumed with its
// data, or restarted empty) everything works again without a restart of
// the gateways; after a restart the lost sessions are over (cookie
// cleared, a login started).
func TestReplicasFaults(t *testing.T) {
	srv := startRedis(t)
	for _, fault := range []struct {
		name         string
		break_, heal func()
		dataSurvives bool
	}{
		{"paused", srv.Pause, srv.Resume, true},
		{"killed", srv.Kill, srv.Restart, false},
	} {
		t.Run(fault.name, func(t *testing.T) {
			a, b := pair(t, srv, replicaOptions{loginStore: true, timeout: 300 * time.Millisecond})
			user := newBrowser(t)
			login(t, user, a)
			pending := newBrowser(t)
			pendingID, pendingRelay := startLogin(t, pending, a)
			cookie := user.sessionCookie()

			fault.break_()
			// A request with a session: 503, cookie kept, at either replica.
			for _, r := range []*replica{a, b} {
				res := user.get(r, "/")
				if res.StatusCode != http.StatusServiceUnavailable || clears(res) || !strings.Contains(body(t, res), string(saml.CodeUnavailable)) {
					t.Errorf("a session at %s with Redis %s: %d (cookie cleared: %v); want 503 unavailable, cookie kept", r.name, fault.name, res.StatusCode, clears(res))
				}
			}
			// A login: 503 unavailable, no session.
			res := newBrowser(t).post(b, mint(t, ""), "")
			if page := body(t, res); res.StatusCode != http.StatusServiceUnavailable || setsSession(res) || !strings.Contains(page, string(saml.CodeUnavailable)) {
				t.Errorf("a login with Redis %s: %d, session set %v\n%s", fault.name, res.StatusCode, setsSession(res), page)
			}
			// The SP-initiated login started before: 503, nothing accepted.
			res = pending.post(b, mint(t, pendingID), pendingRelay)
			if res.StatusCode != http.StatusServiceUnavailable || setsSession(res) {
				t.Errorf("completing a login with Redis %s: %d, session set %v", fault.name, res.StatusCode, setsSession(res))
			}
			// Starting one: 503.
			if res := newBrowser(t).do(a, httptest.NewRequest(http.MethodGet, rHost+"/login?connection=acme", nil)); res.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("GET /login with Redis %s: %d; want 503", fault.name, res.StatusCode)
			}
			// Logout: 503 and the cookie kept, so that a retry ends the
			// session rather than leave it valid in Redis.
			if res := user.do(b, logoutRequest()); res.StatusCode != http.StatusServiceUnavailable || clears(res) {
				t.Errorf("logout with Redis %s: %d, cookie cleared %v; want 503 and the cookie kept", fault.name, res.StatusCode, clears(res))
			}
			// RevokeUser reports the failure.
			if err := a.gw.RevokeUser(context.Background(), "acme", rEmail); err == nil {
				t.Errorf("RevokeUser with Redis %s succeeded", fault.name)
			}
			if user.sessionCookie() != cookie {
				t.Fatal("the browser lost its session cookie")
			}
			fault.heal()

			if fault.dataSurvives {
				if got := status(t, user, b); got != http.StatusOK {
					t.Errorf("the session after Redis resumed: %d", got)
				}
				// The retried logout ends it everywhere.
				if res := user.do(b, logoutRequest()); res.StatusCode != http.StatusSeeOther || !clears(res) {
					t.Errorf("logout after Redis resumed: %d", res.StatusCode)
				}
				thief := newBrowser(t)
				thief.jar.SetCookies(mustURL(rHost), []*http.Cookie{{Name: gateway.DefaultCookieName, Value: cookie, Path: "/", Secure: true}})
				if got := status(t, thief, a); got != http.StatusUnauthorized {
					t.Errorf("a copy of the cookie after the logout: %d; want 401", got)
				}
			} else {
				// The session is gone with Redis's data: the cookie is
				// cleared and the browser sent to log in.
				req := httptest.NewRequest(http.MethodGet, rHost+"/reports", nil)
				req.Header.Set("Accept", "text/html")
				res := user.do(b, req)
				if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login?") || !clears(res) {
					t.Errorf("a lost session after the restart: %d %q, cleared %v; want a login started and the cookie cleared", res.StatusCode, res.Header.Get("Location"), clears(res))
				}
			}
			// Logins work again, at both replicas, without a gateway restart.
			again := newBrowser(t)
			login(t, again, b)
			if got := status(t, again, a); got != http.StatusOK {
				t.Errorf("a new session after Redis came back: %d", got)
			}
			id, relay := startLogin(t, again, a)
			if res := again.post(b, mint(t, id), relay); res.StatusCode != http.StatusSeeOther {
				t.Errorf("an SP-initiated login after Redis came back: %d %s", res.StatusCode, body(t, res))
			}
		})
	}
}

// TestReplicasSessionTTL: the session's Redis TTL is the session's
// lifetime; when it runs out the session is over even though the cookie's
// sealed expiry (judged by a gateway clock held still here) has not
// passed.
func TestReplicasSessionTTL(t *testing.T) {
	srv := startRedis(t)
	frozen := time.Now()
	a, b := pair(t, srv, replicaOptions{now: func() time.Time { return frozen }, lifetime: 700 * time.Millisecond})
	br := newBrowser(t)
	login(t, br, a)
	if got := status(t, br, b); got != http.StatusOK {
		t.Fatalf("the session: %d", got)
	}
	cookie := br.sessionCookie()
	time.Sleep(900 * time.Millisecond)
	// The cookie as the browser holds it (its Max-Age, on the wall clock,
	// is about to run out too).
	req := httptest.NewRequest(http.MethodGet, rHost+"/", nil)
	req.AddCookie(&http.Cookie{Name: gateway.DefaultCookieName, Value: cookie})
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	res := rec.Result()
	if res.StatusCode != http.StatusUnauthorized || !clears(res) {
		t.Errorf("after the session's TTL: %d, cleared %v; want 401 and the cookie cleared", res.StatusCode, clears(res))
	}
	keys, err := a.store.Client().Keys(context.Background(), "*sess:*").Result()
	if err != nil || len(keys) != 0 {
		t.Errorf("session keys left after the TTL: %v, %v", keys, err)
	}
}

// TestReplicasGarbledSession: whatever sits under the session's key
// (garbage, a value of another session, a foreign type) is no session:
// the cookie is cleared, never a panic or a 500.
func TestReplicasGarbledSession(t *testing.T) {
	srv := startRedis(t)
	a, b := pair(t, srv, replicaOptions{})
	other := newBrowser(t)
	login(t, other, a)
	ctx := context.Background()
	rc := a.store.Client()
	otherKeys, err := rc.Keys(ctx, "*sess:*").Result()
	if err != nil || len(otherKeys) != 1 {
		t.Fatalf("session keys: %v, %v", otherKeys, err)
	}
	otherValue, err := rc.Get(ctx, otherKeys[0]).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		put  func(key string) error
	}{
		{"garbage", func(k string) error { return rc.Set(ctx, k, "\x01\x00not sealed at all", time.Hour).Err() }},
		{"truncated", func(k string) error { return rc.Set(ctx, k, "\x01", time.Hour).Err() }},
		{"another session's value", func(k string) error { return rc.Set(ctx, k, otherValue, time.Hour).Err() }},
		{"a hash", func(k string) error {
			if err := rc.Del(ctx, k).Err(); err != nil {
				return err
			}
			return rc.HSet(ctx, k, "x", "y").Err()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := newBrowser(t)
			before, _ := rc.Keys(ctx, "*sess:*").Result()
			login(t, br, a)
			after, _ := rc.Keys(ctx, "*sess:*").Result()
			key := newKey(before, after)
			if key == "" {
				t.Fatalf("no new session key: %v -> %v", before, after)
			}
			if err := tc.put(key); err != nil {
				t.Fatal(err)
			}
			res := br.get(b, "/")
			if res.StatusCode != http.StatusUnauthorized || !clears(res) {
				t.Errorf("%s under the session key: %d, cleared %v; want 401 and the cookie cleared", tc.name, res.StatusCode, clears(res))
			}
		})
	}
	if got := status(t, other, b); got != http.StatusOK {
		t.Errorf("the other session: %d", got)
	}
}

func newKey(before, after []string) string {
	seen := map[string]bool{}
	for _, k := range before {
		seen[k] = true
	}
	for _, k := range after {
		if !seen[k] {
			return k
		}
	}
	return ""
}

func logoutRequest() *http.Request {
	req := httptest.NewRequest(http.MethodPost, rHost+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return req
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestReplicasSessionNotOnOrAfter: the session's Redis TTL never outlives
// the assertion's SessionNotOnOrAfter.
func TestReplicasSessionNotOnOrAfter(t *testing.T) {
	srv := startRedis(t)
	a, _ := pair(t, srv, replicaOptions{})
	form, err := testIdP(t).FormValue(samltest.Response{
		Audience: "urn:samlgate:acme", Destination: rACS, Email: rEmail, EmailVerified: "true",
		SessionNotOnOrAfter: time.Now().Add(2 * time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res := newBrowser(t).post(a, form, ""); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", res.StatusCode)
	}
	ctx := context.Background()
	keys, err := a.store.Client().Keys(ctx, "*sess:*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("session keys %v, %v", keys, err)
	}
	if d, err := a.store.Client().PTTL(ctx, keys[0]).Result(); err != nil || d <= 0 || d > 2*time.Minute {
		t.Errorf("the session's TTL: %v, %v; want at most the 2 minutes left to SessionNotOnOrAfter", d, err)
	}
}
