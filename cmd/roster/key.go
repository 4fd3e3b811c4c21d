package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/store"
)

// newKeyCommand is roster key: the keys of the management API.
func newKeyCommand(env getenv) *cobra.Command {
	var db dbFlag
	cmd := &cobra.Command{Use: "key", Short: "Manage the keys of the management API (/api/v1)"}
	db.add(cmd.PersistentFlags(), env)
	var name, expires string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a management key and print it once, alone on the last line",
		Example: `  roster key create --name app
  KEY=$(roster key create --name app | tail -n 1)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return fmt.Errorf("--name is required: say what the key is for, such as --name app")
			}
			var until time.Time
			if expires != "" {
				d, err := parseDuration(expires)
				if err != nil {
					return err
				}
				until = time.Now().Add(d)
			}
			return withStore(cmd, &db, func(ctx context.Context, st store.Store) error {
				k, secret, err := st.CreateManagementKey(ctx, name, until)
				if err != nil {
					return err
				}
				w := cmd.OutOrStdout()
				fmt.Fprintf(w, "Created management key %q (%s); it is shown once. Send it as a bearer token to /api/v1:\n", k.Name, k.ID)
				_, err = fmt.Fprintln(w, secret)
				return err
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "what the key is for (unique)")
	create.Flags().StringVar(&expires, "expires", "", "lifetime, such as 90d or 12h (default: never expires)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List management keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, &db, func(ctx context.Context, st store.Store) error {
				keys, err := st.ManagementKeys(ctx)
				if err != nil {
					return err
				}
				tw := newTable(cmd.OutOrStdout(), "NAME", "ID", "CREATED", "EXPIRES", "LAST USED", "REVOKED")
				for _, k := range keys {
					writeRow(tw, k.Name, k.ID, stamp(k.Created), stamp(k.Expires), stamp(k.LastUsed), fmt.Sprint(k.Revoked))
				}
				return tw.Flush()
			})
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke NAME_OR_ID",
		Short: "Revoke a management key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, &db, func(ctx context.Context, st store.Store) error {
				if err := st.RevokeManagementKey(ctx, args[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "Revoked management key %s\n", args[0])
				return err
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
