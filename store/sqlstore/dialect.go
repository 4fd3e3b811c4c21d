package sqlstore

import (
	"context"
	"time"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// Querier runs statements: a pool of connections or a transaction.
type Querier interface {
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a query; the caller closes the rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a query for one row. Its Scan returns an error that
	// errors.Is matches with sql.ErrNoRows when there is none.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// AtCommit is implemented by a transaction's Querier that can send a
// query with the transaction's COMMIT, in one round trip (PostgreSQL's):
// the rows it changes stay locked for that round trip only, not for the
// one before the COMMIT too. QueryRowAtCommit queues the query, which
// runs after every statement run or queued before it, and later calls
// scan with its row; what scan reads counts only if InTx returns nil. If
// the query finds no row, the transaction is undone and InTx runs it
// again: a query can thus check that what the transaction read earlier
// without a lock still holds. It returns false, and queues nothing,
// where it cannot (outside InTx). scan's error no longer undoes the
// transaction.
type AtCommit interface {
	QueryRowAtCommit(query string, args []any, scan func(Row) error) bool
}

// Rows is the result of a query, read row by row.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is the result of a query for one row.
type Row interface {
	Scan(dest ...any) error
}

// Insert is the insert of one member-less resource, which a Dialect may
// commit together with others that arrive at the same time (a group
// commit). Args are those of InsertResource.
type Insert struct {
	ID   string
	Args []any
	// Conflict is the error for a name that is taken; Check turns the
	// error of the insert made alone into the one to return (a conflict,
	// an unknown directory).
	Conflict error
	Check    func(error) error
	// Events are the create's events, which the dialect writes with
	// WriteEvents in the transaction that inserts it, if it does.
	Events []PendingEvent
}

// Dialect is what one SQL database needs of its own. Its methods are safe
// for concurrent use.
type Dialect interface {
	// Name prefixes the store's errors: "sqlite", "postgres".
	Name() string
	// Reader runs reads outside a transaction.
	Reader() Querier
	// Writer runs single write statements outside a transaction.
	Writer() Querier
	// InTx runs fn in a write transaction, committing if it returns nil.
	// It may run fn again after a deadlock, so fn must not keep state
	// from one run to the next.
	InTx(ctx context.Context, fn func(tx Querier) error) error
	// Classify marks the errors that say the database cannot be reached
	// with store.ErrUnavailable; it returns other errors unchanged.
	Classify(err error) error
	// IsUnique and IsForeignKey tell constraint violations apart.
	IsUnique(err error) bool
	IsForeignKey(err error) bool
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error

	// Now is the time the store records: what the database keeps of it.
	Now() time.Time
	// Time returns the argument for a time column.
	Time(t time.Time) any
	// List returns the argument for a list of texts, as the dialect's
	// statements take one.
	List(texts []string) any
	// CheckText returns a 400 error for a text the database cannot hold
	// (nil when it holds any).
	CheckText(s string) error
	// MaxKeyBytes bounds the indexed values (names, externalId, email
	// keys); 0 means no bound.
	MaxKeyBytes() int
	// Statements returns the SQL that differs between dialects.
	Statements() *Statements

	// Where translates a filter into a condition on resources r whose
	// placeholders follow the arguments given ($1 the directory, $2 the
	// type), returning all arguments.
	Where(f filter.Expr, rt *schema.ResourceType, args []any) (string, []any, error)
	// OrderBy returns the ORDER BY terms of a query; a sort that cannot
	// be answered is a *scim.Error.
	OrderBy(q store.Query) (string, error)
	// Materialize reports whether List reads the page of q through
	// MaterializedPageQuery. It is for a driver that interrupts a
	// statement whose context ends only until it returns its first row:
	// modernc.org/sqlite interrupts the statement a QueryContext is
	// running, but not the later steps that Rows.Next runs, and a page
	// walked in an index's order (a cursor page with a filter) filters the
	// rest of the directory there. It is also how a page far into a list
	// is found from the seqs alone, which an index holds, rather than from
	// every row it skips.
	Materialize(q store.Query) bool

	// Create inserts a member-less resource, committing it, perhaps with
	// others that arrive meanwhile.
	Create(ctx context.Context, ins Insert) error
	// IndexEmails records the email keys (Insert.Args' email_keys, as
	// List makes them, or nil) of a resource InsertResource has just
	// inserted in tx, for a database that looks them up in a table of
	// their own (SQLite's resource_emails); a database whose index on the
	// column serves does nothing.
	IndexEmails(ctx context.Context, tx Querier, dir, id string, keys any) error
	// AddMembers adds the resources ids (distinct, none the group) to a
	// group, skipping those it has. A member's type is its stored
	// resource's. It returns the members it added, and the first id (in
	// the list's order) that is no resource of the directory, if any, in
	// which case the caller fails the transaction.
	AddMembers(ctx context.Context, tx Querier, dir, group string, ids []string) (added []store.Member, missing string, err error)
	// RemoveMembers removes members of a group by id and returns those
	// that were members.
	RemoveMembers(ctx context.Context, tx Querier, dir, group string, ids []string) ([]store.Member, error)
	// InsertEvents inserts the events of a directory in the transaction
	// tx, in their order: numbered with the directory's next seqs where
	// the writers of a directory commit one at a time (SQLite), else
	// without seqs, for NumberEvents. When last is true no other
	// statement of the transaction follows, and the dialect may send the
	// insert with the COMMIT.
	InsertEvents(ctx context.Context, tx Querier, dir string, events []EventRow, last bool) error
	// NumberEvents gives the committed events of a directory (of every
	// directory for "") that InsertEvents left without a seq the
	// directory's next seqs, in the order they were written, in such a
	// way that a reader that has seen seq n never later finds a smaller
	// one. Every read of events calls it first; a dialect whose
	// InsertEvents numbers them does nothing.
	NumberEvents(ctx context.Context, dir string) error
}

// Statements is the SQL text that differs between dialects. Each takes
// the arguments its comment names, in order.
type Statements struct {
	// Directories selects id, name, created of every directory in
	// creation order.
	Directories string
	// LockForUpdate and LockForNoKeyUpdate end a SELECT of a resource's
	// row to lock it for the transaction: to delete it, or to change it
	// while members are added to groups (PostgreSQL); "" where a write
	// transaction holds the whole database (SQLite).
	LockForUpdate, LockForNoKeyUpdate string
	// KeepMembers deletes a group's members that are not in a list,
	// returning the member_id and member_type of each: directory, group,
	// list of ids.
	KeepMembers string
	// Events selects seq, id, type, resource_id, time, data, previous,
	// context of a directory's events after a seq and through another, in
	// seq order, up to a limit: directory, seq, limit, through.
	// EventsOfTypes does the same for the events of a list of types:
	// directory, seq, limit, through, list of types.
	Events, EventsOfTypes string
	// Members selects member_id, member_type and the display (the member's
	// displayName, else its name, else '') of a group's members, ordered
	// by member_id: directory, group.
	Members string
	// MembersPage selects the same of a group's members whose member_id
	// is greater than an id, up to a limit: directory, group, id, limit.
	MembersPage string
	// Groups selects member, group id, whether direct, group name of every
	// group each resource of a list is in, directly or through nested
	// groups, ordered by member and group: directory, list of ids.
	Groups string
	// LockSigningKeys serializes rotations of the signing key for the
	// rest of a transaction, or is "" where a write transaction does.
	LockSigningKeys string
	// SkipLocked ends a SELECT of rows to lock them for the transaction,
	// skipping those another transaction holds (claiming webhook
	// cursors); "" where a write transaction holds the whole database.
	SkipLocked string
	// LockDirectories keeps directories from being made until the
	// transaction ends (a webhook for all of them is being made), or is
	// "" where a write transaction does.
	LockDirectories string
}
