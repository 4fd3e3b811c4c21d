package database_test

import (
	"fmt"

	"github.com/rosterhq/roster/store/database"
)

// What a --db flag names, and how it appears in logs.
func Example() {
	for _, db := range []string{
		"roster.db",
		"sqlite:///var/lib/roster/roster.db",
		"postgres://roster:s3cret@db.internal/roster?sslmode=require",
	} {
		fmt.Println(database.KindOf(db), database.Redact(db))
	}
	// Output:
	// SQLite roster.db
	// SQLite sqlite:///var/lib/roster/roster.db
	// PostgreSQL postgres://roster:xxxxx@db.internal/roster?sslmode=require
}
