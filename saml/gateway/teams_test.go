package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/samlgate/samlgate/groups/teamsync"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
)

// teamsApp is gwApp's gateway with /teams (the session's teams) and /eng
// (RequireTeam("eng")).
func teamsApp(gw *gateway.Gateway) http.Handler {
	show := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		teams, _ := gateway.TeamsFromContext(r.Context())
		fmt.Fprintf(w, "teams=%s", strings.Join(teams, ","))
	})
	mux := http.NewServeMux()
	mux.Handle("/login/callback", gw)
	mux.Handle("/teams", gw.RequireLogin(show))
	mux.Handle("/eng", gw.RequireLogin(gateway.RequireTeam("eng")(show)))
	mux.Handle("/ops", gw.RequireLogin(gateway.RequireTeam("ops", "nope")(show)))
	return mux
}

// countingSyncer counts calls, and fails with err when set.
type countingSyncer struct {
	next  gateway.TeamSyncer
	calls atomic.Int64
	err   error
}

func (c *countingSyncer) SyncTeams(ctx context.Context, id *saml.Identity) ([]string, error) {
	c.calls.Add(1)
	if c.err != nil {
		return nil, c.err
	}
	return c.next.SyncTeams(ctx, id)
}

func newTeamEngine(t *testing.T, policy teamsync.Policy) (*teamsync.Engine, *teamsync.MemoryStore) {
	t.Helper()
	ctx := context.Background()
	store := teamsync.NewMemoryStore()
	for _, team := range []string{"eng", "ops", "staff"} {
		if err := store.CreateTeam(ctx, team); err != nil {
			t.Fatal(err)
		}
	}
	e, err := teamsync.New(ctx, teamsync.Config{Store: store, Logger: gwDiscard(), DefaultPolicy: policy, Links: []teamsync.Link{
		{Connection: "acme", Group: "engineering", Team: "eng"},
		{Connection: "acme", Group: "Everyone", Team: "staff"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return e, store
}

// TestTeamSyncAtLogin: a login syncs the user's teams and keeps them in the
// session, where RequireTeam reads them; requests with the session do not
// sync again.
func TestTeamSyncAtLogin(t *testing.T) {
	engine, store := newTeamEngine(t, teamsync.Policy{})
	if err := engine.AddMember(context.Background(), teamsync.User{Connection: "acme", Subject: gwEmail}, "ops"); err != nil {
		t.Fatal(err)
	}
	syncer := &countingSyncer{next: engine}
	env := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.TeamSync = syncer }})
	env.handler = teamsApp(env.gw)
	b := env.browser()
	env.login(b, env.response("acme"))
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/teams", http.StatusOK, "teams=eng,ops,staff"},
		{"/eng", http.StatusOK, "teams=eng,ops,staff"},
		{"/ops", http.StatusOK, "teams="},
	} {
		res := b.get(gwHost+tc.path, "application/json")
		if body := gwBody(t, res); res.StatusCode != tc.status || !strings.Contains(body, tc.body) {
			t.Errorf("GET %s: %d %q, want %d %q", tc.path, res.StatusCode, body, tc.status, tc.body)
		}
	}
	if n := syncer.calls.Load(); n != 1 {
		t.Errorf("SyncTeams ran %d times for one login and three requests, want 1", n)
	}
	// The IdP drops Engineering: the next login leaves eng, keeps ops.
	r := env.response("acme")
	r.Groups = []string{"Everyone"}
	env.login(b, r)
	res := b.get(gwHost+"/eng", "application/json")
	if body := gwBody(t, res); res.StatusCode != http.StatusForbidden {
		t.Errorf("GET /eng after leaving eng: %d %q, want 403", res.StatusCode, body)
	}
	teamsynctestCheck(t, store, []string{"ops", "staff"})
}

func teamsynctestCheck(t *testing.T, store teamsync.Store, want []string) {
	t.Helper()
	ms, err := store.UserTeams(context.Background(), "acme", gwEmail)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Team)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("stored teams %q, want %q", got, want)
	}
}

// TestTeamSyncRefusals: a failing sync refuses the login (503
// team_sync_failed) unless best-effort; a deny policy refuses it (403
// login_refused) whatever best-effort says.
func TestTeamSyncRefusals(t *testing.T) {
	deny, _ := newTeamEngine(t, teamsync.Policy{Absent: teamsync.AbsentDeny})
	down := &countingSyncer{err: fmt.Errorf("teamsync: begin: %w: %w", teamsync.ErrStore, errors.New("connection refused"))}
	for _, tc := range []struct {
		name       string
		syncer     gateway.TeamSyncer
		bestEffort bool
		groups     []string
		status     int
		code       saml.Code
	}{
		{"store down", down, false, []string{"Engineering"}, http.StatusServiceUnavailable, gateway.CodeTeamSyncFailed},
		{"store down, best effort", down, true, []string{"Engineering"}, http.StatusSeeOther, ""},
		{"groups absent, deny", deny, false, nil, http.StatusForbidden, gateway.CodeLoginRefused},
		{"groups absent, deny, best effort", deny, true, nil, http.StatusForbidden, gateway.CodeLoginRefused},
		{"groups present but empty, deny", deny, false, []string{}, http.StatusSeeOther, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.TeamSync, c.TeamSyncBestEffort = tc.syncer, tc.bestEffort }})
			env.handler = teamsApp(env.gw)
			r := env.response("acme")
			r.Groups = tc.groups
			b := env.browser()
			res := b.post(r.Destination, env.mint(r), "")
			body := gwBody(t, res)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			if ev := env.lastEvent(); ev.Code != tc.code {
				t.Errorf("event code %q, want %q", ev.Code, tc.code)
			}
			if tc.code != "" && !strings.Contains(body, string(tc.code)) {
				t.Errorf("the page does not show %s: %s", tc.code, body)
			}
			if tc.code == "" {
				res := b.get(gwHost+"/teams", "application/json")
				if body := gwBody(t, res); res.StatusCode != http.StatusOK {
					t.Errorf("GET /teams after the login: %d %s", res.StatusCode, body)
				}
			}
		})
	}
}

// TestRequireTeam checks the middleware on its own.
func TestRequireTeam(t *testing.T) {
	for _, tc := range []struct {
		name   string
		id     bool
		teams  []string
		status int
	}{
		{"in one of the teams", true, []string{"x", "eng"}, http.StatusOK},
		{"in none", true, []string{"ENG"}, http.StatusForbidden},
		{"no teams", true, nil, http.StatusForbidden},
		{"no identity", false, []string{"eng"}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := gateway.RequireTeam("eng", "ops")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			ctx := gateway.ContextWithTeams(req.Context(), tc.teams)
			if tc.id {
				ctx = gateway.ContextWithIdentity(ctx, &saml.Identity{Connection: "acme", Subject: "alice"})
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req.WithContext(ctx))
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d", rec.Code, tc.status)
			}
		})
	}
	defer func() {
		if recover() == nil {
			t.Error("RequireTeam() with no team did not panic")
		}
	}()
	gateway.RequireTeam()
}
