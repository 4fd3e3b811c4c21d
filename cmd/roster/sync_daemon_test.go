package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSyncDaemon runs roster sync daemon: it syncs at once, again on POST
// /run, exports metrics, and stops on cancel.
func TestSyncDaemon(t *testing.T) {
	t.Parallel()
	remote := newRoster(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "people.csv"), []byte("id,mail,givenName,sn\ne1,ada@example.com,Ada,Lovelace\n"), 0o644)
	cfg := filepath.Join(dir, "sync.yaml")
	os.WriteFile(cfg, []byte("source: {type: file, file: {users: people.csv}}\ntarget: {url: "+remote[1]+", token: "+remote[3]+"}\n"), 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	cmd := newRootCommand(noEnv)
	cmd.SetOut(io.Discard)
	cmd.SetErr(logs)
	cmd.SetArgs([]string{"sync", "daemon", "--config", cfg, "--every", "1h", "--listen", "127.0.0.1:0"})
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := cmd.ExecuteContext(ctx); err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	defer wg.Wait()
	defer cancel()

	wait := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s; logs:\n%s", what, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var addr string
	wait("the listener", func() bool {
		m := regexp.MustCompile(`addr=(127\.0\.0\.1:[0-9]+)`).FindStringSubmatch(logs.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	client := testClient(t)
	metric := func() string {
		resp, err := client.Get("http://" + addr + "/metrics")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	wait("the first run", func() bool { return strings.Contains(metric(), `roster_sync_runs_total{result="ok"} 1`) })
	if !strings.Contains(metric(), `roster_sync_changes_total{kind="create"} 1`) {
		t.Fatalf("metrics after the first run:\n%s", metric())
	}
	resp, err := client.Post("http://"+addr+"/run", "", nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /run: %v %v", resp, err)
	}
	wait("the triggered run", func() bool { return strings.Contains(metric(), `roster_sync_runs_total{result="ok"} 2`) })
	if users := must(t, append([]string{"users", "list"}, remote...)...); !strings.Contains(users, "ada@example.com") {
		t.Fatalf("users:\n%s", users)
	}
}
