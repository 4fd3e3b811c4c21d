package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosterhq/roster/internal/groupcommit"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlstore"
)

// dialect is PostgreSQL's sqlstore.Dialect: a pool of connections,
// timestamptz, text[] lists, row locks that let member adds go on beside
// changes to a member's attributes.
type dialect struct {
	pool    *pgxpool.Pool
	creates *groupcommit.Group[sqlstore.Insert] // of member-less creates
	analyze *analyzer                           // of the resources table, as creates grow it
	stop    context.CancelFunc                  // stops analyze
}

// newDialect returns the dialect of the database pool reaches.
func newDialect(pool *pgxpool.Pool) *dialect {
	ctx, stop := context.WithCancel(context.Background())
	d := &dialect{pool: pool, analyze: newAnalyzer(ctx, pool), stop: stop}
	d.creates = newGroupCommit(d)
	return d
}

// maxKeyBytes bounds the values that the resources table indexes (the
// keys of the name, externalId, the keys of emails.value): PostgreSQL
// cannot store an index entry over about 2.7 kB, and fails the statement.
const maxKeyBytes = 2048

// signingKeyLock is the key of the transaction-level advisory lock that
// makes servers rotating the signing key at once make one key.
const signingKeyLock = 0x726f73746b6579

func (d *dialect) Name() string                          { return "postgres" }
func (d *dialect) Reader() sqlstore.Querier              { return querier{q: d.pool} }
func (d *dialect) Writer() sqlstore.Querier              { return querier{q: d.pool} }
func (d *dialect) Classify(err error) error              { return classify(err) }
func (d *dialect) IsUnique(err error) bool               { return isUnique(err) }
func (d *dialect) IsForeignKey(err error) bool           { return isForeignKey(err) }
func (d *dialect) Now() time.Time                        { return now() }
func (d *dialect) Time(t time.Time) any                  { return t }
func (d *dialect) List(texts []string) any               { return texts }
func (d *dialect) CheckText(s string) error              { return checkText(s) }
func (d *dialect) MaxKeyBytes() int                      { return maxKeyBytes }
func (d *dialect) OrderBy(q store.Query) (string, error) { return orderBy(q) }

// Materialize implements sqlstore.Dialect: pgx stops a query whose
// context ends at any row, but a page after a startIndex skips the rows
// before it, which PostgreSQL reads from the table unless it skips seqs
// alone, in an index-only scan (Okta's import pages through the whole
// directory: startIndex=199901 of 200,000 users, 116 -> 34 ms).
func (d *dialect) Materialize(q store.Query) bool { return !q.Cursor && q.StartIndex > 1 }

// Close stops the analyzer and closes the pool's connections.
func (d *dialect) Close() error {
	d.stop()
	d.analyze.wait()
	d.pool.Close()
	return nil
}

func (d *dialect) Ping(ctx context.Context) error { return d.pool.Ping(ctx) }

func (d *dialect) Where(f filter.Expr, rt *schema.ResourceType, args []any) (string, []any, error) {
	return where(f, rt, args)
}

func (d *dialect) Create(ctx context.Context, ins sqlstore.Insert) error {
	return d.creates.Do(ctx, ins)
}

// AddMembers locks the members' rows FOR KEY SHARE, so that a concurrent
// delete of one waits for this transaction and then deletes its
// membership too, while changes to their attributes go on. The ids are
// joined through unnest rather than tested with = ANY, whose generic plan
// PostgreSQL may make a scan when the table has no statistics yet.
func (d *dialect) AddMembers(ctx context.Context, tx sqlstore.Querier, dir, group string, ids []string) ([]store.Member, string, error) {
	rows, err := tx.Query(ctx, `SELECT r.id, r.type FROM unnest($2::text[]) AS x(id)
		JOIN resources r ON r.directory_id = $1 AND r.id = x.id FOR KEY SHARE OF r`, dir, ids)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	found := make(map[string]string, len(ids))
	for rows.Next() {
		var id, typ string
		if err := rows.Scan(&id, &typ); err != nil {
			return nil, "", err
		}
		found[id] = typ
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	for _, id := range ids {
		if _, ok := found[id]; !ok {
			return nil, id, nil
		}
	}
	// In the order of the ids, whatever the request's: two changes of one
	// group that share members lock them in the same order, and wait for
	// each other instead of deadlocking (which PostgreSQL would break
	// after deadlock_timeout, a second).
	ids = slices.Sorted(slices.Values(ids))
	types := make([]string, len(ids))
	for i, id := range ids {
		types[i] = found[id]
	}
	added, err := sqlstore.QueryMembers(ctx, tx, `INSERT INTO members (directory_id, group_id, member_id, member_type)
		SELECT $1, $2, m.id, m.type FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS m(id, type, n)
		ORDER BY m.n ON CONFLICT DO NOTHING RETURNING member_id, member_type`, dir, group, ids, types)
	return added, "", err
}

// RemoveMembers removes members by id. Each id is a statement of its own,
// sent together in one round trip: an index lookup on the primary key,
// whatever the table's statistics say (a DELETE with = ANY or a join may
// get a plan that reads the whole group when the statistics are missing
// or stale).
func (d *dialect) RemoveMembers(ctx context.Context, tx sqlstore.Querier, dir, group string, ids []string) ([]store.Member, error) {
	ids = slices.Sorted(slices.Values(ids)) // as AddMembers does
	b := &pgx.Batch{}
	for _, id := range ids {
		b.Queue(`DELETE FROM members WHERE directory_id = $1 AND group_id = $2 AND member_id = $3 RETURNING member_type`, dir, group, id)
	}
	br := tx.(querier).q.SendBatch(ctx, b)
	var removed []store.Member
	for _, id := range ids {
		var typ string
		err := br.QueryRow().Scan(&typ)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			br.Close()
			return nil, err
		}
		removed = append(removed, store.Member{ID: id, Type: typ})
	}
	return removed, br.Close()
}

// insertEventsSQL inserts events of a directory ($1) without seqs, in
// the order given (pos grows with each): NumberEvents numbers them once
// they are committed. One statement whatever the number of events (a
// PATCH that adds 10,000 members writes 10,000), and no lock: the writers
// of a directory do not wait for each other's commits.
const insertEventsSQL = `INSERT INTO events (directory_id, id, type, resource_id, time, data, previous, context)
	SELECT $1, e.id, e.type, e.resource_id, e.time, e.data, e.previous, e.context
	FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[])
		WITH ORDINALITY AS e(id, type, resource_id, time, data, previous, context, n)
	ORDER BY e.n`

func (d *dialect) InsertEvents(ctx context.Context, tx sqlstore.Querier, dir string, events []sqlstore.EventRow, last bool) error {
	ids, types, resources, times, data, ectx := eventArrays(events)
	previous := make([]*string, len(events))
	for i, e := range events {
		if p, ok := e.Previous.(string); ok {
			previous[i] = &p
		}
	}
	args := []any{dir, ids, types, resources, times, data, previous, ectx}
	if q, ok := tx.(querier); ok && q.last != nil && last {
		// The last statement of a transaction InTx runs: sent with its
		// COMMIT.
		*q.last = append(*q.last, queued{sql: insertEventsSQL, args: args})
		return nil
	}
	_, err := tx.(querier).q.Exec(ctx, insertEventsSQL, args...)
	return err
}

// numberLock is the first key of the advisory locks under which a
// directory's events are numbered (the second is a hash of its id).
const numberLock = 0x726f7374 // "rost"

// numberBatch bounds the events one statement numbers.
const numberBatch = 5000

// numberEventsSQL numbers the next unnumbered events of a directory ($1),
// up to $2 of them, in the order they were written, after its newest seq
// (retention always keeps the newest event).
const numberEventsSQL = `WITH last AS (SELECT COALESCE(max(seq), 0) AS seq FROM events WHERE directory_id = $1),
	next AS (SELECT pos, row_number() OVER (ORDER BY pos) AS k FROM events
		WHERE directory_id = $1 AND seq IS NULL ORDER BY pos LIMIT $2)
	UPDATE events e SET seq = last.seq + next.k FROM last, next WHERE e.pos = next.pos`

// NumberEvents implements sqlstore.Dialect: it numbers the committed
// events of dir (of every directory for "") that have no seq yet. The
// lock and the update go in one batch, in one READ COMMITTED transaction,
// where each statement has its own snapshot: the update sees what a
// numbering that held the lock before committed. A change still
// running is numbered by a later call, after these: seqs grow in the
// order the changes were numbered, which follows the order they
// committed in, so a reader that has seen seq n never finds a smaller
// one afterwards.
func (d *dialect) NumberEvents(ctx context.Context, dir string) error {
	var dirs []string
	query, args := `SELECT DISTINCT directory_id FROM events WHERE seq IS NULL`, []any(nil)
	if dir != "" {
		query, args = `SELECT directory_id FROM events WHERE directory_id = $1 AND seq IS NULL LIMIT 1`, []any{dir}
	}
	rows, err := d.pool.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	dirs, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, dir := range dirs {
		for {
			b := &pgx.Batch{}
			b.Queue(`BEGIN ISOLATION LEVEL READ COMMITTED`) // whatever the database's default
			b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, numberLock, dir)
			b.Queue(numberEventsSQL, dir, numberBatch)
			b.Queue(`COMMIT`)
			br := d.pool.SendBatch(ctx, b)
			var tag pgconn.CommandTag
			_, err := br.Exec() // BEGIN
			if err == nil {
				_, err = br.Exec() // the lock
			}
			if err == nil {
				tag, err = br.Exec() // the numbering
			}
			if cerr := br.Close(); err == nil { // and the COMMIT
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("number the events of %q: %w", dir, err)
			}
			if tag.RowsAffected() < numberBatch {
				break
			}
		}
	}
	return nil
}

// eventArrays returns the columns of events as arrays, for unnest.
func eventArrays(events []sqlstore.EventRow) (ids, types []string, resources []*string, times []time.Time, data, ectx []string) {
	n := len(events)
	ids, types, data, ectx = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	resources, times = make([]*string, n), make([]time.Time, n)
	for i, e := range events {
		ids[i], types[i], data[i], ectx[i] = e.ID, e.Type, e.Data, e.Context
		if r, ok := e.Resource.(string); ok {
			resources[i] = &r
		}
		times[i], _ = e.Time.(time.Time)
	}
	return ids, types, resources, times, data, ectx
}

// IndexEmails does nothing: a GIN index on email_keys answers the
// filters.
func (d *dialect) IndexEmails(context.Context, sqlstore.Querier, string, string, any) error {
	return nil
}

var statements = sqlstore.Statements{
	Directories:        `SELECT id, name, created FROM directories ORDER BY seq`,
	LockForUpdate:      `FOR UPDATE`,
	LockForNoKeyUpdate: `FOR NO KEY UPDATE`,
	KeepMembers:        `DELETE FROM members WHERE directory_id = $1 AND group_id = $2 AND member_id <> ALL($3::text[]) RETURNING member_id, member_type`,
	Events: `SELECT seq, id, type, resource_id, time, data, previous, context FROM events
		WHERE directory_id = $1 AND seq > $2 AND seq <= $4 ORDER BY seq LIMIT $3`,
	EventsOfTypes: `SELECT seq, id, type, resource_id, time, data, previous, context FROM events
		WHERE directory_id = $1 AND seq > $2 AND seq <= $4 AND type = ANY($5::text[]) ORDER BY seq LIMIT $3`,
	Members: `SELECT m.member_id, m.member_type, COALESCE(r.attrs->>'displayName', r.name, '')
		FROM members m LEFT JOIN resources r ON r.directory_id = m.directory_id AND r.id = m.member_id
		WHERE m.directory_id = $1 AND m.group_id = $2 ORDER BY m.member_id`,
	MembersPage: `SELECT m.member_id, m.member_type, COALESCE(r.attrs->>'displayName', r.name, '')
		FROM members m LEFT JOIN resources r ON r.directory_id = m.directory_id AND r.id = m.member_id
		WHERE m.directory_id = $1 AND m.group_id = $2 AND m.member_id > $3 ORDER BY m.member_id LIMIT $4`,
	// UNION (not UNION ALL) ends the recursion on cycles.
	Groups: `WITH RECURSIVE g(member, id, direct) AS (
			SELECT m.member_id, m.group_id, true FROM unnest($2::text[]) AS x(id)
			JOIN members m ON m.directory_id = $1 AND m.member_id = x.id
			UNION
			SELECT g.member, m.group_id, false FROM g JOIN members m ON m.directory_id = $1 AND m.member_id = g.id
		)
		SELECT g.member, g.id, bool_or(g.direct), r.name FROM g JOIN resources r ON r.directory_id = $1 AND r.id = g.id
		GROUP BY g.member, g.id, r.name ORDER BY g.member, g.id`,
	LockSigningKeys: fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, signingKeyLock),
	SkipLocked:      `FOR UPDATE SKIP LOCKED`,
	LockDirectories: `LOCK TABLE directories IN SHARE MODE`,
}

func (d *dialect) Statements() *sqlstore.Statements { return &statements }

// querier runs statements on a pool, a connection or a transaction.
type querier struct {
	q interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
		SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	}
	// last, in a transaction InTx runs, gathers the statements to send
	// with its COMMIT.
	last *[]queued
}

// QueryRowAtCommit implements sqlstore.AtCommit in a transaction InTx
// runs. A query that finds no row fails with a serialization failure
// (roster_retry), which undoes the transaction before its COMMIT, and
// InTx runs it again.
func (q querier) QueryRowAtCommit(sql string, args []any, scan func(sqlstore.Row) error) bool {
	if q.last == nil {
		return false
	}
	guarded := `WITH u AS (` + sql + `) SELECT u.* FROM (SELECT 1) AS one LEFT JOIN u ON true
		WHERE CASE WHEN EXISTS (SELECT 1 FROM u) THEN true ELSE roster_retry('the row changed meanwhile') END`
	*q.last = append(*q.last, queued{sql: guarded, args: args, scan: scan})
	return true
}

func (q querier) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := q.q.Exec(ctx, sql, args...)
	return tag.RowsAffected(), err
}

func (q querier) Query(ctx context.Context, sql string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (q querier) QueryRow(ctx context.Context, sql string, args ...any) sqlstore.Row {
	return q.q.QueryRow(ctx, sql, args...)
}
