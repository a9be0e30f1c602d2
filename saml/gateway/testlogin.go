package gateway

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/samlgate/samlgate/saml"
)

// Test logins. The setup assistant (SetupHandler) usually runs on an admin
// listener, on another host than the public gateway, while a login must
// start and end on the public origin (the request cookie, the ACS URL). So
// the assistant's "Test login" button mints a short-lived test token,
// sealed with the session keys and bound to the connection, and sends the
// browser to LoginPath?connection=X&setup_test=TOKEN on the public origin.
// The login endpoint opens the token and starts an ordinary SP-initiated
// login whose sealed login state says Test: nobody without the session
// keys can mint a token, nor set or clear the marker of a login in flight.
//
// At the ACS, a test login creates no session and runs neither OnLogin
// nor anything after it: it shows the verified identity, or the
// diagnosis, to the browser that started it (which proved so with the
// login's request cookie). A test login is single-use like every other
// (request cookie cleared, assertion in the replay cache).

const (
	// purposeSetupTest seals a test token.
	purposeSetupTest = "samlgate/v2/setup-test"
	// testTokenParam is LoginPath's query parameter for the test token.
	testTokenParam = "setup_test"
	// TestTokenLifetime is how long a test-login link minted by the setup
	// assistant starts a test login: the token only has to survive one
	// redirect, from the assistant to the public LoginPath, plus the
	// clock difference of the two servers.
	TestTokenLifetime = 2 * time.Minute
)

// testToken is what a test token seals.
type testToken struct {
	Connection string `json:"c"`
	Expires    int64  `json:"x"`
}

// testLoginURL is the public URL that starts a test login of c: LoginPath
// on the ACS URL's origin, with a fresh test token.
func (g *Gateway) testLoginURL(c *conn) (string, error) {
	tok, err := g.sealer.sealJSON(bound(purposeSetupTest, c.spEntityID, c.Name()), testToken{
		Connection: c.Name(),
		Expires:    g.now().Add(TestTokenLifetime).UnixMilli(),
	})
	if err != nil {
		return "", err
	}
	u := g.publicURL(c, g.cfg.LoginPath)
	u.RawQuery = url.Values{"connection": {c.Name()}, testTokenParam: {tok}}.Encode()
	return u.String(), nil
}

// publicURL is path on the origin of c's ACS URL: where the browser
// reaches the gateway's own endpoints (the paths are as the browser sees
// them; see Config.LoginPath).
func (g *Gateway) publicURL(c *conn, path string) *url.URL {
	return &url.URL{Scheme: c.acsURL.Scheme, Host: c.acsURL.Host, Path: path}
}

// testLoginRequested reports whether a GET LoginPath starts a test login
// of c. A request without a test token is an ordinary login; one with a
// token that does not open for c, or has expired, gets a 403 page and ok
// false: it never falls back to an ordinary login.
func (g *Gateway) testLoginRequested(w http.ResponseWriter, r *http.Request, c *conn) (test, ok bool) {
	raw, present := r.URL.Query()[testTokenParam]
	if !present {
		return false, true
	}
	var tok testToken
	if len(raw) != 1 || !g.sealer.openJSON(bound(purposeSetupTest, c.spEntityID, c.Name()), raw[0], &tok) ||
		tok.Connection != c.Name() || g.now().UnixMilli() >= tok.Expires {
		writePage(w, http.StatusForbidden, pageData{
			Title:   "Test login link expired",
			Message: "This test-login link is not valid, or is older than a few minutes. Start the test login again from the setup assistant.",
		})
		return false, false
	}
	return true, true
}

// testLoginKey marks, in the callback's request context, a response that
// answers a test login: the value is whether the browser proved it started
// it (it presented the login's request cookie, in time).
type testLoginKey struct{}

// withTestLogin marks r when t is the login state of a test login.
func withTestLogin(r *http.Request, t tracked) *http.Request {
	if !t.ours || !t.rs.Test {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), testLoginKey{}, len(t.requestIDs) > 0))
}

// testLoginFrom reports whether ctx is the callback of a test login, and
// whether the browser proved it started it.
func testLoginFrom(ctx context.Context) (proven, test bool) {
	proven, test = ctx.Value(testLoginKey{}).(bool)
	return proven, test
}

// refuseTestLogin shows the diagnosis of a refused test login to the
// browser that started it, and reports whether it did; refuse has logged,
// observed and recorded the refusal. The browser that started a test
// login holds the request cookie minted for the admin's test-login link:
// it may see what the Info log says. Any other browser, and every
// ordinary login, gets refuse's page, which shows only the code and the
// request ID.
func (g *Gateway) refuseTestLogin(w http.ResponseWriter, r *http.Request, connection string, e *saml.Error, reqID, note string) bool {
	if proven, test := testLoginFrom(r.Context()); !test || !proven {
		return false
	}
	writeTestResult(w, statusFor(e.Code), testResult{
		Connection: connection,
		RequestID:  reqID,
		Refused:    true,
		Code:       string(e.Code),
		Message:    e.Message,
		Expected:   e.Expected,
		Actual:     e.Actual,
		Hint:       e.Hint,
		Note:       note,
	})
	return true
}

// finishTestLogin ends a verified test login: no session, no OnLogin, no
// redirect; the identity is shown to the browser that started the login.
// A browser that did not prove so (possible only for a response without
// InResponseTo, which Verify accepts as IdP-initiated) is refused.
func (g *Gateway) finishTestLogin(w http.ResponseWriter, r *http.Request, c *conn, id *saml.Identity, t tracked, ev LoginEvent, reqID string) {
	if len(t.requestIDs) == 0 {
		e := newError(saml.CodeInResponseToMismatch, "a test login answered by a response this browser did not ask for", nil)
		e.Hint = "Start the test login again from the setup assistant, in the browser that shows it."
		e.Connection = c.Name()
		g.refuse(w, r, ev, e, reqID, t.note)
		return
	}
	ctx := r.Context()
	g.observe(ev)
	g.logger.InfoContext(ctx, "samlgate: test login", "connection", c.Name(), "request_id", reqID, "idp_initiated", ev.IdPInitiated)
	res := identityResult(c, id, reqID)
	if g.cfg.PreviewTeams != nil {
		res.TeamsShown = true
		teams, err := g.cfg.PreviewTeams(ctx, id)
		if err != nil {
			res.TeamsError = err.Error()
		}
		res.Teams = teams
	}
	writeTestResult(w, http.StatusOK, res)
}

// identityResult is the test-result page of a verified identity.
func identityResult(c *conn, id *saml.Identity, reqID string) testResult {
	cfg := c.Config()
	res := testResult{
		Connection:      c.Name(),
		RequestID:       reqID,
		Subject:         id.Subject,
		SubjectFormat:   id.SubjectFormat,
		Email:           id.Email,
		EmailVerified:   id.EmailVerified,
		EmailVerifiedBy: string(id.EmailVerifiedBy),
		EmailPolicy:     string(cfg.EmailVerified),
		GivenName:       id.GivenName,
		FamilyName:      id.FamilyName,
		DisplayName:     id.DisplayName,
		Groups:          id.Groups,
		Roles:           id.Roles,
		Issuer:          id.Issuer,
		AssertionID:     id.AssertionID,
		AuthnInstant:    id.AuthnInstant,
		SessionEnd:      id.SessionNotOnOrAfter,
		IdPInitiated:    id.InResponseTo == "",
	}
	for _, a := range id.Attributes {
		res.Attributes = append(res.Attributes, testAttribute{Name: a.Name, FriendlyName: a.FriendlyName, Values: a.Values})
	}
	return res
}
