package postgres

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlstore"
)

// TestEventNumbersMigration takes a database whose events were numbered
// by their directory's counter (migration 7) to events numbered by their
// readers (8) and back: the seqs go on from the last one given, either
// way, and the way back numbers what was left unnumbered.
func TestEventNumbersMigration(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	d := newDialect(pool)
	defer d.Close()
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 7); err != nil {
		t.Fatal(err)
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO directories (id, name, name_key, created, event_seq) VALUES ('d', 'acme', 'acme', now(), 2)`)
	exec(`INSERT INTO events (directory_id, seq, id, type, time, data, context)
		VALUES ('d', 1, 'evt_1', 'directory.created', now(), '{}', '{}'), ('d', 2, 'evt_2', 'user.created', now(), '{}', '{}')`)
	if _, err := p.UpTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	exec(insertEventsSQL, "d", []string{"evt_3", "evt_4"}, []string{"user.created", "user.updated"}, []*string{nil, nil},
		[]string{"2026-12-07T00:00:00Z", "2026-12-07T00:00:01Z"}, []string{"{}", "{}"}, []*string{nil, nil}, []string{"{}", "{}"})
	if err := d.NumberEvents(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	exec(insertEventsSQL, "d", []string{"evt_5"}, []string{"user.deleted"}, []*string{nil},
		[]string{"2026-12-07T00:00:02Z"}, []string{"{}"}, []*string{nil}, []string{"{}"})
	if _, err := p.DownTo(ctx, 7); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT id, seq FROM events WHERE directory_id = 'd' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"evt_1", "evt_2", "evt_3", "evt_4", "evt_5"}
	var got []string
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			t.Fatal(err)
		}
		if seq != int64(len(got)+1) {
			t.Errorf("%s has seq %d, want %d", id, seq, len(got)+1)
		}
		got = append(got, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("events after the way back: %v, want %v", got, want)
	}
	var counter int64
	if err := pool.QueryRow(ctx, `SELECT event_seq FROM directories WHERE id = 'd'`).Scan(&counter); err != nil {
		t.Fatal(err)
	}
	if counter != 5 {
		t.Fatalf("the directory's counter after the way back is %d, want 5", counter)
	}
}

// BenchmarkNumberEvents measures what numbering costs a reader, per
// event, in batches of 1,000 events written by one change each.
func BenchmarkNumberEvents(b *testing.B) {
	ctx := context.Background()
	url := pgtest.New(b)
	st, err := Open(ctx, url) // migrated
	if err != nil {
		b.Fatal(err)
	}
	st.Close()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	d := newDialect(pool)
	defer d.Close()
	const batch = 1000
	ids, types, resources, times, data, previous, ectx := make([]string, batch), make([]string, batch), make([]*string, batch),
		make([]string, batch), make([]string, batch), make([]*string, batch), make([]string, batch)
	for b.Loop() {
		b.StopTimer()
		for i := range batch {
			ids[i], types[i], times[i], data[i], ectx[i] = "evt_"+store.NewID(), "user.created", "2026-12-07T00:00:00Z", `{"userName":"x"}`, "{}"
		}
		if _, err := pool.Exec(ctx, insertEventsSQL, "d", ids, types, resources, times, data, previous, ectx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := d.NumberEvents(ctx, "d"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/event")
}

// TestPruneRangeUsesTheSeqIndex checks with EXPLAIN that finding what
// PruneEvents deletes steps into the index on numbered seqs, rather than
// reading every event of every directory.
func TestPruneRangeUsesTheSeqIndex(t *testing.T) {
	ctx := context.Background()
	url := pgtest.New(t)
	st, err := Open(ctx, url) // migrated
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d := newDialect(st.pool)
	defer d.stop()
	const batch = 5000
	ids, types, resources, times, data, previous, ectx := make([]string, batch), make([]string, batch), make([]*string, batch),
		make([]string, batch), make([]string, batch), make([]*string, batch), make([]string, batch)
	for _, dir := range []string{"d1", "d2", "d3", "d4"} {
		for i := range batch {
			ids[i], types[i], times[i], data[i], ectx[i] = "evt_"+store.NewID(), "user.created", "2026-12-07T00:00:00Z", "{}", "{}"
		}
		if _, err := st.pool.Exec(ctx, insertEventsSQL, dir, ids, types, resources, times, data, previous, ectx); err != nil {
			t.Fatal(err)
		}
		if err := d.NumberEvents(ctx, dir); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.pool.Exec(ctx, `ANALYZE events`); err != nil {
		t.Fatal(err)
	}
	lines, err := queryStrings(st.pool, "EXPLAIN "+sqlstore.PruneRange, "d2", "2026-12-07T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	if strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, "events_seq") {
		t.Fatalf("the plan of PruneRange:\n%s\nwant each step in events_seq, no scan", plan)
	}
}
