package teamsync

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// MemoryStore is a Store in this process's memory, for tests and demos: it
// is lost on restart and unknown to other replicas. One mutex serializes
// every call, which is the per-user lock and more.
type MemoryStore struct {
	mu    sync.Mutex
	teams map[string]bool
	users map[userKey]*memUser
}

type userKey struct{ connection, subject string }

type memUser struct {
	email  string
	grants map[Grant]bool
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{teams: map[string]bool{}, users: map[userKey]*memUser{}}
}

// Apply implements Store.
func (m *MemoryStore) Apply(ctx context.Context, u User, desired []Grant, opts ApplyOptions) (Diff, error) {
	if err := ctx.Err(); err != nil {
		return Diff{}, fmt.Errorf("teamsync: memory store: %w (%w)", ErrStore, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var missing []string
	for _, g := range desired {
		if !m.teams[g.Team] && !slices.Contains(missing, g.Team) {
			missing = append(missing, g.Team)
		}
	}
	if len(missing) > 0 && !opts.CreateTeams && !opts.DryRun {
		return Diff{}, missingError(missing)
	}
	k := userKey{u.Connection, u.Subject}
	var current []Grant
	if mu := m.users[k]; mu != nil {
		for g := range mu.grants {
			current = append(current, g)
		}
	}
	add, del, d := ComputeDiff(current, desired, opts.Removals)
	if opts.DryRun {
		return d, nil
	}
	for _, t := range missing {
		m.teams[t] = true
	}
	mu := m.user(k)
	mu.email = u.Email
	for _, g := range del {
		delete(mu.grants, g)
	}
	for _, g := range add {
		mu.grants[g] = true
	}
	return d, nil
}

func (m *MemoryStore) user(k userKey) *memUser {
	mu := m.users[k]
	if mu == nil {
		mu = &memUser{grants: map[Grant]bool{}}
		m.users[k] = mu
	}
	return mu
}

func missingError(teams []string) error {
	slices.Sort(teams)
	return fmt.Errorf("teamsync: no team named %s (create the teams first, or set CreateTeams): %w", quoteJoin(teams), ErrTeamMissing)
}

func quoteJoin(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// MissingTeams implements Store.
func (m *MemoryStore) MissingTeams(_ context.Context, names []string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, n := range names {
		if !m.teams[n] && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// CreateTeam implements Store.
func (m *MemoryStore) CreateTeam(_ context.Context, name string) error {
	if err := CheckTeamName(name); err != nil {
		return fmt.Errorf("teamsync: %w: %w", err, ErrInvalidInput)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.teams[name] = true
	return nil
}

// Teams implements Store.
func (m *MemoryStore) Teams(context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.teams))
	for t := range m.teams {
		out = append(out, t)
	}
	slices.Sort(out)
	return out, nil
}

// UserTeams implements Store.
func (m *MemoryStore) UserTeams(_ context.Context, connection, subject string) ([]Membership, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mu := m.users[userKey{connection, subject}]
	if mu == nil {
		return []Membership{}, nil
	}
	return memberships(mu.grants), nil
}

// TeamMembers implements Store.
func (m *MemoryStore) TeamMembers(_ context.Context, team string) ([]Member, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []Member{}
	for k, mu := range m.users {
		var srcs []Source
		for g := range mu.grants {
			if g.Team == team {
				srcs = append(srcs, g.Source)
			}
		}
		if len(srcs) > 0 {
			slices.Sort(srcs)
			out = append(out, Member{Connection: k.connection, Subject: k.subject, Email: mu.email, Sources: srcs})
		}
	}
	sortMembers(out)
	return out, nil
}

func sortMembers(ms []Member) {
	slices.SortFunc(ms, func(a, b Member) int {
		if c := strings.Compare(a.Connection, b.Connection); c != 0 {
			return c
		}
		return strings.Compare(a.Subject, b.Subject)
	})
}

// AddManual implements Store.
func (m *MemoryStore) AddManual(_ context.Context, u User, team string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.teams[team] {
		return missingError([]string{team})
	}
	mu := m.user(userKey{u.Connection, u.Subject})
	if u.Email != "" {
		mu.email = u.Email
	}
	mu.grants[Grant{Team: team, Source: SourceManual}] = true
	return nil
}

// RemoveManual implements Store.
func (m *MemoryStore) RemoveManual(_ context.Context, connection, subject, team string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mu := m.users[userKey{connection, subject}]; mu != nil {
		delete(mu.grants, Grant{Team: team, Source: SourceManual})
	}
	return nil
}

// RevokeLinks implements Store.
func (m *MemoryStore) RevokeLinks(ctx context.Context, keep func(connection, team string, src Source) bool) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("teamsync: memory store: %w (%w)", ErrStore, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, mu := range m.users {
		for g := range mu.grants {
			if g.Source.IsLink() && !keep(k.connection, g.Team, g.Source) {
				delete(mu.grants, g)
				n++
			}
		}
	}
	return n, nil
}

// Close implements Store; it does nothing.
func (m *MemoryStore) Close() error { return nil }
