package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/database"
)

// withStore opens the database named by the --db flag for the duration of
// fn. The database must exist: an admin command run in the wrong folder
// must not create an empty roster.db there and then fail to find the
// directory it was asked about.
func withStore(cmd *cobra.Command, flag *dbFlag, fn func(context.Context, store.Store) error) error {
	env, db := flag.env, flag.String()
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	key, err := loadSecretKey(db, env(secretKeyFileEnv), env, false)
	if err != nil {
		return err
	}
	st, err := database.OpenExisting(ctx, db, key.options()...)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no database at %s: roster serve creates it (roster.db in the folder it runs in, or its --db); "+
			"run this command in that folder, or point at the server's database with --db or ROSTER_DB", dbName(db))
	}
	if err != nil {
		return explainKeyError(err, db, key)
	}
	defer st.Close()
	// What the command changes, its events say the CLI did.
	ctx = store.WithEventContext(ctx, store.EventContext{Source: store.SourceCLI})
	return explainKeyError(fn(ctx, st), db, key)
}

// withDirectory is withStore for a command about one directory, named by
// name or id.
func withDirectory(cmd *cobra.Command, db *dbFlag, directory string, fn func(context.Context, store.Store, store.Directory) error) error {
	return withStore(cmd, db, func(ctx context.Context, st store.Store) error {
		d, err := st.Directory(ctx, directory)
		if err != nil {
			return err
		}
		return fn(ctx, st, d)
	})
}

func newDirectoryCommand(env getenv) *cobra.Command {
	var db dbFlag
	cmd := &cobra.Command{Use: "directory", Short: "Manage directories (tenants)"}
	db.add(cmd.PersistentFlags(), env)
	cmd.AddCommand(&cobra.Command{
		Use:   "create NAME",
		Short: "Create a directory",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, &db, func(ctx context.Context, st store.Store) error {
				d, err := st.CreateDirectory(ctx, args[0])
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "Created directory %s (%s)\n", d.Name, d.ID)
				return err
			})
		},
	}, &cobra.Command{
		Use:   "delete NAME_OR_ID",
		Short: "Delete a directory with its users, groups, tokens and clients (its events stay until they expire)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, &db, func(ctx context.Context, st store.Store) error {
				if err := st.DeleteDirectory(ctx, args[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "Deleted directory %s\n", args[0])
				return err
			})
		},
	}, &cobra.Command{
		Use:   "list",
		Short: "List directories",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, &db, func(ctx context.Context, st store.Store) error {
				dirs, err := st.Directories(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tID\tCREATED")
				for _, d := range dirs {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Name, d.ID, d.Created.Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	})
	return cmd
}

func newTokenCommand(env getenv) *cobra.Command {
	var db dbFlag
	var directory string
	cmd := &cobra.Command{Use: "token", Short: "Manage the bearer tokens of a directory"}
	db.add(cmd.PersistentFlags(), env)
	cmd.PersistentFlags().StringVar(&directory, "directory", "default", "directory name or id")
	var name, expires string
	var asJWT bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a token and print it once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var until time.Time
			if expires != "" {
				d, err := parseDuration(expires)
				if err != nil {
					return err
				}
				until = time.Now().Add(d)
			}
			if asJWT && database.KindOf(db.String()) == database.PostgreSQL {
				// Signing may make the first signing key, which without the
				// servers' secret key would be kept in clear.
				key, err := loadSecretKey(db.String(), db.env(secretKeyFileEnv), db.env, false)
				if err != nil {
					return err
				}
				if key.key == nil {
					return fmt.Errorf("token create --jwt on PostgreSQL needs the secret key the servers use, to keep the signing keys encrypted: set %s or %s", secretKeyEnv, secretKeyFileEnv)
				}
			}
			return withDirectory(cmd, &db, directory, func(ctx context.Context, st store.Store, d store.Directory) error {
				if asJWT && until.IsZero() {
					until = time.Now().Add(365 * 24 * time.Hour)
				}
				tok, secret, err := st.CreateToken(ctx, d.ID, name, until)
				if err != nil {
					return err
				}
				if asJWT {
					// The JWT stands for the stored token: revoking the token
					// revokes it.
					if secret, err = server.IssueJWT(ctx, st, d.ID, "token:"+tok.ID, until); err != nil {
						return err
					}
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), secret)
				return err
			})
		},
	}
	create.Flags().StringVar(&name, "name", "token", "a name to tell the token by, such as okta-prod")
	create.Flags().StringVar(&expires, "expires", "", "lifetime, such as 90d or 12h (default: never expires; a year with --jwt)")
	create.Flags().BoolVar(&asJWT, "jwt", false, "print a signed JWT with an expiry instead of an opaque token")
	list := &cobra.Command{
		Use:   "list",
		Short: "List a directory's tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDirectory(cmd, &db, directory, func(ctx context.Context, st store.Store, d store.Directory) error {
				toks, err := st.Tokens(ctx, d.ID)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tID\tCREATED\tEXPIRES\tLAST USED\tREVOKED")
				for _, t := range toks {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\n", t.Name, t.ID, stamp(t.Created), stamp(t.Expires), stamp(t.LastUsed), t.Revoked)
				}
				return tw.Flush()
			})
		},
	}
	var quiet bool
	revoke := &cobra.Command{
		Use:   "revoke NAME-OR-ID",
		Short: "Revoke a token (every token of that name)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDirectory(cmd, &db, directory, func(ctx context.Context, st store.Store, d store.Directory) error {
				toks, err := st.Tokens(ctx, d.ID)
				if err != nil {
					return err
				}
				if err := st.RevokeToken(ctx, d.ID, args[0]); err != nil {
					return err
				}
				for _, t := range toks {
					if (t.ID == args[0] || t.Name == args[0]) && !quiet {
						fmt.Fprintf(cmd.OutOrStdout(), "revoked token %s of directory %s\n", ref{id: t.ID, name: t.Name}, d.Name)
					}
				}
				return nil
			})
		},
	}
	revoke.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing on success")
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339)
}

// parseDuration accepts Go durations and whole days ("90d").
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != days {
			return 0, fmt.Errorf("invalid lifetime %q: use a number of days such as 90d, or a duration such as 12h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid lifetime %q: use a number of days such as 90d, or a duration such as 12h", s)
	}
	return d, nil
}
