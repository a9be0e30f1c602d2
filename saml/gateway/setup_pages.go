package gateway

import (
	"bytes"
	"html/template"
	"net/http"
	"time"
)

// The setup assistant's pages and the test-login result. Everything goes
// through html/template. Unlike the gateway's other pages, the test
// result shows values from a verified response (the identity), or the
// diagnosis of a refused one: only to the browser that started the test
// login (see testlogin.go).

const setupStyle = `body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}
code,.value{background:#f3f3f3;padding:0 .3em;border-radius:3px;font-family:ui-monospace,monospace;word-break:break-all}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;vertical-align:top;border-bottom:1px solid #e3e3e3;padding:.3rem .5rem}
th{width:14rem;font-weight:600}.warn{background:#fff4e0;border-left:4px solid #e69500;padding:.5rem .8rem;margin:.5rem 0}
.ok{background:#e9f7ef;border-left:4px solid #2e9e5b;padding:.5rem .8rem}.bad{background:#fdecea;border-left:4px solid #d93025;padding:.5rem .8rem}
a.button{display:inline-block;background:#1a5fb4;color:#fff;padding:.5rem 1rem;border-radius:6px;text-decoration:none}
details{border:1px solid #ddd;border-radius:6px;padding:.4rem .8rem;margin:.5rem 0}summary{font-weight:600;cursor:pointer}
small{color:#555}#refusals th:last-child{width:auto}#refusals td:first-child{white-space:nowrap}ol li{margin:.25rem 0}.tag{font-size:.8em;background:#eee;border-radius:3px;padding:0 .3em}`

var indexTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>samlgate setup assistant</title><style>` + setupStyle + `</style></head>
<body>
<h1>samlgate setup assistant</h1>
<h2>Connections</h2>
<table id="connections"><tr><th>Connection</th><th>IdP</th><th>Recent refusals</th></tr>
{{- range .Connections}}
<tr><td><a href="{{.Link}}">{{.Name}}</a></td><td>{{.IdP}}</td><td>{{.Refusals}}</td></tr>
{{- else}}
<tr><td colspan="3">No connection is configured.</td></tr>
{{- end}}
</table>
<h2>Find a refusal</h2>
<form method="get" action=""><label>Request ID a user reported: <input name="request_id" value="{{.RequestID}}" size="20"></label> <button type="submit">Find</button></form>
{{- if .RequestID}}
{{template "refusals" .Found}}
{{- end}}
</body></html>
{{define "refusals"}}
{{- if .}}
<table id="refusals"><tr><th>When</th><th>Refusal</th></tr>
{{- range .}}
<tr class="refusal"><td>{{.Time}}<br><small>{{.Age}}</small></td>
<td><code class="code">{{.Code}}</code> · request <a class="request-id" href="{{.Link}}">{{.RequestID}}</a>{{if .Test}} <span class="tag">test login</span>{{end}}{{if .IdPInitiated}} <span class="tag">IdP-initiated</span>{{end}}<br>
{{.Message}}
{{- if .Expected}}<br>Expected: <code>{{.Expected}}</code>{{end}}
{{- if .Actual}}<br>Actual: <code>{{.Actual}}</code>{{end}}
{{- if .Hint}}<br><small class="hint">Fix: {{.Hint}}</small>{{end}}</td></tr>
{{- end}}
</table>
{{- else}}
<p id="no-refusals">No refusal recorded by this gateway process.</p>
{{- end}}
{{end}}
`))

var setupTemplate = template.Must(template.Must(indexTemplate.Clone()).New("setup").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>Set up {{.Name}} · samlgate</title><style>` + setupStyle + `</style></head>
<body>
<p><a href="?">All connections</a></p>
<h1>Connection <code id="connection">{{.Name}}</code></h1>
<p>IdP: <b id="idp-kind">{{.IdP}}</b></p>
{{- range .Warnings}}
<div class="warn">{{.}}</div>
{{- end}}

<h2>1. Values to paste into the IdP</h2>
<table>
<tr><th>SP Entity ID (Audience)</th><td><code id="sp-entity-id">{{.SPEntityID}}</code></td></tr>
<tr><th>ACS URL</th><td><code id="acs-url">{{.ACSURL}}</code><br><small>Exactly, query string included: the IdP posts the response there.</small></td></tr>
<tr><th>SP metadata</th><td><a id="download-metadata" href="{{.MetadataLink}}" download="{{.MetadataFile}}">Download {{.MetadataFile}}</a><br><small>Also served by the gateway at <code>{{.MetadataURL}}</code></small></td></tr>
</table>

<h2>2. The IdP console's steps</h2>
{{- range .Guides}}
<details id="guide-{{.Kind}}"{{if .Open}} open{{end}}><summary>{{.Title}}</summary>
<p><small>{{.Where}}</small></p>
<ol>
{{- range .Steps}}
<li>{{.Text}}{{if .Value}} <code>{{.Value}}</code>{{end}}{{if .Note}}<br><small>{{.Note}}</small>{{end}}</li>
{{- end}}
</ol>
</details>
{{- end}}

<h2>3. What this gateway accepts</h2>
<table id="our-side">
<tr><th>IdP entity ID (Issuer)</th><td><code id="idp-entity-id">{{.IdPEntityID}}</code></td></tr>
<tr><th>IdP SSO URL</th><td><code>{{.IdPSSOURL}}</code></td></tr>
{{- with .Fetcher}}
<tr><th>IdP metadata URL</th><td><code id="metadata-url">{{.URL}}</code><br><span id="metadata-age"{{if .Stale}} class="warn"{{end}}>last good refresh: {{.LastRefresh}} ({{.Age}})</span></td></tr>
{{- end}}
<tr><th>Trusted certificates</th><td>
{{- if .CertificatesError}}<div class="bad">{{.CertificatesError}}</div>{{end}}
{{- range .Certificates}}
<div class="cert{{if or .Expired .Expiring}} warn{{end}}"><small>SHA-256</small> <code class="fingerprint">{{.Fingerprint}}</code><br>
<small>{{.Subject}} · valid {{.NotBefore}} to {{.NotAfter}} · <b>{{.Left}}</b></small></div>
{{- end}}
</td></tr>
{{- range .Policies}}
<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>
{{- end}}
</table>

<h2>4. Test login</h2>
<p>Signs in at the IdP as a real user and shows what the gateway makes of the response: the verified identity, or why it is refused. It creates no session and runs no login hook.
Sign in at the IdP as the user to test (a private window tests another user than the IdP session of this browser).</p>
<p><a class="button" id="test-login" href="{{.TestLink}}">Test login</a></p>

<h2>5. Recent refusals</h2>
<form method="get" action=""><input type="hidden" name="connection" value="{{.Name}}"><label>Request ID: <input name="request_id" value="{{.RequestID}}" size="20"></label> <button type="submit">Find</button>{{if .RequestID}} <a href="?connection={{.Name}}">show all</a>{{end}}</form>
{{template "refusals" .Refusals}}
</body></html>
`))

// writeSetupPage writes a page of the setup assistant.
func writeSetupPage(w http.ResponseWriter, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	setPageHeaders(w.Header(), "'self'")
	_, _ = w.Write(buf.Bytes())
}

// setPageHeaders are the headers of the assistant's pages and of the test
// result: no caching, no referrer, nothing but inline style.
func setPageHeaders(h http.Header, formAction string) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action "+formAction+"; frame-ancestors 'none'")
}

// testResult is the page a test login ends on.
type testResult struct {
	Connection, RequestID string

	Refused                               bool
	Code, Message, Expected, Actual, Hint string
	Note                                  string

	Subject, SubjectFormat             string
	Email                              string
	EmailVerified                      bool
	EmailVerifiedBy, EmailPolicy       string
	GivenName, FamilyName, DisplayName string
	Groups, Roles                      []string
	Issuer, AssertionID                string
	AuthnInstant, SessionEnd           time.Time
	IdPInitiated                       bool
	Attributes                         []testAttribute
	TeamsShown                         bool
	Teams                              []string
	TeamsError                         string
}

type testAttribute struct {
	Name, FriendlyName string
	Values             []string
}

var testResultTemplate = template.Must(template.New("test").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>Test login {{if .Refused}}refused{{else}}succeeded{{end}} · {{.Connection}}</title><style>` + setupStyle + `</style></head>
<body>
<h1>Test login of <code>{{.Connection}}</code></h1>
<p><small>No session was created and no login hook ran. Request ID <code id="request-id">{{.RequestID}}</code>. Reload the setup assistant to see this login under recent refusals{{if not .Refused}} (it was accepted, so it is not there){{end}}.</small></p>
{{- if .Refused}}
<div class="bad" id="diagnosis">
<p><b>Refused:</b> <code id="code">{{.Code}}</code></p>
<p id="message">{{.Message}}</p>
{{- if .Note}}<p id="note">{{.Note}}</p>{{end}}
<table>
{{- if .Expected}}<tr><th>Expected</th><td><code id="expected">{{.Expected}}</code></td></tr>{{end}}
{{- if .Actual}}<tr><th>Actual</th><td><code id="actual">{{.Actual}}</code></td></tr>{{end}}
</table>
{{- if .Hint}}<p><b>Fix:</b> <span id="hint">{{.Hint}}</span></p>{{end}}
</div>
{{- else}}
<div class="ok" id="identity">
<p><b>Accepted.</b> This is the identity the gateway would give the application.</p>
<table>
<tr><th>Subject (NameID)</th><td><code id="subject">{{.Subject}}</code>{{if .SubjectFormat}}<br><small>{{.SubjectFormat}}</small>{{end}}</td></tr>
<tr><th>Email</th><td><code id="email">{{.Email}}</code></td></tr>
<tr><th>email_verified</th><td id="email-verified">{{if .EmailVerified}}verified, by {{if eq .EmailVerifiedBy "idp"}}the IdP (email_verified = true){{else}}this connection's configuration (policy {{.EmailPolicy}}){{end}}{{else}}not verified (policy {{.EmailPolicy}}){{end}}</td></tr>
<tr><th>Name</th><td>{{.GivenName}} {{.FamilyName}}{{if .DisplayName}} ({{.DisplayName}}){{end}}</td></tr>
<tr><th>Groups</th><td id="groups">{{range $i, $g := .Groups}}{{if $i}}, {{end}}<code>{{$g}}</code>{{else}}none{{end}}</td></tr>
<tr><th>Roles</th><td id="roles">{{range $i, $r := .Roles}}{{if $i}}, {{end}}<code>{{$r}}</code>{{else}}none{{end}}</td></tr>
{{- if .TeamsShown}}
<tr><th>Teams a sync would grant</th><td id="teams">{{if .TeamsError}}<span class="bad">the preview failed: {{.TeamsError}}</span>{{else}}{{range $i, $t := .Teams}}{{if $i}}, {{end}}<code>{{$t}}</code>{{else}}none{{end}}{{end}}</td></tr>
{{- end}}
<tr><th>Issuer</th><td><code>{{.Issuer}}</code></td></tr>
<tr><th>Assertion ID</th><td><code>{{.AssertionID}}</code></td></tr>
<tr><th>Authenticated at</th><td>{{.AuthnInstant.UTC.Format "2006-01-02 15:04:05 UTC"}}</td></tr>
{{- if not .SessionEnd.IsZero}}<tr><th>IdP session ends</th><td>{{.SessionEnd.UTC.Format "2006-01-02 15:04:05 UTC"}}</td></tr>{{end}}
</table>
<h2>Attributes, as received</h2>
<table id="attributes">
{{- range .Attributes}}
<tr><th>{{.Name}}{{if .FriendlyName}}<br><small>{{.FriendlyName}}</small>{{end}}</th><td>{{range $i, $v := .Values}}{{if $i}}<br>{{end}}<code>{{$v}}</code>{{end}}</td></tr>
{{- else}}
<tr><td>none</td></tr>
{{- end}}
</table>
</div>
{{- end}}
</body></html>
`))

// writeTestResult writes the page a test login ends on.
func writeTestResult(w http.ResponseWriter, status int, res testResult) {
	var buf bytes.Buffer
	if err := testResultTemplate.Execute(&buf, res); err != nil {
		http.Error(w, http.StatusText(status), status)
		return
	}
	setPageHeaders(w.Header(), "'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
