package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/samlgate/samlgate/saml"
)

// serveCallback is the ACS: POST CallbackPath?connection=X.
func (g *Gateway) serveCallback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, http.MethodPost)
		return
	}
	ctx := r.Context()
	reqID := randomHex(8)
	name := r.URL.Query().Get("connection")
	c, ok := g.conn(name)
	if !ok {
		ev := LoginEvent{Code: CodeUnknownConnection, IdPInitiated: true}
		g.observe(ev)
		g.auditLoginRefused(ctx, ev, newError(CodeUnknownConnection, "no connection of that name", nil), reqID, "")
		g.unknownConnection(w, r, name)
		return
	}
	ev := LoginEvent{Connection: c.Name(), IdPInitiated: true}

	r.Body = http.MaxBytesReader(w, r.Body, int64(c.maxBytes)+int64(c.maxBytes)/4+formSlack)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			g.refuse(w, r, ev, newError(saml.CodeTooLarge, fmt.Sprintf("the callback body is over %d bytes", tooBig.Limit), err), reqID, "")
			return
		}
		g.refuse(w, r, ev, newError(saml.CodeMalformed, "the callback body is not a form", err), reqID, "")
		return
	}
	samlResponse := r.PostForm.Get("SAMLResponse")
	if samlResponse == "" {
		g.refuse(w, r, ev, newError(saml.CodeMalformed, "the POST has no SAMLResponse field: the IdP must post to this ACS URL with the HTTP-POST binding", nil), reqID, "")
		return
	}

	t := g.trackedRequest(w, r, c)
	r = withTestLogin(r, t)
	ev.Test = t.ours && t.rs.Test
	ev.IdPInitiated = !t.ours
	if t.err != nil {
		g.refuse(w, r, ev, t.err, reqID, "")
		return
	}
	start := time.Now()
	id, err := c.Verify(ctx, samlResponse, saml.WithRequestIDs(t.requestIDs...))
	ev.Duration = time.Since(start)
	if err != nil {
		var e *saml.Error
		if !errors.As(err, &e) {
			e = newError(saml.CodeMalformed, "the response was refused", err)
		}
		note := t.note
		if e.Code != saml.CodeInResponseToMismatch {
			note = ""
		}
		g.refuse(w, r, ev, e, reqID, note)
		return
	}
	ev.IdPInitiated = id.InResponseTo == ""
	g.finishLogin(w, r, c, id, t, ev, reqID)
}

// tracked is what the callback knows of the login request a response
// answers: our RelayState handle, if it is one, the login state it names,
// and whether the browser presented the matching request cookie.
type tracked struct {
	ours       bool // the RelayState is one of our handles
	rs         relayState
	rawRelay   string
	requestIDs []string    // the request ID, when the browser proved it started it
	note       string      // why the request ID is not passed, for the page and the log
	err        *saml.Error // the login state store failed: refuse, unavailable
}

// trackedRequest recovers the login state of the RelayState, if it is a
// handle of ours, from the browser's request cookie or the
// LoginStateStore (see takeLoginState).
func (g *Gateway) trackedRequest(w http.ResponseWriter, r *http.Request, c *conn) tracked {
	t := tracked{rawRelay: r.PostForm.Get("RelayState")}
	g.takeLoginState(w, r, c, &t)
	return t
}

// finishLogin runs OnLogin, creates the session and sends the browser to
// its return_to.
func (g *Gateway) finishLogin(w http.ResponseWriter, r *http.Request, c *conn, id *saml.Identity, t tracked, ev LoginEvent, reqID string) {
	if t.ours && t.rs.Test {
		g.finishTestLogin(w, r, c, id, t, ev, reqID)
		return
	}
	ctx := r.Context()
	returnTo := g.cfg.DefaultReturnTo
	switch {
	case len(t.requestIDs) > 0:
		// Our RelayState, presented by the browser that started the login.
		returnTo = g.returnTo(t.rs.ReturnTo)
	case id.InResponseTo == "" && t.rawRelay != "" && t.rs.RequestID == "":
		// IdP-initiated: the admin's RelayState, if it is a local path.
		returnTo = g.returnTo(t.rawRelay)
	}

	if g.cfg.OnLogin != nil {
		if err := g.cfg.OnLogin(ctx, id); err != nil {
			e := newError(CodeLoginRefused, "the application refused the login", err)
			e.Hint = "Config.OnLogin returned an error for this user; see the Debug log for it."
			e.Connection = c.Name()
			g.refuse(w, r, ev, e, reqID, "")
			return
		}
	}

	teams, ok := g.syncTeams(w, r, c, id, ev, reqID)
	if !ok {
		return
	}
	cookie, serr := g.createSession(ctx, c, id, teams)
	if serr != nil {
		serr.Connection = c.Name()
		g.refuse(w, r, ev, serr, reqID, "")
		return
	}
	// The new cookie replaces any previous session; drop that session's
	// store entry too when the browser sent it (a Lax cookie usually does
	// not come with the IdP's cross-site POST).
	for _, old := range cookieValues(r, g.cfg.CookieName, nil) {
		_, _ = g.deleteSession(ctx, old) // logged; the new session stands
	}
	http.SetCookie(w, cookie)
	g.observe(ev)
	g.auditLoginAccepted(ctx, c, id, ev, cookie.Value, reqID)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

// Notes refine in_response_to_mismatch for the page and the Debug log.
const (
	noteCookieMissing  = "the browser did not send back the login request cookie (blocked cookies, or the login was started in another browser)"
	noteRequestExpired = "the login request is older than the login request lifetime"
)

func (g *Gateway) observe(ev LoginEvent) {
	if g.cfg.Observer != nil {
		g.cfg.Observer(ev)
	}
}

// refuse ends a failed callback: Observer, one audit line (and the detail
// at Debug), and the code's page, which shows the code and a request ID,
// never the detail.
func (g *Gateway) refuse(w http.ResponseWriter, r *http.Request, ev LoginEvent, e *saml.Error, reqID, note string) {
	ev.Code = e.Code
	g.observe(ev)
	g.recordRefusal(r, ev, e, reqID)
	g.auditLoginRefused(r.Context(), ev, e, reqID, note)
	if g.refuseTestLogin(w, r, ev.Connection, e, reqID, note) {
		return
	}
	g.refusalPage(w, ev.Connection, e.Code, note, reqID)
}

func statusFor(code saml.Code) int {
	switch code {
	case saml.CodeStatusNotSuccess, saml.CodeEmailDomainNotAllowed:
		// The IdP, or the connection's domains, refuse this user.
		return http.StatusForbidden
	case saml.CodeGroupNotAllowed, saml.CodeEmailNotVerified, CodeLoginRefused:
		return http.StatusForbidden
	case saml.CodeUnavailable, CodeTeamSyncFailed:
		return http.StatusServiceUnavailable
	case saml.CodeTooLarge, CodeSessionTooLarge:
		// The body (the response in it) is larger than this gateway
		// accepts, or than it can keep as a session.
		return http.StatusRequestEntityTooLarge
	case saml.CodeConfigInvalid:
		return http.StatusInternalServerError
	case CodeUnknownConnection:
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}
