package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosterhq/roster/internal/groupcommit"
	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	pool    *pgxpool.Pool
	creates *groupcommit.Group[insert] // of member-less creates
}

func newStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, creates: newGroupCommit(pool)}
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (postgres://user:pass@host/db?…,
// with pgx's pool settings such as pool_max_conns) and applies the
// migrations it lacks.
func Open(ctx context.Context, url string) (*Store, error) {
	s, err := Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Connect connects to the database at url without migrating it: the
// schema must be up to date (see Migrate). The connection is checked
// once; afterwards the pool reconnects by itself, and calls fail with
// store.ErrUnavailable while the database cannot be reached.
func Connect(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgx's default (the number of CPUs, at least 4) makes requests
		// queue for a connection while others wait on the network.
		cfg.MaxConns = int32(max(16, 4*runtime.NumCPU()))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := newStore(pool)
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the pool's connections.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", classify(err))
	}
	return nil
}

// maxAttempts bounds how often inTx runs a transaction that PostgreSQL
// aborted because of a deadlock or a serialization failure, or whose
// connection was lost before anything was sent.
const maxAttempts = 5

// inTx runs fn in a transaction, committing if it returns nil. A
// transaction aborted by a deadlock (which concurrent changes to nested
// groups can cause) is run again.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, s.pool, fn)
		if err == nil || attempt == maxAttempts || !retryable(err) {
			return classify(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
		}
	}
}

// retryable reports whether a transaction that failed with err may simply
// be run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01" // serialization_failure, deadlock_detected
	}
	return pgconn.SafeToRetry(err)
}

// classify marks the errors that say the database cannot be reached with
// store.ErrUnavailable. A call whose context was cancelled is not one,
// although pgx reports a statement it did not send for that reason as
// safe to retry.
func classify(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.Canceled) {
		return err
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

func unavailable(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true // whatever the server said, it did not let us in
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57P01", "57P02", "57P03", "53300": // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
			return true
		}
		return strings.HasPrefix(pe.Code, "08") // connection_exception
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err)
}

// isForeignKey reports whether err is a violation of a foreign key.
func isForeignKey(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// isUnique reports whether err is a violation of a unique constraint.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// now is the time the store records: UTC, in microseconds, which is what
// PostgreSQL keeps, so that what Create returns is what Get reads back.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// CreateDirectory implements store.Store.
func (s *Store) CreateDirectory(ctx context.Context, name string) (store.Directory, error) {
	d := store.Directory{ID: store.NewID(), Name: name, Created: now()}
	if err := checkText(name); err != nil {
		return store.Directory{}, err
	}
	if err := checkIndexed("the name", strings.ToLower(name)); err != nil {
		return store.Directory{}, err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO directories (id, name, name_key, created) VALUES ($1, $2, $3, $4)`,
		d.ID, d.Name, strings.ToLower(name), d.Created)
	if isUnique(err) {
		return store.Directory{}, fmt.Errorf("postgres: create directory %q: %w", name, store.ErrConflict)
	}
	if err != nil {
		return store.Directory{}, fmt.Errorf("postgres: create directory %q: %w", name, classify(err))
	}
	return d, nil
}

// Directory implements store.Store.
func (s *Store) Directory(ctx context.Context, idOrName string) (store.Directory, error) {
	if checkText(idOrName) != nil {
		return store.Directory{}, fmt.Errorf("postgres: directory %q: %w", idOrName, store.ErrNotFound)
	}
	// An id wins over a name, so that a directory named like another's id
	// cannot shadow it.
	row := s.pool.QueryRow(ctx, `SELECT id, name, created FROM directories WHERE id = $1 OR name_key = $2
		ORDER BY id = $1 DESC LIMIT 1`, idOrName, strings.ToLower(idOrName))
	d, err := scanDirectory(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fmt.Errorf("postgres: directory %q: %w", idOrName, store.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("postgres: directory %q: %w", idOrName, classify(err))
	}
	return d, nil
}

// Directories implements store.Store.
func (s *Store) Directories(ctx context.Context) ([]store.Directory, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, created FROM directories ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list directories: %w", classify(err))
	}
	defer rows.Close()
	var out []store.Directory
	for rows.Next() {
		d, err := scanDirectory(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list directories: %w", classify(err))
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list directories: %w", classify(err))
	}
	return out, nil
}

func scanDirectory(row pgx.Row) (store.Directory, error) {
	var d store.Directory
	err := row.Scan(&d.ID, &d.Name, &d.Created)
	d.Created = d.Created.UTC()
	return d, err
}

// newInsert returns the resource Create makes of r (a new id, meta), the
// insert of its row, and its members.
func newInsert(dir string, r *resource.Resource) (*resource.Resource, insert, []store.Member, error) {
	out := r.Clone()
	out.SetID(store.NewID())
	t := now()
	row, members, err := split(out)
	if err == nil {
		err = checkText(dir)
	}
	if err != nil {
		return nil, insert{}, nil, err
	}
	conflict := fmt.Errorf("%s %q exists: %w", store.NameAttr(out.Type), row.name, store.ErrConflict)
	ins := insert{
		id:       out.ID(),
		args:     []any{dir, out.Type.Name, out.ID(), row.name, row.nameKey, row.foldKey, nullString(out.ExternalID()), row.emailKeys, t, row.attrs},
		conflict: conflict,
		check: func(err error) error {
			switch {
			case isUnique(err):
				return conflict
			case isForeignKey(err):
				return fmt.Errorf("directory %q: %w", dir, store.ErrNotFound)
			}
			return err
		},
	}
	out.SetMeta(resource.Meta{Created: t, LastModified: t, Version: store.ETag(1)})
	return out, ins, members, nil
}

// Create implements store.Store. A resource without members is one
// INSERT, a round trip of its own: the directory's foreign key tells
// whether it exists, and a new user is in no group yet.
func (s *Store) Create(ctx context.Context, dir string, r *resource.Resource) (*resource.Resource, error) {
	out, ins, members, err := newInsert(dir, r)
	if err != nil {
		return nil, fmt.Errorf("postgres: create %s: %w", r.Type.Name, err)
	}
	args, check := ins.args, ins.check
	if len(members) == 0 {
		// Creates arriving together are inserted together.
		if err := s.creates.Do(ctx, ins); err != nil {
			return nil, fmt.Errorf("postgres: create %s: %w", r.Type.Name, classify(err))
		}
		delete(out.Attrs, "members")
		delete(out.Attrs, "groups")
		return out, nil
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, insertOneSQL, args...); err != nil {
			return check(err)
		}
		if _, err := addMembers(ctx, tx, dir, out.ID(), members); err != nil {
			return err
		}
		_, err := withComputed(ctx, tx, dir, out, true) // in place, so that a retry still has out
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: create %s: %w", r.Type.Name, err)
	}
	return out, nil
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, dir string, rt *schema.ResourceType, id string, members bool) (*resource.Resource, error) {
	if checkText(dir) != nil || checkText(id) != nil {
		return nil, fmt.Errorf("postgres: %s %q: %w", rt.Name, id, store.ErrNotFound)
	}
	row := s.pool.QueryRow(ctx, `SELECT `+resourceColumns+` FROM resources r
		WHERE r.directory_id = $1 AND r.type = $2 AND r.id = $3`, dir, rt.Name, id)
	r, err := scanResource(rt, row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: %s %q: %w", rt.Name, id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get %s %q: %w", rt.Name, id, classify(err))
	}
	r, err = withComputed(ctx, s.pool, dir, r, members)
	if err != nil {
		return nil, classify(err)
	}
	return r, nil
}

// Replace implements store.Store.
func (s *Store) Replace(ctx context.Context, dir string, r *resource.Resource, ifVersion string) (*resource.Resource, error) {
	out := r.Clone()
	row, members, err := split(out)
	if err != nil {
		return nil, fmt.Errorf("postgres: replace %s %q: %w", r.Type.Name, r.ID(), err)
	}
	t := now()
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		version, created, err := current(ctx, tx, dir, out.Type, out.ID(), ifVersion, "FOR NO KEY UPDATE")
		if err != nil {
			return err
		}
		version++
		if err := update(ctx, tx, dir, out.Type, out.ID(), row, out.ExternalID(), t, version); err != nil {
			return err
		}
		if out.Type.Schema.Attribute("members") != nil {
			if _, err := replaceMembers(ctx, tx, dir, out.ID(), members); err != nil {
				return err
			}
		}
		out.SetMeta(resource.Meta{Created: created, LastModified: t, Version: store.ETag(version)})
		_, err = withComputed(ctx, tx, dir, out, true) // in place, so that a retry still has out
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: replace %s %q: %w", r.Type.Name, r.ID(), err)
	}
	return out, nil
}

// update writes a resource's columns.
func update(ctx context.Context, tx pgx.Tx, dir string, rt *schema.ResourceType, id string, row columns, externalID string, t time.Time, version int64) error {
	_, err := tx.Exec(ctx, `UPDATE resources SET name = $1, name_key = $2, fold_key = $3, external_id = $4, email_keys = $5,
		last_modified = $6, version = $7, attrs = $8 WHERE directory_id = $9 AND id = $10`,
		row.name, row.nameKey, row.foldKey, nullString(externalID), row.emailKeys,
		t, version, row.attrs, dir, id)
	if isUnique(err) {
		return fmt.Errorf("%s %q exists: %w", store.NameAttr(rt), row.name, store.ErrConflict)
	}
	return err
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, dir string, rt *schema.ResourceType, id, ifVersion string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// Locking the row FOR UPDATE first makes a concurrent request
		// that is adding this resource to a group (and holds it FOR KEY
		// SHARE) finish first, so that the memberships deleted next
		// include its.
		if _, _, err := current(ctx, tx, dir, rt, id, ifVersion, "FOR UPDATE"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM members WHERE directory_id = $1 AND member_id = $2`, dir, id); err != nil {
			return err
		}
		// The group's own memberships go with it (ON DELETE CASCADE).
		_, err := tx.Exec(ctx, `DELETE FROM resources WHERE directory_id = $1 AND id = $2`, dir, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete %s %q: %w", rt.Name, id, err)
	}
	return nil
}

// current locks a resource's row for the rest of the transaction (lock is
// "FOR UPDATE" to delete it, "FOR NO KEY UPDATE" to change it, which lets
// group member adds that hold it FOR KEY SHARE go on meanwhile) and returns
// its version and creation time, checking the version against ifVersion
// when that is set.
func current(ctx context.Context, tx pgx.Tx, dir string, rt *schema.ResourceType, id, ifVersion, lock string) (int64, time.Time, error) {
	var version int64
	var created time.Time
	if checkText(dir) != nil || checkText(id) != nil {
		return 0, created, store.ErrNotFound
	}
	err := tx.QueryRow(ctx, `SELECT version, created FROM resources WHERE directory_id = $1 AND type = $2 AND id = $3 `+lock,
		dir, rt.Name, id).Scan(&version, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, created, store.ErrNotFound
	}
	if err != nil {
		return 0, created, err
	}
	if ifVersion != "" && ifVersion != "*" && ifVersion != store.ETag(version) {
		return 0, created, fmt.Errorf("version is %s, not %s: %w", store.ETag(version), ifVersion, store.ErrPreconditionFailed)
	}
	return version, created.UTC(), nil
}

func directoryExists(ctx context.Context, tx pgx.Tx, dir string) error {
	var one int
	if checkText(dir) != nil {
		return fmt.Errorf("directory %q: %w", dir, store.ErrNotFound)
	}
	err := tx.QueryRow(ctx, `SELECT 1 FROM directories WHERE id = $1`, dir).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("directory %q: %w", dir, store.ErrNotFound)
	}
	return err
}

// addMembers adds members to a group, skipping those it has, and reports
// whether it added any. A member must be a user or group of the same
// directory; its type is the stored resource's, whatever the client said.
// The members' rows are locked FOR KEY SHARE, so that a concurrent delete
// of one waits for this transaction and then deletes its membership too,
// while changes to their attributes go on. The ids are joined through
// unnest rather than tested with = ANY, whose generic plan PostgreSQL may
// make a scan when the table has no statistics yet.
func addMembers(ctx context.Context, tx pgx.Tx, dir, group string, members []store.Member) (bool, error) {
	if len(members) == 0 {
		return false, nil
	}
	for _, m := range members {
		if m.ID == group {
			return false, scim.BadRequest(scim.InvalidValue, "a group cannot be a member of itself")
		}
	}
	ids, err := memberIDs(members)
	if err != nil {
		return false, err
	}
	rows, err := tx.Query(ctx, `SELECT r.id, r.type FROM unnest($2::text[]) AS x(id)
		JOIN resources r ON r.directory_id = $1 AND r.id = x.id FOR KEY SHARE OF r`, dir, ids)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	found := make(map[string]string, len(ids))
	for rows.Next() {
		var id, typ string
		if err := rows.Scan(&id, &typ); err != nil {
			return false, err
		}
		found[id] = typ
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	types := make([]string, len(ids))
	for i, id := range ids {
		typ, ok := found[id]
		if !ok {
			return false, scim.BadRequest(scim.InvalidValue, "member %q is not a user or group of this directory", id)
		}
		types[i] = typ
	}
	tag, err := tx.Exec(ctx, `INSERT INTO members (directory_id, group_id, member_id, member_type)
		SELECT $1, $2, m.id, m.type FROM unnest($3::text[], $4::text[]) AS m(id, type)
		ON CONFLICT DO NOTHING`, dir, group, ids, types)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

// memberIDs returns the ids of members, or a 400 error for an id that no
// resource has because PostgreSQL cannot hold it (a query that names it
// fails as a whole).
func memberIDs(members []store.Member) ([]string, error) {
	ids := make([]string, len(members))
	for i, m := range members {
		if checkText(m.ID) != nil {
			return nil, scim.BadRequest(scim.InvalidValue, "member %q is not a user or group of this directory", m.ID)
		}
		ids[i] = m.ID
	}
	return ids, nil
}

// replaceMembers makes members the group's members, touching only the
// rows that change, and reports whether any did.
func replaceMembers(ctx context.Context, tx pgx.Tx, dir, group string, members []store.Member) (bool, error) {
	ids, err := memberIDs(members)
	if err != nil {
		return false, err
	}
	tag, err := tx.Exec(ctx, `DELETE FROM members WHERE directory_id = $1 AND group_id = $2 AND member_id <> ALL($3::text[])`,
		dir, group, ids)
	if err != nil {
		return false, err
	}
	added, err := addMembers(ctx, tx, dir, group, members)
	return tag.RowsAffected() > 0 || added, err
}

// resourceColumns are the columns scanResource reads, from resources r.
const resourceColumns = `r.id, r.created, r.last_modified, r.version, r.attrs`

func scanResource(rt *schema.ResourceType, row pgx.Row) (*resource.Resource, error) {
	var id string
	var created, modified time.Time
	var version int64
	var attrs []byte
	if err := row.Scan(&id, &created, &modified, &version, &attrs); err != nil {
		return nil, err
	}
	return decodeRow(rt, id, created, modified, version, attrs)
}

func decodeRow(rt *schema.ResourceType, id string, created, modified time.Time, version int64, attrs []byte) (*resource.Resource, error) {
	r, err := resource.Decode(rt, attrs, resource.Options{Response: true})
	if err != nil {
		return nil, fmt.Errorf("stored attributes of %s %q: %w", rt.Name, id, err)
	}
	r.SetID(id)
	r.SetMeta(resource.Meta{Created: created.UTC(), LastModified: modified.UTC(), Version: store.ETag(version)})
	return r, nil
}

// querier is what a pool and a transaction share, so that reads run in or
// out of a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
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
			return nil, fmt.Errorf("postgres: members of %q: %w", r.ID(), err)
		}
		setOrDelete(r.Attrs, "members", list)
	case r.Type.Schema.Attribute("groups") != nil:
		if !members {
			delete(r.Attrs, "groups")
			return r, nil
		}
		groups, err := groupsOf(ctx, q, dir, []string{r.ID()})
		if err != nil {
			return nil, fmt.Errorf("postgres: groups of %q: %w", r.ID(), err)
		}
		setOrDelete(r.Attrs, "groups", groups[r.ID()])
	}
	return r, nil
}

func membersOf(ctx context.Context, q querier, dir, group string) ([]any, error) {
	rows, err := q.Query(ctx, `SELECT m.member_id, m.member_type, COALESCE(r.attrs->>'displayName', r.name)
		FROM members m LEFT JOIN resources r ON r.directory_id = m.directory_id AND r.id = m.member_id
		WHERE m.directory_id = $1 AND m.group_id = $2 ORDER BY m.member_id`, dir, group)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var id, typ string
		var display *string
		if err := rows.Scan(&id, &typ, &display); err != nil {
			return nil, err
		}
		m := map[string]any{"value": id, "type": typ}
		if display != nil && *display != "" {
			m["display"] = *display
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// groupsOf returns the groups each of the resources ids belongs to,
// directly or through nested groups, in one query; UNION (not UNION ALL)
// ends the recursion on cycles.
func groupsOf(ctx context.Context, q querier, dir string, ids []string) (map[string][]any, error) {
	rows, err := q.Query(ctx, `WITH RECURSIVE g(member, id, direct) AS (
			SELECT m.member_id, m.group_id, true FROM unnest($2::text[]) AS x(id)
			JOIN members m ON m.directory_id = $1 AND m.member_id = x.id
			UNION
			SELECT g.member, m.group_id, false FROM g JOIN members m ON m.directory_id = $1 AND m.member_id = g.id
		)
		SELECT g.member, g.id, bool_or(g.direct), r.name FROM g JOIN resources r ON r.directory_id = $1 AND r.id = g.id
		GROUP BY g.member, g.id, r.name ORDER BY g.member, g.id`, dir, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string][]any)
	for rows.Next() {
		var member, id, name string
		var direct bool
		if err := rows.Scan(&member, &id, &direct, &name); err != nil {
			return nil, err
		}
		typ := "indirect"
		if direct {
			typ = "direct"
		}
		out[member] = append(out[member], map[string]any{"value": id, "display": name, "type": typ})
	}
	return out, rows.Err()
}

// columns are a resource's values as the resources table holds them.
type columns struct {
	name      string   // userName or displayName
	nameKey   string   // strings.ToLower(name)
	foldKey   string   // store.FoldKey(name)
	emailKeys []string // store.FoldKey of each emails.value
	attrs     []byte   // JSON of every attribute but id, meta, members and groups
}

// maxKeyBytes bounds the values that the resources table indexes (the
// keys of the name, externalId, the keys of emails.value): PostgreSQL
// cannot store an index entry over about 2.7 kB, and fails the statement.
const maxKeyBytes = 2048

// checkIndexed returns a 400 error for an indexed value over maxKeyBytes.
func checkIndexed(attr, key string) error {
	if len(key) > maxKeyBytes {
		return scim.BadRequest(scim.InvalidValue, "%s is too long: at most %d bytes of UTF-8 can be stored", attr, maxKeyBytes)
	}
	return nil
}

// split takes a resource apart into its columns and its members.
func split(r *resource.Resource) (columns, []store.Member, error) {
	var c columns
	var members []store.Member
	c.name, _ = r.Attrs[store.NameAttr(r.Type)].(string)
	c.nameKey, c.foldKey = strings.ToLower(c.name), store.FoldKey(c.name)
	for _, k := range []string{c.nameKey, c.foldKey} {
		if err := checkIndexed(store.NameAttr(r.Type), k); err != nil {
			return c, nil, err
		}
	}
	if err := checkIndexed("externalId", r.ExternalID()); err != nil {
		return c, nil, err
	}
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
	if err := checkValue(rest); err != nil {
		return c, nil, err
	}
	if emails, ok := rest["emails"].([]any); ok && r.Type.Schema.Attribute("emails") != nil {
		for _, e := range emails {
			if m, ok := e.(map[string]any); ok {
				if v, ok := m["value"].(string); ok {
					k := store.FoldKey(v)
					if err := checkIndexed("emails.value", k); err != nil {
						return c, nil, err
					}
					c.emailKeys = append(c.emailKeys, k)
				}
			}
		}
	}
	b, err := json.Marshal(rest)
	if err != nil {
		return c, nil, fmt.Errorf("encode attributes: %w", err)
	}
	c.attrs = b
	return c, members, nil
}

// checkValue rejects what PostgreSQL cannot store in text or jsonb: a
// string with a NUL character (JSON decoding makes every string valid
// UTF-8, so that is the one thing left).
func checkValue(v any) error {
	switch v := v.(type) {
	case string:
		return checkText(v)
	case map[string]any:
		for k, x := range v {
			if err := checkText(k); err != nil {
				return err
			}
			if err := checkValue(x); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := checkValue(x); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkText returns a 400 error for a string PostgreSQL cannot hold.
func checkText(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return scim.BadRequest(scim.InvalidValue, "a value contains a NUL character (\\u0000), which cannot be stored")
	}
	if !utf8.ValidString(s) {
		return scim.BadRequest(scim.InvalidValue, "a value is not valid UTF-8")
	}
	return nil
}

func setOrDelete(m map[string]any, k string, list []any) {
	if len(list) == 0 {
		delete(m, k)
		return
	}
	m[k] = list
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
