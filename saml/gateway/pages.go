package gateway

import (
	"bytes"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/samlgate/samlgate/saml"
)

// The gateway's pages. Everything goes through html/template; no value
// from a SAML response ever reaches them.
var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#222}code{background:#f3f3f3;padding:0 .25em}ul{padding-left:1.2rem}</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{- if .Links}}
<ul>
{{- range .Links}}
<li><a href="{{.URL}}">{{.Text}}</a></li>
{{- end}}
</ul>
{{- end}}
{{- if .Retry}}
<p><a href="{{.Retry}}">Sign in again</a></p>
{{- end}}
{{- if or .Code .RequestID}}
<p><small>{{if .Code}}Code: <code>{{.Code}}</code>{{end}}{{if and .Code .RequestID}} · {{end}}{{if .RequestID}}Request ID: <code>{{.RequestID}}</code>{{end}}</small></p>
{{- end}}
</body>
</html>
`))

type pageLink struct{ URL, Text string }

// maxLoggedName bounds an unknown connection name in the Debug log.
const maxLoggedName = 200

type pageData struct {
	Title, Message  string
	Code, RequestID string
	Retry           string
	Links           []pageLink
}

func writePage(w http.ResponseWriter, status int, d pageData) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		http.Error(w, http.StatusText(status), status)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (g *Gateway) errorPage(w http.ResponseWriter, status int, code saml.Code, message, reqID, retry string) {
	writePage(w, status, pageData{Title: "Sign-in failed", Message: message, Code: string(code), RequestID: reqID, Retry: retry})
}

// unknownConnection answers a ?connection= that names no connection, and
// a request that names none where one is needed: one page and one status
// (404) for both, whatever the name and whatever connections exist, so
// that nobody can list the tenants by asking the gateway about names. The
// page never echoes the name (it is whatever the link said: a reflected
// value on the site's own origin); the Debug log has it.
func (g *Gateway) unknownConnection(w http.ResponseWriter, r *http.Request, name string) {
	if g.logger.Enabled(r.Context(), slog.LevelDebug) {
		if len(name) > maxLoggedName {
			name = name[:maxLoggedName] + "..."
		}
		g.logger.DebugContext(r.Context(), "samlgate: unknown connection", "path", r.URL.Path, "connection", name, "connections_configured", g.count())
	}
	writePage(w, http.StatusNotFound, pageData{
		Title:   "Unknown connection",
		Message: "This sign-in link does not name a connection of this application (unknown connection). Use the sign-in link your application or your administrator gave you.",
		Code:    string(CodeUnknownConnection),
	})
}

// chooser lists the connections when a login names none, there are
// several, and Config.ConnectionChooser is set.
func (g *Gateway) chooser(w http.ResponseWriter, returnTo string) {
	d := pageData{Title: "Sign in", Message: "Choose how to sign in:"}
	for _, c := range g.connections() {
		q := url.Values{"connection": {c.Name()}, "return_to": {returnTo}}
		d.Links = append(d.Links, pageLink{URL: g.cfg.LoginPath + "?" + q.Encode(), Text: c.Name()})
	}
	writePage(w, http.StatusOK, d)
}

// forbiddenPage and the JSON answers are shared by the middleware.
func forbiddenPage(w http.ResponseWriter) {
	writePage(w, http.StatusForbidden, pageData{Title: "Access denied", Message: "Your account does not have access to this page. Ask your administrator for access.", Code: "forbidden"})
}
