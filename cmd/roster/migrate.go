package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/store/database"
	"github.com/rosterhq/roster/store/postgres"
	"github.com/rosterhq/roster/store/sqlite"
)

func newMigrateCommand(env getenv) *cobra.Command {
	var dbf dbFlag
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations Roster needs, then exit",
		Long: `Apply the database migrations the database lacks, then exit.

roster serve applies them too when it starts; run migrate first to upgrade
the schema in a deploy step of its own. On PostgreSQL the migrations run
under an advisory lock, so servers starting meanwhile wait for them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			db := dbf.String()
			var version int64
			if database.KindOf(db) == database.PostgreSQL {
				st, err := postgres.Connect(ctx, db)
				if err != nil {
					return err
				}
				defer st.Close()
				if version, err = st.Migrate(ctx); err != nil {
					return err
				}
			} else {
				st, err := sqlite.Open(ctx, database.File(db))
				if err != nil {
					return err
				}
				defer st.Close()
				if version, err = st.SchemaVersion(ctx); err != nil {
					return err
				}
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s is at schema version %d\n", dbName(db), version)
			return err
		},
	}
	dbf.add(cmd.Flags(), env)
	return cmd
}
