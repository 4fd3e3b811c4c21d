// Package client is a typed client of any SCIM 2.0 server (RFC 7643,
// RFC 7644): Roster, or an application that Okta and Entra provision into.
//
//	c, err := client.New("https://scim.example.com/scim/v2", client.WithToken(token))
//	u, err := c.Users.Create(ctx, &client.User{UserName: "alice@example.com"})
//	err = c.Users.Deactivate(ctx, u.ID)
//	for u, err := range c.Users.All(ctx, client.Query{Filter: filter.Eq("active", true).String()}) { … }
//
// Users and groups are typed (User, Group), and keep every attribute they
// have no field for, so that reading and writing one back loses nothing.
// Filters are built with package client/filter and PATCH operations with
// package client/patch, both correctly quoted.
//
// The client retries 429, 502, 503 and 504 answers and broken connections
// with exponential backoff and jitter, never sooner than a Retry-After
// asks, but never a POST that the server may have carried out; it can
// limit its own rate and concurrency. All pages through a listing holding
// one page at a time, and fails rather than return a listing that a
// misbehaving server made short or repeated. Bulk sends many operations
// in as few requests as the server's limits allow. Errors the server answers are *Error, which errors.Is
// matches against ErrNotFound, ErrConflict, ErrPreconditionFailed and the
// others.
package client
