package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store/sqlite"
)

// records is a server.RequestLog that hands each record to the test,
// copying its bodies (which the server reuses).
type records chan server.RequestRecord

func (c records) LogRequest(r server.RequestRecord) {
	r.RequestBody, r.ResponseBody = append([]byte(nil), r.RequestBody...), append([]byte(nil), r.ResponseBody...)
	c <- r
}

func (c records) next(t *testing.T) server.RequestRecord {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no request was logged")
		return server.RequestRecord{}
	}
}

// The request log is told of each SCIM request: its credential, the
// resource it was about, an error's scimType and detail, and bodies only
// when they are logged.
func TestRequestLogRecordsEachSCIMRequest(t *testing.T) {
	t.Parallel()
	for _, bodies := range []bool{false, true} {
		log := make(records, 10)
		a := newAPI(t, server.Config{RequestLog: log, LogBodies: bodies})
		u := a.create(t, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann","password":"s3cret-pass"}`)
		rec := log.next(t)
		if rec.Method != "POST" || rec.Path != "/scim/v2/Users" || rec.Status != 201 || rec.Resource != u["id"] ||
			rec.Directory != a.dir.ID || rec.Token != "test" || rec.RequestID == "" || rec.Duration <= 0 {
			t.Errorf("the create was logged as %+v", rec)
		}
		if got := strings.Contains(string(rec.RequestBody), `"userName":"ann"`); got != bodies {
			t.Errorf("with bodies %v, the request body logged is %q", bodies, rec.RequestBody)
		}
		if got := strings.Contains(string(rec.ResponseBody), `"userName":"ann"`); got != bodies {
			t.Errorf("with bodies %v, the response body logged is %q", bodies, rec.ResponseBody)
		}
		a.mustFail(t, 400, "invalidPath", "PATCH", "/Users/"+u["id"].(string), patchOps(`{"op":"replace","path":"nosuch[","value":1}`))
		rec = log.next(t)
		if rec.Status != 400 || rec.ScimType != "invalidPath" || rec.Detail == "" || rec.Resource != u["id"] {
			t.Errorf("the failed PATCH was logged as %+v", rec)
		}
		a.withToken("wrong").do(t, "GET", "/Users", nil)
		rec = log.next(t)
		if rec.Status != 401 || rec.Directory != "" || rec.Token != "" {
			t.Errorf("the unauthenticated GET was logged as %+v", rec)
		}
		if _, err := a.send("GET", a.root+"/healthz", nil); err != nil {
			t.Fatal(err)
		}
		a.do(t, "GET", "/Users/"+u["id"].(string), nil)
		if rec := log.next(t); rec.Path != "/scim/v2/Users/"+u["id"].(string) {
			t.Errorf("a probe was logged: %+v", rec)
		}
	}
}

// discard is a server.RequestLog that queues each record, as the
// console's does, for a goroutine that drops it.
type discard chan server.RequestRecord

func (d discard) LogRequest(r server.RequestRecord) {
	select {
	case d <- r:
	default:
	}
}

// BenchmarkRequestLogHook measures what telling a request log of each
// request costs the request path itself (no network, one request at a
// time): GET of a user by id and PATCH of a user, without a log, with a
// log that queues the record, and with bodies kept.
func BenchmarkRequestLogHook(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	dir, err := st.CreateDirectory(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	_, token, err := st.CreateToken(ctx, dir.ID, "bench", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	ut := schema.NewRegistry().ResourceType("User")
	r, err := resource.Decode(ut, []byte(`{"userName":"ann@example.com","active":true}`), resource.Options{})
	if err != nil {
		b.Fatal(err)
	}
	u, err := st.Create(ctx, dir.ID, r)
	if err != nil {
		b.Fatal(err)
	}
	q := make(discard, 1024)
	go func() {
		for range q {
		}
	}()
	defer close(q)
	handlers := map[string]http.Handler{
		"off":    server.New(server.Config{Store: st, RateLimit: -1}),
		"on":     server.New(server.Config{Store: st, RateLimit: -1, RequestLog: q}),
		"bodies": server.New(server.Config{Store: st, RateLimit: -1, RequestLog: q, LogBodies: true}),
	}
	patch := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":true}}]}`
	for _, kind := range []string{"GET", "PATCH"} {
		for _, mode := range []string{"off", "on", "bodies"} {
			h := handlers[mode]
			b.Run(kind+"/"+mode, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var body io.Reader
					if kind == "PATCH" {
						body = strings.NewReader(patch)
					}
					req := httptest.NewRequest(kind, "/scim/v2/Users/"+u.ID(), body)
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Content-Type", "application/scim+json")
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != 200 {
						b.Fatalf("%s: %d %s", kind, w.Code, w.Body)
					}
				}
			})
		}
	}
}
