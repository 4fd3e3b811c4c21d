// Package management is Roster's management API, /api/v1: what the app
// behind Roster calls when one of its customers turns provisioning on
// (create a directory and a SCIM token or OAuth client for it), and how it
// learns what the identity provider changed (the events, read by cursor
// or as a Server-Sent Events stream, and the directory's users and
// groups).
//
// It is authenticated by management keys (store.ManagementKeys, "rmk_…"),
// never by a directory's SCIM token; the SCIM API never accepts a
// management key. Requests and answers are JSON; an error is
// {"error": "…"} with the status that fits, and a request that fails
// changes nothing.
package management
