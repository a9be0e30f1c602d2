// Package teamsync turns IdP groups into persistent team memberships, kept
// in step with the IdP at every sign-in: "your JumpCloud teams are synced
// upon user sign-in".
//
// Links are data: (connection, IdP group name or pattern, team), many to
// many, matched case-insensitively unless a link says otherwise. At each
// verified login, Engine.Sync computes the teams the user's groups grant,
// compares them with what the Store holds, and applies the difference in
// one transaction with the user's rows locked, returning the Diff (joined,
// left, unchanged), which it logs at Info. With package saml/gateway, set
// gateway.Config.TeamSync to the Engine and it runs in the ACS, after the
// assertion is verified and before the session exists.
//
// # Designed against four known failures
//
// Other systems' users were hurt by the same four mistakes (GitLab SAML
// group links, Grafana team sync, Keycloak group mappers):
//
//   - Removing memberships an administrator added by hand. Every membership
//     records its sources (Source): manual, or the link that granted it.
//     Sync adds and removes only link sources; a user in a team by hand
//     and through a link is one membership with two sources, and losing
//     one keeps the other.
//   - Wiping every membership when the IdP left the groups attribute out.
//     An absent attribute is not an empty list: the connection's Policy
//     decides (AbsentKeep, the default: no removals and a warning;
//     AbsentClear; AbsentDeny refuses the login). A present but empty
//     attribute applies removals.
//   - Acting on truncated group lists. A list known to be incomplete (an
//     Entra ID overage claim, or one that reaches the IdP's documented cap,
//     Policy.MaxGroups) applies joins only.
//   - Never revoking what a deleted link granted. The grant names its
//     link, so a removed or retargeted link loses its grants at each
//     user's next login, and for every user at once with Engine.Reconcile.
//
// Teams must exist (a link to a missing team is an error of New and
// SetLinks) unless Config.CreateTeams is set. Engine.Preview computes a
// login's diff without writing anything, for "test login" pages.
//
// # Which groups links see
//
// Links match saml.Identity.Groups: the groups after the connection's
// groups Filter (groups.Config.Filter), the same list RequireGroup and the
// session see. A link to a group the Filter drops never matches, and a
// membership it granted is removed at the next login: keep linked groups
// within the Filter. The cap of Policy.MaxGroups is compared with the count
// before the Filter (saml.Identity.GroupsReceived), which is what the IdP
// cut.
//
// # Stores
//
// MemoryStore is for tests and demos. SQLStore (Open) keeps teams in
// SQLite (modernc.org/sqlite, pure Go, no cgo: sqlite:///path/teams.db) or
// PostgreSQL (github.com/jackc/pgx/v5: postgres://...), with the same
// queries; its schema is embedded, versioned and applied on open.
// Users are keyed by (connection, subject); the email is kept for display
// only. Logins of one user serialize: SELECT ... FOR UPDATE of the user's
// row on PostgreSQL, an IMMEDIATE transaction (the database's write lock)
// on SQLite. Every store runs the suite of package teamsynctest.
package teamsync
