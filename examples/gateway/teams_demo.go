package main

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"

	"github.com/samlgate/samlgate/groups/teamsync"
)

// demoLinks are the demo's team links: Engineering grants two teams, and
// every team is granted by a group alice can be put in or taken out of on
// the demo IdP's portal.
var demoLinks = []teamsync.Link{
	{Connection: demoConnection, Group: "Engineering", Team: "platform"},
	{Connection: demoConnection, Group: "Engineering", Team: "everyone"},
	{Connection: demoConnection, Group: "Admins", Team: "admins"},
	{Connection: demoConnection, Group: "Support", Team: "support"},
}

// demoGroupChoices are the groups the demo IdP's portal lets you give
// alice.
var demoGroupChoices = []string{"Engineering", "Admins", "Support"}

// setupDemoTeams puts the demo's teams database (SQLite) in a new
// temporary directory and returns a function that removes it.
func setupDemoTeams(cfg *Config) (cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "samlgate-demo-teams-")
	if err != nil {
		return nil, err
	}
	cfg.TeamsDB = "sqlite://" + filepath.Join(dir, "teams.db")
	cfg.Teams = demoLinks
	cfg.TeamSync = &TeamSyncOptions{CreateTeams: true}
	return func() { _ = os.RemoveAll(dir) }, nil
}

// teamsView lets the demo upstream read the teams database: the user's
// teams with their sources, and the diff of the user's last login. An
// application behind the gateway reads the same database (or just
// X-Forwarded-Teams).
type teamsView struct{ ts atomic.Pointer[teamSync] }

// attach points the view at the gateway's team sync and records each
// user's last diff from now on.
func (v *teamsView) attach(ts *teamSync) {
	if ts == nil {
		return
	}
	ts.mu.Lock()
	ts.diffs = map[[2]string]teamsync.Diff{}
	ts.mu.Unlock()
	v.ts.Store(ts)
}

// teamPage is what the upstream page shows of team sync.
type teamPage struct {
	Teams []teamsync.Membership `json:"teams"`
	// LastLogin is the diff of the user's last login through this gateway.
	LastLogin *teamsync.Diff `json:"last_login,omitempty"`
}

func (v *teamsView) page(ctx context.Context, connection, user string) *teamPage {
	if v == nil {
		return nil
	}
	ts := v.ts.Load()
	if ts == nil {
		return nil
	}
	ms, err := ts.engine.UserTeams(ctx, connection, user)
	if err != nil {
		return nil
	}
	p := &teamPage{Teams: ms}
	if d, ok := ts.lastDiff(connection, user); ok {
		p.LastLogin = &d
	}
	return p
}

// The upstream page's team section.
var _ = template.Must(upstreamTemplate.New("teams").Parse(`
{{- with .TeamSync}}
<h2>Teams (team sync)</h2>
<table id="teams-table">
<tr><th>Team</th><th>Sources</th></tr>
{{- range .Teams}}
<tr><td>{{.Team}}</td><td>{{range $i, $s := .Sources}}{{if $i}}, {{end}}{{$s.String}}{{end}}</td></tr>
{{- else}}
<tr><td colspan="2">none</td></tr>
{{- end}}
</table>
{{- with .LastLogin}}
<p id="last-login">At your last login: joined <b id="joined">{{range $i, $t := .Joined}}{{if $i}}, {{end}}{{$t}}{{else}}none{{end}}</b>;
left <b id="left">{{range $i, $t := .Left}}{{if $i}}, {{end}}{{$t}}{{else}}none{{end}}</b>;
unchanged {{range $i, $t := .Unchanged}}{{if $i}}, {{end}}{{$t}}{{else}}none{{end}}.
{{- with .Note}} <small>{{.}}</small>{{end}}</p>
{{- end}}
<p><small>Change alice's groups on the demo IdP's portal, then log out and in again: the next login shows what changed.</small></p>
{{- end}}
`))

// groupsControl is the demo IdP portal's form that changes alice's groups.
var _ = template.Must(portalTemplate.New("groups-control").Parse(`
<h2>Change alice's groups</h2>
<p><small>As an admin would in the JumpCloud console. The gateway's team sync applies the change at alice's next login
(joined and left teams show on the app's page). Without Engineering the gateway refuses alice (group_not_allowed).</small></p>
<form method="post" action="{{.GroupsPath}}" id="groups-form">
{{- range .GroupChoices}}
<label><input type="checkbox" name="group" value="{{.Name}}" id="group-{{.Name}}"{{if .Checked}} checked{{end}}> {{.Name}}</label>
{{- end}}
<button type="submit" id="groups-save">Save alice's groups</button>
</form>
{{- if .GroupsSaved}}
<p id="groups-saved"><small>Saved: alice's next login applies her new groups.</small></p>
{{- end}}
`))

// idpGroupsPath is where the portal's form posts alice's groups.
const idpGroupsPath = "/demo/alice-groups"

type groupChoice struct {
	Name    string
	Checked bool
}

// aliceGroupChoices are the form's checkboxes for alice's current groups.
func (d *demoIdP) aliceGroupChoices() []groupChoice {
	u, _ := d.findUser("alice")
	out := make([]groupChoice, len(demoGroupChoices))
	for i, g := range demoGroupChoices {
		out[i] = groupChoice{Name: g, Checked: slices.Contains(u.Groups, g)}
	}
	return out
}

// setAliceGroups is the form's handler: alice's groups become those
// checked (among demoGroupChoices only).
func (d *demoIdP) setAliceGroups(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	groups := []string{}
	for _, g := range demoGroupChoices {
		if slices.Contains(r.PostForm["group"], g) {
			groups = append(groups, g)
		}
	}
	d.groupsMu.Lock()
	if d.groups == nil {
		d.groups = map[string][]string{}
	}
	d.groups["alice"] = groups
	d.groupsMu.Unlock()
	d.logger.Info("idp: alice's groups changed", "count", len(groups))
	// The portal says so: a browser (and the browser test) can tell the
	// page after the change from the one before it.
	http.Redirect(w, r, "/?saved=alice-groups", http.StatusSeeOther)
}

// findUser is findDemoUser with the groups set on the portal.
func (d *demoIdP) findUser(key string) (demoUser, bool) {
	u, ok := findDemoUser(key)
	if !ok {
		return u, false
	}
	d.groupsMu.Lock()
	defer d.groupsMu.Unlock()
	if g, set := d.groups[key]; set {
		u.Groups = slices.Clone(g)
	}
	return u, true
}

// users are the demo users with the groups set on the portal.
func (d *demoIdP) users() []demoUser {
	out := make([]demoUser, len(demoUsers))
	for i, u := range demoUsers {
		out[i], _ = d.findUser(u.Key)
	}
	return out
}

// expectTeams checks, for the selftest, alice's teams after her first
// login: those her demo groups link to, all joined at that login.
func expectTeams(got *receivedIdentity) error {
	want := []string{"admins", "everyone", "platform"}
	if !slices.Equal(got.Teams, want) {
		return fmt.Errorf("%s = %q, want %q", HeaderTeams, got.Teams, want)
	}
	if ts := got.TeamSync; ts == nil || ts.LastLogin == nil || !slices.Equal(ts.LastLogin.Joined, want) {
		return fmt.Errorf("the upstream shows no team sync diff joining %q: %+v", want, got.TeamSync)
	}
	return nil
}
