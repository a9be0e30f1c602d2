package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/gateway/storetest"
)

// sessionCookie returns the session cookie a login set.
func gwSessionCookie(t testing.TB, res *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == gateway.DefaultCookieName {
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

// withSession serves GET / (JSON client) with cookie c through h.
func gwWithSession(h http.Handler, c *http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, gwHost+"/", nil)
	req.Header.Set("Accept", "application/json")
	if c != nil {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func gwClearsSession(rec *httptest.ResponseRecorder) bool {
	for _, h := range rec.Header().Values("Set-Cookie") {
		if strings.HasPrefix(h, gateway.DefaultCookieName+"=;") && strings.Contains(h, "Max-Age=0") {
			return true
		}
	}
	return false
}

func TestSessionCookieAttributes(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	res := e.login(e.browser(), e.response("acme"))
	h := gwSetCookie(res, gateway.DefaultCookieName)
	for _, want := range []string{"Path=/", "Max-Age=28800", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(h, want) {
			t.Errorf("session cookie %q lacks %s", h, want)
		}
	}
	if strings.Contains(h, gwEmail) || strings.Contains(h, "Engineering") {
		t.Error("the session cookie is not encrypted")
	}

	e = newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.InsecureCookies = true; c.CookieName = "app_sess" }})
	res = e.login(e.browser(), e.response("acme"))
	if h := gwSetCookie(res, "app_sess"); h == "" || strings.Contains(h, "Secure") {
		t.Errorf("InsecureCookies session cookie %q", h)
	}
}

func TestSessionTamperedAndExpired(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	good := gwSessionCookie(t, e.login(e.browser(), e.response("acme")))
	if rec := gwWithSession(e.handler, good); rec.Code != 200 {
		t.Fatalf("good cookie: %d", rec.Code)
	}

	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	other := newGwEnv(t, gwOptions{clk: e.clk, idp: e.idp, conns: e.conns, cfgMod: func(c *gateway.Config) { c.SessionKeys = [][]byte{gwKey(9)} }})
	foreign := gwSessionCookie(t, other.login(other.browser(), other.response("acme")))

	for _, tc := range []struct {
		name  string
		value string
	}{
		{"first byte flipped", flip(good.Value, 0)},
		{"middle byte flipped", flip(good.Value, len(good.Value)/2)},
		{"last byte flipped", flip(good.Value, len(good.Value)-1)},
		{"truncated", good.Value[:len(good.Value)-10]},
		{"empty", ""},
		{"not base64", "!!!" + good.Value},
		{"unknown key", foreign.Value},
		{"huge", strings.Repeat("A", 20000)},
	} {
		rec := gwWithSession(e.handler, &http.Cookie{Name: gateway.DefaultCookieName, Value: tc.value})
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s: %d", tc.name, rec.Code)
		}
		if tc.value != "" && !gwClearsSession(rec) {
			t.Errorf("%s: cookie not cleared: %v", tc.name, rec.Header().Values("Set-Cookie"))
		}
	}

	// Expiry is the one sealed inside, whatever the cookie's attributes.
	e.clk.Advance(gateway.DefaultSessionLifetime - time.Second)
	if rec := gwWithSession(e.handler, good); rec.Code != 200 {
		t.Fatalf("just before expiry: %d", rec.Code)
	}
	e.clk.Advance(time.Second)
	if rec := gwWithSession(e.handler, good); rec.Code != http.StatusUnauthorized || !gwClearsSession(rec) {
		t.Fatalf("expired cookie: %d %v", rec.Code, rec.Header().Values("Set-Cookie"))
	}
}

func TestSessionNotOnOrAfterCapsTheSession(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	r := e.response("acme")
	r.SessionNotOnOrAfter = gwPinned.Add(time.Hour)
	res := e.login(e.browser(), r)
	c := gwSessionCookie(t, res)
	if c.MaxAge != 3600 {
		t.Errorf("Max-Age %d, want 3600", c.MaxAge)
	}
	e.clk.Advance(time.Hour - time.Second)
	if rec := gwWithSession(e.handler, c); rec.Code != 200 {
		t.Fatalf("before SessionNotOnOrAfter: %d", rec.Code)
	}
	e.clk.Advance(time.Second)
	if rec := gwWithSession(e.handler, c); rec.Code != http.StatusUnauthorized {
		t.Fatalf("at SessionNotOnOrAfter: %d", rec.Code)
	}

	// Already past: no session.
	r.SessionNotOnOrAfter = e.clk.Now().Add(-time.Second)
	res = e.browser().post(gwACS("acme"), e.mint(r), "")
	if res.StatusCode != http.StatusBadRequest || gwSetCookie(res, gateway.DefaultCookieName) != "" {
		t.Errorf("SessionNotOnOrAfter in the past: %d", res.StatusCode)
	}

	// A shorter SessionLifetime wins over a later SessionNotOnOrAfter.
	e = newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.SessionLifetime = 30 * time.Minute }})
	r = e.response("acme")
	r.SessionNotOnOrAfter = gwPinned.Add(time.Hour)
	if c := gwSessionCookie(t, e.login(e.browser(), r)); c.MaxAge != 1800 {
		t.Errorf("Max-Age %d, want 1800", c.MaxAge)
	}
}

func TestSessionKeyRotation(t *testing.T) {
	old, next := gwKey(1), gwKey(2)
	e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.SessionKeys = [][]byte{old} }})
	c := gwSessionCookie(t, e.login(e.browser(), e.response("acme")))
	gateway := func(keys ...[]byte) *gwEnv {
		return newGwEnv(t, gwOptions{clk: e.clk, idp: e.idp, conns: e.conns, cfgMod: func(c *gateway.Config) { c.SessionKeys = keys }})
	}

	// New key first, old key second: old cookies still open.
	rotated := gateway(next, old)
	if rec := gwWithSession(rotated.handler, c); rec.Code != 200 {
		t.Fatalf("old cookie after rotation: %d", rec.Code)
	}
	// New cookies are sealed with the new key: the old gateway cannot open them.
	fresh := gwSessionCookie(t, rotated.login(rotated.browser(), rotated.response("acme")))
	if rec := gwWithSession(e.handler, fresh); rec.Code != http.StatusUnauthorized {
		t.Errorf("cookie sealed with the new key opened by the old key alone: %d", rec.Code)
	}
	// Old key removed: old cookies are no session, and cleared.
	done := gateway(next)
	if rec := gwWithSession(done.handler, c); rec.Code != http.StatusUnauthorized || !gwClearsSession(rec) {
		t.Errorf("old cookie after the old key was removed: %d", rec.Code)
	}
	if rec := gwWithSession(done.handler, fresh); rec.Code != 200 {
		t.Errorf("new cookie: %d", rec.Code)
	}
}

func TestSessionRemovedConnection(t *testing.T) {
	e := newGwEnv(t, gwOptions{connNames: []string{"acme", "beta"}})
	c := gwSessionCookie(t, e.login(e.browser(), e.response("beta")))
	onlyAcme := newGwEnv(t, gwOptions{clk: e.clk, idp: e.idp, conns: e.conns[:1]})
	if rec := gwWithSession(onlyAcme.handler, c); rec.Code != http.StatusUnauthorized {
		t.Errorf("session of a removed connection: %d", rec.Code)
	}
}

// manyGroups is a user in n groups with directory-style names.
func gwManyGroups(n int) []string {
	gs := make([]string, n)
	for i := range gs {
		gs[i] = fmt.Sprintf("cn=group-%04d,ou=groups,o=acme", i+1)
	}
	return gs
}

func TestSessionCookieSizeThousandGroups(t *testing.T) {
	store := newGwStore()
	for _, tc := range []struct {
		name  string
		store gateway.SessionStore
	}{{"no store (in-memory overflow)", nil}, {"SessionStore", store}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.SessionStore = tc.store }})
			r := e.response("acme")
			r.Groups = gwManyGroups(1000)
			b := e.browser()
			res := e.login(b, r)
			h := gwSetCookie(res, gateway.DefaultCookieName)
			if len(h) >= 4096 || len(h) > 400 {
				t.Errorf("Set-Cookie is %d bytes", len(h))
			}
			res = b.get(gwHost+"/", "application/json")
			if got := gwBody(t, res); res.StatusCode != 200 || !strings.Contains(got, "groups=1000 ") {
				t.Fatalf("session: %d %q", res.StatusCode, got)
			}
			if tc.store != nil && store.len() != 1 {
				t.Errorf("store holds %d sessions", store.len())
			}
		})
	}
}

func TestSessionStatelessUntilTooLarge(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	// A second replica: same keys and connections, no shared memory.
	replica := newGwEnv(t, gwOptions{clk: e.clk, idp: e.idp, conns: e.conns})

	small := e.response("acme")
	small.Groups = gwManyGroups(50)
	c := gwSessionCookie(t, e.login(e.browser(), small))
	if len(c.Value) > 3800 {
		t.Fatalf("50 groups take %d bytes", len(c.Value))
	}
	if rec := gwWithSession(replica.handler, c); rec.Code != 200 || !strings.Contains(rec.Body.String(), "groups=50 ") {
		t.Errorf("a small session is not stateless: %d %s", rec.Code, rec.Body)
	}

	// Too large for a cookie: kept in this process only (documented), never
	// with groups dropped.
	large := e.response("acme")
	large.Groups = gwManyGroups(1000)
	c = gwSessionCookie(t, e.login(e.browser(), large))
	if rec := gwWithSession(e.handler, c); rec.Code != 200 || !strings.Contains(rec.Body.String(), "groups=1000 ") {
		t.Errorf("large session on its own replica: %d %s", rec.Code, rec.Body)
	}
	if rec := gwWithSession(replica.handler, c); rec.Code != http.StatusUnauthorized {
		t.Errorf("large session on another replica: %d", rec.Code)
	}
}

func TestSessionStoreFailure(t *testing.T) {
	store := newGwStore()
	e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.SessionStore = store }})
	c := gwSessionCookie(t, e.login(e.browser(), e.response("acme")))

	store.setFail(errors.New("redis: connection refused"))
	rec := gwWithSession(e.handler, c)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"unavailable"`) {
		t.Errorf("Load failure: %d %s", rec.Code, rec.Body)
	}
	req := httptest.NewRequest(http.MethodGet, gwHost+"/", nil)
	req.AddCookie(c)
	if id, err := e.gw.Identity(req); id != nil || !errors.Is(err, saml.CodeUnavailable) {
		t.Errorf("Identity: %v, %v", id, err)
	}
	res := e.browser().post(gwACS("acme"), e.mint(e.response("acme")), "")
	if page := gwBody(t, res); res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "unavailable") || strings.Contains(page, "redis") {
		t.Errorf("Save failure: %d\n%s", res.StatusCode, page)
	}
	if ev := e.lastEvent(); ev.Code != saml.CodeUnavailable {
		t.Errorf("event %+v", ev)
	}

	// The store forgot the session: no session, cookie cleared.
	store.setFail(nil)
	store.clear()
	if rec := gwWithSession(e.handler, c); rec.Code != http.StatusUnauthorized || !gwClearsSession(rec) {
		t.Errorf("session gone from the store: %d", rec.Code)
	}
}

func TestSessionReplacedOnNewLogin(t *testing.T) {
	store := newGwStore()
	e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.SessionStore = store }})
	b := e.browser()
	e.login(b, e.response("acme"))
	e.login(b, e.response("acme"))
	if store.len() != 1 {
		t.Errorf("store holds %d sessions after two logins in one browser, want 1", store.len())
	}
}

// TestMemoryStores runs the conformance suite every store must pass.
func TestMemoryStores(t *testing.T) {
	storetest.RunSessionStore(t, func(t *testing.T) gateway.SessionStore {
		return gateway.NewMemorySessionStore(gateway.MemorySessionLimits{}, nil)
	})
	storetest.RunReplayCache(t, func(t *testing.T) saml.ReplayCache { return saml.NewMemoryReplayCache(0, nil) })
	// A store whose backend can fail (storetest.Breakable): the suite then
	// also checks real failures at login and on later requests.
	storetest.RunSessionStore(t, func(t *testing.T) gateway.SessionStore {
		return &breakableStore{SessionStore: gateway.NewMemorySessionStore(gateway.MemorySessionLimits{}, nil)}
	})
}

// breakableStore fails every call while broken, as a store whose server is
// down does.
type breakableStore struct {
	gateway.SessionStore
	broken atomic.Bool
}

var errStoreDown = errors.New("store down")

func (b *breakableStore) Break()  { b.broken.Store(true) }
func (b *breakableStore) Repair() { b.broken.Store(false) }

func (b *breakableStore) Save(ctx context.Context, id string, sealed []byte, exp time.Time) error {
	if b.broken.Load() {
		return errStoreDown
	}
	return b.SessionStore.Save(ctx, id, sealed, exp)
}

func (b *breakableStore) Load(ctx context.Context, id string) ([]byte, error) {
	if b.broken.Load() {
		return nil, errStoreDown
	}
	return b.SessionStore.Load(ctx, id)
}

func (b *breakableStore) Delete(ctx context.Context, id string) error {
	if b.broken.Load() {
		return errStoreDown
	}
	return b.SessionStore.Delete(ctx, id)
}

// TestSessionStoreHoldsSealedBytes: what a store holds reveals nothing of
// the identity, and does not open without the browser's cookie.
func TestSessionStoreHoldsSealedBytes(t *testing.T) {
	store := newGwStore()
	e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.SessionStore = store }})
	r := e.response("acme")
	r.Groups = []string{"Engineering-Secret-Group"}
	c := gwSessionCookie(t, e.login(e.browser(), r))
	store.mu.Lock()
	var dump []byte
	for k, v := range store.m {
		dump = append(append(dump, k...), v...)
	}
	store.mu.Unlock()
	for _, secret := range []string{gwEmail, "alice", "Engineering-Secret-Group", "acme"} {
		if bytes.Contains(dump, []byte(secret)) {
			t.Errorf("the store holds %q in the clear", secret)
		}
	}
	if rec := gwWithSession(e.handler, c); rec.Code != 200 {
		t.Fatalf("session: %d", rec.Code)
	}
	// Swapping the stored bytes of two sessions: neither opens.
	c2 := gwSessionCookie(t, e.login(e.browser(), e.response("acme")))
	store.mu.Lock()
	var keys []string
	for k := range store.m {
		keys = append(keys, k)
	}
	store.m[keys[0]], store.m[keys[1]] = store.m[keys[1]], store.m[keys[0]]
	store.mu.Unlock()
	for _, ck := range []*http.Cookie{c, c2} {
		if rec := gwWithSession(e.handler, ck); rec.Code != http.StatusUnauthorized {
			t.Errorf("a session opened another's stored bytes: %d", rec.Code)
		}
	}
}
