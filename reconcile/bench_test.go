package reconcile_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/reconcile/source/file"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store/sqlite"
)

// The sync benchmarks of issue 6: a file source of ROSTER_BENCH_SYNC_USERS
// users (default 100,000) and a twentieth as many groups averaging 50
// members, into a Roster server on SQLite over loopback. Run them once
// each, in this order (nochange and onepercent reuse what initial synced,
// or sync first, untimed, when run alone):
//
//	go test -run '^$' -bench 'Sync/' -benchtime 1x -timeout 60m ./reconcile/
//	ROSTER_BENCH_SYNC_USERS=5000 go test -run '^$' -bench 'Sync/' -benchtime 1x ./reconcile/

// benchDir is a generated directory: the files a file source reads and
// the model they are written from, which a benchmark edits.
type benchDir struct {
	dir    string
	src    *file.Source
	titles []string   // by user index
	groups [][]int    // members by group index, user indexes
	member []bool     // scratch for picking distinct members
	round  int        // edits made
	rng    *rand.Rand // deterministic
}

func benchUsers(b *testing.B) int {
	n := 100_000
	if v := os.Getenv("ROSTER_BENCH_SYNC_USERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			b.Fatalf("ROSTER_BENCH_SYNC_USERS=%q: want a number of at least 100", v)
		}
	}
	return n
}

// newBenchDir generates a directory in a temporary directory of keep,
// which outlives b when a later benchmark reuses it.
func newBenchDir(b *testing.B, keep testing.TB, users int) *benchDir {
	b.Helper()
	d := &benchDir{dir: keep.TempDir(), titles: make([]string, users), member: make([]bool, users), rng: rand.New(rand.NewPCG(6, 6))}
	for i := range d.titles {
		d.titles[i] = "Engineer"
	}
	d.groups = make([][]int, max(users/20, 1))
	for g := range d.groups {
		size := min(1+d.rng.IntN(99), users) // 1–99, 50 on average
		for len(d.groups[g]) < size {
			u := d.rng.IntN(users)
			if !d.member[u] {
				d.member[u] = true
				d.groups[g] = append(d.groups[g], u)
			}
		}
		for _, u := range d.groups[g] {
			d.member[u] = false
		}
	}
	d.write(b)
	src, err := file.New(file.Config{Users: filepath.Join(d.dir, "users.csv"), Groups: filepath.Join(d.dir, "groups.csv")})
	if err != nil {
		b.Fatal(err)
	}
	d.src = src
	return d
}

func (d *benchDir) write(b *testing.B) {
	b.Helper()
	writeFile := func(name string, fill func(w *bufio.Writer)) {
		f, err := os.Create(filepath.Join(d.dir, name))
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(f)
		fill(w)
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	writeFile("users.csv", func(w *bufio.Writer) {
		w.WriteString("id,userName,mail,givenName,sn,title,active\n")
		for i, title := range d.titles {
			fmt.Fprintf(w, "e%07d,user%07d,user%07d@example.com,Given%d,Family%d,%s,true\n", i, i, i, i, i, title)
		}
	})
	writeFile("groups.csv", func(w *bufio.Writer) {
		w.WriteString("id,name,members\n")
		for g, members := range d.groups {
			fmt.Fprintf(w, "g%05d,Team %d,", g, g)
			for k, u := range members {
				if k > 0 {
					w.WriteByte(';')
				}
				fmt.Fprintf(w, "e%07d", u)
			}
			w.WriteByte('\n')
		}
	})
}

// change edits 1% of the users' titles, and moves one member from each of
// 1% of the groups to the next group, and returns how many users and
// groups changed. A changed group only gains or only loses members, so it
// costs one PATCH.
func (d *benchDir) change(b *testing.B) (users, groups int) {
	b.Helper()
	d.round++
	for i := range d.titles {
		if i%100 == d.round%100 {
			d.titles[i] = fmt.Sprintf("Engineer %d", d.round)
			users++
		}
	}
	for g := range d.groups {
		next := (g + 1) % len(d.groups)
		if g%100 != d.round%100 || len(d.groups[g]) < 2 || next%100 == d.round%100 {
			continue
		}
		for _, u := range d.groups[next] {
			d.member[u] = true
		}
		for k, u := range d.groups[g] {
			if !d.member[u] {
				d.groups[g] = append(d.groups[g][:k], d.groups[g][k+1:]...)
				d.groups[next] = append(d.groups[next], u)
				groups += 2
				break
			}
		}
		for _, u := range d.groups[next] {
			d.member[u] = false
		}
	}
	d.write(b)
	return users, groups
}

// requestCounter counts the requests a client sends, and the writes.
type requestCounter struct {
	all, writes atomic.Int64
	base        http.RoundTripper
}

func (c *requestCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.all.Add(1)
	if r.Method != http.MethodGet {
		c.writes.Add(1)
	}
	return c.base.RoundTrip(r)
}

func (c *requestCounter) take() (all, writes int64) {
	return c.all.Swap(0), c.writes.Swap(0)
}

// benchEnv is a Roster server on SQLite, an engine syncing a benchDir into
// it, and the counter of the engine's requests.
type benchEnv struct {
	dir    *benchDir
	engine *reconcile.Engine
	count  *requestCounter
}

// newBenchEnv starts a server whose temporary files and lifetime are
// keep's.
func newBenchEnv(b *testing.B, keep testing.TB, dir *benchDir) *benchEnv {
	b.Helper()
	ctx := context.Background()
	tmp := keep.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(tmp, "roster.db"))
	if err != nil {
		b.Fatal(err)
	}
	keep.Cleanup(func() { st.Close() })
	d, err := st.CreateDirectory(ctx, "acme")
	if err != nil {
		b.Fatal(err)
	}
	_, token, err := st.CreateToken(ctx, d.ID, "sync", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{Store: st, RateLimit: -1, PasswordIterations: 1000}))
	keep.Cleanup(srv.Close)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	cnt := &requestCounter{base: tr}
	c, err := client.New(srv.URL+"/scim/v2", client.WithToken(token), client.WithTransport(cnt))
	if err != nil {
		b.Fatal(err)
	}
	state, err := reconcile.LoadState(filepath.Join(tmp, "state.json"))
	if err != nil {
		b.Fatal(err)
	}
	return &benchEnv{dir: dir, count: cnt, engine: &reconcile.Engine{Source: dir.src, Target: c, State: state, Concurrency: 8}}
}

// run plans and applies, and returns the plan and how long each took.
func (e *benchEnv) run(b *testing.B) (p *reconcile.Plan, plan, apply time.Duration) {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	p, err := e.engine.Plan(ctx)
	if err != nil {
		b.Fatal(err)
	}
	plan = time.Since(start)
	start = time.Now()
	res, err := e.engine.Apply(ctx, p, false)
	if err != nil {
		b.Fatal(err)
	}
	apply = time.Since(start)
	if len(res.Failed) > 0 {
		b.Fatalf("%d failures, the first: %+v", len(res.Failed), res.Failed[0])
	}
	return p, plan, apply
}

// peakRSS returns the process's peak resident memory in MB (Linux), which
// holds the server and its SQLite cache as well as the sync: a bound on
// the sync's own peak, not its measure. 0 where unknown.
func peakRSS() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// heapPeak samples the live heap every 10 ms until stopped, and returns
// its peak above the level at the start in MB: for a run, what the sync
// (and the server's requests in flight, which are small) held at most.
func heapPeak() (stop func() float64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base, peak := read(), uint64(0)
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		<-finished
		return float64(peak-min(base, peak)) / (1 << 20)
	}
}

var (
	syncedMu sync.Mutex
	synced   *benchEnv // the last environment the initial sync filled
)

// syncedEnv returns an environment whose target holds the whole source,
// syncing one (with the timer stopped) if the initial benchmark left
// none.
func syncedEnv(b *testing.B, keep testing.TB) *benchEnv {
	b.Helper()
	syncedMu.Lock()
	defer syncedMu.Unlock()
	if synced == nil || len(synced.dir.titles) != benchUsers(b) {
		b.StopTimer()
		env := newBenchEnv(b, keep, newBenchDir(b, keep, benchUsers(b)))
		env.run(b)
		synced = env
		b.StartTimer()
	}
	return synced
}

func BenchmarkSync(b *testing.B) {
	users := benchUsers(b)
	keep := b // what the sub-benchmarks leave for the next lives as long as b

	// The initial sync into an empty target, end to end: read the files,
	// list the (empty) target, create the users (8 at a time), the groups
	// and the memberships.
	b.Run("initial", func(b *testing.B) {
		var total, plan, apply time.Duration
		for range b.N {
			b.StopTimer()
			env := newBenchEnv(b, keep, newBenchDir(b, keep, users))
			env.count.take()
			b.StartTimer()
			p, pl, ap := env.run(b)
			b.StopTimer()
			total, plan, apply = total+pl+ap, plan+pl, apply+ap
			all, writes := env.count.take()
			if p.Counts.Create != users || int64(p.Counts.Create+p.Counts.GroupCreate) > writes {
				b.Fatalf("plan %+v, %d writes", p.Counts, writes)
			}
			b.ReportMetric(float64(all), "requests")
			b.ReportMetric(float64(writes), "writes")
			syncedMu.Lock()
			synced = env
			syncedMu.Unlock()
			b.StartTimer()
		}
		n := float64(b.N)
		b.ReportMetric(float64(users)*n/total.Seconds(), "users/s")
		b.ReportMetric(plan.Seconds()/n, "plan-s")
		b.ReportMetric(apply.Seconds()/n, "apply-s")
		b.ReportMetric(peakRSS(), "peak-RSS-MB")
	})

	// A run where nothing changed: it must write nothing.
	b.Run("nochange", func(b *testing.B) {
		env := syncedEnv(b, keep)
		var total time.Duration
		for range b.N {
			env.count.take()
			stop := heapPeak()
			p, pl, ap := env.run(b)
			total += pl + ap
			b.ReportMetric(stop(), "peak-heap-growth-MB")
			all, writes := env.count.take()
			if writes != 0 || p.Counts.Writes() != 0 {
				b.Fatalf("a no-change run: plan %+v, %d writes", p.Counts, writes)
			}
			b.ReportMetric(float64(all), "requests")
			b.ReportMetric(float64(writes), "writes")
		}
		b.ReportMetric(total.Seconds()/float64(b.N), "s/run")
		b.ReportMetric(peakRSS(), "peak-RSS-MB")
	})

	// 1% of the users changed (a title), and 1% of the groups lost a
	// member to the next group: one PATCH per user and one per group.
	b.Run("onepercent", func(b *testing.B) {
		env := syncedEnv(b, keep)
		var total time.Duration
		for range b.N {
			b.StopTimer()
			changedUsers, changedGroups := env.dir.change(b)
			env.count.take()
			b.StartTimer()
			_, pl, ap := env.run(b)
			total += pl + ap
			all, writes := env.count.take()
			if want := int64(changedUsers + changedGroups); writes != want {
				b.Errorf("%d writes for %d changed users and %d changed groups, want %d", writes, changedUsers, changedGroups, want)
			}
			b.ReportMetric(float64(changedUsers), "users-changed")
			b.ReportMetric(float64(changedGroups), "groups-changed")
			b.ReportMetric(float64(all), "requests")
			b.ReportMetric(float64(writes), "writes")
		}
		b.ReportMetric(total.Seconds()/float64(b.N), "s/run")
		b.ReportMetric(peakRSS(), "peak-RSS-MB")
	})
}
