package config

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/store"
)

// TestTwoConfigurationsOfOneNameDoNotShareAState: two configurations in
// two directories, each run as --config sync.yaml, with one database,
// are two syncs: each keeps its own copy of the state and its own runs.
// A copy is never restored into a configuration of another target, and
// the copy follows every save of the state, not only a run's end. Not
// parallel: it changes directory.
func TestTwoConfigurationsOfOneNameDoNotShareAState(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	ctx := context.Background()
	root := t.TempDir()
	db := filepath.Join(root, "history.db")
	write := func(dir, url string) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		text := "database: " + db + "\nsource: {type: file, file: {users: people.csv}}\ntarget: {url: " + url + ", token: t}\n"
		if err := os.WriteFile(filepath.Join(dir, "sync.yaml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte("id,mail\nu1,ada@example.com\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const target = "http://127.0.0.1:1/scim/v2"
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	write(a, target)
	write(b, target)
	// engine loads sync.yaml in dir and builds its engine with the
	// database.
	engine := func(dir string) (*Config, History, *reconcile.Engine, time.Time, func()) {
		t.Helper()
		t.Chdir(dir)
		c, err := Load("sync.yaml")
		if err != nil {
			t.Fatal(err)
		}
		h, err := c.History(ctx)
		if err != nil {
			t.Fatal(err)
		}
		e, restored, unlock, err := c.Engine(ctx, "test", h)
		if err != nil {
			h.Close()
			t.Fatal(err)
		}
		return c, h, e, restored, func() { unlock(); h.Close() }
	}

	ca, h, e, _, done := engine(a)
	e.State.Users["u1"] = &reconcile.Owned{Since: time.Now().UTC()}
	if err := e.State.Save(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(ca.State)
	if err != nil {
		t.Fatal(err)
	}
	kept, _, err := h.SyncState(ctx, ca.stateKey())
	if err != nil || !bytes.Equal(kept, file) {
		t.Fatalf("after a save, the database keeps %s (%v), want the file's %s", kept, err, file)
	}
	run, err := h.RecordRun(ctx, store.SyncRun{Config: ca.Name, Started: time.Now(), Ended: time.Now(), Status: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	done()

	cb, h, e, restored, done := engine(b)
	if cb.Name == ca.Name || !restored.IsZero() || len(e.State.Users) != 0 {
		t.Fatalf("b, named %q as a is %q, restored a's state (%v): %v", cb.Name, ca.Name, restored, e.State.Users)
	}
	if _, err := cb.FindRun(ctx, h, run.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("b finds a's run by its id: %v", err)
	}
	done()

	// a's state file is lost: restored from its copy, but not once a
	// points at another target.
	if err := os.Remove(filepath.Join(a, ca.State)); err != nil {
		t.Fatal(err)
	}
	write(a, "http://127.0.0.1:2/scim/v2")
	if _, _, e, restored, done := engine(a); !restored.IsZero() || len(e.State.Users) != 0 {
		t.Fatalf("a's copy was restored for another target: %v", e.State.Users)
	} else {
		done()
	}
	write(a, target)
	if _, _, e, restored, done := engine(a); restored.IsZero() || e.State.Users["u1"] == nil {
		t.Fatalf("a's copy was not restored: %v", e.State.Users)
	} else {
		done()
	}
}

// TestRestoreStateReportsAStateItCannotSee: a state file that cannot be
// looked at (its directory is a file) is an error, not a missing file.
func TestRestoreStateReportsAStateItCannotSee(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, err := Load(writeConfig(t, "database: history.db\ntarget: {url: http://127.0.0.1:1, token: t}\n"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.History(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c.State = filepath.Join(notDir, "sync.yaml.state.json")
	if _, err := c.RestoreState(ctx, h); err == nil {
		t.Fatal("restored into a path that cannot be looked at")
	}
}
