package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/postgres"
	"github.com/rosterhq/roster/store/sqlite"
)

// newBenchStore opens a new store of a kind ("sqlite" or "postgres"),
// closed when b ends, with a directory and a token of it.
func newBenchStore(b *testing.B, kind string) (store.Store, store.Directory, string) {
	ctx := context.Background()
	var st store.Store
	var err error
	if kind == "postgres" {
		st, err = postgres.Open(ctx, pgtest.New(b))
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	dir, err := st.CreateDirectory(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	_, token, err := st.CreateToken(ctx, dir.ID, "bench", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	return st, dir, token
}

// BenchmarkWriteCost measures the SCIM writes whose events the outbox
// adds to their transactions, over loopback HTTP with 8 clients at once,
// on SQLite and PostgreSQL: POST /Users, and a group PATCH that adds a
// member (then one that removes it). Run it at two commits to see what a
// change to the write path costs (BENCHMARKS.md).
func BenchmarkWriteCost(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			ctx := context.Background()
			st, dir, token := newBenchStore(b, kind)
			reg := schema.NewRegistry()
			const pool = 2000
			ids := make([]string, pool)
			for i := range pool {
				r, err := resource.Decode(reg.ResourceType("User"), fmt.Appendf(nil, `{"userName":"pool%d@example.com"}`, i), resource.Options{})
				if err != nil {
					b.Fatal(err)
				}
				u, err := st.Create(ctx, dir.ID, r)
				if err != nil {
					b.Fatal(err)
				}
				ids[i] = u.ID()
			}
			g := resource.New(reg.ResourceType("Group"))
			g.Attrs["displayName"] = "Everyone"
			group, err := st.Create(ctx, dir.ID, g)
			if err != nil {
				b.Fatal(err)
			}
			ts := httptest.NewServer(server.New(server.Config{Store: st, RateLimit: -1}))
			defer ts.Close()
			client := ts.Client()
			client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
			do := func(b *testing.B, method, path, body string, want int) {
				req, _ := http.NewRequest(method, ts.URL+path, bytes.NewBufferString(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/scim+json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					b.Errorf("%s %s: %d, want %d", method, path, resp.StatusCode, want)
				}
			}
			var n atomic.Int64
			b.Run("POST user", func(b *testing.B) {
				b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
				defer reportMachineCPU(b)()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						do(b, "POST", "/scim/v2/Users", fmt.Sprintf(`{"userName":"new%d@example.com","active":true}`, n.Add(1)), 201)
					}
				})
			})
			var next atomic.Int64
			b.Run("PATCH add and remove a member", func(b *testing.B) {
				b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
				defer reportMachineCPU(b)()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						id := ids[next.Add(1)%pool]
						do(b, "PATCH", "/scim/v2/Groups/"+group.ID(), `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+id+`"}]}]}`, 204)
						do(b, "PATCH", "/scim/v2/Groups/"+group.ID(), `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"`+id+`\"]"}]}`, 204)
					}
				})
			})
		})
	}
}

// BenchmarkTenThousandMemberPatch measures one PATCH that adds 10,000
// members to a new group (10,000 group.user_added events in its
// transaction), on SQLite and PostgreSQL.
func BenchmarkTenThousandMemberPatch(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			ctx := context.Background()
			st, dir, token := newBenchStore(b, kind)
			reg := schema.NewRegistry()
			var body bytes.Buffer
			body.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[`)
			for i := range 10_000 {
				r, err := resource.Decode(reg.ResourceType("User"), fmt.Appendf(nil, `{"userName":"m%d@example.com"}`, i), resource.Options{})
				if err != nil {
					b.Fatal(err)
				}
				u, err := st.Create(ctx, dir.ID, r)
				if err != nil {
					b.Fatal(err)
				}
				if i > 0 {
					body.WriteByte(',')
				}
				fmt.Fprintf(&body, `{"value":%q}`, u.ID())
			}
			body.WriteString(`]}]}`)
			ts := httptest.NewServer(server.New(server.Config{Store: st, RateLimit: -1}))
			defer ts.Close()
			i := 0
			for b.Loop() {
				g := resource.New(reg.ResourceType("Group"))
				g.Attrs["displayName"] = fmt.Sprintf("g%d", i)
				i++
				group, err := st.Create(ctx, dir.ID, g)
				if err != nil {
					b.Fatal(err)
				}
				req, _ := http.NewRequest("PATCH", ts.URL+"/scim/v2/Groups/"+group.ID(), bytes.NewReader(body.Bytes()))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/scim+json")
				resp, err := ts.Client().Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 204 {
					b.Fatalf("PATCH: %d", resp.StatusCode)
				}
			}
		})
	}
}

// reportMachineCPU starts measuring the CPU time the whole machine spends
// (every process: PostgreSQL's too), this process spends, and a
// PostgreSQL server on this machine spends, and returns the function that
// reports them per operation, as machine-µs/op, process-µs/op and
// postgres-µs/op (when it ran). On a shared machine they are a steadier
// measure of a write's cost than ns/op, which counts waits too; the last
// two leave out what other processes do meanwhile. It reports nothing
// where /proc/stat cannot be read.
func reportMachineCPU(b *testing.B) func() {
	start, ok := machineBusy()
	self, pg := processCPU(), postgresCPU()
	return func() {
		end, ok2 := machineBusy()
		if ok && ok2 && b.N > 0 {
			per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) }
			b.ReportMetric(per(end-start), "machine-µs/op")
			b.ReportMetric(per(processCPU()-self), "process-µs/op")
			if d := postgresCPU() - pg; d > 0 {
				b.ReportMetric(per(d), "postgres-µs/op")
			}
		}
	}
}

// postgresCPU returns the CPU time the processes named postgres on this
// machine have spent so far, with that of the backends that have exited
// (which the postmaster's children's times hold).
func postgresCPU() time.Duration {
	dirs, _ := os.ReadDir("/proc")
	var ticks int64
	for _, d := range dirs {
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid … utime stime cutime cstime: fields 14–17.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 || !strings.HasSuffix(string(b[:i]), "(postgres") {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 15 {
			continue
		}
		for _, s := range f[11:15] {
			n, _ := strconv.ParseInt(s, 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / 100
}

// processCPU returns the CPU time this process (the clients and the
// server) has spent so far.
func processCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// machineBusy returns the CPU time the machine has spent so far outside
// its idle loop: user, nice, system, irq, softirq and steal in /proc/stat
// (steal, the time the hypervisor gave another guest, because the
// process's own CPU time counts it too).
func machineBusy() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, false
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100, true // USER_HZ is 100 on Linux
}
