package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/samlgate/samlgate/saml"
)

// TeamSyncer syncs a verified identity's team memberships at login and
// returns all the user's teams afterwards. *teamsync.Engine (package
// groups/teamsync) is one; the gateway only knows this interface, so it
// stays independent of where teams are stored.
//
// An error whose chain holds a value with a method RefusesLogin() bool
// that returns true (teamsync.ErrGroupsAbsent: the connection's policy
// denies logins without a groups attribute) refuses the login with
// login_refused (403) whatever Config.TeamSyncBestEffort says; any other
// error refuses it with team_sync_failed (503) unless best-effort is set.
type TeamSyncer interface {
	SyncTeams(ctx context.Context, id *saml.Identity) (teams []string, err error)
}

// CodeTeamSyncFailed: Config.TeamSync failed (its store is down, a link
// names a team that no longer exists), and the login was refused rather
// than let the user in with memberships the IdP no longer grants (503).
const CodeTeamSyncFailed saml.Code = "team_sync_failed"

const hintTeamSyncFailed = "The team sync (Config.TeamSync) failed after a valid login, and the login was refused so that no stale team membership is used. " +
	"Check the teams database and the links (see the Debug log for the error), or set Config.TeamSyncBestEffort to let users in without teams when it fails."

// syncTeams runs Config.TeamSync for a verified identity, at login only
// (never on a session). ok is false when the login was refused; the page
// is then written.
func (g *Gateway) syncTeams(w http.ResponseWriter, r *http.Request, c *conn, id *saml.Identity, ev LoginEvent, reqID string) (teams []string, ok bool) {
	if g.cfg.TeamSync == nil {
		return nil, true
	}
	ctx := r.Context()
	teams, err := g.cfg.TeamSync.SyncTeams(ctx, id)
	if err == nil {
		return slices.Clone(teams), true
	}
	var refusal interface{ RefusesLogin() bool }
	if errors.As(err, &refusal) && refusal.RefusesLogin() {
		e := newError(CodeLoginRefused, "the team sync refused the login", err)
		e.Hint = "The connection's team sync policy refuses logins without a groups attribute (absent_groups: deny): configure the IdP application to send the groups attribute."
		e.Connection = c.Name()
		g.refuse(w, r, ev, e, reqID, "")
		return nil, false
	}
	if g.cfg.TeamSyncBestEffort {
		g.logger.WarnContext(ctx, "samlgate: team sync failed; login continues without teams (TeamSyncBestEffort)", "connection", c.Name(), "request_id", reqID, "error", err.Error())
		return nil, true
	}
	e := newError(CodeTeamSyncFailed, "the team sync failed", err)
	e.Hint = hintTeamSyncFailed
	e.Connection = c.Name()
	g.refuse(w, r, ev, e, reqID, "")
	return nil, false
}

// RequireTeam lets a request through only when the session's teams
// (TeamsFromContext) include one of teams (exact names); otherwise 403, as
// RequireGroup. Without an identity it answers 401: wrap it in
// RequireLogin.
func RequireTeam(teams ...string) func(http.Handler) http.Handler {
	if len(teams) == 0 {
		panic("samlgate: RequireTeam needs at least one team")
	}
	teams = slices.Clone(teams)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := IdentityFromContext(r.Context()); !ok {
				writeJSONError(w, http.StatusUnauthorized, "login_required")
				return
			}
			have, _ := TeamsFromContext(r.Context())
			for _, t := range teams {
				if slices.Contains(have, t) {
					next.ServeHTTP(w, r)
					return
				}
			}
			deny(w, r, http.StatusForbidden, "forbidden", func() { forbiddenPage(w) })
		})
	}
}
