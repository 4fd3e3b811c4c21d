package postgres

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgreSQL plans a query from the statistics ANALYZE keeps of a table.
// A new database has none, and without them the planner takes the index
// on (directory_id, type, seq) for every lookup of a user by userName,
// externalId or id, then reads the directory's users one by one: an
// identity provider pushing its first ten thousand users into a new
// Roster makes each lookup slower than the last. Autovacuum analyzes the
// table, but only once a minute at most. So the store analyzes the
// resources table itself when the creates it made have grown it by half
// since it last looked (and by at least analyzeMin rows): at once for a
// new database, rarely for a big one.

// analyzeMin is the fewest new rows that make the store analyze.
const analyzeMin = 1000

// analyzer runs ANALYZE on the resources table as creates grow it, one
// run at a time, in the background.
type analyzer struct {
	pool *pgxpool.Pool
	ctx  context.Context // ends when the store closes
	wg   sync.WaitGroup

	mu       sync.Mutex
	rows     int64 // the table's rows when this store last analyzed it (0: not yet)
	inserted int64 // rows created since then
	running  bool
}

// newAnalyzer returns an analyzer of the resources table that pool
// reaches, which stops once ctx ends. It first analyzes after analyzeMin
// creates, whatever the table's size: it learns the size then.
func newAnalyzer(ctx context.Context, pool *pgxpool.Pool) *analyzer {
	return &analyzer{pool: pool, ctx: ctx}
}

// added records that n rows were created, and analyzes the table in the
// background if that makes it due.
func (a *analyzer) added(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inserted += int64(n)
	if a.running || a.inserted < max(analyzeMin, a.rows/2) || a.ctx.Err() != nil {
		return
	}
	a.running = true
	grown := a.inserted
	a.wg.Go(func() {
		var rows int64
		_, err := a.pool.Exec(a.ctx, `ANALYZE resources`)
		if err == nil {
			err = a.pool.QueryRow(a.ctx, `SELECT reltuples::bigint FROM pg_class WHERE oid = 'resources'::regclass`).Scan(&rows)
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		a.running = false
		if err == nil { // else the next create tries again
			a.rows, a.inserted = rows, a.inserted-grown
		}
	})
}

// wait waits for a run in progress to end.
func (a *analyzer) wait() { a.wg.Wait() }
