package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/store"
)

func newClientCommand(env getenv) *cobra.Command {
	var db dbFlag
	var directory, name string
	cmd := &cobra.Command{Use: "client", Short: "Manage OAuth 2.0 clients (client credentials) of a directory"}
	db.add(cmd.PersistentFlags(), env)
	cmd.PersistentFlags().StringVar(&directory, "directory", "default", "directory name or id")
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a client and print its id and secret (the secret once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDirectory(cmd, db.String(), directory, func(ctx context.Context, st store.Store, d store.Directory) error {
				c, secret, err := st.CreateClient(ctx, d.ID, name)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "client_id:     %s\nclient_secret: %s\ntoken URL:     <base>/oauth/token\n", c.ID, secret)
				return err
			})
		},
	}
	create.Flags().StringVar(&name, "name", "client", "a name to tell the client by, such as entra")
	revoke := &cobra.Command{
		Use:   "revoke CLIENT-ID",
		Short: "Revoke a client; its access tokens stop working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDirectory(cmd, db.String(), directory, func(ctx context.Context, st store.Store, d store.Directory) error {
				return st.RevokeClient(ctx, d.ID, args[0])
			})
		},
	}
	cmd.AddCommand(create, revoke)
	return cmd
}
