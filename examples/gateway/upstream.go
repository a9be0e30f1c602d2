package main

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// receivedIdentity is what the demo upstream read from the identity
// headers of one request.
type receivedIdentity struct {
	User   string   `json:"user"`
	Email  string   `json:"email"`
	Groups []string `json:"groups"`
	Roles  []string `json:"roles"`
	// Connection is the connection (IdP) that vouched for the user: key
	// accounts by (Connection, User).
	Connection string `json:"connection"`
	// Teams are the user's teams (X-Forwarded-Teams); TeamSync, in the
	// demo, their sources and the last login's diff from the teams
	// database.
	Teams    []string  `json:"teams"`
	TeamSync *teamPage `json:"team_sync,omitempty"`
	// Path is the request path the upstream saw (with the query).
	Path string `json:"path"`
	// ForwardedHeaders are every X-Forwarded-* header received, raw, so
	// that a forged copy would show.
	ForwardedHeaders map[string][]string `json:"forwarded_headers"`
}

// readIdentityHeaders is how an upstream reads the gateway's headers: split
// the lists on ",", then percent-decode each item.
func readIdentityHeaders(r *http.Request) receivedIdentity {
	id := receivedIdentity{
		User:             decodeItem(r.Header.Get(HeaderUser)),
		Email:            decodeItem(r.Header.Get(HeaderEmail)),
		Groups:           splitHeaderList(r.Header.Get(HeaderGroups)),
		Roles:            splitHeaderList(r.Header.Get(HeaderRoles)),
		Connection:       decodeItem(r.Header.Get(HeaderConnection)),
		Teams:            splitHeaderList(r.Header.Get(HeaderTeams)),
		Path:             r.URL.RequestURI(),
		ForwardedHeaders: map[string][]string{},
	}
	for name, v := range r.Header {
		if strings.HasPrefix(strings.ToLower(strings.ReplaceAll(name, "_", "-")), "x-forwarded-") {
			id.ForwardedHeaders[name] = v
		}
	}
	return id
}

func splitHeaderList(v string) []string {
	out := []string{}
	if v == "" {
		return out
	}
	for _, item := range strings.Split(v, ",") {
		out = append(out, decodeItem(item))
	}
	return out
}

func decodeItem(s string) string {
	d, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return d
}

var upstreamTemplate = template.Must(template.New("upstream").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Demo upstream app</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:48rem} td,th{text-align:left;padding:.2rem .8rem .2rem 0;vertical-align:top} code{background:#f3f3f3}</style>
</head>
<body>
<h1 id="hello">Hello {{.Email}}</h1>
<p>This page is the <b>upstream application</b>. It has no SAML code at all: it reads who you are from the
headers the samlgate gateway added in front of it.</p>
<table>
<tr><th>User (subject)</th><td id="user">{{.User}}</td></tr>
<tr><th>Email</th><td id="email">{{.Email}}</td></tr>
<tr><th>Groups</th><td id="groups">{{range $i, $g := .Groups}}{{if $i}}, {{end}}{{$g}}{{end}}</td></tr>
<tr><th>Roles</th><td id="roles">{{range $i, $r := .Roles}}{{if $i}}, {{end}}{{$r}}{{end}}</td></tr>
<tr><th>Connection (IdP)</th><td id="connection">{{.Connection}}</td></tr>
<tr><th>Teams</th><td id="teams">{{range $i, $t := .Teams}}{{if $i}}, {{end}}{{$t}}{{end}}</td></tr>
<tr><th>Path</th><td id="path">{{.Path}}</td></tr>
</table>
{{template "teams" .}}
<h2>X-Forwarded-* headers received</h2>
<table>
{{- range .HeaderNames}}
<tr><th><code>{{.}}</code></th><td><code>{{index $.ForwardedHeaders .}}</code></td></tr>
{{- end}}
</table>
<p><a href="/whoami.json">as JSON</a></p>
<form method="post" action="/logout"><button type="submit" id="logout">Log out</button></form>
</body>
</html>
`))

// upstreamHandler is the demo application behind the gateway: it shows the
// identity headers it received, as HTML (any path) or as JSON
// (/whoami.json).
func upstreamHandler() http.Handler { return upstreamTeamsHandler(nil) }

// upstreamTeamsHandler is upstreamHandler that also shows, from the teams
// database behind tv, the user's teams with their sources.
func upstreamTeamsHandler(tv *teamsView) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := readIdentityHeaders(r)
		id.TeamSync = tv.page(r.Context(), id.Connection, id.User)
		w.Header().Set("Cache-Control", "no-store")
		if r.URL.Path == "/whoami.json" {
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			_ = enc.Encode(id)
			return
		}
		names := make([]string, 0, len(id.ForwardedHeaders))
		for n := range id.ForwardedHeaders {
			names = append(names, n)
		}
		sort.Strings(names)
		writeTemplate(w, upstreamTemplate, struct {
			receivedIdentity
			HeaderNames []string
		}{id, names})
	})
}
