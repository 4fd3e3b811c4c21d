// Package postgres is a store.Store on PostgreSQL (version 13 or later),
// through github.com/jackc/pgx/v5: store/sqlstore's store over
// PostgreSQL's dialect (timestamptz, text[] lists, row locks, jsonb).
//
// Several Roster servers may share one database: every change is one
// transaction that locks the rows it reads before it writes them, so
// concurrent requests through different servers never lose an update or
// create a duplicate, and the migrations run under an advisory lock, so
// servers starting together apply them once.
//
// Filters and sorts become SQL on indexed columns and jsonb, so that only a
// page's rows are read; a user's userName (or a group's displayName),
// externalId, emails and meta.lastModified are looked up through indexes.
package postgres
