package gateway

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/samlgate/samlgate/saml"
)

// Identity returns the identity of the request's session, or (nil, nil)
// when there is none (no cookie, or one that is tampered with, expired,
// sealed with a removed key, of a removed connection, or that no longer
// meets its connection's rules: see RequireLogin). An error means
// the SessionStore failed. An identity read from a session has no
// Attributes, AssertionID or InResponseTo.
func (g *Gateway) Identity(r *http.Request) (*saml.Identity, error) {
	id, _, err := g.IdentityWithTeams(r)
	return id, err
}

// IdentityWithTeams is Identity and the teams the session keeps
// (Config.TeamSync; nil without it), for handlers that answer for the
// session without RequireLogin, such as a forward-auth endpoint.
func (g *Gateway) IdentityWithTeams(r *http.Request) (*saml.Identity, []string, error) {
	rs, _, err := g.readSession(r)
	if err != nil || rs == nil {
		return nil, nil, err
	}
	return rs.ctx.id, rs.ctx.teams, nil
}

// RequireLogin lets a request through to next only with a session, whose
// identity it puts in the context (IdentityFromContext). Without one,
// browsers (GET or HEAD, Accept: text/html) are redirected to LoginPath
// with return_to set to the current path and query, and with the
// connection: the request's own ?connection=, or the only one (else
// LoginPath shows the chooser, with Config.ConnectionChooser, or the
// unknown-connection page). Other clients get 401 with the JSON body
// {"error":"login_required"}. A session store failure is 503.
//
// Every request checks the session again against its connection as it is
// now (SetConnection may have replaced it with a stricter one): a session
// whose user is no longer in the allowed groups (Groups.AllowedGroups,
// judged on every group the gate saw at login, including those a Filter
// drops from Identity.Groups), whose email is not at an allowed domain
// (AllowedEmailDomains), or unverified under EmailVerifiedRequire, is no
// session, and so is one whose groups and roles were derived by another
// group attribute, delimiter, filter or role mapping: the user logs in
// again under the new rules. The session is then cleared (and deleted
// from its store), and one Info line names the connection and the reason.
func (g *Gateway) RequireLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs, stale, err := g.readSession(r)
		if stale {
			g.clearSessionCookie(w)
		}
		if err != nil {
			reqID := randomHex(8)
			g.logger.ErrorContext(r.Context(), "samlgate: session store failed", "error", err.Error(), "request_id", reqID)
			deny(w, r, http.StatusServiceUnavailable, string(saml.CodeUnavailable), func() { g.storeUnavailable(w, reqID) })
			return
		}
		if rs != nil {
			// One context value for the identity and the teams: it
			// replaces any an outer handler put there.
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, &rs.ctx)))
			return
		}
		if isBrowser(r) {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, g.loginURL(r), http.StatusSeeOther)
			return
		}
		writeJSONError(w, http.StatusUnauthorized, "login_required")
	})
}

// loginURL is LoginPath with the connection and the current path and
// query as return_to. The connection is the request's own ?connection=,
// passed on as it came whether or not it exists (LoginPath judges it: were
// the redirect to differ, it would tell which connections exist), else the
// only connection.
func (g *Gateway) loginURL(r *http.Request) string {
	q := url.Values{}
	if name := r.URL.Query().Get("connection"); name != "" {
		q.Set("connection", name)
	} else if c := g.only(); c != nil {
		q.Set("connection", c.Name())
	}
	q.Set("return_to", r.URL.RequestURI())
	return g.cfg.LoginPath + "?" + q.Encode()
}

// RequireGroup lets a request through only when the identity RequireLogin
// put in the context is in one of groups (exact names); otherwise 403
// (an HTML page for browsers, {"error":"forbidden"} for others). Without
// an identity it answers 401: wrap it in RequireLogin. Groups are the
// connection's filtered groups (groups.Config.Filter).
//
// A group name matches whichever connection issued it: with several
// connections, every IdP can assert any group (and any Subject or Email),
// so the admin of tenant B's IdP can put a user in "Admins" just as
// tenant A's can. A gateway serving several tenants must combine
// RequireGroup with RequireConnection, give each tenant group names of its
// own, and key its accounts by (Identity.Connection, Identity.Subject),
// never by Subject or Email alone.
func RequireGroup(groups ...string) func(http.Handler) http.Handler {
	if len(groups) == 0 {
		panic("samlgate: RequireGroup needs at least one group")
	}
	return require(func(id *saml.Identity) bool {
		for _, g := range groups {
			if id.HasGroup(g) {
				return true
			}
		}
		return false
	})
}

// RequireRole is RequireGroup for roles (groups.Config.Roles). As with
// groups, a role matches whichever connection's role mapping produced it:
// a multi-tenant gateway must combine it with RequireConnection, or map
// each tenant's groups to role names of its own.
func RequireRole(roles ...string) func(http.Handler) http.Handler {
	if len(roles) == 0 {
		panic("samlgate: RequireRole needs at least one role")
	}
	return require(func(id *saml.Identity) bool {
		for _, r := range roles {
			if id.HasRole(r) {
				return true
			}
		}
		return false
	})
}

// RequireConnection lets a request through only when the identity
// RequireLogin put in the context was issued by one of the connections
// named (Identity.Connection, exact names); otherwise 403, as RequireGroup.
// Without an identity it answers 401: wrap it in RequireLogin. Use it to
// keep the users of one IdP out of another tenant's part of a gateway
// with several connections:
//
//	acmeAdmin := saml.RequireConnection("acme")(saml.RequireGroup("Admins")(h))
//	mux.Handle("/acme/admin/", gw.RequireLogin(acmeAdmin))
func RequireConnection(names ...string) func(http.Handler) http.Handler {
	if len(names) == 0 {
		panic("samlgate: RequireConnection needs at least one connection name")
	}
	names = slices.Clone(names)
	return require(func(id *saml.Identity) bool {
		return slices.Contains(names, id.Connection)
	})
}

func require(allowed func(*saml.Identity) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, ok := IdentityFromContext(r.Context())
			if !ok {
				writeJSONError(w, http.StatusUnauthorized, "login_required")
				return
			}
			if !allowed(id) {
				deny(w, r, http.StatusForbidden, "forbidden", func() { forbiddenPage(w) })
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// isBrowser reports a top-level page load: GET or HEAD accepting HTML.
func isBrowser(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// deny answers an HTML page to browsers and JSON to other clients.
func deny(w http.ResponseWriter, r *http.Request, status int, code string, page func()) {
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		page()
		return
	}
	writeJSONError(w, status, code)
}

// writeJSONError writes {"error":code}; codes are fixed identifiers, so
// no escaping is needed.
func writeJSONError(w http.ResponseWriter, status int, code string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"error":"` + code + `"}` + "\n"))
}
