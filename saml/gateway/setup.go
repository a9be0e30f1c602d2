package gateway

import (
	"mime"
	"net/http"
	"strings"
	"time"
)

// DefaultCertificateWarning is SetupConfig.CertificateWarning's default:
// the setup assistant flags IdP certificates that expire within it.
const DefaultCertificateWarning = 30 * 24 * time.Hour

// SetupConfig configures the setup assistant (Gateway.SetupHandler).
type SetupConfig struct {
	// Authorize decides whether a request may use the setup assistant,
	// which shows every connection's configuration and recent refusals
	// and starts test logins: typically a check of the operator's admin
	// credentials. Required: with nil, every request is refused (403), as
	// is every request it returns false for. The assistant answers only
	// GET and HEAD, so a check that reads a cookie needs no CSRF token.
	Authorize func(r *http.Request) bool
	// CertificateWarning flags the IdP certificates that expire within
	// it; default DefaultCertificateWarning (30 days).
	CertificateWarning time.Duration
}

// SetupHandler returns the setup assistant: an http.Handler for the admin
// who connects an IdP, mounted by the operator behind their own
// authorization, usually on an admin listener rather than with the
// application. It answers at whatever path it is mounted (its links are
// relative; mount it with a trailing slash, such as /setup/):
//
//	GET                                 the connections, and a request-ID search
//	GET ?connection=X                   the setup page of connection X
//	GET ?connection=X&request_id=R      the same, with the refusals of request R
//	GET ?connection=X&action=metadata   X's SP metadata, as a file download
//	GET ?connection=X&action=test       a test login of X (a redirect)
//
// The setup page shows the values to paste into the IdP (SP entity ID,
// ACS URL, the SP metadata), the IdP console's steps with those values
// filled in (JumpCloud, Okta, Entra ID, Google Workspace), what the
// gateway is configured to accept (IdP entity ID, certificate
// fingerprints and validity, metadata URL and the age of its last good
// refresh, policies), a test-login button and the connection's recent
// refusals (Gateway.RecentRefusals).
//
// A test login is an ordinary SP-initiated login on the public origin (the
// ACS URL's), marked as a test in its sealed login state: the ACS creates
// no session, runs no Config.OnLogin, and shows the browser that started
// it the verified identity (with Config.PreviewTeams' answer when set) or
// the diagnosis: code, expected and actual values, and the hint for the
// connection's IdP. See TestTokenLifetime.
func (g *Gateway) SetupHandler(cfg SetupConfig) http.Handler {
	if cfg.Authorize == nil {
		g.logger.Error("samlgate: SetupHandler without SetupConfig.Authorize: the setup assistant refuses every request (403)")
	}
	if cfg.CertificateWarning <= 0 {
		cfg.CertificateWarning = DefaultCertificateWarning
	}
	return &setupHandler{g: g, cfg: cfg}
}

type setupHandler struct {
	g   *Gateway
	cfg SetupConfig
}

func (h *setupHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Authorize == nil || !h.cfg.Authorize(r) {
		writePage(w, http.StatusForbidden, pageData{
			Title:   "Access denied",
			Message: "The setup assistant needs the operator's authorization.",
			Code:    "forbidden",
		})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	q := r.URL.Query()
	requestID := strings.TrimSpace(q.Get("request_id"))
	name := q.Get("connection")
	if name == "" {
		h.serveIndex(w, r, requestID)
		return
	}
	c, ok := h.g.conn(name)
	if !ok {
		writePage(w, http.StatusNotFound, pageData{
			Title:   "Unknown connection",
			Message: "No connection of this gateway has that name.",
			Code:    string(CodeUnknownConnection),
			Links:   []PageLink{{URL: "?", Text: "All connections"}},
		})
		return
	}
	switch q.Get("action") {
	case "":
		writeSetupPage(w, setupTemplate, h.connectionView(r, c, requestID))
	case "metadata":
		h.serveMetadataFile(w, r, c)
	case "test":
		h.startTestLogin(w, r, c)
	default:
		http.NotFound(w, r)
	}
}

// serveIndex lists the connections, and the refusals of a request ID
// when one is searched for.
func (h *setupHandler) serveIndex(w http.ResponseWriter, r *http.Request, requestID string) {
	v := indexView{RequestID: requestID}
	for _, c := range h.g.connections() {
		refusals := h.g.RecentRefusals(c.Name())
		v.Connections = append(v.Connections, indexEntry{
			Name:     c.Name(),
			Link:     "?connection=" + queryEscape(c.Name()),
			IdP:      idpTitle(c.Config().IdP),
			Refusals: len(refusals),
		})
		if requestID != "" {
			v.Found = append(v.Found, refusalViews(h.g.now(), matchingRefusals(refusals, requestID))...)
		}
	}
	writeSetupPage(w, indexTemplate, v)
}

// serveMetadataFile serves c's SP metadata as a download whose file name
// names the connection.
func (h *setupHandler) serveMetadataFile(w http.ResponseWriter, r *http.Request, c *conn) {
	md, err := c.Metadata()
	if err != nil {
		reqID := randomHex(8)
		h.g.logger.ErrorContext(r.Context(), "samlgate: cannot write SP metadata", "connection", c.Name(), "request_id", reqID, "error", err.Error())
		writePage(w, http.StatusInternalServerError, pageData{Title: "Metadata unavailable", Message: "The SP metadata could not be written; the log has the error.", RequestID: reqID})
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/samlmetadata+xml")
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": metadataFileName(c.Name())}))
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
	_, _ = w.Write(md)
}

// metadataFileName is samlgate-<connection>-sp-metadata.xml, with every
// character of the name outside [A-Za-z0-9._-] replaced by '_', so that
// the name is a plain file name on every system.
func metadataFileName(connection string) string {
	b := []byte(connection)
	for i, ch := range b {
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9', ch == '.', ch == '-', ch == '_':
		default:
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return "samlgate-" + strings.Trim(string(b), ".") + "-sp-metadata.xml"
}

// startTestLogin sends the browser to the public LoginPath with a fresh
// test token.
func (h *setupHandler) startTestLogin(w http.ResponseWriter, r *http.Request, c *conn) {
	u, err := h.g.testLoginURL(c)
	if err != nil {
		reqID := randomHex(8)
		h.g.logger.ErrorContext(r.Context(), "samlgate: cannot start a test login", "connection", c.Name(), "request_id", reqID, "error", err.Error())
		writePage(w, http.StatusInternalServerError, pageData{Title: "Test login unavailable", Message: "The test login could not be started; the log has the error.", RequestID: reqID})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u, http.StatusSeeOther)
}
