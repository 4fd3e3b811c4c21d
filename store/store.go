// Package store defines how Roster persists SCIM resources and the
// credentials that reach them: small interfaces by what callers need
// (Directories, Resources, Tokens, Clients, SigningKeys, SyncHistory),
// Store composed of them, their errors, and the query and membership
// types. store/sqlstore implements them once for SQL databases;
// store/sqlite and store/postgres are its two dialects; store/storetest is
// the conformance suite both must pass.
//
// Every call names a directory (a tenant): a store never reads or writes a
// resource of one directory through a call that names another.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

// Errors that callers branch on. Implementations wrap them with context.
var (
	// ErrNotFound: no such directory or resource in the directory.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a resource with the same userName (users) or
	// displayName (groups), compared case-insensitively, exists in the
	// directory; or a directory with the same name exists.
	ErrConflict = errors.New("conflict")
	// ErrPreconditionFailed: the resource's version is not the one the
	// caller expected (If-Match).
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrUnavailable: the database cannot be reached (restarting, the
	// network is down). The call may be retried; if the connection broke
	// while a change was being committed, the change may have been made.
	ErrUnavailable = errors.New("store unavailable")
	// ErrOverBudget: a list's selection ran past its Query.Budget and was
	// stopped.
	ErrOverBudget = errors.New("over the query budget")
)

// Directory is a tenant: the users and groups one identity provider
// provisions.
type Directory struct {
	ID      string
	Name    string
	Created time.Time
}

// Member is a member of a group: a user or a group (nested groups).
type Member struct {
	ID   string
	Type string // "User" or "Group"
}

// Query selects resources of one type in a directory.
type Query struct {
	Type *schema.ResourceType
	// Filter, resolved against Type, selects resources; nil selects all.
	Filter filter.Expr
	// SortBy orders the results (RFC 7644 §3.4.2.3); a zero Ref means the
	// store's stable order (creation order).
	SortBy     schema.Ref
	Descending bool
	// StartIndex is 1-based; Count is the most resources to return, and 0
	// returns only the total.
	StartIndex int
	Count      int
	// Members says whether to load the computed membership attribute: the
	// members of groups, the groups of users. A big group read with
	// excludedAttributes=members, or users listed with
	// excludedAttributes=groups (as a sync does), must not pay for them.
	Members bool
	// Cursor asks for cursor pagination (RFC 9865): resources in creation
	// order after the position After (empty: from the start), with
	// Page.Next set when more may follow. Positions follow creation order,
	// so a walk sees every resource that exists throughout it exactly
	// once, whatever changes meanwhile. StartIndex and SortBy do not apply.
	Cursor bool
	After  string
	// NoTotal says that the caller does not use Page.Total, which the
	// store then leaves 0 rather than count every resource the query
	// selects (a tenth of a second for each page of a million users).
	NoTotal bool
	// Budget, when above 0, bounds the time the store may spend selecting
	// the resources of a query with a Filter or a SortBy: the filter, the
	// sort, the skip to StartIndex and the total. Past it the selection
	// stops and List fails with ErrOverBudget. A query of every resource
	// in creation order is not bounded: it walks an index, and its total
	// counts one (a tenth of a second per million resources), which an
	// import of a directory of millions must still get. Reading the
	// members and groups of the page is not counted either: its cost is
	// the size of the page's groups, which an index finds, not a search.
	Budget time.Duration
}

// Page is the result of a Query.
type Page struct {
	Total     int
	Resources []*resource.Resource
	// Next is, for a cursor query, the position to continue after, or ""
	// when this is the last page.
	Next string
	// Spent is how long selecting the page took: the part of the list
	// that Query.Budget bounds, which a caller sharing one budget among
	// several lists subtracts.
	Spent time.Duration
}

// Store persists directories, users, groups and group memberships, and the
// credentials that give access to them. It is the composition of the
// smaller interfaces below, which callers that need less take instead.
// Implementations are safe for concurrent use; each method is one
// transaction, so a failed call changes nothing.
type Store interface {
	Directories
	Resources
	Credentials
	Events
	ManagementKeys
	Webhooks

	// Ping reports whether the database answers (ErrUnavailable if not).
	Ping(ctx context.Context) error

	// Close releases the store's resources.
	Close() error
}

// Directories keeps the directories (tenants).
type Directories interface {
	// CreateDirectory creates a directory; ErrConflict if the name (case
	// folded) is taken.
	CreateDirectory(ctx context.Context, name string) (Directory, error)
	// Directory returns the directory with the given id or name.
	Directory(ctx context.Context, idOrName string) (Directory, error)
	// Directories returns all directories in creation order.
	Directories(ctx context.Context) ([]Directory, error)
	// DeleteDirectory deletes a directory by id or name, with its users,
	// groups, tokens and clients; its events stay until they expire.
	DeleteDirectory(ctx context.Context, idOrName string) error
}

// Resources keeps the users and groups of directories, and the groups'
// memberships.
//
// Resources handed to and returned by it are in the form of package
// scim/resource. A group's members live in the store's membership table
// (see ChangeMembers), and a user's read-only "groups" attribute is
// computed from it on read.
//
// It does not validate resources: callers hand it resources decoded and
// checked by package scim/resource, with passwords already hashed.
type Resources interface {
	// Create stores a new resource in the directory, assigning its id and
	// meta (created, lastModified, version, resourceType). A group's
	// members are stored too. It returns the stored resource.
	Create(ctx context.Context, dir string, r *resource.Resource) (*resource.Resource, error)
	// Get returns a resource by id, with its computed membership attribute
	// (a group's members, a user's groups) if members is true.
	Get(ctx context.Context, dir string, rt *schema.ResourceType, id string, members bool) (*resource.Resource, error)
	// Replace stores r (which carries its id) in place of the stored
	// resource, replacing a group's members with r's, and returns the
	// stored result. ifVersion, when not empty, must equal the stored
	// meta.version or the call fails with ErrPreconditionFailed.
	Replace(ctx context.Context, dir string, r *resource.Resource, ifVersion string) (*resource.Resource, error)
	// Delete removes a resource; deleting a user or group also removes its
	// memberships, deleting a group keeps its members' resources.
	Delete(ctx context.Context, dir string, rt *schema.ResourceType, id, ifVersion string) error
	// Patch applies a PATCH request to a resource in one transaction:
	// member changes go to the membership table (see SplitPatch), so a
	// group's members are never loaded for them, and the other operations
	// to the resource. ifVersion is as for Replace. The version changes
	// only if something did. The result holds a group's members only if
	// members is true. Errors of the request itself are *scim.Error.
	Patch(ctx context.Context, dir string, rt *schema.ResourceType, id string, req *patch.Request, ifVersion string, members bool) (*resource.Resource, error)
	// List returns a page of the resources the query selects, translating
	// its filter and sort into the database's query language.
	List(ctx context.Context, dir string, q Query) (Page, error)
}

// A StoredReader reads resources without decoding their attributes, for
// answers that show them as they are stored (resource.Stored's
// AppendJSON). The server uses it when its Store has it.
type StoredReader interface {
	// GetStored is Get, but for the resource's attributes, which it
	// returns as they are stored; the computed membership attribute (if
	// members is true) is in the result's Computed.
	GetStored(ctx context.Context, dir string, rt *schema.ResourceType, id string, members bool) (*resource.Stored, error)
	// ListStored is List, with the page's resources as GetStored returns
	// them.
	ListStored(ctx context.Context, dir string, q Query) (StoredPage, error)
}

// StoredPage is a Page of resources as they are stored.
type StoredPage struct {
	Total     int
	Resources []*resource.Stored
	Next      string
	Spent     time.Duration
}

// Credentials keeps what authenticates clients: bearer tokens, OAuth 2.0
// clients and the keys that sign their access tokens.
type Credentials interface {
	Tokens
	Clients
	SigningKeys
}

// Tokens keeps the bearer tokens of directories.
type Tokens interface {
	// CreateToken makes a bearer token for the directory and returns it
	// with its secret, which the store does not keep (only a hash of it).
	// A zero expires means the token does not expire.
	CreateToken(ctx context.Context, dir, name string, expires time.Time) (Token, string, error)
	// ImportToken stores a token whose secret the caller chose (such as
	// ROSTER_TOKEN at first start); only its hash is kept.
	ImportToken(ctx context.Context, dir, name, secret string, expires time.Time) (Token, error)
	// Token returns a token by id (ErrNotFound), revoked or not.
	Token(ctx context.Context, id string) (Token, error)
	// Tokens returns the directory's tokens, without secrets.
	Tokens(ctx context.Context, dir string) ([]Token, error)
	// RevokeToken revokes a token of the directory by id or name.
	RevokeToken(ctx context.Context, dir, idOrName string) error
	// Authenticate returns the token whose secret this is, recording its
	// use; ErrUnauthorized if it is unknown, expired or revoked.
	Authenticate(ctx context.Context, secret string) (Token, error)
}

// Clients keeps the OAuth 2.0 clients of directories.
type Clients interface {
	// CreateClient makes an OAuth 2.0 client for the directory and returns
	// it with its secret, which the store does not keep (only a hash).
	CreateClient(ctx context.Context, dir, name string) (Client, string, error)
	// AuthenticateClient returns the client with this id and secret;
	// ErrUnauthorized if there is none or it is revoked.
	AuthenticateClient(ctx context.Context, id, secret string) (Client, error)
	// Client returns a client by id (ErrNotFound), revoked or not.
	Client(ctx context.Context, id string) (Client, error)
	// Clients returns the directory's clients, without secrets.
	Clients(ctx context.Context, dir string) ([]Client, error)
	// RevokeClient revokes a client of the directory.
	RevokeClient(ctx context.Context, dir, id string) error
}

// SigningKeys keeps the keys that sign access tokens.
type SigningKeys interface {
	// CurrentSigningKey returns the newest signing key, first making a new
	// one if the newest is older than maxAge (key rotation).
	CurrentSigningKey(ctx context.Context, maxAge time.Duration) (SigningKey, error)
	// SigningKey returns a key by id (ErrNotFound), to verify a token.
	SigningKey(ctx context.Context, id string) (SigningKey, error)
}
