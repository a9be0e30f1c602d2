package teamsync

import "context"

// ApplyOptions say how a Store applies one user's sync.
type ApplyOptions struct {
	// Removals lets the sync delete the user's link grants that desired
	// no longer holds; false applies joins only.
	Removals bool
	// DryRun computes the diff and writes nothing (Engine.Preview): no
	// user, team or grant is created, and no lock is taken.
	DryRun bool
	// CreateTeams creates a desired team the store does not have, instead
	// of failing with ErrTeamMissing.
	CreateTeams bool
}

// Store keeps teams, users and their grants. Every implementation runs the
// conformance suite in package teamsynctest.
//
// Apply is the heart: in one transaction that holds the user's lock (so two
// logins of the same user, in two tabs or on two replicas, apply one after
// the other and the last one's groups win), it reads all the user's grants,
// calls ComputeDiff, writes the difference and returns the diff. On any
// error nothing is written. A desired team the store lacks is ErrTeamMissing
// unless CreateTeams is set. Errors of the backend wrap ErrStore.
type Store interface {
	Apply(ctx context.Context, u User, desired []Grant, opts ApplyOptions) (Diff, error)

	// MissingTeams returns those of names the store does not have.
	MissingTeams(ctx context.Context, names []string) ([]string, error)
	// CreateTeam creates a team; creating one that exists is no error.
	CreateTeam(ctx context.Context, name string) error
	// Teams lists every team, sorted.
	Teams(ctx context.Context) ([]string, error)

	// UserTeams returns the memberships of (connection, subject), sorted
	// by team; none for an unknown user.
	UserTeams(ctx context.Context, connection, subject string) ([]Membership, error)
	// TeamMembers returns the members of team, sorted by connection and
	// subject.
	TeamMembers(ctx context.Context, team string) ([]Member, error)

	// AddManual adds the manual source to u's membership of team (which
	// must exist: ErrTeamMissing), creating the user if needed.
	AddManual(ctx context.Context, u User, team string) error
	// RemoveManual removes the manual source only; link grants stay.
	RemoveManual(ctx context.Context, connection, subject, team string) error

	// RevokeLinks deletes, in one transaction, every link grant for which
	// keep(connection, team, source) is false, and returns how many.
	RevokeLinks(ctx context.Context, keep func(connection, team string, src Source) bool) (int, error)

	Close() error
}
