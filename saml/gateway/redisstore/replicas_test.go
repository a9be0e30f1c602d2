package redisstore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/samltest"
)

// TestReplicas: two gateways sharing one Redis act as one, with the login
// state in the request cookie and in Redis.
func TestReplicas(t *testing.T) {
	srv := startRedis(t)
	for _, mode := range []struct {
		name       string
		loginStore bool
	}{{"login state in cookie", false}, {"login state in Redis", true}} {
		t.Run(mode.name, func(t *testing.T) {
			a, b := pair(t, srv, replicaOptions{loginStore: mode.loginStore})
			for _, tc := range replicaScenarios {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, a, b) })
			}
		})
	}
}

// replicaScenarios run against two replicas sharing one Redis.
var replicaScenarios = []struct {
	name string
	run  func(t *testing.T, a, b *replica)
}{
	{"response consumed on A is refused on B", replicaReplay},
	{"session from A works on B, logout on A ends it on B", replicaSessionAndLogout},
	{"SP-initiated login started on A completes on B", replicaSPInitiated},
	{"login CSRF: the handle without the browser's cookie", replicaLoginCSRF},
	{"IdP-initiated RelayState", replicaIdPInitiated},
	{"RevokeUser on A ends the user's sessions on both", replicaRevokeUser},
}

// replicaReplay: response consumed on A is refused on B.
func replicaReplay(t *testing.T, a, b *replica) {
	form := mint(t, "")
	if res := newBrowser(t).post(a, form, ""); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("A: %d", res.StatusCode)
	}
	res := newBrowser(t).post(b, form, "")
	if page := body(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, string(saml.CodeReplayed)) {
		t.Errorf("the same response at B: %d\n%s", res.StatusCode, page)
	}
}

// replicaSessionAndLogout: session from A works on B, logout on A ends it on B.
func replicaSessionAndLogout(t *testing.T, a, b *replica) {
	br := newBrowser(t)
	login(t, br, a)
	stolen := br.sessionCookie() // a copy, as from a log
	if got := status(t, br, b); got != http.StatusOK {
		t.Fatalf("A's session at B: %d", got)
	}
	req := httptest.NewRequest(http.MethodPost, rHost+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if res := br.do(a, req); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout at A: %d", res.StatusCode)
	}
	thief := newBrowser(t)
	u, _ := url.Parse(rHost)
	thief.jar.SetCookies(u, []*http.Cookie{{Name: gateway.DefaultCookieName, Value: stolen, Path: "/", Secure: true}})
	if got := status(t, thief, b); got != http.StatusUnauthorized {
		t.Errorf("the session's cookie at B after logout at A: %d; want 401", got)
	}
}

// replicaSPInitiated: SP-initiated login started on A completes on B.
func replicaSPInitiated(t *testing.T, a, b *replica) {
	br := newBrowser(t)
	id, relay := startLogin(t, br, a)
	if len(relay) > 80 || strings.Contains(relay, "reports") {
		t.Errorf("RelayState %q: want an opaque handle of at most 80 bytes", relay)
	}
	form := mint(t, id)
	res := br.post(b, form, relay)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/reports" {
		t.Fatalf("callback at B: %d %q %s", res.StatusCode, res.Header.Get("Location"), body(t, res))
	}
	if got := status(t, br, a); got != http.StatusOK {
		t.Errorf("the session at A: %d", got)
	}
	// The login request is used once: a second response to it
	// (a fresh assertion, so not a replay) is refused.
	res = br.post(a, mint(t, id), relay)
	if page := body(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, string(saml.CodeInResponseToMismatch)) {
		t.Errorf("a second response to one login request: %d\n%s", res.StatusCode, page)
	}
}

// replicaLoginCSRF: login CSRF: the handle without the browser's cookie.
func replicaLoginCSRF(t *testing.T, a, b *replica) {
	attacker, victim := newBrowser(t), newBrowser(t)
	id, relay := startLogin(t, attacker, a)
	form := mint(t, id)
	if res := victim.post(b, form, relay); res.StatusCode != http.StatusBadRequest {
		t.Errorf("the attacker's RelayState from the victim's browser: %d", res.StatusCode)
	}
	if got := status(t, victim, a); got != http.StatusUnauthorized {
		t.Errorf("the victim has a session: %d", got)
	}
	// Not consumed by the refusal: the attacker's own browser
	// still completes it.
	if res := attacker.post(b, form, relay); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the browser that started it: %d %s", res.StatusCode, body(t, res))
	}
}

// replicaIdPInitiated: IdP-initiated RelayState.
func replicaIdPInitiated(t *testing.T, a, b *replica) {
	res := newBrowser(t).post(b, mint(t, ""), "/dashboard")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/dashboard" {
		t.Errorf("IdP-initiated with a local path: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// replicaRevokeUser: RevokeUser on A ends the user's sessions on both.
func replicaRevokeUser(t *testing.T, a, b *replica) {
	onA, onB, other := newBrowser(t), newBrowser(t), newBrowser(t)
	login(t, onA, a)
	login(t, onB, b)
	res := other.post(a, func() string {
		v, err := testIdP(t).FormValue(samltest.Response{Audience: "urn:samlgate:acme", Destination: rACS, Email: "bob@example.com", EmailVerified: "true"})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}(), "")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob's login: %d", res.StatusCode)
	}
	if err := a.gw.RevokeUser(context.Background(), "acme", rEmail); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		br   *browser
		r    *replica
		want int
	}{{onA, a, 401}, {onA, b, 401}, {onB, a, 401}, {onB, b, 401}, {other, b, 200}} {
		if got := status(t, c.br, c.r); got != c.want {
			t.Errorf("after RevokeUser: a browser at %s: %d; want %d", c.r.name, got, c.want)
		}
	}
}

// TestReplicasConcurrentDoublePost: the same response posted to both
// replicas at the same instant, 200 times: exactly one accepted each time.
func TestReplicasConcurrentDoublePost(t *testing.T) {
	srv := startRedis(t)
	// A generous per-call timeout: this test is about the race, not about
	// a loaded CI machine's latency (a timeout would fail closed, 503).
	a, b := pair(t, srv, replicaOptions{timeout: 5 * time.Second})
	for round := range 200 {
		form := mint(t, "")
		var wg sync.WaitGroup
		codes := make([]int, 2)
		start := make(chan struct{})
		for i, r := range []*replica{a, b} {
			wg.Go(func() {
				<-start
				codes[i] = samltest.PostForm(r.handler, rACS, form, "").StatusCode
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, c := range codes {
			switch c {
			case http.StatusSeeOther:
				ok++
			case http.StatusBadRequest:
			default:
				t.Fatalf("round %d: status %v", round, codes)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of 2 posts accepted (%v); want exactly 1", round, ok, codes)
		}
	}
}

// TestRefusedLeavesNoMarker: Verify consults the replay cache last, so a
// response refused for any other reason writes no marker in Redis (and
// can still be used once it would be accepted); an accepted one writes
// exactly one.
func TestRefusedLeavesNoMarker(t *testing.T) {
	srv := startRedis(t)
	a, _ := pair(t, srv, replicaOptions{})
	ctx := context.Background()
	markers := func() int {
		keys, err := a.store.Client().Keys(ctx, "*replay:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		return len(keys)
	}
	idp := testIdP(t)
	for _, tc := range []struct {
		name string
		r    samltest.Response
	}{
		{"wrong audience", samltest.Response{Audience: "urn:other", Destination: rACS, Email: rEmail, EmailVerified: "true"}},
		{"unknown InResponseTo", samltest.Response{Audience: "urn:samlgate:acme", Destination: rACS, Email: rEmail, EmailVerified: "true", InResponseTo: "id-unknown"}},
		{"email not verified", samltest.Response{Audience: "urn:samlgate:acme", Destination: rACS, Email: rEmail}},
	} {
		form, err := idp.FormValue(tc.r)
		if err != nil {
			t.Fatal(err)
		}
		if res := newBrowser(t).post(a, form, ""); res.StatusCode == http.StatusSeeOther {
			t.Fatalf("%s: accepted", tc.name)
		}
		if n := markers(); n != 0 {
			t.Errorf("%s: %d replay markers in Redis after a refusal; want none", tc.name, n)
		}
	}
	login(t, newBrowser(t), a)
	if n := markers(); n != 1 {
		t.Errorf("%d replay markers after one login; want 1", n)
	}
}
