package main

import (
	"bytes"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
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

// The demo IdP's paths. Like a JumpCloud app, the IdP URL
// (/saml2/demo) is both the entity ID and the SSO endpoint.
const (
	idpSSOPath      = "/saml2/demo"
	idpMetadataPath = "/saml2/demo/metadata"
	idpRespondPath  = "/saml2/demo/respond"
	idpLaunchPath   = "/portal/launch"
)

// demoIdP is a JumpCloud-like IdP for one SSO app (the demo gateway's
// connection), built on samltest: a user portal with app tiles
// (IdP-initiated logins) and an SSO endpoint that answers AuthnRequests
// (SP-initiated logins) after a "choose a demo user" page, which stands in
// for JumpCloud's login form.
type demoIdP struct {
	idp        *samltest.IdP
	spEntityID string // the app's SP Entity ID (the Audience)
	acsURL     string // the app's ACS URL (Destination and Recipient)
	gatewayURL string // for the portal's links
	logger     *slog.Logger
}

// newDemoIdP generates a key pair (a fresh one per run: nothing to set up,
// nothing secret on disk) and returns the IdP whose base URL is baseURL.
func newDemoIdP(baseURL, spEntityID, acsURL, gatewayURL string, logger *slog.Logger) (*demoIdP, error) {
	now := time.Now()
	key, cert, err := samltest.NewKeyPair(2048, now.Add(-time.Hour), now.AddDate(1, 0, 0), "")
	if err != nil {
		return nil, fmt.Errorf("idp: generating the signing key: %w", err)
	}
	idp := samltest.New(key, cert, baseURL+idpSSOPath)
	// JumpCloud's default: the metadata declares the HTTP-POST binding
	// only. The SSO endpoint accepts both bindings anyway.
	return &demoIdP{idp: idp, spEntityID: spEntityID, acsURL: acsURL, gatewayURL: gatewayURL, logger: logger}, nil
}

func (d *demoIdP) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", d.portal)
	mux.HandleFunc("GET "+idpLaunchPath, d.launch)
	mux.HandleFunc("GET "+idpMetadataPath, d.metadata)
	mux.HandleFunc(idpSSOPath, d.sso)
	mux.HandleFunc("POST "+idpRespondPath, d.respond)
	mux.HandleFunc("/healthz", healthz)
	return securityHeaders(mux)
}

func (d *demoIdP) metadata(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(d.idp.Metadata())
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
<a class="tile" id="tile-{{.Key}}" href="/portal/launch?user={{.Key}}">samlgate demo</a>
</div>
{{- end}}
</div>
<p><small>IdP entity ID and SSO URL: {{.EntityID}} · <a href="/saml2/demo/metadata">metadata</a></small></p>
</body>
</html>
`))

func (d *demoIdP) portal(w http.ResponseWriter, r *http.Request) {
	writeTemplate(w, portalTemplate, struct {
		GatewayURL, EntityID string
		Users                []demoUser
	}{d.gatewayURL, d.idp.EntityID, demoUsers})
}

// launch is an app tile: an IdP-initiated response for the user, posted to
// the app's first ACS URL by an auto-submitting form.
func (d *demoIdP) launch(w http.ResponseWriter, r *http.Request) {
	u, ok := findDemoUser(r.URL.Query().Get("user"))
	if !ok {
		http.Error(w, "no such demo user", http.StatusNotFound)
		return
	}
	d.postResponse(w, r, u, "", "")
}

var chooseTemplate = template.Must(template.New("choose").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in to samlgate demo (demo IdP)</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:40rem} button{display:block;margin:.5rem 0;padding:.6rem 1rem;min-width:20rem;text-align:left}</style>
</head>
<body>
<h1>Sign in to "samlgate demo"</h1>
<p>The gateway sent an AuthnRequest (SP-initiated login). A real JumpCloud would ask for a password and MFA here; the demo IdP lets you choose who you are.</p>
<form method="post" action="/saml2/demo/respond">
<input type="hidden" name="request_id" value="{{.RequestID}}">
<input type="hidden" name="relay_state" value="{{.RelayState}}">
{{- range .Users}}
<button type="submit" id="choose-{{.Key}}" name="user" value="{{.Key}}">{{.Email}} <small>({{.Note}})</small></button>
{{- end}}
</form>
</body>
</html>
`))

// sso answers an SP-initiated AuthnRequest (HTTP-Redirect or HTTP-POST
// binding) with the "choose a demo user" page.
func (d *demoIdP) sso(w http.ResponseWriter, r *http.Request) {
	id, acs, relayState, err := d.idp.ParseAuthnRequest(r)
	if err != nil {
		d.logger.Warn("idp: bad AuthnRequest", "err", err)
		http.Error(w, "bad AuthnRequest: "+err.Error(), http.StatusBadRequest)
		return
	}
	// Like JumpCloud, answer only at the ACS URL configured for the app:
	// an AuthnRequest cannot send the response anywhere else.
	if acs != "" && acs != d.acsURL {
		d.logger.Warn("idp: AuthnRequest names an ACS URL the app does not have", "got", acs, "want", d.acsURL)
		http.Error(w, fmt.Sprintf("the AuthnRequest's AssertionConsumerServiceURL %q is not this app's ACS URL %q", acs, d.acsURL), http.StatusBadRequest)
		return
	}
	writeTemplate(w, chooseTemplate, struct {
		RequestID, RelayState string
		Users                 []demoUser
	}{id, relayState, demoUsers})
}

// respond is the chosen user's answer to an AuthnRequest: a response with
// InResponseTo, posted to the ACS URL with the RelayState.
func (d *demoIdP) respond(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	u, ok := findDemoUser(r.PostForm.Get("user"))
	if !ok {
		http.Error(w, "no such demo user", http.StatusBadRequest)
		return
	}
	reqID := r.PostForm.Get("request_id")
	if reqID == "" {
		http.Error(w, "no request_id", http.StatusBadRequest)
		return
	}
	d.postResponse(w, r, u, reqID, r.PostForm.Get("relay_state"))
}

// postResponse mints the response for u (a RequestDenied error for a user
// not bound to the app) and writes the auto-submitting form.
func (d *demoIdP) postResponse(w http.ResponseWriter, r *http.Request, u demoUser, inResponseTo, relayState string) {
	resp := samltest.Response{
		Audience:     d.spEntityID,
		Destination:  d.acsURL,
		InResponseTo: inResponseTo,
	}
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
	form, err := d.idp.FormValue(resp)
	if err != nil {
		d.logger.Error("idp: minting the response", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	flow := "idp-initiated"
	if inResponseTo != "" {
		flow = "sp-initiated"
	}
	d.logger.Debug("idp: posting a response", "user", u.Key, "flow", flow, "bound", u.Bound)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(d.idp.HTMLPostForm(d.acsURL, form, relayState))
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
