package teamsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/samlgate/samlgate/saml"
)

// Config configures an Engine.
type Config struct {
	// Store keeps teams and memberships. Required.
	Store Store
	// Links are the group → team links of every connection.
	Links []Link
	// Policies are the per-connection policies, by connection name; a
	// connection without one gets DefaultPolicy.
	Policies      map[string]Policy
	DefaultPolicy Policy
	// CreateTeams creates a linked team the store does not have, at start
	// and on first grant. Off by default: a link to a missing team is a
	// configuration error reported by New (a typo in a team name must not
	// quietly create a team nobody grants access to).
	CreateTeams bool
	// Logger receives one Info line per sync (connection, joined, left,
	// counts; never the user's groups or email) and a warning per absent
	// groups attribute under policy keep. nil means slog.Default().
	Logger *slog.Logger
}

// Engine syncs team memberships from IdP groups at each login. It is safe
// for concurrent use.
type Engine struct {
	store       Store
	policies    map[string]Policy
	def         Policy
	createTeams bool
	logger      *slog.Logger
	links       atomic.Pointer[linkSet]
}

// linkSet is an immutable set of compiled links, by connection.
type linkSet struct {
	links  []Link
	byConn map[string][]compiledLink
	index  map[string]*connIndex
}

// connIndex finds a connection's links for a group without scanning them
// all: exact links by name (case-folded, or as is for case-sensitive
// ones), patterns in a list. A user in 5,000 groups costs 5,000 map
// lookups, not 5,000 times the number of links.
type connIndex struct {
	folded   map[string][]int // lower-cased group → links (case-insensitive)
	exact    map[string][]int // group → links (case-sensitive)
	patterns []int
}

func newConnIndex(links []compiledLink) *connIndex {
	ix := &connIndex{folded: map[string][]int{}, exact: map[string][]int{}}
	for i, l := range links {
		switch {
		case l.glob:
			ix.patterns = append(ix.patterns, i)
		case l.CaseSensitive:
			ix.exact[l.pattern] = append(ix.exact[l.pattern], i)
		default:
			ix.folded[l.pattern] = append(ix.folded[l.pattern], i)
		}
	}
	return ix
}

// New validates cfg and checks that every linked team exists in the store
// (or creates them, with CreateTeams).
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("teamsync: Config.Store is nil: %w", ErrConfig)
	}
	if err := cfg.DefaultPolicy.validate(); err != nil {
		return nil, err
	}
	for name, p := range cfg.Policies {
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("connection %q: %w", name, err)
		}
	}
	e := &Engine{store: cfg.Store, policies: maps.Clone(cfg.Policies), def: cfg.DefaultPolicy, createTeams: cfg.CreateTeams, logger: cfg.Logger}
	if e.logger == nil {
		e.logger = slog.Default()
	}
	if err := e.SetLinks(ctx, cfg.Links); err != nil {
		return nil, err
	}
	return e, nil
}

// SetLinks replaces the links. They are checked first: an invalid link, or
// one to a team the store lacks (unless CreateTeams), is an error and the
// old links stay. What a removed or retargeted link granted is revoked at
// each user's next login, or for every user by Reconcile.
func (e *Engine) SetLinks(ctx context.Context, links []Link) error {
	ls := &linkSet{links: slices.Clone(links), byConn: map[string][]compiledLink{}, index: map[string]*connIndex{}}
	var teams []string
	for i, l := range links {
		if err := l.validate(); err != nil {
			return fmt.Errorf("links[%d]: %w: %w", i, err, ErrConfig)
		}
		ls.byConn[l.Connection] = append(ls.byConn[l.Connection], compileLink(l))
		if !slices.Contains(teams, l.Team) {
			teams = append(teams, l.Team)
		}
	}
	for conn, cl := range ls.byConn {
		ls.index[conn] = newConnIndex(cl)
	}
	missing, err := e.store.MissingTeams(ctx, teams)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		if !e.createTeams {
			return fmt.Errorf("teamsync: the links name teams that do not exist: %s (create them, fix the links, or set CreateTeams): %w: %w",
				quoteJoin(missing), ErrTeamMissing, ErrConfig)
		}
		for _, t := range missing {
			if err := e.store.CreateTeam(ctx, t); err != nil {
				return err
			}
		}
	}
	e.links.Store(ls)
	return nil
}

// Links returns a copy of the current links.
func (e *Engine) Links() []Link { return slices.Clone(e.links.Load().links) }

// Sync applies the login's groups to the user's memberships, in one
// transaction with the user's rows locked, and returns the diff. Call it
// after a verified assertion only (saml.Connection.Verify), never on a
// session: see LoginFromIdentity.
func (e *Engine) Sync(ctx context.Context, l Login) (Diff, error) {
	return e.run(ctx, l, false)
}

// Preview computes the diff Sync would apply now, and writes nothing: no
// user, team or membership is created. For a setup assistant's test login.
func (e *Engine) Preview(ctx context.Context, l Login) (Diff, error) {
	return e.run(ctx, l, true)
}

func (e *Engine) run(ctx context.Context, l Login, dry bool) (Diff, error) {
	if err := l.validate(); err != nil {
		return Diff{}, err
	}
	p, ok := e.policies[l.Connection]
	if !ok {
		p = e.def
	}
	groups, removals, note, err := p.plan(l)
	if err != nil {
		return Diff{}, err
	}
	desired := e.links.Load().grants(l.Connection, groups)
	u := User{Connection: l.Connection, Subject: l.Subject, Email: l.Email}
	d, err := e.store.Apply(ctx, u, desired, ApplyOptions{Removals: removals, DryRun: dry, CreateTeams: e.createTeams})
	if err != nil {
		return Diff{}, err
	}
	d.Note = note
	if dry {
		return d, nil
	}
	if note == NoteAbsentKept {
		e.logger.WarnContext(ctx, "teamsync: the assertion has no groups attribute; memberships kept (policy keep): check the IdP application's group attribute",
			"connection", l.Connection)
	}
	e.logger.InfoContext(ctx, "teamsync: teams synced", "connection", l.Connection,
		"joined", d.Joined, "left", d.Left, "unchanged", len(d.Unchanged), "removals", d.Removals, "note", note)
	return d, nil
}

// grants are the link grants groups call for on connection, de-duplicated.
func (ls *linkSet) grants(connection string, groups []string) []Grant {
	links := ls.byConn[connection]
	if len(links) == 0 || len(groups) == 0 {
		return nil
	}
	ix := ls.index[connection]
	seen := map[Grant]bool{}
	var out []Grant
	grant := func(i int) {
		gr := Grant{Team: links[i].Team, Source: Source(links[i].source)}
		if !seen[gr] {
			seen[gr] = true
			out = append(out, gr)
		}
	}
	for _, g := range groups {
		folded := strings.ToLower(g)
		for _, i := range ix.folded[folded] {
			grant(i)
		}
		for _, i := range ix.exact[g] {
			grant(i)
		}
		for _, i := range ix.patterns {
			if links[i].match(g, folded) {
				grant(i)
			}
		}
	}
	return out
}

// SyncTeams is the hook package saml/gateway calls at each login
// (gateway.Config.TeamSync): it syncs the verified identity and returns
// the names of all the user's teams afterwards, manual ones included.
func (e *Engine) SyncTeams(ctx context.Context, id *saml.Identity) ([]string, error) {
	d, err := e.Sync(ctx, LoginFromIdentity(id))
	if err != nil {
		return nil, err
	}
	return d.TeamNames(), nil
}

// Reconcile revokes, for every user at once, the grants of links that no
// longer exist (removed, or retargeted to another team), and returns how
// many grants it removed. Memberships that still have another source
// (manual, or another link) stay.
func (e *Engine) Reconcile(ctx context.Context) (int, error) {
	ls := e.links.Load()
	valid := map[[3]string]bool{}
	for conn, links := range ls.byConn {
		for _, l := range links {
			valid[[3]string{conn, l.Team, l.source}] = true
		}
	}
	n, err := e.store.RevokeLinks(ctx, func(connection, team string, src Source) bool {
		return valid[[3]string{connection, team, string(src)}]
	})
	if err != nil {
		return 0, err
	}
	e.logger.InfoContext(ctx, "teamsync: links reconciled", "revoked", n)
	return n, nil
}

// UserTeams returns the user's memberships with their sources.
func (e *Engine) UserTeams(ctx context.Context, connection, subject string) ([]Membership, error) {
	return e.store.UserTeams(ctx, connection, subject)
}

// TeamMembers returns the team's members with their sources.
func (e *Engine) TeamMembers(ctx context.Context, team string) ([]Member, error) {
	return e.store.TeamMembers(ctx, team)
}

// AddMember adds u to team by hand (SourceManual): no sync removes it.
func (e *Engine) AddMember(ctx context.Context, u User, team string) error {
	if err := (Login{Connection: u.Connection, Subject: u.Subject, Email: u.Email}).validate(); err != nil {
		return err
	}
	return e.store.AddManual(ctx, u, team)
}

// RemoveMember removes the manual source of the user's membership of team;
// a link that grants it keeps the user there.
func (e *Engine) RemoveMember(ctx context.Context, connection, subject, team string) error {
	return e.store.RemoveManual(ctx, connection, subject, team)
}

// CreateTeam creates a team (no error if it exists).
func (e *Engine) CreateTeam(ctx context.Context, name string) error {
	if err := CheckTeamName(name); err != nil {
		return fmt.Errorf("teamsync: %w: %w", err, ErrInvalidInput)
	}
	return e.store.CreateTeam(ctx, name)
}

// IsRefusal reports whether err must refuse the login whatever the
// best-effort setting (ErrGroupsAbsent).
func IsRefusal(err error) bool { return errors.Is(err, ErrGroupsAbsent) }
