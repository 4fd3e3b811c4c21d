package client_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store/sqlite"
)

// benchServerEnv, set to a number of users, makes the test binary a
// Roster server over SQLite holding that many users instead of running
// tests: benchmarks run their server in a process of its own, so that
// what they measure of memory is the client's alone.
const benchServerEnv = "ROSTER_CLIENT_BENCH_SERVER_USERS"

func TestMain(m *testing.M) {
	if n := os.Getenv(benchServerEnv); n != "" {
		users, _ := strconv.Atoi(n)
		if err := serveForBench(users); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	stopListServer()
	os.Exit(code)
}

// serveForBench loads users into a new SQLite store through the store
// (faster than the API), serves it on a loopback port, prints "READY
// base token" and serves until its standard input closes.
func serveForBench(users int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roster-client-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "roster.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := st.CreateDirectory(ctx, "bench")
	if err != nil {
		return err
	}
	_, token, err := st.CreateToken(ctx, d.ID, "bench", time.Time{})
	if err != nil {
		return err
	}
	ut := schema.NewRegistry().ResourceType("User")
	for i := range users {
		r, err := resource.Decode(ut, fmt.Appendf(nil, `{"userName":"user%07d@example.com","name":{"givenName":"U","familyName":"%d"},"emails":[{"value":"user%07d@example.com","type":"work","primary":true}],"active":true}`, i, i, i), resource.Options{})
		if err != nil {
			return err
		}
		if _, err := st.Create(ctx, d.ID, r); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: server.New(server.Config{Store: st, PasswordIterations: 1000, RateLimit: -1})}
	go srv.Serve(ln)
	fmt.Printf("READY http://%s/scim/v2 %s\n", ln.Addr(), token)
	io.Copy(io.Discard, os.Stdin)
	return srv.Close()
}

// benchServer is a Roster server in a child process.
type benchServer struct {
	base, token string
	stdin       io.Closer
	cmd         *exec.Cmd
}

func startBenchServer(users int) (*benchServer, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchServerEnv+"="+strconv.Itoa(users))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 3 || f[0] != "READY" {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("bench server: %q, %v", line, err)
	}
	return &benchServer{base: f[1], token: f[2], stdin: stdin, cmd: cmd}, nil
}

func (s *benchServer) stop() {
	s.stdin.Close()
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

func (s *benchServer) client(b *testing.B, opts ...client.Option) *client.Client {
	b.Helper()
	c, err := client.New(s.base, append([]client.Option{client.WithToken(s.token)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkCreateUsers creates 10,000 users per iteration, one at a time
// and from 8 goroutines, against a Roster over SQLite in another process
// (a fresh one for each).
//
//	go test -run '^$' -bench CreateUsers -benchtime 1x ./client
func BenchmarkCreateUsers(b *testing.B) {
	const perOp = 10_000
	for _, tc := range []struct {
		name    string
		workers int
		idle    int // idle connections kept to the server
	}{
		{"workers=1", 1, 64},
		{"workers=8", 8, 64}, // the client's default
		// net/http's default of 2 idle connections a host, which the
		// client used to have: most requests open a connection.
		{"workers=8/idle=2", 8, 2},
	} {
		workers := tc.workers
		b.Run(tc.name, func(b *testing.B) {
			srv, err := startBenchServer(0)
			if err != nil {
				b.Fatal(err)
			}
			defer srv.stop()
			var dials atomic.Int64
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.MaxIdleConnsPerHost = tc.idle
			dial := tr.DialContext
			tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				return dial(ctx, network, addr)
			}
			c := srv.client(b, client.WithTransport(tr))
			ctx := context.Background()
			var next atomic.Int64
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				var wg sync.WaitGroup
				var failed atomic.Value
				end := next.Load() + perOp
				for range workers {
					wg.Go(func() {
						for {
							i := next.Add(1) - 1
							if i >= end {
								return
							}
							_, err := c.Users.Create(ctx, &client.User{
								UserName: fmt.Sprintf("new%07d@example.com", i),
								Name:     &client.Name{GivenName: "New", FamilyName: strconv.FormatInt(i, 10)},
								Emails:   []client.Email{{Value: fmt.Sprintf("new%07d@example.com", i), Type: "work", Primary: true}},
								Active:   client.Bool(true),
							})
							if err != nil {
								failed.Store(err)
								return
							}
						}
					})
				}
				wg.Wait()
				if err, _ := failed.Load().(error); err != nil {
					b.Fatal(err)
				}
				next.Store(end)
			}
			b.ReportMetric(float64(perOp*b.N)/time.Since(start).Seconds(), "users/s")
			b.ReportMetric(float64(dials.Load()), "connections")
		})
	}
}

var (
	listOnce sync.Once
	listSrv  *benchServer
	listErr  error
)

const listUsers = 100_000

// listServer is the server of 100,000 users, loaded once per run.
func listServer(b *testing.B) *benchServer {
	b.Helper()
	listOnce.Do(func() {
		start := time.Now()
		listSrv, listErr = startBenchServer(listUsers)
		if listErr == nil {
			fmt.Fprintf(os.Stderr, "loaded %d users in %v\n", listUsers, time.Since(start).Round(time.Second))
		}
	})
	if listErr != nil {
		b.Fatal(listErr)
	}
	return listSrv
}

func stopListServer() {
	if listSrv != nil {
		listSrv.stop()
	}
}

// BenchmarkAllUsers lists 100,000 users through All, and reports users a
// second, the client's peak heap in use while it lists (sampled every
// 5 ms, above what it used before) and bytes allocated per user.
// "collect" keeps every user, as a caller that builds a slice would, for
// comparison: All itself holds one page.
//
//	go test -run '^$' -bench AllUsers -benchtime 1x ./client
func BenchmarkAllUsers(b *testing.B) {
	srv := listServer(b)
	for _, tc := range []struct {
		name    string
		count   int
		collect bool
	}{
		{"page=1000", 0, false}, // the server's maxResults
		{"page=100", 100, false},
		{"page=1000/collect", 0, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := srv.client(b)
			ctx := context.Background()
			if _, err := c.ServiceProviderConfig(ctx); err != nil {
				b.Fatal(err)
			}
			var kept []*client.User
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var peak atomic.Uint64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				var ms runtime.MemStats
				for {
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > peak.Load() {
						peak.Store(ms.HeapInuse)
					}
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
					}
				}
			}()
			b.ResetTimer()
			start := time.Now()
			n := 0
			for range b.N {
				kept = kept[:0]
				for u, err := range c.Users.All(ctx, client.Query{Count: tc.count}) {
					if err != nil {
						b.Fatal(err)
					}
					if tc.collect {
						kept = append(kept, u)
					}
					n++
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			close(stop)
			<-sampled
			runtime.ReadMemStats(&after)
			if n != listUsers*b.N {
				b.Fatalf("listed %d users, want %d", n, listUsers*b.N)
			}
			b.ReportMetric(float64(n)/elapsed.Seconds(), "users/s")
			b.ReportMetric(float64(peak.Load()-min(before.HeapInuse, peak.Load()))/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(n), "alloc-B/user")
			runtime.KeepAlive(kept)
		})
	}
}
