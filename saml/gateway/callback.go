package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
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
		g.observe(LoginEvent{Code: CodeUnknownConnection, IdPInitiated: true})
		g.logger.InfoContext(ctx, "samlgate: login refused", "code", string(CodeUnknownConnection), "request_id", reqID)
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

	cookie, serr := g.createSession(ctx, c, id)
	if serr != nil {
		serr.Connection = c.Name()
		g.refuse(w, r, ev, serr, reqID, "")
		return
	}
	// The new cookie replaces any previous session; drop that session's
	// store entry too when the browser sent it (a Lax cookie usually does
	// not come with the IdP's cross-site POST).
	for _, old := range cookieValues(r, g.cfg.CookieName) {
		_ = g.deleteSession(ctx, old) // logged; the new session stands
	}
	http.SetCookie(w, cookie)
	g.observe(ev)
	g.logger.InfoContext(ctx, "samlgate: login", "connection", c.Name(), "request_id", reqID, "idp_initiated", ev.IdPInitiated)
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

// refuse ends a failed callback: Observer, one log line (and the detail at
// Debug), and an error page that shows the code and a request ID, never
// the detail.
func (g *Gateway) refuse(w http.ResponseWriter, r *http.Request, ev LoginEvent, e *saml.Error, reqID, note string) {
	ev.Code = e.Code
	g.observe(ev)
	ctx := r.Context()
	g.logger.InfoContext(ctx, "samlgate: login refused", "connection", ev.Connection, "code", string(e.Code), "request_id", reqID,
		"idp_initiated", ev.IdPInitiated, "expected", e.Expected, "actual", e.Actual, "hint", e.Hint)
	if g.logger.Enabled(ctx, slog.LevelDebug) {
		attrs := []any{"connection", ev.Connection, "request_id", reqID, "detail", e.Detail()}
		if note != "" {
			attrs = append(attrs, "note", note)
		}
		g.logger.DebugContext(ctx, "samlgate: login refused: detail", attrs...)
	}
	retry := ""
	switch e.Code {
	case saml.CodeInResponseToMismatch, saml.CodeReplayed, saml.CodeExpired, saml.CodeNotYetValid, saml.CodeUnavailable:
		retry = g.cfg.LoginPath + "?" + url.Values{"connection": {ev.Connection}}.Encode()
	}
	g.errorPage(w, statusFor(e.Code), e.Code, userMessage(e.Code, note), reqID, retry)
}

func statusFor(code saml.Code) int {
	switch code {
	case saml.CodeGroupNotAllowed, saml.CodeEmailNotVerified, CodeLoginRefused:
		return http.StatusForbidden
	case saml.CodeUnavailable:
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

// userMessage is what the person signing in reads: short, generic, and
// never a value from the response.
func userMessage(code saml.Code, note string) string {
	switch code {
	case saml.CodeInResponseToMismatch:
		switch note {
		case noteCookieMissing:
			return "Your browser did not send back the cookie set when this sign-in started, so it cannot be completed. Start the sign-in again from the application, in this browser; if it keeps failing, allow cookies for this site."
		case noteRequestExpired:
			return "This sign-in took too long. Start it again from the application."
		}
		return "This sign-in was not started from this browser, or has expired. Start it again from the application."
	case saml.CodeReplayed:
		return "This sign-in response was already used. Start a new sign-in."
	case saml.CodeExpired, saml.CodeNotYetValid:
		return "This sign-in response is out of date. Start a new sign-in; if it keeps failing, the server clocks may disagree."
	case saml.CodeGroupNotAllowed, saml.CodeEmailNotVerified, CodeLoginRefused:
		return "Your account is not allowed to sign in to this application. Ask your administrator for access."
	case saml.CodeUnavailable:
		return "Sign-in is temporarily unavailable. Try again in a moment."
	case CodeSessionTooLarge:
		return "Your account is in too many groups for this application to keep your sign-in. Give your administrator the code and request ID below."
	}
	return "Sign-in failed. If it keeps failing, give your administrator the code and request ID below."
}
