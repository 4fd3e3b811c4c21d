package postgres

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/rosterhq/roster/store/sqlstore"
)

// TestEventNumbersMigration takes a database whose events were numbered
// by their directory's counter (migration 7) to events numbered by their
// readers (8) and back: the seqs go on from the last one given, either
// way, and the way back numbers what was left unnumbered.
func TestEventNumbersMigration(t *testing.T) {
	ctx := context.Background()
	d := newTestDialect(t, false)
	pool := d.pool
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
	insertUnnumbered(t, d, "d", 2, time.Now())
	if err := d.NumberEvents(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	insertUnnumbered(t, d, "d", 1, time.Now())
	if _, err := p.DownTo(ctx, 7); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT id, seq FROM events WHERE directory_id = 'd' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
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
	if len(got) != 5 || got[0] != "evt_1" || got[1] != "evt_2" {
		t.Fatalf("events after the way back: %v, want evt_1, evt_2 and the three written after", got)
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
	d := newTestDialect(b, true)
	const batch = 1000
	for b.Loop() {
		b.StopTimer()
		insertUnnumbered(b, d, "d", batch, time.Now())
		b.StartTimer()
		if err := d.NumberEvents(context.Background(), "d"); err != nil {
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
	d := newTestDialect(t, true)
	at := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	for _, dir := range []string{"d1", "d2", "d3", "d4"} {
		insertUnnumbered(t, d, dir, 5000, at)
		if err := d.NumberEvents(ctx, dir); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.pool.Exec(ctx, `ANALYZE events`); err != nil {
		t.Fatal(err)
	}
	lines, err := queryStrings(d.pool, "EXPLAIN "+sqlstore.PruneRange, "d2", at)
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	if strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, "events_seq") {
		t.Fatalf("the plan of PruneRange:\n%s\nwant each step in events_seq, no scan", plan)
	}
}

// TestANewerSchemaIsRefused: a database a newer roster has migrated (a
// version this one does not know) is not opened, rather than written
// without what that schema needs.
func TestANewerSchemaIsRefused(t *testing.T) {
	ctx := context.Background()
	d := newTestDialect(t, true)
	if _, err := d.pool.Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)`); err != nil {
		t.Fatal(err)
	}
	st, err := Open(ctx, d.pool.Config().ConnString())
	if err == nil {
		st.Close()
		t.Fatal("a database at a newer schema opened")
	}
	if !strings.Contains(err.Error(), "99999") {
		t.Fatalf("the error does not say the schema's version: %v", err)
	}
}
