package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	gosync "sync"
)

// maxGroupCommit bounds how many inserts one transaction of a group
// commit carries, and so how long the writer is held.
const maxGroupCommit = 64

// groupCommit commits single-statement inserts that arrive at once in one
// transaction. SQLite writes every page a transaction changed to its log
// at commit; consecutive creates change mostly the same pages (the ends
// of the name, externalId and time indexes), so eight creates committed
// together write a fraction of the pages eight commits would.
//
// Whoever finds no commit under way leads: it takes every insert waiting,
// runs them in one transaction and hands each its own result; the
// inserts that arrive meanwhile wait for the next leader. An insert
// that fails (a taken name) fails alone: SQLite undoes just that
// statement and the transaction goes on.
type groupCommit struct {
	db     *sql.DB
	leader chan struct{} // holds a token while a leader commits

	mu      gosync.Mutex
	pending []*groupInsert
}

// groupInsert is one insert waiting to be committed.
type groupInsert struct {
	ctx   context.Context
	query string
	args  []any
	// check turns the insert's error into the one to return (such as a
	// conflict for a UNIQUE violation); nil errors stay nil.
	check func(error) error

	done chan struct{} // closed when err is set
	err  error
}

func newGroupCommit(db *sql.DB) *groupCommit {
	return &groupCommit{db: db, leader: make(chan struct{}, 1)}
}

// exec runs query with args as part of a group commit and returns its
// error after the commit, checked by check. If ctx ends first and the
// insert has not been taken into a transaction, it is dropped and
// ctx's error returned; once taken, it is waited for, as its outcome is
// then the transaction's.
func (g *groupCommit) exec(ctx context.Context, query string, check func(error) error, args ...any) error {
	in := &groupInsert{ctx: ctx, query: query, args: args, check: check, done: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, in)
	g.mu.Unlock()
	for {
		select {
		case <-in.done:
			return in.err
		case g.leader <- struct{}{}:
			led := g.lead(ctx)
			<-g.leader
			if !led && g.withdraw(in) { // ctx ended waiting for the writer
				return ctx.Err()
			}
			select {
			case <-in.done:
				return in.err
			default: // more than maxGroupCommit were waiting: lead again
			}
		case <-ctx.Done():
			if g.withdraw(in) {
				return ctx.Err()
			}
			<-in.done // taken: its transaction decides
			return in.err
		}
	}
}

// withdraw removes in from the inserts waiting, reporting whether it was
// still there.
func (g *groupCommit) withdraw(in *groupInsert) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	i := slices.Index(g.pending, in)
	if i < 0 {
		return false
	}
	g.pending = slices.Delete(g.pending, i, i+1)
	return true
}

// lead commits up to maxGroupCommit waiting inserts in one transaction.
// It takes them only once it has begun the transaction, so that those
// whose callers give up while the writer is busy can still withdraw; it
// waits for the writer as long as ctx, the leader's own, lets it, and
// reports false if ctx ended first.
func (g *groupCommit) lead(ctx context.Context) bool {
	conn, err := g.db.Conn(ctx)
	if err != nil && ctx.Err() != nil {
		return false
	}
	var tx *sql.Tx
	if err == nil {
		defer conn.Close()
		// The transaction is all of theirs: no one caller's end may cut it.
		tx, err = conn.BeginTx(context.WithoutCancel(ctx), nil)
	}
	g.mu.Lock()
	n := min(len(g.pending), maxGroupCommit)
	batch := slices.Clone(g.pending[:n])
	g.pending = slices.Delete(g.pending, 0, n)
	g.mu.Unlock()
	finish := func(err error) {
		for _, in := range batch {
			if in.err == nil {
				in.err = err
			}
			close(in.done)
		}
	}
	if err != nil {
		finish(fmt.Errorf("begin: %w", err))
		return true
	}
	if len(batch) == 0 {
		tx.Rollback()
		return true
	}
	ctx = context.WithoutCancel(ctx)
	for _, in := range batch {
		if err := in.ctx.Err(); err != nil {
			in.err = err // gave up before its turn: not inserted
			continue
		}
		_, err := tx.ExecContext(ctx, in.query, in.args...)
		if err == nil {
			continue
		}
		if in.err = in.check(err); !isUnique(err) && !isForeignKey(err) {
			// Not a constraint that undoes only its own statement: the
			// transaction may be gone, and the others' inserts with it.
			tx.Rollback()
			finish(fmt.Errorf("a create committed with this one failed: %w", err))
			return true
		}
	}
	if err := tx.Commit(); err != nil {
		for _, in := range batch {
			in.err = nil // none of them happened
		}
		finish(fmt.Errorf("commit: %w", err))
		return true
	}
	finish(nil)
	return true
}
