package gateway

import (
	"bytes"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/samlgate/samlgate/saml"
)

// PageKind says which page a PageData is for.
type PageKind string

// The pages the gateway shows.
const (
	// PageError refuses a login or reports a failure: Code and RequestID
	// are set, RetryURL only where signing in again can succeed.
	PageError PageKind = "error"
	// PageSignedOut follows a logout: RetryURL signs in again.
	PageSignedOut PageKind = "signed_out"
	// PageLogoutConfirm is GET LogoutPath: a form that POSTs to FormAction
	// with ReturnTo as the hidden field return_to.
	PageLogoutConfirm PageKind = "logout_confirm"
	// PageChooser lists the connections (Config.ConnectionChooser) in
	// Links. It is always the built-in page.
	PageChooser PageKind = "chooser"
)

// Pages are the operator's templates for the gateway's pages; a nil field
// keeps the built-in page. Each is executed with a PageData and must write
// a whole HTML document. New executes each with sample data and refuses a
// template that fails (a misspelled field, say), so that a broken page is
// a start-up error and not a blank page at the first refused login.
//
// The pages are served with a Content-Security-Policy that allows inline
// styles, images and styles from the gateway's own origin, and forms that
// post to it (and to the origins of LogoutURLs): no scripts, no frames.
// PageData holds no value of a SAML response; Message and Advice are the
// gateway's fixed sentences, and html/template escapes everything.
type Pages struct {
	// Error renders every PageError: refused logins (each Code with its
	// own Title, Message and Advice), the unknown-connection page and
	// internal failures.
	Error *template.Template
	// SignedOut renders PageSignedOut.
	SignedOut *template.Template
	// LogoutConfirm renders PageLogoutConfirm. Its form must POST to
	// FormAction (the browser's Origin header is what protects logout
	// from other sites: no token is needed).
	LogoutConfirm *template.Template
}

// PageData is what every page template receives.
type PageData struct {
	Kind   PageKind
	Status int // the HTTP status
	// AppName is Config.AppName ("this application" when unset).
	AppName string
	// IdPName names the connection's IdP for the user: "JumpCloud",
	// "Okta", "Microsoft Entra ID"..., or "your identity provider" when
	// the IdP is not recognized (saml.ConnectionConfig.IdP) or the page
	// concerns no connection.
	IdPName string
	// Connection is the connection's name, "" when none is known.
	Connection string
	// Title is the page's heading; Message says what happened and Advice
	// what the user can do, in plain words for the person signing in.
	Title, Message, Advice string
	// Code and RequestID are for the administrator: the refusal's code
	// (status_not_success, group_not_allowed, ...) and the request_id of
	// its log line. Never the detail.
	Code, RequestID string
	// RetryURL starts a new login (LoginPath?connection=...), set only
	// where a retry can succeed.
	RetryURL string
	// FormAction and ReturnTo are the logout form's action (LogoutPath)
	// and its return_to field (PageLogoutConfirm).
	FormAction, ReturnTo string
	// Links are the chooser's links.
	Links []PageLink
}

// PageLink is a link of the chooser.
type PageLink struct{ URL, Text string }

// pageData is the built-in pages' data (the middleware's pages use it).
type pageData = PageData

// maxLoggedName bounds an unknown connection name in the Debug log.
const maxLoggedName = 200

// defaultAppName is what the pages call the application without
// Config.AppName.
const defaultAppName = "this application"

// The built-in pages. Everything goes through html/template; no value
// from a SAML response ever reaches them.
var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f5f6f8;color:#1f2328;margin:0;line-height:1.5}
main{max-width:34rem;margin:4rem auto;padding:2rem 2.25rem;background:#fff;border:1px solid #d8dee4;border-radius:10px}
h1{font-size:1.45rem;margin:0 0 1rem}
p{margin:0 0 1rem}
.advice{color:#3d444d}
.actions{margin:1.5rem 0 .5rem}
.button{display:inline-block;padding:.55rem 1.2rem;border-radius:6px;border:0;background:#0969da;color:#fff;font:inherit;text-decoration:none;cursor:pointer}
ul{padding-left:1.2rem}
.admin{margin-top:1.75rem;padding-top:.75rem;border-top:1px solid #e5e8eb;color:#59636e;font-size:.85rem}
code{background:#f0f2f4;padding:0 .3em;border-radius:4px;white-space:nowrap}
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p id="message">{{.Message}}</p>
{{- if .Advice}}
<p class="advice" id="advice">{{.Advice}}</p>
{{- end}}
{{- if .Links}}
<ul>
{{- range .Links}}
<li><a href="{{.URL}}">{{.Text}}</a></li>
{{- end}}
</ul>
{{- end}}
{{- if eq (print .Kind) "logout_confirm"}}
<form class="actions" method="post" action="{{.FormAction}}">
{{- if .ReturnTo}}
<input type="hidden" name="return_to" value="{{.ReturnTo}}">
{{- end}}
<button class="button" type="submit" id="signout">Sign out</button>
</form>
{{- end}}
{{- if .RetryURL}}
<p class="actions"><a class="button" id="retry" href="{{.RetryURL}}">Sign in again</a></p>
{{- end}}
{{- if or .Code .RequestID}}
<p class="admin" id="admin">For your administrator: {{if .Code}}code <code>{{.Code}}</code>{{end}}{{if and .Code .RequestID}} · {{end}}{{if .RequestID}}request ID <code>{{.RequestID}}</code>{{end}}</p>
{{- end}}
</main>
</body>
</html>
`))

// pageCSP is the Content-Security-Policy of the pages; formAction lists
// where forms may post (and be redirected: browsers check form-action on
// redirects too).
func pageCSP(formAction string) string {
	return "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action " + formAction + "; frame-ancestors 'none'"
}

// writePage writes a built-in page.
func writePage(w http.ResponseWriter, status int, d pageData) {
	d.Status = status
	writeTemplate(w, pageTemplate, d, pageCSP("'self'"))
}

func writeTemplate(w http.ResponseWriter, t *template.Template, d PageData, csp string) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		http.Error(w, http.StatusText(d.Status), d.Status)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", csp)
	w.WriteHeader(d.Status)
	_, _ = w.Write(buf.Bytes())
}

// render writes d with the operator's template for its kind, if any, else
// the built-in page.
func (g *Gateway) render(w http.ResponseWriter, d PageData) {
	t := pageTemplate
	var custom *template.Template
	switch d.Kind {
	case PageError:
		custom = g.cfg.Pages.Error
	case PageSignedOut:
		custom = g.cfg.Pages.SignedOut
	case PageLogoutConfirm:
		custom = g.cfg.Pages.LogoutConfirm
	}
	if custom != nil {
		t = custom
	}
	writeTemplate(w, t, d, g.pageCSP)
}

// page is a PageData of kind for connection c (nil: none known).
func (g *Gateway) page(kind PageKind, status int, c *conn) PageData {
	d := PageData{Kind: kind, Status: status, AppName: g.cfg.AppName, IdPName: idpName(saml.IdPGeneric)}
	if c != nil {
		d.Connection = c.Name()
		d.IdPName = idpName(c.idp)
	}
	return d
}

// checkPages executes each of the operator's templates with sample data.
func (p Pages) check() error {
	for _, tc := range []struct {
		field string
		t     *template.Template
		d     PageData
	}{
		{"Error", p.Error, PageData{Kind: PageError, Status: http.StatusForbidden, Code: string(saml.CodeGroupNotAllowed), RequestID: "0123456789abcdef"}},
		{"SignedOut", p.SignedOut, PageData{Kind: PageSignedOut, Status: http.StatusOK, RetryURL: DefaultLoginPath}},
		{"LogoutConfirm", p.LogoutConfirm, PageData{Kind: PageLogoutConfirm, Status: http.StatusOK, FormAction: DefaultLogoutPath, ReturnTo: "/"}},
	} {
		if tc.t == nil {
			continue
		}
		tc.d.AppName, tc.d.IdPName, tc.d.Connection = defaultAppName, idpName(saml.IdPJumpCloud), "acme"
		tc.d.Title, tc.d.Message, tc.d.Advice = "Title", "Message.", "Advice."
		if err := tc.t.Execute(io.Discard, tc.d); err != nil {
			return configError("Pages.%s: the template fails with sample data: %v", tc.field, err)
		}
	}
	return nil
}

// idpNames are the IdP families as users know them.
var idpNames = map[saml.IdPKind]string{
	saml.IdPJumpCloud:    "JumpCloud",
	saml.IdPOkta:         "Okta",
	saml.IdPEntra:        "Microsoft Entra ID",
	saml.IdPGoogle:       "Google",
	saml.IdPKeycloak:     "Keycloak",
	saml.IdPPingOne:      "PingOne",
	saml.IdPPingFederate: "PingFederate",
	saml.IdPADFS:         "AD FS",
	saml.IdPOneLogin:     "OneLogin",
}

func idpName(k saml.IdPKind) string {
	if n, ok := idpNames[k]; ok {
		return n
	}
	return genericIdPName
}

// genericIdPName names an IdP samlgate does not recognize.
const genericIdPName = "your identity provider"

// errorPage reports a failure outside the callback (starting a login,
// writing metadata) in the operator's Error page.
func (g *Gateway) errorPage(w http.ResponseWriter, status int, code saml.Code, message, reqID, retry string) {
	d := g.page(PageError, status, nil)
	d.Title, d.Message = "Sign-in failed", message
	d.Advice = "If it keeps failing, give your administrator the code and request ID below."
	d.Code, d.RequestID, d.RetryURL = string(code), reqID, retry
	g.render(w, d)
}

// unknownConnection answers a ?connection= that names no connection, and
// a request that names none where one is needed: one page and one status
// (404) for both, whatever the name and whatever connections exist, so
// that nobody can list the tenants by asking the gateway about names. The
// page never echoes the name (it is whatever the link said: a reflected
// value on the site's own origin); the Debug log has it.
// The page is the same bytes for every name and endpoint, so it carries
// no request ID.
func (g *Gateway) unknownConnection(w http.ResponseWriter, r *http.Request, name string) {
	if g.logger.Enabled(r.Context(), slog.LevelDebug) {
		if len(name) > maxLoggedName {
			name = name[:maxLoggedName] + "..."
		}
		g.logger.DebugContext(r.Context(), "samlgate: unknown connection", "path", r.URL.Path, "connection", name, "connections_configured", g.count())
	}
	d := g.page(PageError, http.StatusNotFound, nil)
	d.Title = "Unknown sign-in link"
	d.Message = "This sign-in link does not name a connection of " + d.AppName + "."
	d.Advice = "Use the sign-in link your application or your administrator gave you."
	d.Code = string(CodeUnknownConnection)
	g.render(w, d)
}

// chooser lists the connections when a login names none, there are
// several, and Config.ConnectionChooser is set.
func (g *Gateway) chooser(w http.ResponseWriter, returnTo string) {
	d := g.page(PageChooser, http.StatusOK, nil)
	d.Title, d.Message = "Sign in", "Choose how to sign in to "+d.AppName+":"
	for _, c := range g.connections() {
		q := url.Values{"connection": {c.Name()}, "return_to": {returnTo}}
		d.Links = append(d.Links, PageLink{URL: g.cfg.LoginPath + "?" + q.Encode(), Text: c.Name()})
	}
	writeTemplate(w, pageTemplate, d, g.pageCSP)
}

// storeUnavailable answers a browser whose session could not be read
// because the SessionStore failed: a retry can succeed.
func (g *Gateway) storeUnavailable(w http.ResponseWriter, reqID string) {
	d := g.page(PageError, http.StatusServiceUnavailable, g.only())
	rf := refusals[saml.CodeUnavailable]
	fill := func(s string) string { return expandNames(s, d.AppName, d.IdPName) }
	d.Title, d.Message, d.Advice = fill(rf.title), fill(rf.message), fill(rf.advice)
	d.Code, d.RequestID = string(saml.CodeUnavailable), reqID
	g.render(w, d)
}

// forbiddenPage and the JSON answers are shared by the middleware.
func forbiddenPage(w http.ResponseWriter) {
	writePage(w, http.StatusForbidden, pageData{
		Kind: PageError, Title: "Access denied",
		Message: "Your account does not have access to this page.",
		Advice:  "Ask your administrator for access.",
		Code:    "forbidden",
	})
}
