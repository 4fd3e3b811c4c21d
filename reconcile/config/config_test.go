package config

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/reconcile"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sync.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadRefusesMistakes(t *testing.T) {
	for name, text := range map[string]string{
		"an unknown key":  "target: {url: http://x}\nsoruce: {type: file}\n",
		"no target url":   "source: {type: file}\n",
		"not YAML at all": "target: [\n",
	} {
		if _, err := Load(writeConfig(t, text)); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	c, err := Load(writeConfig(t, "target: {url: http://x, token: t}\nsource: {type: nope}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := c.Engine(context.Background(), "test", nil); err == nil {
		t.Error("an unknown source type built an engine")
	}
}

// TestPostgresLockKeepsMachinesApart: with a PostgreSQL database, a second
// run of the same sync (as from another machine, with its own lock file)
// is refused while the first holds the advisory lock.
func TestPostgresLockKeepsMachinesApart(t *testing.T) {
	db := pgtest.New(t)
	text := "name: hr-to-app\ndatabase: " + db + "\ntarget: {url: http://127.0.0.1:1, token: t}\nsource: {type: file, file: {users: u.csv}}\n"
	a, err := Load(writeConfig(t, text))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(writeConfig(t, text)) // another directory: another lock file
	if err != nil {
		t.Fatal(err)
	}
	unlockA, err := a.pgLock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.pgLock(context.Background()); !errors.Is(err, reconcile.ErrLocked) {
		t.Fatalf("a second run while locked: %v, want ErrLocked", err)
	}
	unlockA()
	unlockB, err := b.pgLock(context.Background())
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlockB()
}

// TestTwoConfigurationsOnOneTargetDoNotOverlap: two configurations (so two
// state files) that sync into one target on one machine are kept apart
// by a lock named after the target, even without a database; one into
// another target runs beside them.
func TestTwoConfigurationsOnOneTargetDoNotOverlap(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	load := func(url string) *Config {
		c, err := Load(writeConfig(t, "target: {url: "+url+", token: t}\n"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	a, b, other := load("http://127.0.0.1:1/scim/v2"), load("HTTP://127.0.0.1:1/scim/v2/"), load("http://127.0.0.1:2/scim/v2")
	if a.State == b.State {
		t.Fatal("the two configurations share a state file")
	}
	unlock, err := a.lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.lock(ctx); !errors.Is(err, reconcile.ErrLocked) {
		t.Fatalf("a second configuration on the same target while locked: %v, want ErrLocked", err)
	}
	unlockOther, err := other.lock(ctx)
	if err != nil {
		t.Fatalf("a configuration on another target: %v", err)
	}
	unlockOther()
	unlock()
	unlockB, err := b.lock(ctx)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlockB()
}

// TestRecordKeepsWhatFailedByKind: a run's history says how many changes
// of each kind failed, not only how many in all.
func TestRecordKeepsWhatFailedByKind(t *testing.T) {
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
	res := &reconcile.Result{
		Done:         reconcile.Counts{Create: 2},
		Failed:       []reconcile.Failure{{What: "create user ada", Err: "409"}},
		FailedCounts: reconcile.Counts{Create: 1},
	}
	if err := c.Record(ctx, h, time.Now(), &reconcile.Plan{Counts: reconcile.Counts{Create: 3}}, res, nil); err != nil {
		t.Fatal(err)
	}
	runs, err := h.SyncRuns(ctx, c.Name, 10)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v, %v", runs, err)
	}
	var summary struct {
		Failed       int              `json:"failed"`
		FailedByKind reconcile.Counts `json:"failedByKind"`
	}
	if err := json.Unmarshal(runs[0].Summary, &summary); err != nil {
		t.Fatal(err)
	}
	if summary.Failed != 1 || summary.FailedByKind != (reconcile.Counts{Create: 1}) {
		t.Fatalf("summary %s", runs[0].Summary)
	}
}

// TestValidate: Validate finds the mistakes it can without touching
// either side, each named, and passes a good configuration; Load names
// the line of each mapped path.
func TestValidate(t *testing.T) {
	t.Parallel()
	good := "source: {type: file, file: {users: people.csv}}\ntarget: {url: https://app.example.com/scim/v2, tokenEnv: APP_TOKEN}\n" +
		"mapping:\n  users:\n    userName: lower(mail)\n    name.givenName: givenName\npolicy: {retireGroups: rename}\n"
	c, err := Load(writeConfig(t, good))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("a good configuration: %v", err)
	}
	if w := c.Mapping.Where["name.givenName"]; !strings.HasSuffix(w, "sync.yaml:6") {
		t.Fatalf("name.givenName is at %q", w)
	}
	bad := "source: {type: ldap, ldap: {url: http://dc1}}\ntarget: {url: app.example.com}\n" +
		"mapping:\n  users:\n    userName: lower(mail\n    \"emails[value eq 1]\": mail\npolicy: {maxDeprovisionShare: 2}\n"
	c, err = Load(writeConfig(t, bad))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	for _, want := range []string{"target.url \"app.example.com\" is not a URL", "target: no credentials", "source.ldap.url \"http://dc1\": the scheme must be ldap or ldaps",
		"maxDeprovisionShare 2"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want %q", err, want)
		}
	}
	if _, err := Load(writeConfig(t, strings.Replace(good, "rename", "archive", 1))); err == nil {
		t.Error("retireGroups: archive loaded")
	}
}
