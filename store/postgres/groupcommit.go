package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/internal/groupcommit"
	"github.com/rosterhq/roster/store/sqlstore"
)

// maxGroupCommit bounds how many users one statement of a group commit
// inserts.
const maxGroupCommit = 64

// newGroupCommit returns a group commit of inserts on d's pool.
func newGroupCommit(d *dialect) *groupcommit.Group[sqlstore.Insert] {
	return groupcommit.New(maxGroupCommit, func(ctx context.Context, take func() []*groupcommit.Item[sqlstore.Insert]) bool {
		return flushInserts(ctx, d, take)
	})
}

// flushInserts inserts the waiting creates with one INSERT … ON CONFLICT
// DO NOTHING RETURNING id, and the events of those inserted, in one
// transaction: a create whose id does not come back met a taken name.
// Should the statement fail as a whole (an unknown directory, a value
// PostgreSQL refuses), each create is tried alone, so that each gets its
// own error. The leader's ctx bounds only its wait for a connection; no
// one caller's end may cut the statement short.
func flushInserts(ctx context.Context, d *dialect, take func() []*groupcommit.Item[sqlstore.Insert]) bool {
	conn, err := d.pool.Acquire(ctx)
	if err != nil && ctx.Err() != nil {
		return false
	}
	if err == nil {
		defer conn.Release()
	}
	var batch []*groupcommit.Item[sqlstore.Insert]
	for _, it := range take() {
		if it.Err = it.Ctx.Err(); it.Err == nil { // not given up before its turn
			batch = append(batch, it)
		}
	}
	if err != nil {
		for _, it := range batch {
			it.Err = classify(err)
		}
		return true
	}
	ctx = context.WithoutCancel(ctx)
	// inTx runs fn in a transaction that also writes the events of the
	// inserts fn reports inserted.
	inTx := func(fn func(tx pgx.Tx) (map[string]bool, error)) (map[string]bool, error) {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return nil, err
		}
		defer tx.Rollback(ctx)
		inserted, err := fn(tx)
		if err != nil {
			return nil, err
		}
		var events []sqlstore.PendingEvent
		for _, it := range batch {
			if inserted[it.Value.ID] {
				events = append(events, it.Value.Events...)
			}
		}
		if err := sqlstore.WriteEvents(ctx, querier{q: tx}, d, events); err != nil {
			return nil, err
		}
		return inserted, tx.Commit(ctx)
	}
	alone := func(it *groupcommit.Item[sqlstore.Insert]) {
		_, err := inTx(func(tx pgx.Tx) (map[string]bool, error) {
			if _, err := tx.Exec(ctx, sqlstore.InsertResource, it.Value.Args...); err != nil {
				return nil, it.Value.Check(err)
			}
			return map[string]bool{it.Value.ID: true}, nil
		})
		if err != nil {
			it.Err = classify(err)
		}
	}
	if len(batch) == 0 {
		return true
	}
	// In the order of the unique index on names (arrival order among equal
	// names, so the first to come wins), so that two replicas
	// inserting overlapping names wait for each other instead of
	// deadlocking (which PostgreSQL would break after deadlock_timeout).
	slices.SortStableFunc(batch, func(a, b *groupcommit.Item[sqlstore.Insert]) int {
		for _, k := range []int{sqlstore.ArgDirectory, sqlstore.ArgType, sqlstore.ArgFoldKey} {
			if c := strings.Compare(a.Value.Args[k].(string), b.Value.Args[k].(string)); c != 0 {
				return c
			}
		}
		return 0
	})
	var q strings.Builder
	q.WriteString(`INSERT INTO resources ` + sqlstore.InsertColumns + ` VALUES `)
	args := make([]any, 0, 10*len(batch))
	for i, it := range batch {
		if i > 0 {
			q.WriteString(", ")
		}
		p := func(k int) string { return "$" + strconv.Itoa(10*i+k) }
		fmt.Fprintf(&q, "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 1, %s)", p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9), p(9), p(10))
		args = append(args, it.Value.Args...)
	}
	q.WriteString(` ON CONFLICT DO NOTHING RETURNING id`)
	var inserted map[string]bool
	if query, args, ok := withEvents(d, batch, q.String(), args); ok {
		// One statement, so one round trip: its own transaction.
		inserted, err = insertedIDs(conn.Query(ctx, query, args...))
	} else {
		inserted, err = inTx(func(tx pgx.Tx) (map[string]bool, error) {
			return insertedIDs(tx.Query(ctx, q.String(), args...))
		})
	}
	if err != nil {
		if unavailable(err) {
			for _, it := range batch {
				it.Err = classify(err)
			}
			return true
		}
		for _, it := range batch {
			alone(it)
		}
		return true
	}
	for _, it := range batch {
		if !inserted[it.Value.ID] {
			it.Err = it.Value.Conflict
		}
	}
	d.analyze.added(len(inserted))
	return true
}

// insertedIDs reads the ids an INSERT … RETURNING id returned.
func insertedIDs(rows pgx.Rows, err error) (map[string]bool, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	inserted := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		inserted[id] = true
	}
	return inserted, rows.Err()
}

// withEvents makes the insert of a batch whose creates are all of one
// directory (as they are but for a batch that straddles two) also insert
// the events of those it inserts (unnumbered: see NumberEvents), in the
// same statement: the batch then costs one round trip and one
// transaction, as it did before creates had events. The insert is the
// statement insert with its arguments args; ok is false for a batch of
// several directories, which takes a transaction of several statements.
func withEvents(d *dialect, batch []*groupcommit.Item[sqlstore.Insert], insert string, args []any) (query string, all []any, ok bool) {
	dir := batch[0].Value.Args[sqlstore.ArgDirectory]
	var rows []sqlstore.EventRow
	var owners []string // the id of the create each event is of
	for _, it := range batch {
		if it.Value.Args[sqlstore.ArgDirectory] != dir {
			return "", nil, false
		}
		for _, e := range it.Value.Events {
			if e.Directory != dir {
				return "", nil, false
			}
			rows = append(rows, sqlstore.NewEventRow(d, e))
			owners = append(owners, it.Value.ID)
		}
	}
	ids, types, resources, times, data, ectx := eventArrays(rows)
	n := len(args)
	p := func(k int) string { return "$" + strconv.Itoa(n+k) }
	query = `WITH ins AS (` + insert + `),
		e AS (SELECT x.* FROM unnest(` + p(1) + `::text[], ` + p(2) + `::text[], ` + p(3) + `::text[], ` + p(4) + `::text[], ` + p(5) + `::timestamptz[], ` +
		p(6) + `::text[], ` + p(7) + `::text[]) WITH ORDINALITY AS x(owner, id, type, resource_id, time, data, context, n)
			WHERE x.owner IN (SELECT id FROM ins)),
		w AS (INSERT INTO events (directory_id, id, type, resource_id, time, data, previous, context)
			SELECT ` + p(8) + `, e.id, e.type, e.resource_id, e.time, e.data, NULL, e.context FROM e ORDER BY e.n)
		SELECT id FROM ins`
	return query, append(args, owners, ids, types, resources, times, data, ectx, dir), true
}
