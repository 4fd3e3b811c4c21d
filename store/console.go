package store

import (
	"context"
	"time"
)

// Admin is an administrator of the web console, without the hash of its
// password.
type Admin struct {
	ID      string
	Name    string
	Created time.Time
	// HasPassword is false until the admin sets a password through a
	// one-time setup link.
	HasPassword bool
}

// Session is a console admin's logged-in session.
type Session struct {
	Admin   Admin
	Expires time.Time
}

// Admins keeps the console's administrators and their sessions. The store
// keeps what the console gives it: the encoded hash of a password (never
// the password) and SHA-256 hashes of setup links and session ids.
type Admins interface {
	// AdminSetup makes the admin name if there is none and returns a new
	// one-time setup secret for it, valid until expires, which replaces
	// any earlier one; the admin's password, if any, stays until the
	// secret is used.
	AdminSetup(ctx context.Context, name string, expires time.Time) (Admin, string, error)
	// AdminBySetup returns the admin a setup secret is for;
	// ErrUnauthorized if it is unknown, used or expired.
	AdminBySetup(ctx context.Context, secret string) (Admin, error)
	// UseAdminSetup sets the password hash of the admin a setup secret is
	// for and spends the secret; ErrUnauthorized as for AdminBySetup. It
	// ends the admin's sessions.
	UseAdminSetup(ctx context.Context, secret, passwordHash string) (Admin, error)
	// SetAdminPassword creates the admin name if there is none and sets
	// its password hash, ending its sessions.
	SetAdminPassword(ctx context.Context, name, passwordHash string) (Admin, error)
	// AdminPassword returns an admin by name with its password hash
	// ("" if it has none); ErrNotFound if there is no such admin.
	AdminPassword(ctx context.Context, name string) (Admin, string, error)
	// Admins returns the admins in creation order.
	Admins(ctx context.Context) ([]Admin, error)
	// CreateSession starts a session of an admin and returns its secret
	// (the cookie's value), of which the store keeps only a hash.
	CreateSession(ctx context.Context, adminID string, expires time.Time) (string, error)
	// Session returns the session whose secret this is; ErrUnauthorized
	// if it is unknown or expired.
	Session(ctx context.Context, secret string) (Session, error)
	// DeleteSession ends a session (logging out); an unknown one is no
	// error.
	DeleteSession(ctx context.Context, secret string) error
}

// Request is one SCIM request as the request log keeps it.
type Request struct {
	// ID orders the log: a later-written request has a greater ID.
	ID   int64
	Time time.Time
	// Directory is the id of the directory of the request's credential
	// ("" when it did not authenticate).
	Directory string
	Method    string
	Path      string
	Status    int
	Duration  time.Duration
	// ScimType and Detail are those of an error answer.
	ScimType string
	Detail   string
	// Token is the name of the token or OAuth client that made it.
	Token string
	// Resource is the id of the user or group it was about, if any.
	Resource  string
	RequestID string
	// RequestBody and ResponseBody are kept only when the server logs
	// bodies, with passwords and secrets masked and their length capped.
	RequestBody  string
	ResponseBody string
}

// RequestQuery selects requests of the log, newest first.
type RequestQuery struct {
	// Directory, when not empty, keeps one directory's requests.
	Directory string
	// StatusClass, when not 0, keeps statuses from StatusClass*100 to
	// StatusClass*100+99 (2, 4 or 5).
	StatusClass int
	// Method and Resource, when not empty, keep requests with that method
	// or about that resource id.
	Method   string
	Resource string
	// Since and Until, when not zero, bound the requests' times (Until
	// excluded).
	Since, Until time.Time
	// Before, when not 0, keeps requests with a smaller ID (the next
	// page).
	Before int64
	// Limit is the most requests to return (at least 1).
	Limit int
}

// RequestLog keeps the SCIM request log.
type RequestLog interface {
	// LogRequests stores requests (their IDs are assigned) in one
	// transaction, as one batch.
	LogRequests(ctx context.Context, reqs []Request) error
	// Requests returns the requests the query selects, newest first.
	Requests(ctx context.Context, q RequestQuery) ([]Request, error)
	// LastRequest returns the time of a directory's newest logged request
	// (zero if none).
	LastRequest(ctx context.Context, dir string) (time.Time, error)
	// PruneRequests deletes the requests older than before, at most
	// limit of the batches (of one directory's requests) they were
	// written in, and returns how many batches it deleted; a caller
	// repeats it until it deletes fewer than limit. A batch goes when its
	// newest request is older than before.
	PruneRequests(ctx context.Context, before time.Time, limit int) (int, error)
}

// MemberInfo is a member of a group with what a list of members shows.
type MemberInfo struct {
	Member
	// Display is the member's displayName, else its userName or the
	// group's name; "" if none.
	Display string
}

// GroupMembers reads a group's members a page at a time, so that a page
// of a big group does not load them all.
type GroupMembers interface {
	// GroupMembers returns the members of a group of the directory whose
	// ids sort after after ("" from the first), in id order, at most
	// limit, and how many members the group has in all; ErrNotFound if
	// there is no such group.
	GroupMembers(ctx context.Context, dir, group, after string, limit int) ([]MemberInfo, int, error)
}

// ResourceEvents reads the events about one resource.
type ResourceEvents interface {
	// ResourceEvents returns the newest events (at most limit) about the
	// resource id of a directory, newest first.
	ResourceEvents(ctx context.Context, dir, id string, limit int) ([]Event, error)
}
