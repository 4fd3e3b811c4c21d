package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/rosterhq/roster/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the key of the session-level advisory lock that
// serializes migrations: "roster" in ASCII.
const migrationLock = 0x726f73746572

// Migrate applies the migrations the database lacks and (re)creates the
// SQL functions the store's queries call, holding an advisory lock so
// that servers starting together do it once. It returns the schema
// version.
func (s *Store) Migrate(ctx context.Context) (int64, error) {
	// The lock is held by a session of its own, not by a connection of the
	// pool: goose needs one of those, and the pool may have only one.
	// Closing the session releases the lock, whatever happened to it.
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return 0, fmt.Errorf("postgres: migrate: %w", classify(err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return 0, fmt.Errorf("postgres: migrate: lock: %w", classify(err))
	}

	version, err := runGoose(ctx, s.pool)
	if err != nil {
		return 0, err
	}
	if _, err := conn.Exec(ctx, functionsSQL()); err != nil {
		return 0, fmt.Errorf("postgres: migrate: functions: %w", classify(err))
	}
	return version, nil
}

// runGoose applies the embedded migrations through a database/sql handle
// on the pool, which goose needs.
func runGoose(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return 0, fmt.Errorf("postgres: migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	// Out of order: as SQLite's (see store/sqlite).
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithAllowOutofOrder(true))
	if err != nil {
		return 0, fmt.Errorf("postgres: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("postgres: migrate: %w", classify(err))
	}
	v, err := sqlstore.CheckSchemaVersion(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("postgres: %w", classify(err))
	}
	return v, nil
}
