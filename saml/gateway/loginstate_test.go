package gateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/gateway/storetest"
	"github.com/samlgate/samlgate/saml/samltest"
)

// TestRelayStateIsAHandle: the RelayState of an SP-initiated login is an
// opaque handle of at most 80 bytes (SAML bindings §3.4.3, §3.5.3),
// whatever the return_to, and shows nothing of the request.
func TestRelayStateIsAHandle(t *testing.T) {
	for _, store := range []bool{false, true} {
		clk := &gwClock{t: gwPinned}
		e := newGwEnv(t, gwOptions{clk: clk, cfgMod: func(c *gateway.Config) {
			if store {
				c.LoginStateStore = newLoginStore(clk.Now)
			}
		}})
		long := "/" + strings.Repeat("a", 2000)
		seen := map[string]bool{}
		for _, rt := range []string{"/", "/reports?q=1", long} {
			b := e.browser()
			id, acs, relay := e.startLogin(b, url.Values{"connection": {"acme"}, "return_to": {rt}}.Encode())
			if len(relay) > 80 || strings.Contains(relay, "reports") || strings.Contains(relay, "aaaa") || seen[relay] {
				t.Errorf("store %v: RelayState %q (%d bytes) for return_to %.20q: want a fresh opaque handle of at most 80 bytes", store, relay, len(relay), rt)
			}
			seen[relay] = true
			r := e.response("acme")
			r.InResponseTo = id
			if res := b.post(acs, e.mint(r), relay); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != rt {
				t.Errorf("store %v: return_to %.20q: %d %.30q", store, rt, res.StatusCode, res.Header.Get("Location"))
			}
		}
	}
}

// TestLoginStateStore: with a LoginStateStore the pending login is taken
// once; a store failure refuses as unavailable (503) without consuming the
// response or the login; login CSRF protection holds.
func TestLoginStateStore(t *testing.T) {
	clk := &gwClock{t: gwPinned}
	store := newLoginStore(clk.Now)
	e := newGwEnv(t, gwOptions{clk: clk, cfgMod: func(c *gateway.Config) { c.LoginStateStore = store }})

	b := e.browser()
	id, acs, relay := e.startLogin(b, "connection=acme&return_to=/one")
	if store.len() != 1 {
		t.Fatalf("the store holds %d login states; want 1", store.len())
	}
	r := e.response("acme")
	r.InResponseTo = id
	form := e.mint(r)

	// The attacker's handle posted from a victim's browser: refused, and
	// nothing consumed.
	victim := e.browser()
	if res := victim.post(acs, form, relay); res.StatusCode != http.StatusBadRequest || e.lastEvent().Code != saml.CodeInResponseToMismatch {
		t.Errorf("the handle without its cookie: %d %q", res.StatusCode, e.lastEvent().Code)
	}
	// The store fails at the callback: 503 unavailable, nothing accepted.
	store.setFail(errors.New("redis down"))
	res := b.post(acs, form, relay)
	if res.StatusCode != http.StatusServiceUnavailable || e.lastEvent().Code != saml.CodeUnavailable || gwSetCookie(res, gateway.DefaultCookieName) != "" {
		t.Errorf("callback with the store failing: %d %q, session %q", res.StatusCode, e.lastEvent().Code, gwSetCookie(res, gateway.DefaultCookieName))
	}
	// ... and at the start of a login: 503.
	if res := e.browser().get(gwHost+"/login?connection=acme", gwBrowserAccept); res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(gwBody(t, res), "unavailable") {
		t.Errorf("GET /login with the store failing: %d", res.StatusCode)
	}
	store.setFail(nil)
	if store.len() != 1 {
		t.Errorf("the store holds %d login states after the refusals; want 1 (nothing consumed)", store.len())
	}

	// Taken once: the same handle and cookie, with a fresh response to
	// the same request (not a replay), find nothing the second time.
	b2 := e.browser()
	id2, _, relay2 := e.startLogin(b2, "connection=acme&return_to=/two")
	var reqCookie *http.Cookie
	for _, c := range b2.jar.Cookies(&url.URL{Scheme: "https", Host: "auth.example.com", Path: "/"}) {
		if strings.HasPrefix(c.Name, gwRequestCookiePrefix) {
			reqCookie = c
		}
	}
	if reqCookie == nil || reqCookie.Value != relay2 {
		t.Fatalf("request cookie %v; want the handle", reqCookie)
	}
	r.InResponseTo = id2
	if res := b2.post(acs, e.mint(r), relay2); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/two" {
		t.Fatalf("a login with the store back: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	again := samltestPost(acs, e.mint(r), relay2, reqCookie)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, again)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "took too long") {
		t.Errorf("a second response to a taken login: %d\n%s", rec.Code, rec.Body.String())
	}
}

func samltestPost(acs, form, relay string, c *http.Cookie) *http.Request {
	req := samltest.NewPostRequest(acs, form, relay)
	req.AddCookie(c)
	return req
}

// loginStore is a LoginStateStore in a map, with a failure switch.
type loginStore struct {
	now  func() time.Time
	mu   sync.Mutex
	m    map[string][]byte
	exp  map[string]time.Time
	fail error
}

func newLoginStore(now func() time.Time) *loginStore {
	return &loginStore{now: now, m: map[string][]byte{}, exp: map[string]time.Time{}}
}

func (s *loginStore) SaveLoginState(ctx context.Context, h string, sealed []byte, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.m[h], s.exp[h] = append([]byte(nil), sealed...), at
	return nil
}

func (s *loginStore) TakeLoginState(ctx context.Context, h string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, ok := s.m[h]
	exp := s.exp[h]
	delete(s.m, h)
	delete(s.exp, h)
	if !ok || !s.now().Before(exp) {
		return nil, nil
	}
	return v, nil
}

func (s *loginStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

func (s *loginStore) setFail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

// The test store passes the suite the Redis store passes.
func TestLoginStoreConformance(t *testing.T) {
	storetest.RunLoginStateStore(t, func(t *testing.T) gateway.LoginStateStore { return newLoginStore(time.Now) })
}

// FuzzCallbackRelayState: whatever RelayState and request cookie a
// callback brings (both are the client's to choose), the gateway neither
// panics nor sets a session for a response that does not verify.
func FuzzCallbackRelayState(f *testing.F) {
	e := newGwEnv(f, gwOptions{})
	_, _, relay := e.startLogin(e.browser(), "connection=acme")
	f.Add(relay, "x")
	f.Add("sg1_"+strings.Repeat("A", 43), "")
	f.Add("/dashboard", "v")
	f.Fuzz(func(t *testing.T, relay, cookie string) {
		req := samltest.NewPostRequest(gwACS("acme"), "bm90IGEgcmVzcG9uc2U=", relay)
		sum := sha256.Sum256([]byte(relay))
		req.Header.Add("Cookie", gwRequestCookiePrefix+hex.EncodeToString(sum[:8])+"="+cookie)
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		if rec.Code == http.StatusSeeOther || gwSetCookie(rec.Result(), gateway.DefaultCookieName) != "" {
			t.Fatalf("RelayState %q, cookie %q: %d, session set", relay, cookie, rec.Code)
		}
	})
}
