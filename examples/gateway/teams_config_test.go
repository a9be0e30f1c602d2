package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestTeamsConfig: teams_db, the links and team_sync parse, and what
// cannot work is refused at load or at start-up, with the key named.
func TestTeamsConfig(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "teams.db")
	base := strings.Replace(goodYAML, "KEY", testKey32, 1)
	tests := []struct {
		name, extra string
		wantErr     string // at load
		startErr    string // at newApp
		wantLinks   int
	}{
		{name: "links and policies", extra: "teams_db: " + db + "\nteams:\n  - {connection: acme, group: Engineering, team: eng}\n  - {connection: acme, group: 'ops-*', team: ops, case_sensitive: true}\nteam_sync:\n  create_teams: true\n  best_effort: true\n  policies:\n    acme: {absent_groups: deny, max_groups: 150}\n", wantLinks: 2},
		{name: "teams without teams_db", extra: "teams:\n  - {connection: acme, group: g, team: t}\n", wantErr: "teams_db"},
		{name: "unknown connection", extra: "teams_db: " + db + "\nteams:\n  - {connection: nope, group: g, team: t}\n", wantErr: `teams[0]: connection "nope"`},
		{name: "unknown policy connection", extra: "teams_db: " + db + "\nteam_sync:\n  policies:\n    nope: {absent_groups: keep}\n", wantErr: "team_sync.policies"},
		{name: "other database", extra: "teams_db: mysql://x\n", wantErr: "teams_db"},
		{name: "unknown key in a link", extra: "teams_db: " + db + "\nteams:\n  - {connection: acme, grup: g, team: t}\n", wantErr: "grup"},
		{name: "missing team without create_teams", extra: "teams_db: " + db + "\nteams:\n  - {connection: acme, group: g, team: missing}\n", startErr: `"missing"`},
		{name: "bad policy", extra: "teams_db: " + db + "\nteam_sync:\n  policies:\n    acme: {absent_groups: wipe}\n", startErr: "absent groups policy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeConfigDir(t)
			cfg, err := parseConfig([]byte(base+tc.extra), dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parse: %v, want an error about %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a, err := newApp(context.Background(), cfg, testLogger(t), nil)
			if tc.startErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.startErr) {
					t.Fatalf("newApp: %v, want an error about %q", err, tc.startErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer a.closeTeams()
			if a.teams == nil || len(a.teams.engine.Links()) != tc.wantLinks {
				t.Fatalf("team sync not set up with %d links", tc.wantLinks)
			}
		})
	}
}
