package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/store"
)

// setupLinkTTL is how long a one-time setup link of the console works.
const setupLinkTTL = 24 * time.Hour

// newAdminCommand is roster admin: the web console's administrators.
func newAdminCommand(env getenv) *cobra.Command {
	var db dbFlag
	var consoleURL string
	var passwordStdin bool
	cmd := &cobra.Command{Use: "admin", Short: "Manage the administrators of the web console (/ui)"}
	db.add(cmd.PersistentFlags(), env)
	cmd.PersistentFlags().StringVar(&consoleURL, "url", "http://localhost:8080", "the URL roster serve answers at (its --admin-addr's, if set), for the link")
	cmd.PersistentFlags().BoolVar(&passwordStdin, "password-stdin", false, "set the password read from stdin's first line instead of printing a link")
	// set creates or resets an admin: a one-time link, or the password
	// read from stdin.
	set := func(cmd *cobra.Command, name string, create bool) error {
		return withConsoleStore(cmd, &db, func(ctx context.Context, st console.Store) error {
			_, _, err := st.AdminPassword(ctx, name)
			switch {
			case create && err == nil:
				return fmt.Errorf("an admin named %q exists: roster admin reset %s gives it a new password", name, name)
			case !create && errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("there is no admin named %q: roster admin create %s makes one", name, name)
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return err
			}
			w := cmd.OutOrStdout()
			if passwordStdin {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return fmt.Errorf("read the password from stdin: %w", err)
				}
				hash, err := console.HashPassword(strings.TrimRight(line, "\r\n"))
				if err != nil {
					return err
				}
				if _, err := st.SetAdminPassword(ctx, name, hash); err != nil {
					return err
				}
				_, err = fmt.Fprintf(w, "Set the password of admin %q; its sessions have ended.\n", name)
				return err
			}
			_, secret, err := st.AdminSetup(ctx, name, time.Now().Add(setupLinkTTL))
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "Open this link to set the password of admin %q (it works once, for %s):\n", name, setupLinkTTL)
			_, err = fmt.Fprintln(w, setupLink(consoleURL, secret))
			return err
		})
	}
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a console admin: print a one-time link that sets its password",
		Example: `  roster admin create ada
  echo 'a long passphrase' | roster admin create ada --password-stdin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return set(cmd, args[0], true) },
	}
	reset := &cobra.Command{
		Use:   "reset NAME",
		Short: "Reset a console admin's password: print a one-time link (the old password works until it is used)",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return set(cmd, args[0], false) },
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the console's admins",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withConsoleStore(cmd, &db, func(ctx context.Context, st console.Store) error {
				admins, err := st.Admins(ctx)
				if err != nil {
					return err
				}
				tw := newTable(cmd.OutOrStdout(), "NAME", "CREATED", "PASSWORD")
				for _, a := range admins {
					state := "set"
					if !a.HasPassword {
						state = "not set (a setup link is pending)"
					}
					writeRow(tw, a.Name, stamp(a.Created), state)
				}
				return tw.Flush()
			})
		},
	}
	cmd.AddCommand(create, reset, list)
	return cmd
}

// withConsoleStore is withStore for the commands that need the console's
// tables.
func withConsoleStore(cmd *cobra.Command, flag *dbFlag, fn func(context.Context, console.Store) error) error {
	return withStore(cmd, flag, func(ctx context.Context, st store.Store) error {
		cs, ok := st.(console.Store)
		if !ok {
			return fmt.Errorf("the store %T keeps no console admins", st)
		}
		return fn(ctx, cs)
	})
}

// setupLink is the console's one-time setup link at base (the server's
// URL).
func setupLink(base, secret string) string {
	return strings.TrimRight(base, "/") + console.BasePath + "/setup?token=" + url.QueryEscape(secret)
}
