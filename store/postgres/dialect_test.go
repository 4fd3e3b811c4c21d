package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlstore"
)

// newTestDialect returns a dialect over a new database, migrated or
// empty, closed when tb ends.
func newTestDialect(tb testing.TB, migrated bool) *dialect {
	tb.Helper()
	ctx := context.Background()
	url := pgtest.New(tb)
	if migrated {
		st, err := Open(ctx, url)
		if err != nil {
			tb.Fatal(err)
		}
		st.Close()
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	d := newDialect(pool)
	tb.Cleanup(func() { d.Close() })
	return d
}

// insertUnnumbered inserts n events of the directory dir as a change
// does, without seqs, at time t.
func insertUnnumbered(tb testing.TB, d *dialect, dir string, n int, t time.Time) {
	tb.Helper()
	rows := make([]sqlstore.EventRow, n)
	for i := range rows {
		rows[i] = sqlstore.EventRow{ID: "evt_" + store.NewID(), Type: store.UserCreated, Time: d.Time(t),
			Data: `{"userName":"x"}`, Context: "{}"}
	}
	if err := d.InsertEvents(context.Background(), querier{q: d.pool}, dir, rows, false); err != nil {
		tb.Fatal(err)
	}
}
