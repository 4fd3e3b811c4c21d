package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/rosterhq/roster/internal/groupcommit"
	"github.com/rosterhq/roster/store/sqlstore"
)

// maxGroupCommit bounds how many inserts one transaction of a group
// commit carries, and so how long the writer is held.
const maxGroupCommit = 64

// Creates that arrive together commit in one transaction: consecutive
// creates change mostly the same pages (the ends of the name, externalId
// and time indexes), so eight committed together make SQLite log a
// fraction of the pages eight commits would. An insert that fails on a
// constraint (a taken name) fails alone: SQLite undoes just that
// statement and the transaction goes on.

// newGroupCommit returns a group commit of inserts on d's one write
// connection.
func newGroupCommit(d *dialect) *groupcommit.Group[sqlstore.Insert] {
	return groupcommit.New(maxGroupCommit, func(ctx context.Context, take func() []*groupcommit.Item[sqlstore.Insert]) bool {
		return flushInserts(ctx, d, take)
	})
}

// flushInserts commits the waiting inserts in one transaction. It takes
// them only once it has begun the transaction, so that those whose callers
// give up while the writer is busy can still withdraw; it waits for the
// writer as long as ctx, the leader's own, lets it.
func flushInserts(ctx context.Context, d *dialect, take func() []*groupcommit.Item[sqlstore.Insert]) bool {
	conn, err := d.w.Conn(ctx)
	if err != nil && ctx.Err() != nil {
		return false
	}
	var tx *sql.Tx
	if err == nil {
		defer conn.Close()
		// The transaction is all of theirs: no one caller's end may cut it.
		tx, err = conn.BeginTx(context.WithoutCancel(ctx), nil)
	}
	batch := take()
	finish := func(err error) bool {
		for _, it := range batch {
			if it.Err == nil {
				it.Err = err
			}
		}
		return true
	}
	if err != nil {
		return finish(fmt.Errorf("begin: %w", err))
	}
	if len(batch) == 0 {
		tx.Rollback()
		return true
	}
	ctx = context.WithoutCancel(ctx)
	for _, it := range batch {
		if err := it.Ctx.Err(); err != nil {
			it.Err = err // gave up before its turn: not inserted
			continue
		}
		_, err := tx.ExecContext(ctx, sqlstore.InsertResource, it.Value.Args...)
		if err == nil {
			args := it.Value.Args
			if err = d.IndexEmails(ctx, querier{tx}, args[sqlstore.ArgDirectory].(string), it.Value.ID, args[sqlstore.ArgEmailKeys]); err == nil {
				continue
			}
		}
		if it.Err = it.Value.Check(err); !isUnique(err) && !isForeignKey(err) {
			// Not a constraint that undoes only its own statement: the
			// transaction may be gone, and the others' inserts with it. A
			// taken name found before may have been taken by an insert
			// of this batch, now undone: none of the others is told more
			// than that the batch failed.
			tx.Rollback()
			for _, other := range batch {
				if other != it && other.Ctx.Err() == nil {
					other.Err = nil
				}
			}
			return finish(fmt.Errorf("a create committed with this one failed: %w", err))
		}
	}
	var events []sqlstore.PendingEvent
	for _, it := range batch {
		if it.Err == nil {
			events = append(events, it.Value.Events...)
		}
	}
	if err := sqlstore.WriteEvents(ctx, querier{tx}, d, events); err != nil {
		tx.Rollback()
		for _, it := range batch {
			it.Err = nil // none of them happened
		}
		return finish(fmt.Errorf("a create committed with this one failed: %w", err))
	}
	if err := tx.Commit(); err != nil {
		for _, it := range batch {
			it.Err = nil // none of them happened
		}
		return finish(fmt.Errorf("commit: %w", err))
	}
	return true
}

// Write transactions that arrive together commit together too: the
// writer runs each in a savepoint of one transaction, so that one that
// fails is undone alone, and commits them once. SQLite has one writer, so
// they would have run one after the other anyway; together they write
// the pages they share (the ends of the events' B-trees, a group's row
// and its members' index) to the log once, not once each.

// maxTxGroup bounds how many transactions one commit carries.
const maxTxGroup = 32

// newTxGroup returns a group commit of write transactions on d's one
// write connection.
func newTxGroup(d *dialect) *groupcommit.Group[func(sqlstore.Querier) error] {
	return groupcommit.New(maxTxGroup, func(ctx context.Context, take func() []*groupcommit.Item[func(sqlstore.Querier) error]) bool {
		return flushTxs(ctx, d, take)
	})
}

// flushTxs runs the waiting transactions in one. Each runs on the
// leader's context, whatever its own: a statement its caller's context
// interrupted would undo the whole transaction, the others' work with
// it. A caller whose context ended before its turn is skipped.
func flushTxs(ctx context.Context, d *dialect, take func() []*groupcommit.Item[func(sqlstore.Querier) error]) bool {
	conn, err := d.w.Conn(ctx)
	if err != nil && ctx.Err() != nil {
		return false
	}
	var tx *sql.Tx
	if err == nil {
		defer conn.Close()
		tx, err = conn.BeginTx(context.WithoutCancel(ctx), nil)
	}
	batch := take()
	if err != nil {
		return failAll(batch, fmt.Errorf("begin: %w", err))
	}
	ctx = context.WithoutCancel(ctx)
	q := leaderQuerier{querier{tx}, ctx}
	alone := len(batch) == 1
	for _, it := range batch {
		if err := it.Ctx.Err(); err != nil {
			it.Err = err // gave up before its turn: not run
			continue
		}
		if alone {
			it.Err = it.Value(q)
			break
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT tx`); err != nil {
			tx.Rollback()
			return failAll(batch, fmt.Errorf("savepoint: %w", err))
		}
		if it.Err = it.Value(q); it.Err != nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO tx`); err != nil {
				tx.Rollback()
				return failAll(batch, fmt.Errorf("a transaction committed with this one failed: %w", err))
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE tx`); err != nil {
			tx.Rollback()
			return failAll(batch, fmt.Errorf("release: %w", err))
		}
	}
	if alone && batch[0].Err != nil {
		tx.Rollback()
		return true
	}
	if err := tx.Commit(); err != nil {
		return failAll(batch, fmt.Errorf("commit: %w", err))
	}
	return true
}

// failAll sets err as the outcome of the items of a batch that had
// succeeded, when the batch could not be committed; those that failed on
// their own keep their errors.
func failAll[T any](batch []*groupcommit.Item[T], err error) bool {
	for _, it := range batch {
		if it.Err == nil {
			it.Err = err
		}
	}
	return true
}

// leaderQuerier runs statements on the leader's context, whatever context
// they are given.
type leaderQuerier struct {
	q   sqlstore.Querier
	ctx context.Context
}

func (l leaderQuerier) Exec(_ context.Context, query string, args ...any) (int64, error) {
	return l.q.Exec(l.ctx, query, args...)
}

func (l leaderQuerier) Query(_ context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return l.q.Query(l.ctx, query, args...)
}

func (l leaderQuerier) QueryRow(_ context.Context, query string, args ...any) sqlstore.Row {
	return l.q.QueryRow(l.ctx, query, args...)
}
