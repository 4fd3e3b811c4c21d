package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/server"
)

// BenchmarkRequestLogCost measures what the request log costs the SCIM
// API: GET of a user by id and a PATCH of a user over loopback HTTP, on
// SQLite, without a request log and with the console's (written to the
// same database in batches by its goroutine), with and without bodies.
func BenchmarkRequestLogCost(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	for _, mode := range []string{"off", "on", "on with bodies"} {
		b.Run(mode, func(b *testing.B) {
			st := openStoreB(b)
			dir, err := st.CreateDirectory(ctx, "bench")
			if err != nil {
				b.Fatal(err)
			}
			_, token, err := st.CreateToken(ctx, dir.ID, "bench", time.Time{})
			if err != nil {
				b.Fatal(err)
			}
			ids := make([]string, n)
			for i := range n {
				r, err := resource.Decode(userType(), fmt.Appendf(nil, `{"userName":"user%05d@example.com","active":true}`, i), resource.Options{})
				if err != nil {
					b.Fatal(err)
				}
				u, err := st.Create(ctx, dir.ID, r)
				if err != nil {
					b.Fatal(err)
				}
				ids[i] = u.ID()
			}
			cfg := server.Config{Store: st, PasswordIterations: 1000, RateLimit: -1}
			if mode != "off" {
				reqLog := console.NewRequestLogger(st, console.RequestLoggerConfig{})
				logCtx, stop := context.WithCancel(ctx)
				done := make(chan struct{})
				go func() { reqLog.Run(logCtx); close(done) }()
				defer func() {
					stop()
					<-done
					if d := reqLog.Dropped(); d > 0 {
						b.Logf("%d requests dropped", d)
					}
				}()
				cfg.RequestLog, cfg.LogBodies = reqLog, mode == "on with bodies"
			}
			ts := httptest.NewServer(server.New(cfg))
			defer ts.Close()
			client := ts.Client()
			do := func(b *testing.B, method, path, body string, want int) {
				req, _ := http.NewRequest(method, ts.URL+path, bytes.NewBufferString(body))
				req.Header.Set("Authorization", "Bearer "+token)
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
			b.Run("GET user by id", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					do(b, "GET", "/scim/v2/Users/"+ids[(i*7919)%n], "", 200)
					i++
				}
			})
			b.Run("PATCH user", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					active := i%2 == 0
					do(b, "PATCH", "/scim/v2/Users/"+ids[(i*7919)%n],
						fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":%v}}]}`, active), 200)
					i++
				}
			})
		})
	}
}

func openStoreB(b *testing.B) interface {
	console.Store
} {
	b.Helper()
	st, err := sqliteOpen(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}
