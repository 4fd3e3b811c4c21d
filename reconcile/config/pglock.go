package config

import (
	"context"
	"errors"
	"fmt"

	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/store/database"
)

// pgLock takes a PostgreSQL advisory lock named after the target, so that
// runs on different machines sharing the database never overlap (the lock
// file only keeps apart runs on one machine). Not after the sync's name:
// that defaults to the configuration's path as given, which differs
// between machines and between an absolute and a relative path. The lock
// goes when unlock is called, or when the process dies; with a SQLite
// database, or none, there is nothing to take (see database.Lock).
// Another run holding it is reconcile.ErrLocked, as a lock file held is.
func (c *Config) pgLock(ctx context.Context) (unlock func(), err error) {
	// The name is the one earlier releases hashed: a run of an older
	// release and one of this release must see each other's lock.
	unlock, err = database.Lock(ctx, c.Database, "roster sync "+targetKey(c.Target.URL))
	if errors.Is(err, database.ErrLocked) {
		return nil, reconcile.ErrLocked
	}
	if err != nil {
		return nil, fmt.Errorf("sync: lock: %w", err)
	}
	return unlock, nil
}
