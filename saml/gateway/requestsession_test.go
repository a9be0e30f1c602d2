package gateway_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
)

// TestContextIdentityAndTeams: the identity and the teams share one
// context value; each helper keeps what the other put there, in either
// order, and an empty or absent value reads as none.
func TestContextIdentityAndTeams(t *testing.T) {
	alice := &saml.Identity{Subject: "alice"}
	teams := []string{"core"}
	bg := context.Background()
	for _, tc := range []struct {
		name      string
		ctx       context.Context
		wantID    *saml.Identity
		wantTeams []string
	}{
		{"nothing", bg, nil, nil},
		{"identity only", gateway.ContextWithIdentity(bg, alice), alice, nil},
		{"teams only", gateway.ContextWithTeams(bg, teams), nil, teams},
		{"identity then teams", gateway.ContextWithTeams(gateway.ContextWithIdentity(bg, alice), teams), alice, teams},
		{"teams then identity", gateway.ContextWithIdentity(gateway.ContextWithTeams(bg, teams), alice), alice, teams},
		{"identity replaced", gateway.ContextWithIdentity(gateway.ContextWithIdentity(bg, &saml.Identity{Subject: "bob"}), alice), alice, nil},
		{"nil identity", gateway.ContextWithIdentity(gateway.ContextWithTeams(bg, teams), nil), nil, teams},
		{"empty teams", gateway.ContextWithTeams(gateway.ContextWithIdentity(bg, alice), []string{}), alice, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, ok := gateway.IdentityFromContext(tc.ctx)
			if id != tc.wantID || ok != (tc.wantID != nil) {
				t.Errorf("IdentityFromContext = %v, %v; want %v", id, ok, tc.wantID)
			}
			got, ok := gateway.TeamsFromContext(tc.ctx)
			if !slices.Equal(got, tc.wantTeams) || ok != (len(tc.wantTeams) > 0) {
				t.Errorf("TeamsFromContext = %v, %v; want %v", got, ok, tc.wantTeams)
			}
		})
	}
}

// TestRequireLoginReplacesOuterContext: what an outer handler put in the
// context (an identity, teams) never passes for the session's: RequireLogin
// replaces both, and a session without teams reads as none.
func TestRequireLoginReplacesOuterContext(t *testing.T) {
	e := newGwEnv(t, gwOptions{})
	cookie := gwSessionCookie(t, e.login(e.browser(), e.response("acme")))
	var id *saml.Identity
	var teams []string
	h := e.gw.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ = gateway.IdentityFromContext(r.Context())
		teams, _ = gateway.TeamsFromContext(r.Context())
	}))
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := gateway.ContextWithTeams(gateway.ContextWithIdentity(r.Context(), &saml.Identity{Subject: "mallory"}), []string{"admins"})
		h.ServeHTTP(w, r.WithContext(ctx))
	})
	if rec := gwWithSession(outer, cookie); rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if id == nil || id.Subject != gwEmail || teams != nil {
		t.Errorf("handler saw %+v, teams %v: want the session's identity and no teams", id, teams)
	}
}
