package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"github.com/rosterhq/roster/internal/groupcommit"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a store.Store on a SQLite database file: the SQL store core
// over SQLite's dialect.
type Store struct {
	*sqlstore.Store
	d *dialect
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite database at path and applies
// the migrations it lacks. With sqlstore.WithSecretKey it encrypts the
// signing keys kept in clear, and fails if the key does not decrypt the
// others (see sqlstore.SealSigningKeys).
func Open(ctx context.Context, path string, opts ...sqlstore.Option) (*Store, error) {
	registerFunctions()

	// WAL lets readers run beside the writer; a busy timeout makes writers
	// wait for each other instead of failing; foreign keys keep
	// memberships consistent. _txlock=immediate takes the write lock at
	// BEGIN, so read-then-write transactions cannot deadlock. (A memory
	// map made no measurable difference to a 100,000-user load and puts
	// the file's pages in the process's RSS, so there is none.)
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	rc, err := newConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db := sql.OpenDB(rc)
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
	// A statement of a transaction that may write several rows keeps the
	// pages it changes in a statement journal, to undo itself alone (and
	// the group commit's savepoints keep theirs). Kept in memory
	// (temp_store), it never spills to a temporary file past 64 KiB
	// (creates: 3,639 -> 3,962 rps, BENCHMARKS.md).
	wc, err := newConnector(dsn + "&_pragma=wal_autocheckpoint(10000)&_pragma=temp_store(MEMORY)")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w := sql.OpenDB(wc)
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	d := &dialect{db: db, w: w}
	d.creates, d.txs = newGroupCommit(d), newTxGroup(d)
	s := &Store{Store: sqlstore.New(d, opts...), d: d}
	if err := s.SealSigningKeys(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// SchemaVersion returns the version of the newest migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	p, err := provider(s.d.db)
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
	// Out of order: branches take migration numbers ahead of their merge,
	// so a database may have a later one applied before an earlier one
	// is merged; each migration is about tables of its own.
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub, goose.WithAllowOutofOrder(true))
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
	if _, err := sqlstore.CheckSchemaVersion(ctx, p); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// dialect is SQLite's sqlstore.Dialect: reads on a pool, writes on one
// connection, times as text, lists as JSON arrays (json_each).
type dialect struct {
	db *sql.DB // reads, any number at once
	w  *sql.DB // writes: one connection, so writers queue here

	creates *groupcommit.Group[sqlstore.Insert]              // of member-less creates, on w
	txs     *groupcommit.Group[func(sqlstore.Querier) error] // of write transactions, on w
}

func (d *dialect) Name() string                          { return "sqlite" }
func (d *dialect) Reader() sqlstore.Querier              { return querier{d.db} }
func (d *dialect) Writer() sqlstore.Querier              { return querier{d.w} }
func (d *dialect) Classify(err error) error              { return err }
func (d *dialect) Now() time.Time                        { return time.Now().UTC() }
func (d *dialect) Time(t time.Time) any                  { return t.UTC().Format(sqlstore.TimeFormat) }
func (d *dialect) CheckText(string) error                { return nil }
func (d *dialect) MaxKeyBytes() int                      { return 0 }
func (d *dialect) Close() error                          { return errors.Join(d.w.Close(), d.db.Close()) }
func (d *dialect) OrderBy(q store.Query) (string, error) { return orderBy(q) }

// Materialize implements sqlstore.Dialect: every page is read through
// sqlstore.MaterializedPageQuery but that of a lookup by name (see
// nameLookup).
func (d *dialect) Materialize(q store.Query) bool { return !nameLookup(q.Filter, q.Type) }

func (d *dialect) Ping(ctx context.Context) error {
	if err := d.db.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return nil
}

// List returns texts as a JSON array, which statements read with
// json_each.
func (d *dialect) List(texts []string) any {
	b, _ := json.Marshal(texts) // strings always encode
	return string(b)
}

// InTx runs fn in a write transaction, perhaps with others that arrive
// meanwhile (see newTxGroup), committing if it returns nil.
func (d *dialect) InTx(ctx context.Context, fn func(tx sqlstore.Querier) error) error {
	return d.txs.Do(ctx, fn)
}

func (d *dialect) Where(f filter.Expr, rt *schema.ResourceType, args []any) (string, []any, error) {
	return where(f, rt, args)
}

func (d *dialect) Create(ctx context.Context, ins sqlstore.Insert) error {
	return d.creates.Do(ctx, ins)
}

// addMembersSQL adds the members whose ids are in a JSON array ($2) to a
// group ($1) of a directory ($3), with their stored types, skipping ids
// that are not resources of the directory and memberships that exist.
// One statement for all members: a group of 50 costs one round through
// the driver, not 50. CROSS JOIN makes SQLite loop over the list and look
// each id up, never scan the directory (TestAddMembersLooksUpEachID);
// "WHERE true" tells its parser that ON CONFLICT belongs to the INSERT,
// not to the join.
const addMembersSQL = `INSERT INTO members (directory_id, group_id, member_id, member_type)
	SELECT r.directory_id, $1, r.id, r.type FROM json_each($2) j CROSS JOIN resources r ON r.directory_id = $3 AND r.id = j.value
	WHERE true ON CONFLICT DO NOTHING RETURNING member_id, member_type`

func (d *dialect) AddMembers(ctx context.Context, tx sqlstore.Querier, dir, group string, ids []string) ([]store.Member, string, error) {
	list := d.List(ids)
	added, err := sqlstore.QueryMembers(ctx, tx, addMembersSQL, group, list, dir)
	if err != nil {
		return nil, "", err
	}
	if len(added) < len(ids) {
		// Some were members already, or are not resources at all: find the
		// first of the latter, in the list's order.
		var missing string
		err := tx.QueryRow(ctx, `SELECT j.value FROM json_each($1) j
			WHERE NOT EXISTS (SELECT 1 FROM resources r WHERE r.directory_id = $2 AND r.id = j.value)
			ORDER BY j.key LIMIT 1`, list, dir).Scan(&missing)
		switch {
		case err == nil:
			return nil, missing, nil
		case !errors.Is(err, sql.ErrNoRows):
			return nil, "", err
		}
	}
	return added, "", nil
}

// removeMembersSQL removes the members whose ids are in a JSON array ($3)
// from a group ($2) of a directory ($1): one statement for all of them,
// each looked up by the primary key (TestRemoveMembersLooksUpEachID).
const removeMembersSQL = `DELETE FROM members WHERE directory_id = $1 AND group_id = $2
	AND member_id IN (SELECT value FROM json_each($3)) RETURNING member_id, member_type`

func (d *dialect) RemoveMembers(ctx context.Context, tx sqlstore.Querier, dir, group string, ids []string) ([]store.Member, error) {
	return sqlstore.QueryMembers(ctx, tx, removeMembersSQL, dir, group, d.List(ids))
}

// insertEventSQL inserts one event, numbered after the directory's newest
// (a lookup in the primary key; retention always keeps the newest).
// SQLite runs in the process: a prepared statement run once per event
// costs microseconds, no round trips.
const insertEventSQL = `INSERT INTO events (directory_id, seq, id, type, resource_id, time, data, previous, context)
	VALUES ($1, (SELECT COALESCE(max(seq), 0) + 1 FROM events WHERE directory_id = $1), $2, $3, $4, $5, $6, $7, $8)`

// insertEventAtSQL inserts one event with the seq it is given.
const insertEventAtSQL = `INSERT INTO events (directory_id, seq, id, type, resource_id, time, data, previous, context)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

// InsertEvents inserts the events one by one, each numbered after the
// one before: SQLite's one writer commits them in order. One event (most
// changes) takes one statement; more (a PATCH that adds 10,000 members)
// look the newest seq up once. The directory exists: every change that
// writes events has made sure.
func (d *dialect) InsertEvents(ctx context.Context, tx sqlstore.Querier, dir string, events []sqlstore.EventRow, _ bool) error {
	if len(events) == 1 {
		e := events[0]
		_, err := tx.Exec(ctx, insertEventSQL, dir, e.ID, e.Type, e.Resource, e.Time, e.Data, e.Previous, e.Context)
		return err
	}
	var seq int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(max(seq), 0) FROM events WHERE directory_id = $1`, dir).Scan(&seq); err != nil {
		return err
	}
	for _, e := range events {
		seq++
		if _, err := tx.Exec(ctx, insertEventAtSQL, dir, seq, e.ID, e.Type, e.Resource, e.Time, e.Data, e.Previous, e.Context); err != nil {
			return err
		}
	}
	return nil
}

// indexEmailsSQL records a resource's email keys ($3, a JSON array) in
// resource_emails, which the filters on emails.value look up.
const indexEmailsSQL = `INSERT OR IGNORE INTO resource_emails (email_key, directory_id, resource_id)
	SELECT value, $1, $2 FROM json_each($3)`

// IndexEmails records the email keys of a resource just inserted. An
// insert does this itself rather than through a trigger: a trigger would
// make SQLite journal every page the INSERT changes, to undo it alone
// should it fail (see migration 12).
func (d *dialect) IndexEmails(ctx context.Context, tx sqlstore.Querier, dir, id string, keys any) error {
	if keys == nil {
		return nil
	}
	_, err := tx.Exec(ctx, indexEmailsSQL, dir, id, keys)
	return err
}

// NumberEvents does nothing: InsertEvents numbers the events, and the
// one writer commits them in that order.
func (d *dialect) NumberEvents(context.Context, string) error { return nil }

var statements = sqlstore.Statements{
	Directories: `SELECT id, name, created FROM directories ORDER BY rowid`,
	KeepMembers: `DELETE FROM members WHERE directory_id = $1 AND group_id = $2
		AND member_id NOT IN (SELECT value FROM json_each($3)) RETURNING member_id, member_type`,
	Events: `SELECT seq, id, type, resource_id, time, data, previous, context FROM events
		WHERE directory_id = $1 AND seq > $2 AND seq <= $4 ORDER BY seq LIMIT $3`,
	EventsOfTypes: `SELECT seq, id, type, resource_id, time, data, previous, context FROM events
		WHERE directory_id = $1 AND seq > $2 AND seq <= $4 AND type IN (SELECT value FROM json_each($5)) ORDER BY seq LIMIT $3`,
	Members: `SELECT m.member_id, m.member_type, COALESCE(json_extract(r.attrs, '$."displayName"'), r.name, '')
		FROM members m LEFT JOIN resources r ON r.directory_id = m.directory_id AND r.id = m.member_id
		WHERE m.directory_id = $1 AND m.group_id = $2 ORDER BY m.member_id`,
	MembersPage: `SELECT m.member_id, m.member_type, COALESCE(json_extract(r.attrs, '$."displayName"'), r.name, '')
		FROM members m LEFT JOIN resources r ON r.directory_id = m.directory_id AND r.id = m.member_id
		WHERE m.directory_id = $1 AND m.group_id = $2 AND m.member_id > $3 ORDER BY m.member_id LIMIT $4`,
	// UNION (not UNION ALL) ends the recursion on cycles, and CROSS JOIN
	// keeps SQLite from scanning all memberships at each step.
	Groups: `WITH RECURSIVE g(member, id, direct) AS (
			SELECT member_id, group_id, 1 FROM members
			WHERE directory_id = $1 AND member_id IN (SELECT value FROM json_each($2))
			UNION
			SELECT g.member, m.group_id, 0 FROM g CROSS JOIN members m WHERE m.directory_id = $1 AND m.member_id = g.id
		)
		SELECT g.member, g.id, max(g.direct), r.name FROM g CROSS JOIN resources r ON r.directory_id = $1 AND r.id = g.id
		GROUP BY g.member, g.id ORDER BY g.member, g.id`,
}

func (d *dialect) Statements() *sqlstore.Statements { return &statements }

// isForeignKey reports whether err is a violation of a foreign key.
func (d *dialect) IsForeignKey(err error) bool { return isForeignKey(err) }

// IsUnique reports whether err is a violation of a UNIQUE constraint.
func (d *dialect) IsUnique(err error) bool { return isUnique(err) }

func isForeignKey(err error) bool {
	var se *sqlite3.Error
	return errors.As(err, &se) && se.Code() == sqlite3lib.SQLITE_CONSTRAINT_FOREIGNKEY
}

func isUnique(err error) bool {
	var se *sqlite3.Error
	return errors.As(err, &se) && (se.Code() == sqlite3lib.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// querier runs statements on a database/sql handle or transaction.
type querier struct {
	q interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}
}

func (q querier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q querier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (q querier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return q.q.QueryRowContext(ctx, query, args...)
}

// sqlRows are *sql.Rows whose Close, as sqlstore.Rows's, returns nothing:
// its error is Err's.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }
