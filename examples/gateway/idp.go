package main

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/samlgate/samlgate/saml/samltest"
)

// demoUser is a user of the demo IdP's directory.
type demoUser struct {
	Key        string // "alice": the tile and button id
	Email      string
	GivenName  string
	FamilyName string
	Groups     []string
	// Bound says whether the user is in a group bound to the SSO app in
	// the (simulated) JumpCloud console. An unbound user gets a
	// RequestDenied response, as in JumpCloud ("You have not been given
	// access").
	Bound bool
	Note  string
}

// demoUsers are the demo directory. The demo gateway admits only the
// Engineering group and maps Admins to the role admin and Engineering to
// developer.
var demoUsers = []demoUser{
	{
		Key: "alice", Email: "alice@example.com", GivenName: "Alice", FamilyName: "Liddell",
		Groups: []string{"Engineering", "Admins"}, Bound: true,
		Note: "Engineering + Admins: let in, roles developer and admin",
	},
	{
		Key: "bob", Email: "bob@example.com", GivenName: "Bob", FamilyName: "Builder",
		Groups: []string{"Sales"}, Bound: true,
		Note: "Sales: JumpCloud signs him in, the gateway refuses him (group_not_allowed)",
	},
	{
		Key: "carol", Email: "carol@example.com", GivenName: "Carol", FamilyName: "Danvers",
		Groups: []string{"Contractors"}, Bound: false,
		Note: "not in a group bound to the app: JumpCloud answers RequestDenied",
	},
}

func findDemoUser(key string) (demoUser, bool) {
	for _, u := range demoUsers {
		if u.Key == key {
			return u, true
		}
	}
	return demoUser{}, false
}

// The demo IdP's paths. Like a JumpCloud app, the IdP URL (/saml2/demo)
// is both the entity ID and the SSO URL the gateway sends AuthnRequests
// to: there the demo shows its login page, a "choose a demo user" page
// standing in for JumpCloud's login form, which hands the AuthnRequest
// on to the samltest.Server mounted under it.
const (
	idpSSOPath          = "/saml2/demo"
	idpMetadataPath     = idpSSOPath + samltest.MetadataPath
	idpServerSSOPath    = idpSSOPath + samltest.SSOPath
	idpIdPInitiatedPath = idpSSOPath + samltest.IdPInitiatedPath
)

// demoIdP is a JumpCloud-like IdP for one SSO app (the demo gateway's
// connection), built on samltest.Server: a user portal with app tiles
// (IdP-initiated logins) and a login page that answers AuthnRequests
// (SP-initiated logins) for the demo user chosen there.
type demoIdP struct {
	idp        *samltest.IdP
	srv        *samltest.Server
	spEntityID string // the app's SP Entity ID (the Audience)
	gatewayURL string // for the portal's links
	setupURL   string // the gateway's setup assistant, for the portal's link
	logger     *slog.Logger

	groupsMu sync.Mutex
	groups   map[string][]string // groups set on the portal, by user key
}

// newDemoIdP generates a key pair (a fresh one per run: nothing to set up,
// nothing secret on disk) and returns the IdP whose base URL is baseURL,
// answering at the app's ACS URL acsURL only.
func newDemoIdP(baseURL, spEntityID, acsURL, gatewayURL string, logger *slog.Logger) (*demoIdP, error) {
	now := time.Now()
	key, cert, err := samltest.NewKeyPair(2048, now.Add(-time.Hour), now.AddDate(1, 0, 0), "")
	if err != nil {
		return nil, fmt.Errorf("idp: generating the signing key: %w", err)
	}
	// JumpCloud's default: the metadata declares the HTTP-POST binding
	// only. The SSO endpoint accepts both bindings anyway.
	idp := samltest.New(key, cert, baseURL+idpSSOPath)
	d := &demoIdP{idp: idp, spEntityID: spEntityID, gatewayURL: gatewayURL, logger: logger}
	// Like JumpCloud, answer only at the ACS URL configured for the app:
	// an AuthnRequest cannot send the response anywhere else.
	d.srv = &samltest.Server{IdP: idp, ACSURLs: []string{acsURL}, Respond: d.respond}
	return d, nil
}

func (d *demoIdP) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", d.portal)
	mux.HandleFunc("POST "+idpGroupsPath, d.setAliceGroups)
	mux.HandleFunc(idpSSOPath, d.login)
	mux.Handle(idpSSOPath+"/", http.StripPrefix(idpSSOPath, d.srv))
	mux.HandleFunc("/healthz", healthz)
	return securityHeaders(mux)
}

var portalTemplate = template.Must(template.New("portal").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>JumpCloud user portal (samlgate demo IdP)</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:52rem}
.users{display:flex;gap:1rem;flex-wrap:wrap}
.user{border:1px solid #ccc;border-radius:8px;padding:1rem;width:15rem}
a.tile{display:block;margin-top:.6rem;padding:.8rem;border-radius:6px;background:#00b3a4;color:#fff;text-decoration:none;text-align:center}
small{color:#555}
</style></head>
<body>
<h1>JumpCloud user portal <small>(samlgate demo IdP)</small></h1>
<p>Each tile is the SSO app "samlgate demo" as that user sees it in the portal: clicking it is an
<b>IdP-initiated</b> login, a signed SAML response posted to the gateway's ACS URL.
For an <b>SP-initiated</b> login, open the gateway instead: <a href="{{.GatewayURL}}/">{{.GatewayURL}}/</a>.</p>
<div class="users">
{{- range .Users}}
<div class="user">
<b>{{.Email}}</b><br>
<small>groups: {{range $i, $g := .Groups}}{{if $i}}, {{end}}{{$g}}{{else}}none{{end}}</small><br>
<small>{{.Note}}</small>
<a class="tile" id="tile-{{.Key}}" href="{{$.LaunchPath}}?user={{.Key}}">samlgate demo</a>
</div>
{{- end}}
</div>
{{template "groups-control" .}}
<p><small>IdP entity ID and SSO URL: {{.EntityID}} · <a href="{{.MetadataPath}}">metadata</a></small></p>
{{- if .SetupURL}}
<p>Admin: the gateway's <a id="setup-assistant" href="{{.SetupURL}}">setup assistant</a> shows this app's settings, runs test logins and explains refusals (bob's, for one).</p>
{{- end}}
</body>
</html>
`))

func (d *demoIdP) portal(w http.ResponseWriter, r *http.Request) {
	writeTemplate(w, portalTemplate, struct {
		GatewayURL, EntityID     string
		LaunchPath, MetadataPath string
		Users                    []demoUser
		SetupURL                 string
		GroupsPath               string
		GroupChoices             []groupChoice
		GroupsSaved              bool
	}{d.gatewayURL, d.idp.EntityID, idpIdPInitiatedPath, idpMetadataPath, d.users(), d.setupURL, idpGroupsPath, d.aliceGroupChoices(),
		r.URL.Query().Get("saved") == "alice-groups"})
}

var chooseTemplate = template.Must(template.New("choose").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in to samlgate demo (demo IdP)</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:40rem} button{display:block;margin:.5rem 0;padding:.6rem 1rem;min-width:20rem;text-align:left}</style>
</head>
<body>
<h1>Sign in to "samlgate demo"</h1>
<p>The gateway sent an AuthnRequest (SP-initiated login). A real JumpCloud would ask for a password and MFA here; the demo IdP lets you choose who you are.</p>
<form method="{{.Method}}" action="{{.Action}}">
<input type="hidden" name="SAMLRequest" value="{{.SAMLRequest}}">
{{- if .RelayState}}
<input type="hidden" name="RelayState" value="{{.RelayState}}">
{{- end}}
{{- range .Users}}
<button type="submit" id="choose-{{.Key}}" name="user" value="{{.Key}}">{{.Email}} <small>({{.Note}})</small></button>
{{- end}}
</form>
</body>
</html>
`))

// login is the page at the IdP's SSO URL: it checks the AuthnRequest
// (HTTP-Redirect or HTTP-POST binding) and shows the "choose a demo user"
// page, whose buttons send the same AuthnRequest, with the same binding,
// on to the samltest.Server's SSO endpoint with the user chosen.
func (d *demoIdP) login(w http.ResponseWriter, r *http.Request) {
	_, _, relayState, err := d.idp.ParseAuthnRequest(r)
	if err != nil {
		d.logger.Warn("idp: bad AuthnRequest", "err", err)
		http.Error(w, "bad AuthnRequest: "+err.Error(), http.StatusBadRequest)
		return
	}
	samlRequest := r.URL.Query().Get("SAMLRequest")
	if r.Method == http.MethodPost {
		samlRequest = r.PostForm.Get("SAMLRequest")
	}
	writeTemplate(w, chooseTemplate, struct {
		Method, Action, SAMLRequest, RelayState string
		Users                                   []demoUser
	}{strings.ToLower(r.Method), idpServerSSOPath, samlRequest, relayState, d.users()})
}

// respond is the samltest.Server's Respond: the response for the demo user
// chosen on the login page or by a portal tile (a RequestDenied error for
// a user not bound to the app).
func (d *demoIdP) respond(r *http.Request, req samltest.AuthnRequest) (samltest.Response, error) {
	u, ok := d.findUser(r.FormValue("user"))
	if !ok {
		return samltest.Response{}, errors.New("no such demo user")
	}
	resp := samltest.Response{Audience: d.spEntityID}
	if u.Bound {
		resp.NameID = u.Email
		resp.Email = u.Email
		resp.EmailVerified = "true" // JumpCloud's constant attribute
		resp.GivenName = u.GivenName
		resp.FamilyName = u.FamilyName
		resp.Groups = u.Groups // memberOf, one value per group
	} else {
		// What JumpCloud sends a user the app is not bound to: an unsigned
		// error response without an assertion.
		resp.StatusCode = "Responder"
		resp.SubStatusCode = "RequestDenied"
		resp.StatusMessage = "User is not assigned to this application"
		resp.OmitAssertion = true
		resp.Sign = samltest.SignNone
	}
	flow := "idp-initiated"
	if req.ID != "" {
		flow = "sp-initiated"
	}
	d.logger.Debug("idp: posting a response", "user", u.Key, "flow", flow, "bound", u.Bound)
	return resp, nil
}

func writeTemplate(w http.ResponseWriter, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// securityHeaders sets the headers every demo page should have.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}
