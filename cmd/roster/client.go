package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
)

// tokenPath is where a Roster server's OAuth 2.0 token endpoint is, from
// its root.
const tokenPath = "/oauth/token"

func newClientCommand(env getenv) *cobra.Command {
	var db dbFlag
	var directory, name, baseURL, output string
	cmd := &cobra.Command{Use: "client", Short: "Manage OAuth 2.0 clients (client credentials) of a directory"}
	db.add(cmd.PersistentFlags(), env)
	cmd.PersistentFlags().StringVar(&directory, "directory", "default", "directory name or id")
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a client and print its id, its secret (once) and the token URL to give them to",
		Example: `  roster client create --directory acme --name entra --base-url https://scim.example.com/scim/v2
  eval "$(roster client create --directory acme --name entra --base-url http://localhost:8080 -o env)"   # sets CLIENT_ID, CLIENT_SECRET, TOKEN_URL`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "env" {
				return fmt.Errorf("--output must be text or env, not %q", output)
			}
			base := cmp.Or(baseURL, env("ROSTER_URL"))
			var tokenURL string
			if base != "" {
				var err error
				if tokenURL, err = tokenURLOf(base); err != nil {
					return err
				}
			} else if output == "env" {
				return errors.New("-o env prints the token URL too: give --base-url, or set ROSTER_URL")
			}
			return withDirectory(cmd, &db, directory, func(ctx context.Context, st store.Store, d store.Directory) error {
				c, secret, err := st.CreateClient(ctx, d.ID, name)
				if err != nil {
					return err
				}
				w := cmd.OutOrStdout()
				if output == "env" {
					_, err = fmt.Fprintf(w, "CLIENT_ID=%s\nCLIENT_SECRET=%s\nTOKEN_URL=%s\n", shellQuote(c.ID), shellQuote(secret), shellQuote(tokenURL))
					return err
				}
				shown := tokenURL
				if shown == "" {
					shown = "the server's URL followed by " + tokenPath + ", such as http://localhost:8080" + tokenPath +
						" (give --base-url, or set ROSTER_URL, to print it)"
				}
				_, err = fmt.Fprintf(w, "client_id:     %s\nclient_secret: %s\ntoken URL:     %s\n", c.ID, secret, shown)
				return err
			})
		},
	}
	create.Flags().StringVar(&name, "name", "client", "a name to tell the client by, such as entra")
	create.Flags().StringVar(&baseURL, "base-url", "",
		"the server's public URL, as roster serve's --base-url (https://scim.example.com/scim/v2) or its root (http://localhost:8080), to print the token URL (default $ROSTER_URL)")
	create.Flags().StringVarP(&output, "output", "o", "text", "text, or env: CLIENT_ID=…, CLIENT_SECRET=… and TOKEN_URL=… lines for a shell's eval")
	var quiet bool
	revoke := &cobra.Command{
		Use:   "revoke CLIENT-ID",
		Short: "Revoke a client; its access tokens stop working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDirectory(cmd, &db, directory, func(ctx context.Context, st store.Store, d store.Directory) error {
				if err := st.RevokeClient(ctx, d.ID, args[0]); err != nil {
					return err
				}
				if quiet {
					return nil
				}
				c, err := st.Client(ctx, args[0])
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "revoked client %s of directory %s\n", ref{id: c.ID, name: c.Name}, d.Name)
				return err
			})
		},
	}
	revoke.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing on success")
	cmd.AddCommand(create, revoke)
	return cmd
}

// tokenURLOf returns the token endpoint of the server whose public URL is
// base: its SCIM base URL (ending in /scim/v2) or its root.
func tokenURLOf(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--base-url %q is not an http:// or https:// URL, such as https://scim.example.com/scim/v2", base)
	}
	root := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), server.BasePath)
	u.Path, u.RawPath, u.RawQuery, u.Fragment = strings.TrimSuffix(root, "/")+tokenPath, "", "", ""
	return u.String(), nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
