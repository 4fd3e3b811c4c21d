package postgres

import (
	"context"
	"errors"
	"fmt"
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
	types := make([]string, len(ids))
	for i, id := range ids {
		typ, ok := found[id]
		if !ok {
			return nil, id, nil
		}
		types[i] = typ
	}
	added, err := sqlstore.QueryMembers(ctx, tx, `INSERT INTO members (directory_id, group_id, member_id, member_type)
		SELECT $1, $2, m.id, m.type FROM unnest($3::text[], $4::text[]) AS m(id, type)
		ON CONFLICT DO NOTHING RETURNING member_id, member_type`, dir, group, ids, types)
	return added, "", err
}

// RemoveMembers removes members by id. Each id is a statement of its own,
// sent together in one round trip: an index lookup on the primary key,
// whatever the table's statistics say (a DELETE with = ANY or a join may
// get a plan that reads the whole group when the statistics are missing
// or stale).
func (d *dialect) RemoveMembers(ctx context.Context, tx sqlstore.Querier, dir, group string, ids []string) ([]store.Member, error) {
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

// insertEventsSQL advances a directory's counter ($1, by $2) and inserts
// its events numbered from it, in one statement: one round trip between
// taking the counter's row lock and the commit, whatever the number of
// events (a PATCH that adds 10,000 members writes 10,000).
const insertEventsSQL = `WITH c AS (UPDATE directories SET event_seq = event_seq + $2 WHERE id = $1 RETURNING event_seq)
	INSERT INTO events (directory_id, seq, id, type, resource_id, time, data, previous, context)
	SELECT $1, c.event_seq - $2 + e.n, e.id, e.type, e.resource_id, e.time, e.data, e.previous, e.context
	FROM c, unnest($3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::text[], $9::text[])
		WITH ORDINALITY AS e(id, type, resource_id, time, data, previous, context, n)`

func (d *dialect) InsertEvents(ctx context.Context, tx sqlstore.Querier, dir string, events []sqlstore.EventRow, last bool) error {
	ids, types, resources, times, data, ectx := eventArrays(events)
	previous := make([]*string, len(events))
	for i, e := range events {
		if p, ok := e.Previous.(string); ok {
			previous[i] = &p
		}
	}
	args := []any{dir, len(events), ids, types, resources, times, data, previous, ectx}
	check := func(tag pgconn.CommandTag) error {
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("directory %q: %w", dir, store.ErrNotFound)
		}
		return nil
	}
	if q, ok := tx.(querier); ok && q.last != nil && last {
		// The last statement of a transaction InTx runs: sent with its
		// COMMIT.
		*q.last = append(*q.last, queued{sql: insertEventsSQL, args: args, check: check})
		return nil
	}
	tag, err := tx.(querier).q.Exec(ctx, insertEventsSQL, args...)
	if err != nil {
		return err
	}
	return check(tag)
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

var statements = sqlstore.Statements{
	Directories:        `SELECT id, name, created FROM directories ORDER BY seq`,
	LockForUpdate:      `FOR UPDATE`,
	LockForNoKeyUpdate: `FOR NO KEY UPDATE`,
	KeepMembers:        `DELETE FROM members WHERE directory_id = $1 AND group_id = $2 AND member_id <> ALL($3::text[]) RETURNING member_id, member_type`,
	Events: `SELECT seq, id, type, resource_id, time, data, previous, context FROM events
		WHERE directory_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
	EventsOfTypes: `SELECT seq, id, type, resource_id, time, data, previous, context FROM events
		WHERE directory_id = $1 AND seq > $2 AND type = ANY($4::text[]) ORDER BY seq LIMIT $3`,
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
