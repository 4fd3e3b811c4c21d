package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rosterhq/roster/store"
)

var (
	_ store.Admins         = (*Store)(nil)
	_ store.RequestLog     = (*Store)(nil)
	_ store.ResourceEvents = (*Store)(nil)
	_ store.GroupMembers   = (*Store)(nil)
)

// newConsoleSecret returns a random secret with a prefix of its own
// (rsu_ for setup links, rss_ for sessions, apart from SCIM tokens' rst_)
// and the hash the store keeps of it.
func newConsoleSecret(prefix string) (secret, hash string) {
	secret, _ = store.NewSecret()
	secret = prefix + strings.TrimPrefix(secret, "rst_")
	return secret, store.HashSecret(secret)
}

const adminColumns = `id, name, created, password <> ''`

func scanAdmin(row Row) (store.Admin, error) {
	var a store.Admin
	var created Time
	err := row.Scan(&a.ID, &a.Name, &created, &a.HasPassword)
	a.Created = created.Time
	return a, err
}

// AdminSetup implements store.Admins.
func (s *Store) AdminSetup(ctx context.Context, name string, expires time.Time) (store.Admin, string, error) {
	what := fmt.Sprintf("set up admin %q", name)
	if err := s.checkText(name); err != nil {
		return store.Admin{}, "", s.errorf(what, err)
	}
	secret, hash := newConsoleSecret("rsu_")
	var a store.Admin
	err := s.d.InTx(ctx, func(tx Querier) error {
		if _, err := tx.Exec(ctx, `INSERT INTO admins (id, name, created) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
			store.NewID(), name, s.d.Time(s.d.Now())); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE admins SET setup_hash = $1, setup_expires = $2 WHERE name = $3`,
			hash, s.d.Time(expires.UTC()), name); err != nil {
			return err
		}
		var err error
		a, err = scanAdmin(tx.QueryRow(ctx, `SELECT `+adminColumns+` FROM admins WHERE name = $1`, name))
		return err
	})
	if err != nil {
		return store.Admin{}, "", s.errorf(what, err)
	}
	return a, secret, nil
}

// AdminBySetup implements store.Admins.
func (s *Store) AdminBySetup(ctx context.Context, secret string) (store.Admin, error) {
	var expires Time
	var a store.Admin
	var created Time
	err := s.d.Reader().QueryRow(ctx, `SELECT id, name, created, password <> '', setup_expires FROM admins WHERE setup_hash = $1`,
		store.HashSecret(secret)).Scan(&a.ID, &a.Name, &created, &a.HasPassword, &expires)
	a.Created = created.Time
	if errors.Is(err, sql.ErrNoRows) {
		return store.Admin{}, store.ErrUnauthorized
	}
	if err != nil {
		return store.Admin{}, s.errorf("admin setup link", err)
	}
	if !expires.Valid || !s.d.Now().Before(expires.Time) {
		return store.Admin{}, store.ErrUnauthorized
	}
	return a, nil
}

// UseAdminSetup implements store.Admins.
func (s *Store) UseAdminSetup(ctx context.Context, secret, passwordHash string) (store.Admin, error) {
	var a store.Admin
	err := s.d.InTx(ctx, func(tx Querier) error {
		var expires Time
		var created Time
		err := tx.QueryRow(ctx, `SELECT id, name, created, setup_expires FROM admins WHERE setup_hash = $1`,
			store.HashSecret(secret)).Scan(&a.ID, &a.Name, &created, &expires)
		a.Created = created.Time
		if errors.Is(err, sql.ErrNoRows) || err == nil && (!expires.Valid || !s.d.Now().Before(expires.Time)) {
			return store.ErrUnauthorized
		}
		if err != nil {
			return err
		}
		return setPassword(ctx, tx, a.ID, passwordHash)
	})
	if errors.Is(err, store.ErrUnauthorized) {
		return store.Admin{}, err
	}
	if err != nil {
		return store.Admin{}, s.errorf("use admin setup link", err)
	}
	a.HasPassword = true
	return a, nil
}

// SetAdminPassword implements store.Admins.
func (s *Store) SetAdminPassword(ctx context.Context, name, passwordHash string) (store.Admin, error) {
	what := fmt.Sprintf("set the password of admin %q", name)
	if err := s.checkText(name); err != nil {
		return store.Admin{}, s.errorf(what, err)
	}
	var a store.Admin
	err := s.d.InTx(ctx, func(tx Querier) error {
		if _, err := tx.Exec(ctx, `INSERT INTO admins (id, name, created) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
			store.NewID(), name, s.d.Time(s.d.Now())); err != nil {
			return err
		}
		var err error
		a, err = scanAdmin(tx.QueryRow(ctx, `SELECT `+adminColumns+` FROM admins WHERE name = $1`, name))
		if err != nil {
			return err
		}
		return setPassword(ctx, tx, a.ID, passwordHash)
	})
	if err != nil {
		return store.Admin{}, s.errorf(what, err)
	}
	a.HasPassword = true
	return a, nil
}

// AdminPassword implements store.Admins.
func (s *Store) AdminPassword(ctx context.Context, name string) (store.Admin, string, error) {
	what := fmt.Sprintf("admin %q", name)
	if s.checkText(name) != nil {
		return store.Admin{}, "", s.notFound(what)
	}
	var a store.Admin
	var created Time
	var hash string
	err := s.d.Reader().QueryRow(ctx, `SELECT id, name, created, password FROM admins WHERE name = $1`, name).
		Scan(&a.ID, &a.Name, &created, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Admin{}, "", s.notFound(what)
	}
	if err != nil {
		return store.Admin{}, "", s.errorf(what, err)
	}
	a.Created, a.HasPassword = created.Time, hash != ""
	return a, hash, nil
}

// Admins implements store.Admins.
func (s *Store) Admins(ctx context.Context) ([]store.Admin, error) {
	out, err := queryAll(ctx, s.d.Reader(), scanAdmin, `SELECT `+adminColumns+` FROM admins ORDER BY created, id`)
	if err != nil {
		return nil, s.errorf("list admins", err)
	}
	return out, nil
}

// CreateSession implements store.Admins.
func (s *Store) CreateSession(ctx context.Context, adminID string, expires time.Time) (string, error) {
	secret, hash := newConsoleSecret("rss_")
	if err := s.checkText(adminID); err != nil {
		return "", s.errorf("create session", err)
	}
	// Ended sessions go as new ones come, so that the table stays small.
	if _, err := s.d.Writer().Exec(ctx, `DELETE FROM admin_sessions WHERE expires < $1`, s.d.Time(s.d.Now())); err != nil {
		return "", s.errorf("create session", err)
	}
	if _, err := s.d.Writer().Exec(ctx, `INSERT INTO admin_sessions (hash, admin_id, expires) VALUES ($1, $2, $3)`,
		hash, adminID, s.d.Time(expires.UTC())); err != nil {
		return "", s.errorf("create session", err)
	}
	return secret, nil
}

// Session implements store.Admins.
func (s *Store) Session(ctx context.Context, secret string) (store.Session, error) {
	var se store.Session
	var created, expires Time
	err := s.d.Reader().QueryRow(ctx, `SELECT a.id, a.name, a.created, a.password <> '', s.expires
		FROM admin_sessions s JOIN admins a ON a.id = s.admin_id WHERE s.hash = $1`, store.HashSecret(secret)).
		Scan(&se.Admin.ID, &se.Admin.Name, &created, &se.Admin.HasPassword, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, store.ErrUnauthorized
	}
	if err != nil {
		return store.Session{}, s.errorf("session", err)
	}
	se.Admin.Created, se.Expires = created.Time, expires.Time
	if !s.d.Now().Before(se.Expires) {
		return store.Session{}, store.ErrUnauthorized
	}
	return se, nil
}

// DeleteSession implements store.Admins.
func (s *Store) DeleteSession(ctx context.Context, secret string) error {
	if _, err := s.d.Writer().Exec(ctx, `DELETE FROM admin_sessions WHERE hash = $1`, store.HashSecret(secret)); err != nil {
		return s.errorf("delete session", err)
	}
	return nil
}

// ResourceEvents implements store.ResourceEvents, by the events_resource
// index (directory_id, resource_id, seq).
func (s *Store) ResourceEvents(ctx context.Context, dir, id string, limit int) ([]store.Event, error) {
	if s.checkText(dir, id) != nil {
		return nil, nil
	}
	if err := s.d.NumberEvents(ctx, dir); err != nil {
		return nil, s.errorf(fmt.Sprintf("events of %q", id), err)
	}
	out, err := queryAll(ctx, s.d.Reader(), func(row Row) (store.Event, error) {
		return scanEvent(row, dir)
	}, `SELECT seq, id, type, resource_id, time, data, previous, context FROM events
		WHERE directory_id = $1 AND resource_id = $2 AND seq IS NOT NULL ORDER BY seq DESC LIMIT $3`, dir, id, max(limit, 1))
	if err != nil {
		return nil, s.errorf(fmt.Sprintf("events of %q", id), err)
	}
	return out, nil
}

// GroupMembers implements store.GroupMembers.
func (s *Store) GroupMembers(ctx context.Context, dir, group, after string, limit int) ([]store.MemberInfo, int, error) {
	what := fmt.Sprintf("members of group %q", group)
	if s.checkText(dir, group, after) != nil {
		return nil, 0, s.notFound(what)
	}
	var total int
	err := s.d.Reader().QueryRow(ctx, `SELECT (SELECT count(*) FROM members WHERE directory_id = $1 AND group_id = $2)
		FROM resources WHERE directory_id = $1 AND id = $2 AND type || '' = 'Group'`, dir, group).Scan(&total) // see ByID
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, s.notFound(what)
	}
	if err != nil {
		return nil, 0, s.errorf(what, err)
	}
	out, err := queryAll(ctx, s.d.Reader(), func(row Row) (store.MemberInfo, error) {
		var m store.MemberInfo
		err := row.Scan(&m.ID, &m.Type, &m.Display)
		return m, err
	}, s.sql.MembersPage, dir, group, after, max(limit, 1))
	if err != nil {
		return nil, 0, s.errorf(what, err)
	}
	return out, total, nil
}

// setPassword sets an admin's password, ends its setup link and its
// sessions: a new password logs every browser out.
func setPassword(ctx context.Context, tx Querier, id, passwordHash string) error {
	if _, err := tx.Exec(ctx, `UPDATE admins SET password = $1, setup_hash = NULL, setup_expires = NULL WHERE id = $2`,
		passwordHash, id); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `DELETE FROM admin_sessions WHERE admin_id = $1`, id)
	return err
}
