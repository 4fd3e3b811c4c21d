package postgres

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/rosterhq/roster/store/sqlstore"
)

// TestTransactionsBeginWithTheirFirstStatement holds that a transaction
// whose BEGIN goes with its first statement reads that statement's rows,
// its "no row", and its failure as a transaction begun alone does, and
// that what it wrote is committed, or rolled back, as a whole.
func TestTransactionsBeginWithTheirFirstStatement(t *testing.T) {
	ctx := context.Background()
	d := newTestDialect(t, false)
	pool := d.pool
	if _, err := pool.Exec(ctx, `CREATE TABLE t (n int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Rows first.
	err := d.InTx(ctx, func(tx sqlstore.Querier) error {
		rows, err := tx.Query(ctx, `SELECT g FROM generate_series(1, 3) g`)
		if err != nil {
			return err
		}
		defer rows.Close()
		sum := 0
		for rows.Next() {
			var n int
			if err := rows.Scan(&n); err != nil {
				return err
			}
			sum += n
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if sum != 6 {
			t.Errorf("the rows summed to %d, want 6", sum)
		}
		rows.Close()
		_, err = tx.Exec(ctx, `INSERT INTO t VALUES (1)`)
		return err
	})
	if err != nil || count() != 1 {
		t.Fatalf("rows, then an insert: %v, %d rows", err, count())
	}
	// No row first, then a failure: nothing stays.
	err = d.InTx(ctx, func(tx sqlstore.Querier) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT n FROM t WHERE n = 2`).Scan(&n); !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("no row: %v, want sql.ErrNoRows", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO t VALUES (2)`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO t VALUES (1)`)
		return err
	})
	if err == nil || count() != 1 {
		t.Fatalf("a failing transaction: %v, %d rows, want an error and 1", err, count())
	}
	// A failing first statement.
	err = d.InTx(ctx, func(tx sqlstore.Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO t VALUES (1)`)
		return err
	})
	if !d.IsUnique(err) {
		t.Fatalf("a first statement that fails: %v, want a unique violation", err)
	}
	// Rows read to their end as the first statement, then another
	// statement before the rows are closed.
	if err := d.InTx(ctx, func(tx sqlstore.Querier) error {
		rows, err := tx.Query(ctx, `SELECT n FROM t`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO t VALUES (4)`)
		return err
	}); err != nil || count() != 2 {
		t.Fatalf("a statement after rows read to their end: %v, %d rows", err, count())
	}
	// The pool's connections are still good, and a write as the first
	// statement commits.
	if err := d.InTx(ctx, func(tx sqlstore.Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO t VALUES (3)`)
		return err
	}); err != nil || count() != 3 {
		t.Fatalf("after the failures: %v, %d rows", err, count())
	}
}
