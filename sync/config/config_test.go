package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/internal/pgtest"
	rsync "github.com/rosterhq/roster/sync"
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
	if _, _, err := c.Engine("test"); err == nil {
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
	if _, err := b.pgLock(context.Background()); !errors.Is(err, rsync.ErrLocked) {
		t.Fatalf("a second run while locked: %v, want ErrLocked", err)
	}
	unlockA()
	unlockB, err := b.pgLock(context.Background())
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlockB()
}
