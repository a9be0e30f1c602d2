package gateway

import (
	"context"

	"github.com/samlgate/samlgate/saml"
)

// sessionKey is the context key of what RequireLogin puts in a request's
// context: one value for the identity and the teams, so that a request
// with a session costs one context value (IdentityFromContext,
// TeamsFromContext).
type sessionKey struct{}

// sessionCtx is that value.
type sessionCtx struct {
	id    *saml.Identity
	teams []string
}

func sessionFromContext(ctx context.Context) *sessionCtx {
	s, _ := ctx.Value(sessionKey{}).(*sessionCtx)
	if s == nil {
		return &sessionCtx{}
	}
	return s
}

// requestSession is one request's copy of a session. The decoded session
// is shared with the decode cache and every other request of the same
// session, so a handler must receive a copy it may change (a careless
// handler appending to Groups, or rewriting Subject, changes only its own
// request). Everything the copy holds is in one allocation when the
// session's groups, roles and teams number at most len(small); beyond,
// their strings (never copied: strings are immutable) get one array.
type requestSession struct {
	ctx   sessionCtx
	id    saml.Identity
	small [8]string
}

// newRequestSession copies st for one request. Groups, Roles and teams
// share one backing array, each slice capped at its own length, so that
// an append to one reallocates instead of writing into the next. Groups
// and Roles are never nil (an empty list is [] in JSON); teams are nil
// when the session has none.
func newRequestSession(st *sessionState) *requestSession {
	rs := &requestSession{id: *st.ID}
	ng, nr, nt := len(st.ID.Groups), len(st.ID.Roles), len(st.Teams)
	backing := rs.small[:0]
	if n := ng + nr + nt; n > len(rs.small) {
		backing = make([]string, 0, n)
	}
	backing = append(append(append(backing, st.ID.Groups...), st.ID.Roles...), st.Teams...)
	rs.id.Groups = backing[:ng:ng]
	rs.id.Roles = backing[ng : ng+nr : ng+nr]
	rs.id.Attributes = nil // never sealed (sessionIdentity)
	rs.ctx.id = &rs.id
	if nt > 0 {
		rs.ctx.teams = backing[ng+nr : ng+nr+nt : ng+nr+nt]
	}
	return rs
}

// IdentityFromContext returns the identity RequireLogin put in the request
// context.
func IdentityFromContext(ctx context.Context) (*saml.Identity, bool) {
	id := sessionFromContext(ctx).id
	return id, id != nil
}

// ContextWithIdentity returns ctx carrying id (and the teams ctx carries),
// as RequireLogin does: for tests of handlers that call
// IdentityFromContext or sit behind RequireGroup and RequireRole.
func ContextWithIdentity(ctx context.Context, id *saml.Identity) context.Context {
	s := *sessionFromContext(ctx)
	s.id = id
	return context.WithValue(ctx, sessionKey{}, &s)
}

// TeamsFromContext returns the teams of the session RequireLogin put in the
// request context: the user's teams when they logged in (Config.TeamSync),
// every source included. They are not re-read on each request: a
// membership removed since takes effect at the next login (read the
// store, e.g. teamsync.Engine.UserTeams, where that is too late). ok is
// false without a session, or when the session has no teams.
func TeamsFromContext(ctx context.Context) ([]string, bool) {
	teams := sessionFromContext(ctx).teams
	return teams, len(teams) > 0
}

// ContextWithTeams returns ctx carrying teams (and the identity ctx
// carries), as RequireLogin does: for tests of handlers behind
// RequireTeam.
func ContextWithTeams(ctx context.Context, teams []string) context.Context {
	s := *sessionFromContext(ctx)
	s.teams = teams
	return context.WithValue(ctx, sessionKey{}, &s)
}
