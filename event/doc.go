// Package event reads the events a store writes with every change (see
// store.Events), in order, as they commit: Follow tails one directory's
// events, FollowAll every directory's. The management API's stream and
// apps that embed Roster's handler use them; each event is seen once, in
// the directory's seq order, and a reader that stops and starts again
// after the last seq it handled misses none.
//
// A follower wakes as soon as the store it reads commits events in this
// process (store.Events.EventsWritten), and polls for those other
// processes write (the CLI, other replicas on one PostgreSQL database).
package event
