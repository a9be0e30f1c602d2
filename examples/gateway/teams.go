package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/samlgate/samlgate/groups/teamsync"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/samlconfig"
)

// HeaderTeams carries the user's teams (Config.TeamsDB): the teams of the
// session, as synced at login, every source included; empty without team
// sync. Like the other identity headers it is stripped from every client
// request.
const HeaderTeams = "X-Forwarded-Teams"

// TeamSyncOptions are the team sync settings besides the links.
type TeamSyncOptions struct {
	// CreateTeams creates linked teams that do not exist yet. Off by
	// default: a link to a missing team stops the gateway at start-up (a
	// typo must not create a team).
	CreateTeams bool `yaml:"create_teams,omitempty" json:"create_teams,omitempty"`
	// BestEffort lets users in without teams when the sync fails (the
	// teams database is down), instead of refusing the login
	// (team_sync_failed, 503).
	BestEffort bool `yaml:"best_effort,omitempty" json:"best_effort,omitempty"`
	// Policies are per connection: absent_groups (keep, the default;
	// clear; deny) and max_groups (the IdP's cap on the group list: a
	// list that long applies joins only).
	Policies map[string]teamsync.Policy `yaml:"policies,omitempty" json:"policies,omitempty"`
}

// validateTeams checks the team sync settings against the connections.
func (c *Config) validateTeams() error {
	if c.TeamsDB == "" {
		if len(c.Teams) > 0 || c.TeamSync != nil {
			return errors.New("teams and team_sync need teams_db (sqlite:///path/teams.db or postgres://...)")
		}
		return nil
	}
	if !strings.HasPrefix(c.TeamsDB, "sqlite:") && !strings.HasPrefix(c.TeamsDB, "postgres://") && !strings.HasPrefix(c.TeamsDB, "postgresql://") {
		return errors.New("teams_db: give sqlite:///path/teams.db or postgres://user@host/db")
	}
	known := func(name string) bool {
		return slices.ContainsFunc(c.Connections, func(fc samlconfig.Connection) bool { return fc.Name == name })
	}
	for i, l := range c.Teams {
		if !known(l.Connection) {
			return fmt.Errorf("teams[%d]: connection %q is not one of connections", i, l.Connection)
		}
	}
	if c.TeamSync != nil {
		for name := range c.TeamSync.Policies {
			if !known(name) {
				return fmt.Errorf("team_sync.policies: connection %q is not one of connections", name)
			}
		}
	}
	return nil
}

// teamSync is the gateway's TeamSyncer: the engine, and for the demo the
// last diff of each user (shown on the upstream page).
type teamSync struct {
	engine *teamsync.Engine
	store  teamsync.Store

	mu    sync.Mutex
	diffs map[[2]string]teamsync.Diff // nil: not recorded
}

// SyncTeams implements gateway.TeamSyncer.
func (t *teamSync) SyncTeams(ctx context.Context, id *saml.Identity) ([]string, error) {
	d, err := t.engine.Sync(ctx, teamsync.LoginFromIdentity(id))
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if t.diffs != nil {
		t.diffs[[2]string{id.Connection, id.Subject}] = d
	}
	t.mu.Unlock()
	return d.TeamNames(), nil
}

// PreviewTeams answers the setup assistant's test login with the teams a
// sync would leave the user in, writing nothing (gateway.Config.PreviewTeams).
func (t *teamSync) PreviewTeams(ctx context.Context, id *saml.Identity) ([]string, error) {
	d, err := t.engine.Preview(ctx, teamsync.LoginFromIdentity(id))
	if err != nil {
		return nil, err
	}
	return d.TeamNames(), nil
}

// lastDiff is the diff of the user's last login, when recorded.
func (t *teamSync) lastDiff(connection, subject string) (teamsync.Diff, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.diffs[[2]string{connection, subject}]
	return d, ok
}

// setupTeams opens the teams database and sets gcfg.TeamSync, when
// teams_db is set. Links to missing teams are a start-up error unless
// team_sync.create_teams.
func (a *app) setupTeams(ctx context.Context, gcfg *gateway.Config) error {
	cfg := a.cfg
	if cfg.TeamsDB == "" {
		return nil
	}
	store, err := teamsync.Open(ctx, cfg.TeamsDB)
	if err != nil {
		return fmt.Errorf("teams_db: %w", err)
	}
	opts := TeamSyncOptions{}
	if cfg.TeamSync != nil {
		opts = *cfg.TeamSync
	}
	engine, err := teamsync.New(ctx, teamsync.Config{Store: store, Links: cfg.Teams, Policies: opts.Policies, CreateTeams: opts.CreateTeams, Logger: a.logger})
	if err != nil {
		store.Close()
		return fmt.Errorf("teams: %w", err)
	}
	a.teams = &teamSync{engine: engine, store: store}
	gcfg.TeamSync, gcfg.TeamSyncBestEffort = a.teams, opts.BestEffort
	gcfg.PreviewTeams = a.teams.PreviewTeams
	a.logger.Info("team sync on", "links", len(cfg.Teams), "best_effort", opts.BestEffort, "create_teams", opts.CreateTeams)
	return nil
}

// closeTeams closes the teams database, if any.
func (a *app) closeTeams() {
	if a.teams != nil {
		_ = a.teams.store.Close()
	}
}
