package teamsync

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// MissingTeams implements Store.
func (s *SQLStore) MissingTeams(ctx context.Context, names []string) ([]string, error) {
	have, err := s.Teams(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if _, found := slices.BinarySearch(have, n); !found && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// CreateTeam implements Store.
func (s *SQLStore) CreateTeam(ctx context.Context, name string) error {
	if err := CheckTeamName(name); err != nil {
		return fmt.Errorf("teamsync: %w: %w", err, ErrInvalidInput)
	}
	if _, err := s.db.ExecContext(ctx, s.d.rebind(`INSERT INTO teamsync_teams (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`), name, time.Now().UnixMilli()); err != nil {
		return storeErr("create team", err)
	}
	return nil
}

// Teams implements Store. Sorted in Go, by bytes: a database's collation
// may order names otherwise.
func (s *SQLStore) Teams(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM teamsync_teams`)
	if err != nil {
		return nil, storeErr("read teams", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, storeErr("read teams", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr("read teams", err)
	}
	slices.Sort(out)
	return out, nil
}

// UserTeams implements Store.
func (s *SQLStore) UserTeams(ctx context.Context, connection, subject string) ([]Membership, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT t.name, m.source FROM teamsync_memberships m
		JOIN teamsync_teams t ON t.id = m.team_id JOIN teamsync_users u ON u.id = m.user_id
		WHERE u.connection = ? AND u.subject = ?`), connection, subject)
	if err != nil {
		return nil, storeErr("read memberships", err)
	}
	defer rows.Close()
	var gs []Grant
	for rows.Next() {
		var g Grant
		if err := rows.Scan(&g.Team, &g.Source); err != nil {
			return nil, storeErr("read memberships", err)
		}
		gs = append(gs, g)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr("read memberships", err)
	}
	return Memberships(gs), nil
}

// TeamMembers implements Store.
func (s *SQLStore) TeamMembers(ctx context.Context, team string) ([]Member, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT u.connection, u.subject, u.email, m.source FROM teamsync_memberships m
		JOIN teamsync_teams t ON t.id = m.team_id JOIN teamsync_users u ON u.id = m.user_id
		WHERE t.name = ?`), team)
	if err != nil {
		return nil, storeErr("read members", err)
	}
	defer rows.Close()
	byUser := map[userKey]*Member{}
	for rows.Next() {
		var mb Member
		var src Source
		if err := rows.Scan(&mb.Connection, &mb.Subject, &mb.Email, &src); err != nil {
			return nil, storeErr("read members", err)
		}
		k := userKey{mb.Connection, mb.Subject}
		if byUser[k] == nil {
			byUser[k] = &mb
		}
		byUser[k].Sources = append(byUser[k].Sources, src)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr("read members", err)
	}
	out := []Member{}
	for _, mb := range byUser {
		slices.Sort(mb.Sources)
		out = append(out, *mb)
	}
	sortMembers(out)
	return out, nil
}

// AddManual implements Store.
func (s *SQLStore) AddManual(ctx context.Context, u User, team string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		tid, err := s.teamID(ctx, tx, team, false)
		if errors.Is(err, sql.ErrNoRows) {
			return missingError([]string{team})
		}
		if err != nil {
			return err
		}
		uid, err := s.lockUser(ctx, tx, u, false)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO teamsync_memberships (user_id, team_id, source, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`), uid, tid, string(SourceManual), time.Now().UnixMilli()); err != nil {
			return storeErr("insert membership", err)
		}
		return nil
	})
}

// RemoveManual implements Store.
func (s *SQLStore) RemoveManual(ctx context.Context, connection, subject, team string) error {
	_, err := s.db.ExecContext(ctx, s.d.rebind(`DELETE FROM teamsync_memberships WHERE source = ?
		AND user_id = (SELECT id FROM teamsync_users WHERE connection = ? AND subject = ?)
		AND team_id = (SELECT id FROM teamsync_teams WHERE name = ?)`), string(SourceManual), connection, subject, team)
	if err != nil {
		return storeErr("delete membership", err)
	}
	return nil
}

// RevokeLinks implements Store.
func (s *SQLStore) RevokeLinks(ctx context.Context, keep func(connection, team string, src Source) bool) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT u.connection, t.name, m.source, m.user_id, m.team_id FROM teamsync_memberships m
			JOIN teamsync_teams t ON t.id = m.team_id JOIN teamsync_users u ON u.id = m.user_id
			WHERE m.source <> ?`), string(SourceManual))
		if err != nil {
			return storeErr("read memberships", err)
		}
		type row struct {
			src      string
			uid, tid int64
		}
		var stale []row
		for rows.Next() {
			var conn, team, src string
			var r row
			if err := rows.Scan(&conn, &team, &src, &r.uid, &r.tid); err != nil {
				rows.Close()
				return storeErr("read memberships", err)
			}
			if Source(src).IsLink() && !keep(conn, team, Source(src)) {
				r.src = src
				stale = append(stale, r)
			}
		}
		if err := rows.Close(); err != nil {
			return storeErr("read memberships", err)
		}
		for _, r := range stale {
			if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM teamsync_memberships WHERE user_id = ? AND team_id = ? AND source = ?`), r.uid, r.tid, r.src); err != nil {
				return storeErr("delete membership", err)
			}
		}
		n = len(stale)
		return nil
	})
	return n, err
}
