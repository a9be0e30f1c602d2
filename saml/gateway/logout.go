package gateway

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// serveLogout serves LogoutPath. GET (and HEAD) shows a form that asks
// to confirm, or, when the browser has no session cookie, the signed-out
// page; POST ends the session. A logout is a POST so that a link or an
// image on another page cannot end a session, and the POST is refused
// when the browser says it comes from another site (Sec-Fetch-Site,
// Origin: http.CrossOriginProtection), so no token is needed.
//
// POST ends the session the browser presents: with a Config.SessionStore
// (or for a session kept in the in-memory overflow store) it is deleted on
// the server, so every copy of the cookie stops working; a stateless
// session cookie cannot be revoked: logout clears the browser's cookie,
// and a copy taken before keeps working until its sealed expiry. Then the
// browser goes to the connection's Config.LogoutURLs entry, when there is
// one (the IdP's logout or portal page), else to GET LogoutPath, which
// shows the signed-out page: "You are signed out of AppName. You may still
// be signed in to JumpCloud.", with a link to sign in again.
//
// return_to (a form field or query parameter of either method) is where
// that "Sign in again" link lands after the new login. It is used only
// when it is a local path (as for LoginPath): a logout never redirects to
// it, nor anywhere a request names.
func (g *Gateway) serveLogout(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		g.logoutPage(w, r)
	case http.MethodPost:
		g.logout(w, r)
	default:
		methodNotAllowed(w, "GET, HEAD, POST")
	}
}

// logout is POST LogoutPath.
func (g *Gateway) logout(w http.ResponseWriter, r *http.Request) {
	if err := g.csrf.Check(r); err != nil {
		http.Error(w, "cross-origin logout refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLogoutBody)
	returnTo := ""
	if err := r.ParseForm(); err == nil {
		returnTo, _ = safeReturnTo(r.Form.Get("return_to"))
	}
	ctx := r.Context()
	values := cookieValues(r, g.cfg.CookieName, nil)
	c, subject, value := g.endingSession(ctx, values)
	serverSide := false
	for _, v := range values {
		deleted, err := g.deleteSession(ctx, v)
		if err != nil {
			// The session would outlive the logout in the store: keep the
			// cookie, so that a retry once the store answers ends it.
			reqID := randomHex(8)
			g.logger.WarnContext(ctx, "samlgate: logout refused: the session store failed", "request_id", reqID)
			g.storeUnavailable(w, reqID)
			return
		}
		serverSide = serverSide || deleted
	}
	g.clearSessionCookie(w)
	g.auditLogout(ctx, c, subject, value, serverSide)
	w.Header().Set("Cache-Control", "no-store")
	if c != nil {
		if u := g.cfg.LogoutURLs[c.Name()]; u != "" {
			http.Redirect(w, r, u, http.StatusSeeOther)
			return
		}
	}
	// Post/redirect/get: reloading the signed-out page does not post
	// again.
	q := url.Values{}
	if c != nil {
		q.Set("connection", c.Name())
	}
	if returnTo != "" {
		q.Set("return_to", returnTo)
	}
	to := g.cfg.LogoutPath
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// endingSession is the session a logout ends, for the audit line and the
// page: the first cookie that opens a session, else the first of this
// gateway at all (an expired one still names its connection). c is nil
// when no cookie is the gateway's.
func (g *Gateway) endingSession(ctx context.Context, values []string) (c *conn, subject, value string) {
	for _, v := range values {
		if st, _ := g.openSession(ctx, v); st != nil {
			if sc, ok := g.conn(st.ID.Connection); ok {
				c, subject, value = sc, st.ID.Subject, v
				break
			}
		}
	}
	if c == nil {
		for _, v := range values {
			if pc, _, ok := g.openPayload(v); ok {
				c, value = pc, v
				break
			}
		}
	}
	return c, subject, value
}

// logoutPage is GET LogoutPath: the confirmation form when the browser
// has a session cookie, else the signed-out page.
func (g *Gateway) logoutPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	returnTo, _ := safeReturnTo(q.Get("return_to"))
	values := cookieValues(r, g.cfg.CookieName, nil)
	var c *conn
	for _, v := range values {
		if pc, _, ok := g.openPayload(v); ok {
			c = pc
			break
		}
	}
	if c == nil {
		// The connection named by the redirect of a POST (a name that
		// exists is no secret: LoginPath starts its login), else the only
		// one.
		if name := q.Get("connection"); name != "" {
			c, _ = g.conn(name)
		} else {
			c = g.only()
		}
	}
	if len(values) == 0 {
		g.signedOutPage(w, c, returnTo)
		return
	}
	d := g.page(PageLogoutConfirm, http.StatusOK, c)
	d.Title = "Sign out of " + d.AppName + "?"
	d.Message = expandNames("You are signed in to {app}.", d.AppName, d.IdPName)
	d.Advice = "Signing out ends your session here."
	if c != nil && g.cfg.LogoutURLs[c.Name()] != "" {
		d.Advice += expandNames(" You will then be taken to {idp} to sign out there too.", d.AppName, d.IdPName)
	}
	d.FormAction, d.ReturnTo = g.cfg.LogoutPath, returnTo
	g.render(w, d)
}

// signedOutPage says the session is over, and that the IdP's may not be.
func (g *Gateway) signedOutPage(w http.ResponseWriter, c *conn, returnTo string) {
	d := g.page(PageSignedOut, http.StatusOK, c)
	d.Title = "Signed out"
	d.Message = expandNames("You are signed out of {app}.", d.AppName, d.IdPName)
	d.Advice = expandNames("You may still be signed in to {idp}. On a shared computer, sign out there too, or close the browser.", d.AppName, d.IdPName)
	q := url.Values{}
	if c != nil {
		q.Set("connection", c.Name())
	}
	if returnTo != "" {
		q.Set("return_to", returnTo)
	}
	d.RetryURL = g.cfg.LoginPath
	if len(q) > 0 {
		d.RetryURL += "?" + q.Encode()
	}
	w.Header().Set("Cache-Control", "no-store")
	g.render(w, d)
}

// checkLogoutURLs validates Config.LogoutURLs (after the connections are
// known) and returns the pages' Content-Security-Policy, whose form-action
// lets the logout form be redirected to their origins.
func (g *Gateway) checkLogoutURLs() (string, error) {
	formAction := []string{"'self'"}
	names := slices.Sorted(maps.Keys(g.cfg.LogoutURLs))
	for _, name := range names {
		raw := g.cfg.LogoutURLs[name]
		if _, ok := g.conns[name]; !ok {
			return "", configError("LogoutURLs names %q, which is not one of Connections", name)
		}
		u, err := url.Parse(raw)
		if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" || !plainHost(u.Host) {
			return "", configError("LogoutURLs[%q] %q is not an absolute URL such as https://console.jumpcloud.com/userconsole", name, raw)
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(u.Hostname())) {
			return "", configError("LogoutURLs[%q] %q must be https (http only on a loopback host, for demos)", name, raw)
		}
		if u.User != nil {
			return "", configError("LogoutURLs[%q] must not hold a user name or password", name)
		}
		if o := u.Scheme + "://" + u.Host; !slices.Contains(formAction, o) {
			formAction = append(formAction, o)
		}
	}
	g.cfg.LogoutURLs = maps.Clone(g.cfg.LogoutURLs)
	return pageCSP(strings.Join(formAction, " ")), nil
}

// plainHost accepts the characters of a DNS name, an IP address and a
// port: nothing that could end a CSP source expression.
func plainHost(h string) bool {
	for i := 0; i < len(h); i++ {
		b := h[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte(".-:[]", b) >= 0) {
			return false
		}
	}
	return true
}
