package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/store/postgres"
	"github.com/rosterhq/roster/store/storetest"
)

// TestACancelledQueryStopsOnTheServer: when a request's context ends, the
// query it was running stops on the PostgreSQL server too, not only in
// the client. A backend does not notice a closed connection until it has
// a row to send, so closing it would leave the query burning a CPU of the
// database server; pgx sends the server a cancel request as it closes a
// connection whose context ended.
func TestACancelledQueryStopsOnTheServer(t *testing.T) {
	url := pgtest.New(t)
	ctx := context.Background()
	st, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir, q := storetest.ExpensiveList(t, st)
	watcher, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close(ctx)

	// How long the query runs when nothing stops it, on this machine as
	// busy as it is now: the cancelled one must be gone before.
	start := time.Now()
	if _, err := st.List(ctx, dir, q); err != nil {
		t.Fatal(err)
	}
	whole := time.Since(start)

	cancelled, cancel := context.WithCancel(ctx)
	defer cancel()
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := st.List(cancelled, dir, q); !errors.Is(err, context.Canceled) {
		t.Fatalf("List cancelled after 50 ms: %v; want context.Canceled", err)
	}
	// The backend may take a moment to see the cancel request (seconds,
	// on a machine that runs the other packages' tests beside this one);
	// uncancelled, the query would run until about whole.
	wait := max(time.Second, whole*3/4)
	deadline := time.Now().Add(wait)
	for {
		var running []string
		rows, err := watcher.Query(ctx, `SELECT query FROM pg_stat_activity
			WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`)
		if err != nil {
			t.Fatal(err)
		}
		running, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if len(running) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v after List was cancelled (the query takes %v), the server still runs %d queries of the store: %.200q",
				wait, whole, len(running), running)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
