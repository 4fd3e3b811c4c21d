package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/store/postgres"
)

// syncBuffer is a bytes.Buffer that a command writes to while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMigrateTwiceAtOnce runs two `roster migrate` on one new PostgreSQL
// database at the same time: both succeed and report the same version.
func TestMigrateTwiceAtOnce(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	outs := make([]string, 2)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Go(func() {
			cmd := newRootCommand(noEnv)
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetArgs([]string{"migrate", "--db", db})
			if err := cmd.Execute(); err != nil {
				t.Errorf("migrate %d: %v", i, err)
			}
			outs[i] = out.String()
		})
	}
	wg.Wait()
	re := regexp.MustCompile(`at schema version [1-9][0-9]*\n$`)
	if !re.MatchString(outs[0]) || outs[0] != outs[1] {
		t.Fatalf("migrate printed %q and %q", outs[0], outs[1])
	}
}

// TestServeReplicasOnPostgres starts two `roster serve` on one new
// PostgreSQL database at once, as two replicas would start: both come up,
// one first-run directory exists, ROSTER_TOKEN works on both, and what one
// creates the other finds.
func TestServeReplicasOnPostgres(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	const token = "replica-test-token-0123456789abcdef"
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	logs := make([]*syncBuffer, 2)
	for i := range logs {
		logs[i] = &syncBuffer{}
		cmd := newRootCommand(env{"ROSTER_TOKEN": token, secretKeyEnv: "the replicas' secret key, 32 bytes or more"}.get)
		cmd.SetOut(io.Discard)
		cmd.SetErr(logs[i])
		cmd.SetArgs([]string{"serve", "--addr", "127.0.0.1:0", "--db", db})
		wg.Go(func() {
			if err := cmd.ExecuteContext(ctx); err != nil {
				t.Errorf("serve %d: %v", i, err)
			}
		})
	}
	urlRE := regexp.MustCompile(`url=(http://127\.0\.0\.1:[0-9]+/scim/v2)`)
	var urls []string
	deadline := time.Now().Add(30 * time.Second)
	for _, l := range logs {
		for {
			if m := urlRE.FindStringSubmatch(l.String()); m != nil {
				urls = append(urls, m[1])
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a replica did not start: %s", l.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	client := testClient(t)
	send := func(method, url, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := send("POST", urls[0]+"/Users", `{"userName": "alice"}`); code != 201 {
		t.Fatalf("POST through replica 1: %d %s", code, body)
	}
	if code, body := send("GET", urls[1]+`/Users?filter=userName+eq+%22ALICE%22`, ""); code != 200 || !strings.Contains(body, `"totalResults":1`) {
		t.Fatalf("GET through replica 2: %d %s", code, body)
	}

	st, err := postgres.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dirs, err := st.Directories(context.Background())
	if err != nil || len(dirs) != 1 || dirs[0].Name != "default" {
		t.Fatalf("directories %v, %v: want one, default", dirs, err)
	}
	if toks, err := st.Tokens(context.Background(), dirs[0].ID); err != nil || len(toks) != 1 {
		t.Fatalf("tokens %v, %v: want one", toks, err)
	}
}
