package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/database"
)

// TestKilledServerLosesNoEvent kills roster serve (SIGKILL) in the middle
// of a storm of creates and member adds, on each store: every change it
// acknowledged has its event, and every event is of a change that
// happened (a user.created of a user that exists).
func TestKilledServerLosesNoEvent(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			db := filepath.Join(t.TempDir(), "roster.db")
			if kind == "postgres" {
				db = pgtest.New(t)
			}
			const token = "kill-test-token-0123456789abcdef0123"
			logs := &syncBuffer{}
			cmd := exec.Command(rosterCommand(t), "serve", "--addr", "127.0.0.1:0", "--db", db, "--rate-limit", "0")
			cmd.Env = []string{"ROSTER_TOKEN=" + token, "ROSTER_SECRET_KEY=kill-test-secret-key-0123456789abcdef", quickExit()}
			cmd.Stdout, cmd.Stderr = io.Discard, logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() { cmd.Process.Kill() })
			base := waitFor(t, logs, regexp.MustCompile(`url=(http://127\.0\.0\.1:[0-9]+/scim/v2)`), exited)

			client := testClient(t)
			send := func(method, path, body string) (int, string, error) {
				req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/scim+json")
				res, err := client.Do(req)
				if err != nil {
					return 0, "", err
				}
				defer res.Body.Close()
				b, err := io.ReadAll(res.Body)
				return res.StatusCode, string(b), err
			}
			status, body, err := send("POST", "/Groups", `{"displayName":"Everyone"}`)
			if err != nil || status != 201 {
				t.Fatalf("create the group: %d %s %v", status, body, err)
			}
			var group struct{ ID string }
			json.Unmarshal([]byte(body), &group)

			// Writers until the server dies; each records what was
			// acknowledged.
			var mu sync.Mutex
			created, added := map[string]bool{}, map[string]bool{}
			var acked atomic.Int64
			killed := make(chan struct{})
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for i := 0; ; i++ {
						status, body, err := send("POST", "/Users", fmt.Sprintf(`{"userName":"w%d-%d"}`, w, i))
						if err != nil {
							return // the server is gone
						}
						if status != 201 {
							t.Errorf("create: %d %s", status, body)
							return
						}
						var u struct{ ID string }
						json.Unmarshal([]byte(body), &u)
						mu.Lock()
						created[u.ID] = true
						mu.Unlock()
						if acked.Add(1) == 200 {
							close(killed)
						}
						status, _, err = send("PATCH", "/Groups/"+group.ID,
							`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+u.ID+`"}]}]}`)
						if err != nil {
							return
						}
						if status == 204 || status == 200 {
							mu.Lock()
							added[u.ID] = true
							mu.Unlock()
						}
					}
				})
			}
			<-killed
			cmd.Process.Kill()
			<-exited
			wg.Wait()

			st, err := database.Open(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			d, err := st.Directory(context.Background(), "default")
			if err != nil {
				t.Fatal(err)
			}
			gotCreated, gotAdded := map[string]bool{}, map[string]bool{}
			after := int64(0)
			for {
				page, err := st.Events(context.Background(), store.EventQuery{Directory: d.ID, After: after, Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range page {
					if e.Seq != after+1 {
						t.Fatalf("seq %d after %d: a gap", e.Seq, after)
					}
					after = e.Seq
					switch e.Type {
					case store.UserCreated:
						gotCreated[e.Resource] = true
					case store.GroupUserAdded:
						gotAdded[e.Resource] = true
					}
				}
				if len(page) < 1000 {
					break
				}
			}
			for id := range created {
				if !gotCreated[id] {
					t.Errorf("user %s was acknowledged, but has no user.created", id)
				}
			}
			for id := range added {
				if !gotAdded[id] {
					t.Errorf("the member add of %s was acknowledged, but has no group.user_added", id)
				}
			}
			for id := range gotCreated {
				if _, err := st.Get(context.Background(), d.ID, schema.NewRegistry().ResourceType("User"), id, false); err != nil {
					t.Errorf("user.created of %s, which is not there: %v", id, err)
				}
			}
			t.Logf("%d creates and %d member adds acknowledged; %d and %d events", len(created), len(added), len(gotCreated), len(gotAdded))
		})
	}
}
