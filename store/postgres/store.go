package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlstore"
)

// Store is a store.Store on a PostgreSQL database: the SQL store core
// over PostgreSQL's dialect.
type Store struct {
	*sqlstore.Store
	pool *pgxpool.Pool
}

func newStore(pool *pgxpool.Pool, opts ...sqlstore.Option) *Store {
	d := newDialect(pool)
	return &Store{Store: sqlstore.New(d, opts...), pool: pool}
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (postgres://user:pass@host/db?…,
// with pgx's pool settings such as pool_max_conns) and applies the
// migrations it lacks. With sqlstore.WithSecretKey it encrypts the
// signing keys kept in clear, and fails if the key does not decrypt the
// others (see sqlstore.SealSigningKeys).
func Open(ctx context.Context, url string, opts ...sqlstore.Option) (*Store, error) {
	s, err := Connect(ctx, url, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.SealSigningKeys(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Connect connects to the database at url without migrating it: the
// schema must be up to date (see Migrate), and the signing keys are left
// as they are (see sqlstore.SealSigningKeys). The connection is checked
// once; afterwards the pool reconnects by itself, and calls fail with
// store.ErrUnavailable while the database cannot be reached.
func Connect(ctx context.Context, url string, opts ...sqlstore.Option) (*Store, error) {
	cfg, err := ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgx's default (the number of CPUs, at least 4) makes requests
		// queue for a connection while others wait on the network.
		cfg.MaxConns = int32(max(16, 4*runtime.NumCPU()))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := newStore(pool, opts...)
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// ParseConfig reads url as the store does: pgx's pool settings
// (pool_max_conns and the others, which pgx alone would send to the
// server) and a connect timeout of 5 s unless the URL sets one.
func ParseConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	return cfg, nil
}

// maxAttempts bounds how often inTx runs a transaction that PostgreSQL
// aborted because of a deadlock or a serialization failure, or whose
// connection was lost before anything was sent.
const maxAttempts = 5

// InTx runs fn in a transaction, committing if it returns nil. A
// transaction aborted by a deadlock (which concurrent changes to nested
// groups can cause) is run again.
func (d *dialect) InTx(ctx context.Context, fn func(tx sqlstore.Querier) error) error {
	for attempt := 1; ; attempt++ {
		err := d.inTx(ctx, fn)
		if err == nil || attempt == maxAttempts || !retryable(err) {
			return classify(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
		}
	}
}

// inTx runs fn in a transaction on a connection of its own. The events a
// change writes (InsertEvents) go with the COMMIT, in one round trip:
// they are its last statement, sent while the change holds its rows'
// locks, so each round trip saved there is one that other writers of the
// same rows do not wait for. A connection left in a transaction by a
// failure is closed, not put back in the pool (pgxpool's Release).
func (d *dialect) inTx(ctx context.Context, fn func(tx sqlstore.Querier) error) error {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	c := conn.Conn()
	tx := &txConn{c: c}
	rollback := func(err error) error {
		if c.PgConn().TxStatus() != 'I' {
			c.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		}
		return err
	}
	var last []queued
	if err := fn(querier{q: tx, last: &last}); err != nil {
		return rollback(err)
	}
	b := &pgx.Batch{}
	if !tx.begun {
		b.Queue("BEGIN")
	}
	for _, s := range last {
		b.Queue(s.sql, s.args...)
	}
	b.Queue("COMMIT")
	br := c.SendBatch(ctx, b)
	fail := func(err error) error {
		br.Close()
		return rollback(err)
	}
	if !tx.begun {
		if _, err := br.Exec(); err != nil { // BEGIN
			return fail(err)
		}
	}
	for _, s := range last {
		var err error
		if s.scan == nil {
			_, err = br.Exec()
		} else if rows, qerr := br.Query(); qerr != nil {
			err = qerr
		} else {
			// Scanned now, in the batch's order; what it scanned is the
			// caller's only once InTx returns nil. (A row that is missing
			// failed the statement: see QueryRowAtCommit.)
			err = s.scan(rowOf{rows})
		}
		if err != nil {
			return fail(err)
		}
	}
	if _, err := br.Exec(); err != nil { // COMMIT
		return fail(err)
	}
	return br.Close()
}

// queued is a statement a transaction sends with its COMMIT, and the
// scan of its row if QueryRowAtCommit queued it.
type queued struct {
	sql  string
	args []any
	scan func(sqlstore.Row) error
}

// retryable reports whether a transaction that failed with err may simply
// be run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01" // serialization_failure, deadlock_detected
	}
	return pgconn.SafeToRetry(err)
}

// classify marks the errors that say the database cannot be reached with
// store.ErrUnavailable. A call whose context was cancelled is not one,
// although pgx reports a statement it did not send for that reason as
// safe to retry.
func classify(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.Canceled) {
		return err
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

func unavailable(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true // whatever the server said, it did not let us in
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57P01", "57P02", "57P03", "53300": // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
			return true
		}
		return strings.HasPrefix(pe.Code, "08") // connection_exception
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err)
}

// isForeignKey reports whether err is a violation of a foreign key.
func isForeignKey(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// isUnique reports whether err is a violation of a unique constraint.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// now is the time the store records: UTC, in microseconds, which is what
// PostgreSQL keeps, so that what Create returns is what Get reads back.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// checkText returns a 400 error for a string PostgreSQL cannot hold.
func checkText(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return scim.BadRequest(scim.InvalidValue, "a value contains a NUL character (\\u0000), which cannot be stored")
	}
	if !utf8.ValidString(s) {
		return scim.BadRequest(scim.InvalidValue, "a value is not valid UTF-8")
	}
	return nil
}
