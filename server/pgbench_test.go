package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/postgres"
)

// The PostgreSQL benchmarks (issue 4) run over loopback HTTP against
// directory "bench" of a PostgreSQL database. Loading a million users
// takes minutes, so a database can be kept between runs:
//
//	ROSTER_BENCH_POSTGRES  URL of a database the benchmarks may fill and
//	                       keep, created if missing, such as
//	                       postgres://postgres@127.0.0.1:5432/roster_bench?sslmode=disable;
//	                       unset, each benchmark runs on a fresh database
//	                       that pgtest drops at the end
//	ROSTER_BENCH_USERS     the users directory "bench" should hold
//	                       (default 1,000,000 in a kept database, 10,000
//	                       in a fresh one); only missing ones are loaded
//
// BenchmarkPostgresLoad adds b.N users to directory "bench", so running it
// first on an empty kept database with -benchtime 1000000x loads the
// directory that the other benchmarks then reuse.
const (
	benchPostgresEnv = "ROSTER_BENCH_POSTGRES"
	benchUsersEnv    = "ROSTER_BENCH_USERS"
	benchDirectory   = "bench"
	// loadClients is how many clients POST users at once, as in the load
	// of the SQLite store (BENCHMARKS.md).
	loadClients = 8
	// bigGroup is the size of the big group, when there are users enough.
	bigGroup = 100_000
)

// benchClient is shared by every benchmark request: keep-alive connections
// are reused, with enough idle ones per server for the concurrent
// benchmarks, so that loopback ports do not run out.
var benchClient = &http.Client{
	Timeout:   time.Minute,
	Transport: &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute},
}

// benchDatabase returns the URL of the database to benchmark on, and
// whether it is kept (see ROSTER_BENCH_POSTGRES). It skips the benchmark
// when PostgreSQL cannot be reached.
func benchDatabase(b *testing.B) (dbURL string, kept bool) {
	b.Helper()
	dbURL = os.Getenv(benchPostgresEnv)
	if dbURL == "" {
		return pgtest.New(b), false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		b.Fatalf("%s: %v", benchPostgresEnv, err)
	}
	name := cfg.Database
	cfg.Database = "postgres" // to create the database when it is missing
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		b.Skipf("PostgreSQL is not reachable at %s (%s): %v", cfg.Host, benchPostgresEnv, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		b.Fatal(err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			b.Fatalf("create database %s: %v", name, err)
		}
	}
	return dbURL, true
}

// benchSQL connects to the database for the queries the store has no
// method for (its size, every user's id).
func benchSQL(b *testing.B, dbURL string) *pgx.Conn {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(ctx) })
	return conn
}

// benchAPI starts a server with a store of its own on the database and
// returns a client of directory "bench" (created if missing) with a new
// token, revoked when the benchmark ends.
func benchAPI(b *testing.B, dbURL string) *api {
	b.Helper()
	ctx := context.Background()
	a := benchReplica(b, dbURL)
	dir, err := a.st.Directory(ctx, benchDirectory)
	if errors.Is(err, store.ErrNotFound) {
		dir, err = a.st.CreateDirectory(ctx, benchDirectory)
	}
	if err != nil {
		b.Fatal(err)
	}
	tok, secret, err := a.st.CreateToken(ctx, dir.ID, "bench", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.st.RevokeToken(ctx, dir.ID, tok.ID) })
	a.dir, a.token = dir, secret
	return a
}

// benchReplica starts a server with a store (a connection pool) of its
// own on the database, as another `roster serve` would be, and returns a
// client without a directory.
func benchReplica(b *testing.B, dbURL string) *api {
	b.Helper()
	st, err := postgres.Open(context.Background(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	srv := httptest.NewServer(server.New(server.Config{Store: st, PasswordIterations: 1000, RateLimit: -1}))
	b.Cleanup(srv.Close)
	return &api{root: srv.URL, base: srv.URL + "/scim/v2", st: st, http: benchClient}
}

// loadUser is the body of the i-th user of a load: userName, name, one
// email and active, as in the load of the SQLite store. The prefix keeps
// loads apart.
func loadUser(prefix string, i int64) string {
	return fmt.Sprintf(`{"schemas":["%s"],"userName":"%s-%07d@example.com","name":{"givenName":"Bench","familyName":"User %d"},`+
		`"emails":[{"value":"%s-%07d@example.com","type":"work","primary":true}],"active":true}`,
		userURN, prefix, i, i, prefix, i)
}

// postUser creates a user through the API.
func postUser(a *api, body string) error {
	r, err := a.send(http.MethodPost, "/Users", body)
	if err != nil {
		return err
	}
	if r.Status != http.StatusCreated {
		return errors.New(r.String())
	}
	return nil
}

// newLoadPrefix returns a prefix for the userNames of one load.
func newLoadPrefix() string {
	var p [4]byte
	rand.Read(p[:])
	return "u" + hex.EncodeToString(p[:])
}

// countUsers returns the number of users in a's directory.
func countUsers(b *testing.B, a *api) int {
	b.Helper()
	page, err := a.st.List(context.Background(), a.dir.ID, store.Query{Type: schema.NewRegistry().ResourceType("User")})
	if err != nil {
		b.Fatal(err)
	}
	return page.Total
}

// BenchmarkPostgresLoad creates b.N users through POST /Users, with 8
// clients at once (b.SetParallelism on GOMAXPROCS; 8 where GOMAXPROCS
// divides 8), each POST one iteration, and reports the users created per
// second (users/s), then the database's size (db-MB, pg_database_size in
// 10⁶ bytes) and the users in the directory afterwards. Only the POSTs are
// timed.
func BenchmarkPostgresLoad(b *testing.B) {
	dbURL, _ := benchDatabase(b)
	a := benchAPI(b, dbURL)
	prefix := newLoadPrefix()
	var next atomic.Int64
	b.SetParallelism(max(1, loadClients/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := postUser(a, loadUser(prefix, next.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "users/s")
	var size int64
	if err := benchSQL(b, dbURL).QueryRow(context.Background(), `SELECT pg_database_size(current_database())`).Scan(&size); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(size)/1e6, "db-MB")
	b.ReportMetric(float64(countUsers(b, a)), "users")
}

// benchFixture is directory "bench" loaded for the benchmarks: at least
// the users ROSTER_BENCH_USERS asks for, a group of the first 100,000 of
// them (or all but the last, when there are fewer), a group of the first
// ten, and the last user, who is in neither group.
type benchFixture struct {
	*api
	dbURL    string
	users    []benchUser // every user of the directory, in creation order
	big      string      // the big group's id
	bigSize  int
	small    string // the 10-member group's id
	outsider string // the last user's id
}

type benchUser struct{ id, userName string }

// newBenchFixture loads what directory "bench" lacks, through the API with
// 8 clients at once for the users, and through the store for the groups
// (a 100,000-member group is bigger than a request body may be).
func newBenchFixture(b *testing.B) *benchFixture {
	b.Helper()
	ctx := context.Background()
	dbURL, kept := benchDatabase(b)
	want := 10_000
	if kept {
		want = 1_000_000
	}
	if s := os.Getenv(benchUsersEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 12 {
			b.Fatalf("%s=%q: want a number of users, at least 12", benchUsersEnv, s)
		}
		want = n
	}
	f := &benchFixture{api: benchAPI(b, dbURL), dbURL: dbURL}
	conn := benchSQL(b, dbURL)
	if have := countUsers(b, f.api); have < want {
		start := time.Now()
		if err := loadUsers(f.api, want-have); err != nil {
			b.Fatal(err)
		}
		b.Logf("loaded %d users in %v", want-have, time.Since(start).Round(time.Second))
	}
	rows, err := conn.Query(ctx, `SELECT id, name FROM resources WHERE directory_id = $1 AND type = 'User' ORDER BY seq`, f.dir.ID)
	if err != nil {
		b.Fatal(err)
	}
	f.users, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (benchUser, error) {
		var u benchUser
		return u, row.Scan(&u.id, &u.userName)
	})
	if err != nil {
		b.Fatal(err)
	}
	f.bigSize = min(bigGroup, len(f.users)-1)
	f.big = f.group(b, f.bigSize)
	f.small = f.group(b, 10)
	f.outsider = f.users[len(f.users)-1].id
	// The benchmarks measure a database in its steady state, with the
	// statistics and visibility map that autovacuum keeps, whether or not
	// it runs on this server: without statistics, plans differ (see
	// BENCHMARKS.md). Once done, this takes a second or two.
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return f
}

// loadUsers creates n users through the API, with 8 clients at once.
func loadUsers(a *api, n int) error {
	prefix := newLoadPrefix()
	var next atomic.Int64
	errs := make([]error, loadClients)
	var wg sync.WaitGroup
	for c := range loadClients {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				if err := postUser(a, loadUser(prefix, i)); err != nil {
					errs[c] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// group returns the id of the group "bench N members" holding the first
// n users, creating it if missing.
func (f *benchFixture) group(b *testing.B, n int) string {
	b.Helper()
	ctx := context.Background()
	gt := schema.NewRegistry().ResourceType("Group")
	name := fmt.Sprintf("bench %d members", n)
	// Groups are few; they are listed without a filter, so that this
	// works on a store whose filters are stubbed.
	page, err := f.st.List(ctx, f.dir.ID, store.Query{Type: gt, Count: 1000})
	if err != nil {
		b.Fatal(err)
	}
	for _, g := range page.Resources {
		if g.Attrs["displayName"] == name {
			return g.ID()
		}
	}
	members := make([]any, n)
	for i, u := range f.users[:n] {
		members[i] = map[string]any{"value": u.id}
	}
	g := resource.New(gt)
	g.Attrs["displayName"] = name
	g.Attrs["members"] = members
	created, err := f.st.Create(ctx, f.dir.ID, g)
	if err != nil {
		b.Fatal(err)
	}
	return created.ID()
}

// timed sends a request and returns how long the answer took, failing the
// benchmark unless its status is want.
func (f *benchFixture) timed(b *testing.B, want int, method, path string, body any) time.Duration {
	b.Helper()
	start := time.Now()
	r, err := f.send(method, path, body)
	d := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	if r.Status != want {
		b.Fatalf("%v; want %d", r, want)
	}
	return d
}

// reportPercentiles reports the 50th, 90th and 99th percentiles of lat in
// milliseconds, as metrics prefix+"p50-ms" and so on.
func reportPercentiles(b *testing.B, prefix string, lat []time.Duration) {
	slices.Sort(lat)
	for _, p := range []int{50, 90, 99} {
		b.ReportMetric(float64(lat[(len(lat)-1)*p/100].Nanoseconds())/1e6, fmt.Sprintf("%sp%d-ms", prefix, p))
	}
}

// BenchmarkPostgresHTTP measures single requests, one at a time, against
// directory "bench" (see benchFixture): a GET of a random user by id, a
// filter on a random user's userName, and a member added to and removed
// from the 10-member and the big group, in the PATCH shapes Okta and Entra
// send. It reports the median, 90th and 99th percentile latencies.
func BenchmarkPostgresHTTP(b *testing.B) {
	f := newBenchFixture(b)
	b.Logf("%d users, groups of %d and 10 members", len(f.users), f.bigSize)
	b.Run("GET user by id", func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			lat = append(lat, f.timed(b, 200, "GET", "/Users/"+f.users[mathrand.IntN(len(f.users))].id, nil))
		}
		reportPercentiles(b, "", lat)
	})
	b.Run("GET users filter userName eq", func(b *testing.B) {
		path := func() string {
			u := f.users[mathrand.IntN(len(f.users))]
			return "/Users" + query("filter", `userName eq "`+u.userName+`"`)
		}
		r, err := f.send("GET", path(), nil)
		if err != nil {
			b.Fatal(err)
		}
		var lr struct{ TotalResults int }
		if err := json.Unmarshal(r.Body, &lr); r.Status != 200 || err != nil {
			b.Fatalf("%v; want 200 and a list", r)
		}
		if lr.TotalResults != 1 {
			b.Skipf("the filter matched %d users, not one: is the store built with -tags pgstub?", lr.TotalResults)
		}
		var lat []time.Duration
		for b.Loop() {
			lat = append(lat, f.timed(b, 200, "GET", path(), nil))
		}
		reportPercentiles(b, "", lat)
	})
	add := patchOps(`{"op":"add","path":"members","value":[{"value":"` + f.outsider + `"}]}`)
	remove := patchOps(`{"op":"remove","path":"members[value eq \"` + f.outsider + `\"]"}`)
	for _, g := range []struct {
		id   string
		size int
	}{{f.small, 10}, {f.big, f.bigSize}} {
		b.Run(fmt.Sprintf("PATCH add and remove a member of %d", g.size), func(b *testing.B) {
			path := "/Groups/" + g.id
			f.timed(b, 204, "PATCH", path, remove) // in case a run cut short left the member in
			var adds, removes []time.Duration
			for b.Loop() {
				adds = append(adds, f.timed(b, 204, "PATCH", path, add))
				removes = append(removes, f.timed(b, 204, "PATCH", path, remove))
			}
			reportPercentiles(b, "add-", adds)
			reportPercentiles(b, "remove-", removes)
		})
	}
}

// BenchmarkPostgresReplicas sends GET /Users/{random id} from 16
// goroutines at once (b.SetParallelism on GOMAXPROCS; 16 where GOMAXPROCS
// divides 16) to one server, then spread over two servers with pools of
// their own on the same database, and reports requests per second (req/s)
// and, for two, the ratio to one measured just before.
func BenchmarkPostgresReplicas(b *testing.B) {
	f := newBenchFixture(b)
	replica := benchReplica(b, f.dbURL)
	replica.dir, replica.token = f.dir, f.token
	servers := []*api{f.api, replica}
	var one float64
	for _, n := range []int{1, 2} {
		b.Run(map[int]string{1: "1 replica", 2: "2 replicas"}[n], func(b *testing.B) {
			var goroutines atomic.Int64
			b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				a := servers[int(goroutines.Add(1))%n]
				for pb.Next() {
					r, err := a.send("GET", "/Users/"+f.users[mathrand.IntN(len(f.users))].id, nil)
					if err == nil && r.Status != 200 {
						err = errors.New(r.String())
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			rate := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "req/s")
			if n == 1 {
				one = rate
			} else if one > 0 {
				b.ReportMetric(rate/one, "ratio")
			}
		})
	}
}
