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
		if err := sqlstore.WriteEvents(ctx, querier{tx}, d, events); err != nil {
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
	switch len(batch) {
	case 0:
		return true
	case 1:
		alone(batch[0])
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
	inserted, err := inTx(func(tx pgx.Tx) (map[string]bool, error) {
		rows, err := tx.Query(ctx, q.String(), args...)
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
	})
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
	return true
}
