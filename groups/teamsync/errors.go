package teamsync

// Code is why the engine or a store refused; like saml.Code it is an error
// and a constant, so errors.Is(err, teamsync.ErrTeamMissing) works on every
// error that wraps it.
type Code string

// Error returns the code itself.
func (c Code) Error() string { return string(c) }

// RefusesLogin reports whether the login itself must be refused, whatever
// the gateway's best-effort setting: only ErrGroupsAbsent (policy deny)
// does. Package saml/gateway looks for this method.
func (c Code) RefusesLogin() bool { return c == ErrGroupsAbsent }

const (
	// ErrGroupsAbsent: the assertion had no groups attribute and the
	// connection's policy is AbsentDeny.
	ErrGroupsAbsent Code = "team_sync_groups_absent"
	// ErrTeamMissing: a link grants a team the store does not have, and
	// Config.CreateTeams is off. Nothing of the sync is applied.
	ErrTeamMissing Code = "team_missing"
	// ErrInvalidInput: a login or a name the engine cannot store or
	// compare safely (an empty subject, a control character in a group,
	// a team name that is not a valid name). Nothing is applied.
	ErrInvalidInput Code = "team_sync_invalid_input"
	// ErrConfig: a link or policy that cannot work.
	ErrConfig Code = "team_sync_config_invalid"
	// ErrStore: the store failed; nothing of the sync is applied (the
	// transaction is rolled back).
	ErrStore Code = "team_sync_store_failed"
)
