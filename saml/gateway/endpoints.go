package gateway

import (
	"net/http"

	"github.com/samlgate/samlgate/saml"
)

// serveMetadata serves a connection's SP metadata: GET MetadataPath?connection=X.
func (g *Gateway) serveMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	name := r.URL.Query().Get("connection")
	c, found := g.pick(name)
	if !found || c == nil {
		g.unknownConnection(w, r, name)
		return
	}
	md, err := c.Metadata()
	if err != nil {
		reqID := randomHex(8)
		g.logger.ErrorContext(r.Context(), "samlgate: cannot write SP metadata", "connection", c.Name(), "request_id", reqID, "error", err.Error())
		g.errorPage(w, http.StatusInternalServerError, saml.CodeUnavailable, "The metadata could not be written.", reqID, "")
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(md)
}

// serveLogout ends the session: POST LogoutPath[?return_to=/path]. It
// refuses cross-origin POSTs, so another site cannot log users out.
//
// With a Config.SessionStore (or for a session kept in the
// in-memory overflow store), logout deletes the session on the server:
// every copy of the cookie stops working. A stateless session cookie
// cannot be revoked: logout only clears the browser's cookie, and a copy
// taken before keeps working until its sealed expiry. When the store
// fails, logout answers 503 and keeps the cookie, so that a retry ends the
// session rather than leave it valid in the store.
func (g *Gateway) serveLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, http.MethodPost)
		return
	}
	if err := g.csrf.Check(r); err != nil {
		http.Error(w, "cross-origin logout refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLogoutBody)
	returnTo := "/"
	if err := r.ParseForm(); err == nil {
		if p, ok := safeReturnTo(r.Form.Get("return_to")); ok {
			returnTo = p
		}
	}
	for _, v := range cookieValues(r, g.cfg.CookieName) {
		if err := g.deleteSession(r.Context(), v); err != nil {
			// The session would outlive the logout in the store: keep the
			// cookie, so that a retry once the store answers ends it.
			g.errorPage(w, http.StatusServiceUnavailable, saml.CodeUnavailable, "Sign-out is temporarily unavailable. Try again in a moment.", randomHex(8), "")
			return
		}
	}
	g.clearSessionCookie(w)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}
