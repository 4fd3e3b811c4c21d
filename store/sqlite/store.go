package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"github.com/rosterhq/roster/internal/groupcommit"
	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// timeFormat is how times are stored: UTC and fixed width, so that text
// order is time order.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

// querier is what *sql.DB and *sql.Tx share, so that reads can run in or
// out of a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store is a store.Store on a SQLite database file.
type Store struct {
	db *sql.DB // reads, any number at once
	w  *sql.DB // writes: one connection, so writers queue here

	creates *groupcommit.Group[insert] // of member-less creates, on w
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite database at path and applies
// the migrations it lacks.
func Open(ctx context.Context, path string) (*Store, error) {
	registerFunctions()

	// WAL lets readers run beside the writer; a busy timeout makes writers
	// wait for each other instead of failing; foreign keys keep
	// memberships consistent. _txlock=immediate takes the write lock at
	// BEGIN, so read-then-write transactions cannot deadlock. (A memory
	// map made no measurable difference to a 100,000-user load and puts
	// the file's pages in the process's RSS, so there is none.)
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	// SQLite lets one connection write at a time; the others wait in its
	// busy handler, which sleeps 1, 2, 5, 10… ms between tries. Writing
	// through one connection makes writers queue in database/sql instead,
	// each starting the moment the one before it commits. (Other
	// processes, such as the CLI beside a server, still meet the busy
	// handler.) Checkpointing every 10,000 pages of log instead of 1,000
	// writes a page changed by many commits back to the file fewer times.
	w, err := sql.Open("sqlite", dsn+"&_pragma=wal_autocheckpoint(10000)")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	return &Store{db: db, w: w, creates: newGroupCommit(w)}, nil
}

// SchemaVersion returns the version of the newest migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	p, err := provider(s.db)
	if err != nil {
		return 0, err
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return v, nil
}

func provider(db *sql.DB) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	return p, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w: %w", store.ErrUnavailable, err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error { return errors.Join(s.w.Close(), s.db.Close()) }

// inTx runs fn in a transaction, committing if it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// CreateDirectory implements store.Store.
func (s *Store) CreateDirectory(ctx context.Context, name string) (store.Directory, error) {
	d := store.Directory{ID: store.NewID(), Name: name, Created: time.Now().UTC()}
	_, err := s.w.ExecContext(ctx, `INSERT INTO directories (id, name, name_key, created) VALUES (?, ?, ?, ?)`,
		d.ID, d.Name, strings.ToLower(name), d.Created.Format(timeFormat))
	if isUnique(err) {
		return store.Directory{}, fmt.Errorf("sqlite: create directory %q: %w", name, store.ErrConflict)
	}
	if err != nil {
		return store.Directory{}, fmt.Errorf("sqlite: create directory %q: %w", name, err)
	}
	return d, nil
}

// Directory implements store.Store.
func (s *Store) Directory(ctx context.Context, idOrName string) (store.Directory, error) {
	// An id wins over a name, so that a directory named like another's id
	// cannot shadow it.
	row := s.db.QueryRowContext(ctx, `SELECT id, name, created FROM directories WHERE id = ? OR name_key = ?
		ORDER BY id = ? DESC LIMIT 1`, idOrName, strings.ToLower(idOrName), idOrName)
	d, err := scanDirectory(row)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("sqlite: directory %q: %w", idOrName, store.ErrNotFound)
	}
	return d, err
}

// Directories implements store.Store.
func (s *Store) Directories(ctx context.Context) ([]store.Directory, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created FROM directories ORDER BY rowid`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list directories: %w", err)
	}
	defer rows.Close()
	var out []store.Directory
	for rows.Next() {
		d, err := scanDirectory(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(...any) error }

func scanDirectory(row scanner) (store.Directory, error) {
	var d store.Directory
	var created string
	if err := row.Scan(&d.ID, &d.Name, &created); err != nil {
		return d, err
	}
	d.Created, _ = time.Parse(timeFormat, created)
	return d, nil
}

// Create implements store.Store.
func (s *Store) Create(ctx context.Context, dir string, r *resource.Resource) (*resource.Resource, error) {
	out := r.Clone()
	out.SetID(store.NewID())
	now := time.Now().UTC()
	name, attrs, members, err := split(out)
	if err != nil {
		return nil, err
	}
	const insertSQL = `INSERT INTO resources
		(directory_id, type, id, name, name_key, fold_key, external_id, created, last_modified, version, attrs)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`
	args := []any{dir, out.Type.Name, out.ID(), name, strings.ToLower(name), store.FoldKey(name), nullString(out.ExternalID()),
		now.Format(timeFormat), now.Format(timeFormat), attrs}
	check := func(err error) error {
		switch {
		case isUnique(err):
			return fmt.Errorf("%s %q exists: %w", store.NameAttr(out.Type), name, store.ErrConflict)
		case isForeignKey(err):
			return fmt.Errorf("directory %q: %w", dir, store.ErrNotFound)
		}
		return err
	}
	out.SetMeta(resource.Meta{Created: now, LastModified: now, Version: store.ETag(1)})
	if len(members) == 0 {
		// One statement: the directory's foreign key says whether it
		// exists, and a new resource is in no group and has no members.
		// Creates arriving together commit together.
		if err := s.creates.Do(ctx, insert{query: insertSQL, args: args, check: check}); err != nil {
			return nil, fmt.Errorf("sqlite: create %s: %w", r.Type.Name, err)
		}
		delete(out.Attrs, "members")
		delete(out.Attrs, "groups")
		return out, nil
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, insertSQL, args...); err != nil {
			return check(err)
		}
		if err := insertMembers(ctx, tx, dir, out.ID(), members); err != nil {
			return err
		}
		_, err = withComputed(ctx, tx, dir, out, true)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: create %s: %w", r.Type.Name, err)
	}
	return out, nil
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, dir string, rt *schema.ResourceType, id string, members bool) (*resource.Resource, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+resourceColumns+` FROM resources r
		WHERE r.directory_id = ? AND r.type = ? AND r.id = ?`, dir, rt.Name, id)
	r, err := scanResource(rt, row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: %s %q: %w", rt.Name, id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get %s %q: %w", rt.Name, id, err)
	}
	return withComputed(ctx, s.db, dir, r, members)
}

// Replace implements store.Store.
func (s *Store) Replace(ctx context.Context, dir string, r *resource.Resource, ifVersion string) (*resource.Resource, error) {
	out := r.Clone()
	name, attrs, members, err := split(out)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	var version int64
	var created string
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if version, created, err = current(ctx, tx, dir, out.Type, out.ID(), ifVersion); err != nil {
			return err
		}
		version++
		_, err := tx.ExecContext(ctx, `UPDATE resources SET name = ?, name_key = ?, fold_key = ?, external_id = ?, last_modified = ?,
			version = ?, attrs = ? WHERE directory_id = ? AND id = ?`,
			name, strings.ToLower(name), store.FoldKey(name), nullString(out.ExternalID()), now.Format(timeFormat), version, attrs, dir, out.ID())
		if isUnique(err) {
			return fmt.Errorf("%s %q exists: %w", store.NameAttr(out.Type), name, store.ErrConflict)
		}
		if err != nil {
			return err
		}
		if out.Type.Schema.Attribute("members") != nil {
			if _, err := replaceMembers(ctx, tx, dir, out.ID(), members); err != nil {
				return err
			}
		}
		c, _ := time.Parse(timeFormat, created)
		out.SetMeta(resource.Meta{Created: c, LastModified: now, Version: store.ETag(version)})
		out, err = withComputed(ctx, tx, dir, out, true)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: replace %s %q: %w", r.Type.Name, r.ID(), err)
	}
	return out, nil
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, dir string, rt *schema.ResourceType, id, ifVersion string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, _, err := current(ctx, tx, dir, rt, id, ifVersion); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM members WHERE directory_id = ? AND member_id = ?`, dir, id); err != nil {
			return err
		}
		// The group's own memberships go with it (ON DELETE CASCADE).
		_, err := tx.ExecContext(ctx, `DELETE FROM resources WHERE directory_id = ? AND id = ?`, dir, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete %s %q: %w", rt.Name, id, err)
	}
	return nil
}

// current returns the stored version and creation time of a resource,
// checking it against ifVersion when that is set.
func current(ctx context.Context, tx *sql.Tx, dir string, rt *schema.ResourceType, id, ifVersion string) (int64, string, error) {
	var version int64
	var created string
	err := tx.QueryRowContext(ctx, `SELECT version, created FROM resources WHERE directory_id = ? AND type = ? AND id = ?`,
		dir, rt.Name, id).Scan(&version, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", store.ErrNotFound
	}
	if err != nil {
		return 0, "", err
	}
	if ifVersion != "" && ifVersion != "*" && ifVersion != store.ETag(version) {
		return 0, "", fmt.Errorf("version is %s, not %s: %w", store.ETag(version), ifVersion, store.ErrPreconditionFailed)
	}
	return version, created, nil
}

func directoryExists(ctx context.Context, tx *sql.Tx, dir string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM directories WHERE id = ?`, dir).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("directory %q: %w", dir, store.ErrNotFound)
	}
	return err
}

func insertMembers(ctx context.Context, tx *sql.Tx, dir, group string, members []store.Member) error {
	_, err := addMembers(ctx, tx, dir, group, members)
	return err
}

// addMembersSQL adds the members whose ids are in a JSON array (?2) to a
// group (?1) of a directory (?3), with their stored types, skipping ids
// that are not resources of the directory and memberships that exist.
// One statement for all members: a group of 50 costs one round through
// the driver, not 50. CROSS JOIN makes SQLite loop over the list and look
// each id up, never scan the directory (TestAddMembersLooksUpEachID);
// "WHERE true" tells its parser that ON CONFLICT belongs to the INSERT,
// not to the join.
const addMembersSQL = `INSERT INTO members (directory_id, group_id, member_id, member_type)
	SELECT r.directory_id, ?1, r.id, r.type FROM json_each(?2) j CROSS JOIN resources r ON r.directory_id = ?3 AND r.id = j.value
	WHERE true ON CONFLICT DO NOTHING`

// addMembers adds members to a group, skipping those it has, and reports
// whether it added any. A member must be a user or group of the same
// directory; its type is the stored resource's, whatever the client said.
func addMembers(ctx context.Context, tx *sql.Tx, dir, group string, members []store.Member) (bool, error) {
	if len(members) == 0 {
		return false, nil
	}
	ids := make([]string, 0, len(members))
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		if m.ID == group {
			return false, scim.BadRequest(scim.InvalidValue, "a group cannot be a member of itself")
		}
		if !seen[m.ID] {
			seen[m.ID] = true
			ids = append(ids, m.ID)
		}
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return false, err
	}
	res, err := tx.ExecContext(ctx, addMembersSQL, group, string(list), dir)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if int(n) < len(ids) {
		// Some were members already, or are not resources at all: find the
		// first of the latter, in the request's order.
		var missing string
		err := tx.QueryRowContext(ctx, `SELECT j.value FROM json_each(?) j
			WHERE NOT EXISTS (SELECT 1 FROM resources r WHERE r.directory_id = ? AND r.id = j.value)
			ORDER BY j.key LIMIT 1`, string(list), dir).Scan(&missing)
		switch {
		case err == nil:
			return false, scim.BadRequest(scim.InvalidValue, "member %q is not a user or group of this directory", missing)
		case !errors.Is(err, sql.ErrNoRows):
			return false, err
		}
	}
	return n > 0, nil
}

// replaceMembers makes members the group's members, touching only the
// rows that change, and reports whether any did.
func replaceMembers(ctx context.Context, tx *sql.Tx, dir, group string, members []store.Member) (bool, error) {
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID
	}
	keep, err := json.Marshal(ids)
	if err != nil {
		return false, err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM members WHERE directory_id = ? AND group_id = ?
		AND member_id NOT IN (SELECT value FROM json_each(?))`, dir, group, string(keep))
	if err != nil {
		return false, err
	}
	removed, _ := res.RowsAffected()
	added, err := addMembers(ctx, tx, dir, group, members)
	return removed > 0 || added, err
}

// resourceColumns are the columns scanResource reads, from resources r.
const resourceColumns = `r.id, r.created, r.last_modified, r.version, r.attrs`

func scanResource(rt *schema.ResourceType, row scanner) (*resource.Resource, error) {
	var id, created, modified, attrs string
	var version int64
	if err := row.Scan(&id, &created, &modified, &version, &attrs); err != nil {
		return nil, err
	}
	r, err := resource.Decode(rt, []byte(attrs), resource.Options{Response: true})
	if err != nil {
		return nil, fmt.Errorf("stored attributes of %s %q: %w", rt.Name, id, err)
	}
	r.SetID(id)
	c, _ := time.Parse(timeFormat, created)
	m, _ := time.Parse(timeFormat, modified)
	r.SetMeta(resource.Meta{Created: c, LastModified: m, Version: store.ETag(version)})
	return r, nil
}

// withComputed adds what the membership table holds: a group's members
// (when members is true) and a user's groups, direct and indirect.
func withComputed(ctx context.Context, q querier, dir string, r *resource.Resource, members bool) (*resource.Resource, error) {
	switch {
	case r.Type.Schema.Attribute("members") != nil:
		if !members {
			delete(r.Attrs, "members")
			return r, nil
		}
		list, err := membersOf(ctx, q, dir, r.ID())
		if err != nil {
			return nil, fmt.Errorf("sqlite: members of %q: %w", r.ID(), err)
		}
		setOrDelete(r.Attrs, "members", list)
	case r.Type.Schema.Attribute("groups") != nil:
		if !members {
			delete(r.Attrs, "groups")
			return r, nil
		}
		list, err := groupsOf(ctx, q, dir, r.ID())
		if err != nil {
			return nil, fmt.Errorf("sqlite: groups of %q: %w", r.ID(), err)
		}
		setOrDelete(r.Attrs, "groups", list)
	}
	return r, nil
}

func membersOf(ctx context.Context, q querier, dir, group string) ([]any, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.member_id, m.member_type,
			COALESCE(json_extract(r.attrs, '$."displayName"'), r.name)
		FROM members m LEFT JOIN resources r ON r.directory_id = m.directory_id AND r.id = m.member_id
		WHERE m.directory_id = ? AND m.group_id = ? ORDER BY m.member_id`, dir, group)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var id, typ string
		var display sql.NullString
		if err := rows.Scan(&id, &typ, &display); err != nil {
			return nil, err
		}
		m := map[string]any{"value": id, "type": typ}
		if display.Valid && display.String != "" {
			m["display"] = display.String
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// groupsOf returns the groups a resource belongs to, directly or through
// nested groups; UNION (not UNION ALL) ends the recursion on cycles, and
// CROSS JOIN keeps SQLite from scanning all memberships at each step.
func groupsOf(ctx context.Context, q querier, dir, member string) ([]any, error) {
	rows, err := q.QueryContext(ctx, `WITH RECURSIVE g(id, direct) AS (
			SELECT group_id, 1 FROM members WHERE directory_id = ?1 AND member_id = ?2
			UNION
			SELECT m.group_id, 0 FROM g CROSS JOIN members m WHERE m.directory_id = ?1 AND m.member_id = g.id
		)
		SELECT g.id, max(g.direct), r.name FROM g CROSS JOIN resources r ON r.directory_id = ?1 AND r.id = g.id
		GROUP BY g.id ORDER BY g.id`, dir, member)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var id, name string
		var direct bool
		if err := rows.Scan(&id, &direct, &name); err != nil {
			return nil, err
		}
		typ := "indirect"
		if direct {
			typ = "direct"
		}
		out = append(out, map[string]any{"value": id, "display": name, "type": typ})
	}
	return out, rows.Err()
}

// split takes a resource apart into its name column, its attributes as
// JSON (without id, meta, members and groups) and its members.
func split(r *resource.Resource) (name, attrs string, members []store.Member, err error) {
	name, _ = r.Attrs[store.NameAttr(r.Type)].(string)
	rest := make(map[string]any, len(r.Attrs))
	for k, v := range r.Attrs {
		switch k {
		case "id", "meta", "groups":
		case "members":
			list, _ := v.([]any)
			members = store.Members(list)
		default:
			rest[k] = v
		}
	}
	b, err := json.Marshal(rest)
	if err != nil {
		return "", "", nil, fmt.Errorf("sqlite: encode attributes: %w", err)
	}
	return name, string(b), members, nil
}

func setOrDelete(m map[string]any, k string, list []any) {
	if len(list) == 0 {
		delete(m, k)
		return
	}
	m[k] = list
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// isForeignKey reports whether err is a violation of a foreign key.
func isForeignKey(err error) bool {
	var se *sqlite3.Error
	return errors.As(err, &se) && se.Code() == sqlite3lib.SQLITE_CONSTRAINT_FOREIGNKEY
}

// isUnique reports whether err is a violation of a UNIQUE constraint.
func isUnique(err error) bool {
	var se *sqlite3.Error
	return errors.As(err, &se) && (se.Code() == sqlite3lib.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY)
}
