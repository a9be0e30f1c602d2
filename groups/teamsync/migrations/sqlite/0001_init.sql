-- Teams, users keyed by (connection, subject), and one row per source of a
-- membership (provenance). Email is for display only.
CREATE TABLE IF NOT EXISTS teamsync_teams (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS teamsync_users (
	id INTEGER PRIMARY KEY,
	connection TEXT NOT NULL,
	subject TEXT NOT NULL,
	email TEXT NOT NULL DEFAULT '',
	updated_at BIGINT NOT NULL,
	UNIQUE (connection, subject)
);
CREATE TABLE IF NOT EXISTS teamsync_memberships (
	user_id BIGINT NOT NULL REFERENCES teamsync_users (id) ON DELETE CASCADE,
	team_id BIGINT NOT NULL REFERENCES teamsync_teams (id) ON DELETE CASCADE,
	source TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (user_id, team_id, source)
);
CREATE INDEX IF NOT EXISTS teamsync_memberships_by_team ON teamsync_memberships (team_id, user_id);
