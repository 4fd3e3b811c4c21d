package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/server"
)

// BenchmarkRequestLogCost measures what the request log costs the SCIM
// API: GET of a user by id and a PATCH of a user over loopback HTTP, on
// SQLite (1,000 users), without a request log ("off"), with the
// console's, written to the same database in batches by its goroutine
// ("on"), and with bodies. The modes alternate within each kind of
// request, so that a busy machine weighs on all alike. Besides the time
// per request it reports the CPU time the process spent per request
// (cpu-ns/op, the request log's writer included: the benchmark waits
// until it has written every request), which a machine shared with
// others disturbs less.
func BenchmarkRequestLogCost(b *testing.B) {
	type target struct {
		url, token string
		ids        []string
		log        *console.RequestLogger
	}
	ctx := context.Background()
	setup := func(b *testing.B, mode string) target {
		const n = 1000
		st := openStore(b)
		dir, err := st.CreateDirectory(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		_, token, err := st.CreateToken(ctx, dir.ID, "bench", time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		tg := target{token: token, ids: make([]string, n)}
		for i := range n {
			r, err := resource.Decode(userType(), fmt.Appendf(nil, `{"userName":"user%05d@example.com","active":true}`, i), resource.Options{})
			if err != nil {
				b.Fatal(err)
			}
			u, err := st.Create(ctx, dir.ID, r)
			if err != nil {
				b.Fatal(err)
			}
			tg.ids[i] = u.ID()
		}
		cfg := server.Config{Store: st, PasswordIterations: 1000, RateLimit: -1}
		if mode != "off" {
			tg.log = console.NewRequestLogger(st, console.RequestLoggerConfig{})
			logCtx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { tg.log.Run(logCtx); close(done) }()
			b.Cleanup(func() { stop(); <-done })
			cfg.RequestLog, cfg.LogBodies = tg.log, mode == "bodies"
		}
		ts := httptest.NewServer(server.New(cfg))
		b.Cleanup(ts.Close)
		tg.url = ts.URL
		return tg
	}
	modes := []string{"off", "on", "bodies"}
	targets := map[string]target{}
	for _, m := range modes {
		targets[m] = setup(b, m)
	}
	client := &http.Client{}
	do := func(b *testing.B, tg target, method, path, body string, want int) {
		req, _ := http.NewRequest(method, tg.url+path, bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+tg.token)
		if body != "" {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			b.Fatalf("%s %s: %d, want %d", method, path, resp.StatusCode, want)
		}
	}
	kinds := []struct {
		name string
		req  func(b *testing.B, tg target, i int)
	}{
		{"GET user by id", func(b *testing.B, tg target, i int) {
			do(b, tg, "GET", "/scim/v2/Users/"+tg.ids[(i*7919)%len(tg.ids)], "", 200)
		}},
		{"PATCH user", func(b *testing.B, tg target, i int) {
			do(b, tg, "PATCH", "/scim/v2/Users/"+tg.ids[(i*7919)%len(tg.ids)],
				fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":%v}}]}`, i%2 == 0), 200)
		}},
	}
	for _, k := range kinds {
		for _, m := range modes {
			tg := targets[m]
			b.Run(k.name+"/"+m, func(b *testing.B) {
				b.ReportAllocs()
				var logged int64
				if tg.log != nil {
					logged = tg.log.Written() + tg.log.Dropped()
				}
				cpu := cpuTime()
				i := 0
				for b.Loop() {
					k.req(b, tg, i)
					i++
				}
				if tg.log != nil {
					// The writer's work is the request log's cost too.
					for tg.log.Written()+tg.log.Dropped() < logged+int64(i) {
						time.Sleep(time.Millisecond)
					}
					if d := tg.log.Dropped(); d > 0 {
						b.Logf("%d requests dropped", d)
					}
				}
				b.ReportMetric(float64(cpuTime()-cpu)/float64(i), "cpu-ns/op")
			})
		}
	}
}

// cpuTime returns the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
