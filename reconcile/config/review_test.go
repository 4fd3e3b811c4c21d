package config

import (
	"context"
	"errors"
	"testing"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/reconcile"
)

// TestPostgresLockKeepsRunsOnOneTargetApart: the advisory lock is the
// target's, not the configuration's name, which defaults to the path it
// was given: a daemon started with /etc/roster/sync.yaml and a manual run
// of sync.yaml from another machine (or two syncs into one application)
// must not overlap.
func TestPostgresLockKeepsRunsOnOneTargetApart(t *testing.T) {
	db := pgtest.New(t)
	a, err := Load(writeConfig(t, "database: "+db+"\ntarget: {url: http://127.0.0.1:1, token: t}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(writeConfig(t, "name: other\ndatabase: "+db+"\ntarget: {url: http://127.0.0.1:1, token: t}\n"))
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := a.pgLock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := b.pgLock(context.Background()); !errors.Is(err, reconcile.ErrLocked) {
		t.Fatalf("a second run on the same target while locked: %v, want ErrLocked", err)
	}
}
