package config

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/reconcile"
)

// pgLock takes a PostgreSQL advisory lock named after the target, so that
// runs on different machines sharing the database never overlap (the lock
// file only keeps apart runs on one machine). Not after the sync's name:
// that defaults to the configuration's path as given, which differs
// between machines and between an absolute and a relative path. It is held by a connection
// of its own and goes when unlock closes it, or when the process dies.
func (c *Config) pgLock(ctx context.Context) (unlock func(), err error) {
	if !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		return func() {}, nil
	}
	conn, err := pgx.Connect(ctx, c.Database)
	if err != nil {
		return nil, fmt.Errorf("sync: lock: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("roster sync " + targetKey(c.Target.URL)))
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, int64(h.Sum64())).Scan(&got); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("sync: lock: %w", err)
	}
	if !got {
		conn.Close(ctx)
		return nil, reconcile.ErrLocked
	}
	return func() { conn.Close(context.WithoutCancel(ctx)) }, nil
}
