// Package sync reconciles a source directory (package sync/source) into a
// SCIM 2.0 target (package client): it reads both sides, computes a Plan
// that can be read before anything changes, and applies it with the fewest
// requests: one per changed user, batched PATCHes for memberships, none
// when nothing changed.
//
// Safety comes first: a plan that would deactivate or delete more than a
// set share or number of the target's users is refused unless mass changes
// are allowed, users the sync neither created nor adopted are never
// touched, and an empty or failed source read changes nothing.
package sync
