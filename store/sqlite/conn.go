package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"

	sqlite3 "modernc.org/sqlite"
)

// maxStatements bounds the statements a connection keeps prepared. The
// store's own are a few dozen; filters add one per shape of filter, and
// shapes past the bound run unprepared.
const maxStatements = 128

// connector opens connections of modernc.org/sqlite that keep each
// statement they run prepared, keyed by its text, so that SQLite parses
// and plans it, and compiles the triggers and foreign-key checks a write
// sets off, once per connection rather than on every call.
type connector struct {
	base driver.Connector
}

func newConnector(dsn string) (connector, error) {
	base, err := sqlite3.NewConnector(dsn)
	if err != nil {
		return connector{}, fmt.Errorf("sqlite: %w", err)
	}
	return connector{base: base}, nil
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	base, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: base, stmts: make(map[string]*statement)}, nil
}

func (c connector) Driver() driver.Driver { return c.base.Driver() }

// conn is a connection that keeps its statements prepared. database/sql
// uses a connection from one goroutine at a time, so it needs no lock.
type conn struct {
	driver.Conn
	stmts map[string]*statement
}

// statement is a prepared statement of a conn; busy while its rows are
// open, when the same text is run unprepared instead.
type statement struct {
	stmt driver.Stmt
	busy bool
}

// prepared returns the statement for query, prepared once; nil when it is
// busy or the connection keeps as many as it may, and the caller runs the
// text itself.
func (c *conn) prepared(ctx context.Context, query string) (*statement, error) {
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil, nil
		}
		return s, nil
	}
	if len(c.stmts) >= maxStatements {
		return nil, nil
	}
	stmt, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s := &statement{stmt: stmt}
	c.stmts[query] = s
	return s, nil
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	return s.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.busy = true
	return &statementRows{Rows: rows, s: s}, nil
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *conn) Ping(ctx context.Context) error { return c.Conn.(driver.Pinger).Ping(ctx) }

func (c *conn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *conn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

// Close finalizes the connection's statements, then closes it.
func (c *conn) Close() error {
	for _, s := range c.stmts {
		s.stmt.Close()
	}
	clear(c.stmts)
	return c.Conn.Close()
}

// statementRows are the rows of a prepared statement, which is free again
// once they are closed.
type statementRows struct {
	driver.Rows
	s *statement
}

func (r *statementRows) Close() error {
	r.s.busy = false
	return r.Rows.Close()
}
