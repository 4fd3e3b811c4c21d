package sqlstore

import (
	"context"
	"fmt"

	"github.com/pressly/goose/v3"
)

// CheckSchemaVersion returns the database's schema version, and fails if
// the database holds a migration p does not know: a newer roster has
// migrated it, and this one may leave out what that schema needs (since
// SQLite's migration 12, an insert writes its email index itself). Roster
// does not migrate down, so the remedy is the newer version, or a backup
// from before it.
func CheckSchemaVersion(ctx context.Context, p *goose.Provider) (int64, error) {
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	if sources := p.ListSources(); len(sources) > 0 {
		if known := sources[len(sources)-1].Version; v > known {
			return v, fmt.Errorf("the database's schema is version %d, newer than this roster's %d: a newer roster migrated it; run that version (or restore a backup from before it)", v, known)
		}
	}
	return v, nil
}
