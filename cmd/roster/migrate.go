package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/store/database"
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
			version, err := database.Migrate(ctx, db)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s is at schema version %d\n", dbName(db), version)
			return err
		},
	}
	dbf.add(cmd.Flags(), env)
	return cmd
}
