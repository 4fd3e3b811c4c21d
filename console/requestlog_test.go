package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
)

func TestMaskSecretsHidesPasswordsAndSecrets(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, body string
		keep       []string
	}{
		{"a user's password", `{"userName":"ann","password":"hunter2"}`, []string{`"userName":"ann"`}},
		{"a schema-qualified password", `{"urn:ietf:params:scim:schemas:core:2.0:User:password":"hunter2"}`, nil},
		{"a PATCH by path", `{"Operations":[{"op":"replace","path":"password","value":"hunter2"}]}`, []string{`"path":"password"`}},
		{"a PATCH without a path", `{"Operations":[{"op":"Replace","value":{"Password":"hunter2","active":true}}]}`, []string{`"active":true`}},
		{"a Bulk", `{"Operations":[{"method":"POST","data":{"userName":"b","password":"hunter2"}}]}`, []string{`"userName":"b"`}},
		{"the token endpoint's form", `grant_type=client_credentials&client_id=c1&client_secret=hunter2`, []string{"client_id=c1"}},
		{"the token endpoint's answer", `{"access_token":"hunter2","token_type":"Bearer"}`, []string{"Bearer"}},
		{"a cut JSON", `{"userName":"ann","password":"hunter2`, nil},
	} {
		got := console.MaskSecrets([]byte(c.body))
		if strings.Contains(got, "hunter2") {
			t.Errorf("%s: %s kept the secret", c.name, got)
		}
		for _, k := range c.keep {
			if !strings.Contains(got, k) {
				t.Errorf("%s: %s lost %s", c.name, got, k)
			}
		}
	}
}

func TestTheRequestLoggerWritesInBatchesAndDropsWhatDoesNotFit(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	ctx := context.Background()
	l := console.NewRequestLogger(st, console.RequestLoggerConfig{Queue: 3, Batch: 2, BodyBytes: 40})
	rec := server.RequestRecord{Time: time.Now(), Method: "POST", Path: "/scim/v2/Users", Status: 201, Directory: "d",
		RequestBody: []byte(`{"userName":"` + strings.Repeat("a", 100) + `","password":"hunter2"}`)}
	for range 4 {
		l.LogRequest(rec)
	}
	if l.Dropped() != 1 {
		t.Fatalf("a full queue of 3 took 4 requests: %d dropped", l.Dropped())
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { l.Run(runCtx); close(done) }()
	waitForRequests(t, st, 3) // a batch of 2, and one flushed after a wait
	l.LogRequest(rec)
	waitForRequests(t, st, 4)
	l.LogRequest(rec)
	stop()
	<-done // Run writes what is queued before it returns
	reqs := waitForRequests(t, st, 5)
	if b := reqs[0].RequestBody; strings.Contains(b, "hunter2") || !strings.HasSuffix(b, "…(cut)") || len(b) > 40+len("…(cut)") {
		t.Errorf("a kept body is %q", b)
	}
}

// waitForRequests waits until the log holds n requests, and returns them.
func waitForRequests(t *testing.T, st store.RequestLog, n int) []store.Request {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		reqs, err := st.Requests(context.Background(), store.RequestQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(reqs) >= n {
			if len(reqs) > n {
				t.Fatalf("the log holds %d requests, want %d", len(reqs), n)
			}
			return reqs
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log holds %d requests, want %d", len(reqs), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
