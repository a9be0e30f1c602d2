package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/samlgate/samlgate/saml/gateway"
)

// Forward-auth: the gateway as the auth service of a reverse proxy that
// already fronts the application (nginx auth_request, Traefik ForwardAuth,
// Caddy forward_auth), as oauth2-proxy's /oauth2/auth. The proxy asks
// authPath about each request, with the request's headers (its cookies
// above all), and on a 2xx copies the identity headers of the answer onto
// the request it forwards to the application.
//
// The session cookie is host-only (__Host-samlgate_session): the proxy
// must serve the application and the gateway's paths (/login,
// /login/callback, /logout, /saml/...) on public_url's host. An
// application on another host would never see the cookie.
const (
	// authPath answers 200 with the identity headers for a session that
	// passes every check (required_groups, required_roles,
	// required_connections, and the connection's own rules), 401
	// {"error":"login_required"} without one, 403 {"error":"forbidden"}
	// (or the forbidden page, for Accept: text/html) for a session that
	// is not allowed, and 503 when the session store fails. With
	// ?redirect=1, for proxies that hand the auth service's answer to the
	// client (Traefik, Caddy), a browser navigation without a session
	// gets a 302 to the login instead of the 401.
	authPath = "/saml/auth"
	// signInPath redirects to the login, with return_to from ?rd= (a path
	// on this site, or a URL of public_url's origin) or from the
	// X-Forwarded-Uri header the proxy sets: the target of the proxy's
	// 401 error page.
	signInPath = "/saml/sign_in"
	// headerForwardedURI and headerForwardedMethod are the original
	// request's URI (path and query) and method, as Traefik and Caddy
	// send them to the auth service (nginx: proxy_set_header).
	headerForwardedURI    = "X-Forwarded-Uri"
	headerForwardedMethod = "X-Forwarded-Method"
)

// validateUpstream checks upstream, forward_auth and public_paths
// together: upstream is required unless forward_auth is set, and
// public_paths need an upstream (in forward-auth mode the proxy decides
// which of its paths skip auth_request: the auth service never sees the
// original path from a source it can trust).
func (c *Config) validateUpstream() error {
	if c.Upstream == "" && c.ForwardAuth {
		if len(c.PublicPaths) > 0 {
			return errors.New("public_paths apply to requests proxied to upstream, and there is none: with forward_auth alone, leave those paths out of auth_request (ForwardAuth, forward_auth) in the proxy's configuration")
		}
		return nil
	}
	u, err := parseAbsURL("upstream", c.Upstream)
	if err != nil {
		if c.Upstream == "" {
			return errors.New("upstream: required (the application's URL), unless forward_auth: true, where a reverse proxy asks /saml/auth and proxies to the application itself")
		}
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("upstream: scheme %q is not http or https", u.Scheme)
	}
	_, err = parsePublicPaths(c.PublicPaths)
	return err
}

// mountForwardAuth registers authPath and signInPath when forward_auth is
// set. pub is public_url.
func (a *app) mountForwardAuth(mux *http.ServeMux, pub *url.URL) {
	if !a.cfg.ForwardAuth {
		return
	}
	// Any method: nginx's auth subrequest keeps the original one.
	mux.Handle(authPath, a.authHandler())
	mux.HandleFunc(signInPath, func(w http.ResponseWriter, r *http.Request) { a.serveSignIn(w, r, pub) })
}

// authHandler is authPath: the session as RequireLogin reads it, then the
// same per-request checks as the proxy (requireAccess).
func (a *app) authHandler() http.Handler {
	allowed := a.requireAccess(http.HandlerFunc(a.authorized))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		redirect, err := redirectParam(r)
		if err != nil {
			writeJSONStatus(w, http.StatusBadRequest, "bad_request")
			return
		}
		id, teams, err := a.gw.IdentityWithTeams(r)
		if err != nil {
			a.logger.ErrorContext(r.Context(), "forward-auth: session store failed", "error", err.Error())
			writeJSONStatus(w, http.StatusServiceUnavailable, "unavailable")
			return
		}
		if id == nil {
			if redirect && isNavigation(r) {
				http.Redirect(w, r, a.signInURL(forwardedReturnTo(r)), http.StatusFound)
				return
			}
			writeJSONStatus(w, http.StatusUnauthorized, "login_required")
			return
		}
		ctx := gateway.ContextWithTeams(gateway.ContextWithIdentity(r.Context(), id), teams)
		allowed.ServeHTTP(w, r.WithContext(ctx))
	})
}

// authorized answers 200 with the identity headers. All six are set, an
// email withheld (not one plain address) as an empty value: a proxy then
// replaces or deletes every copy the client sent, whichever way it treats
// an empty or missing header in the auth answer.
func (a *app) authorized(w http.ResponseWriter, r *http.Request) {
	id, _ := gateway.IdentityFromContext(r.Context())
	teams, _ := gateway.TeamsFromContext(r.Context())
	stripIdentityHeaders(w.Header())
	if setIdentityHeaders(w.Header(), id, teams) {
		w.Header().Set(HeaderEmail, "")
		a.logger.WarnContext(r.Context(), "identity email not forwarded: not one plain address; "+HeaderEmail+" is empty",
			"connection", id.Connection)
	}
	w.WriteHeader(http.StatusOK)
}

// redirectParam reads ?redirect= (absent: false).
func redirectParam(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("redirect")
	if v == "" {
		return false, nil
	}
	return strconv.ParseBool(v)
}

// isNavigation reports a browser's page load: GET or HEAD (the original
// method, X-Forwarded-Method, when the proxy sends it) accepting HTML.
// Other clients get 401, which they can act on; a redirect to an IdP
// would only confuse them.
func isNavigation(r *http.Request) bool {
	m := r.Header.Get(headerForwardedMethod)
	if m == "" {
		m = r.Method
	}
	return (m == http.MethodGet || m == http.MethodHead) && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// forwardedReturnTo is the original request's URI from X-Forwarded-Uri
// when it is a safe local path, else "" (default_return_to).
func forwardedReturnTo(r *http.Request) string {
	p, ok := gateway.SafeReturnTo(r.Header.Get(headerForwardedURI))
	if !ok {
		return ""
	}
	return p
}

// serveSignIn is signInPath: GET or HEAD, a 302 to the login with the
// return URL from ?rd= or else X-Forwarded-Uri. An rd that is neither a
// local path nor a URL of public_url's origin is refused (400): never an
// open redirect, and a proxy configured for another host learns why its
// users would loop.
func (a *app) serveSignIn(w http.ResponseWriter, r *http.Request, pub *url.URL) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	rd := r.URL.Query().Get("rd")
	if rd == "" {
		http.Redirect(w, r, a.signInURL(forwardedReturnTo(r)), http.StatusFound)
		return
	}
	returnTo, err := returnToFromRD(rd, pub)
	if err != nil {
		a.logger.InfoContext(r.Context(), "forward-auth: sign-in refused", "reason", err.Error())
		http.Error(w, "sign-in refused: "+err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, a.signInURL(returnTo), http.StatusFound)
}

// returnToFromRD turns rd into a local return path: rd is a local path,
// or an absolute URL whose scheme and host (port included) are
// public_url's, without user information. The session cookie is
// host-only, so no other host, not even a sibling subdomain, could use
// the session: there is no same-site allowance to make.
func returnToFromRD(rd string, pub *url.URL) (string, error) {
	if p, ok := gateway.SafeReturnTo(rd); ok {
		return p, nil
	}
	u, err := url.Parse(rd)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return "", errors.New("rd is neither a path on this site nor an absolute URL")
	}
	if u.User != nil || !strings.EqualFold(u.Scheme, pub.Scheme) || !strings.EqualFold(origin(u), origin(pub)) {
		return "", fmt.Errorf("rd is not on %s, this gateway's public_url: the session cookie is only sent there", origin(pub))
	}
	p, ok := gateway.SafeReturnTo(u.RequestURI())
	if !ok {
		return "", errors.New("rd's path is not a plain path on this site")
	}
	return p, nil
}

// signInURL is the login URL for returnTo ("" for default_return_to),
// with the connection as RequireLogin picks it: the one named by
// returnTo's own ?connection=, else the only one configured (with
// several and none named, the login shows the chooser or the
// unknown-connection page, as for any other login).
func (a *app) signInURL(returnTo string) string {
	q := url.Values{}
	if returnTo != "" {
		if u, err := url.Parse(returnTo); err == nil && u.Query().Get("connection") != "" {
			q.Set("connection", u.Query().Get("connection"))
		}
	}
	if !q.Has("connection") && len(a.cfg.Connections) == 1 {
		q.Set("connection", a.cfg.Connections[0].Name)
	}
	if returnTo != "" {
		q.Set("return_to", returnTo)
	}
	if len(q) == 0 {
		return loginPath
	}
	return loginPath + "?" + q.Encode()
}

// writeJSONStatus writes {"error":code}, as the gateway's own API
// answers; codes are fixed identifiers.
func writeJSONStatus(w http.ResponseWriter, status int, code string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"error":"` + code + `"}` + "\n"))
}
