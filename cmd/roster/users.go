package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/client"
)

func newUsersCommand(env getenv) *cobra.Command {
	r := remote{env: env, ids: true}
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage the users of a SCIM server (Roster or any other) over HTTP",
		Long: `Manage the users of a SCIM 2.0 server over HTTP: Roster, or any other.

--url names the server (default $ROSTER_URL); --token, --basic-user or
--oauth-client-id how to authenticate (see --help of a command). A USER
argument is a user's id or userName.
Output is a table; with -o json it is the SCIM JSON of each user, one user
a line (JSON Lines: jq reads it as it comes, jq -s makes it an array).
A failure exits non-zero with the server's status, scimType and detail.`,
	}
	r.addFlags(cmd)

	patchCmd := newPatchCommand(&r, userKind)
	patchCmd.Example = `  roster users patch alice@example.com --op '{"op":"replace","path":"active","value":false}'
  roster users patch $ID --op '{"op":"replace","path":"title","value":"Engineer"}' --op '{"op":"remove","path":"nickName"}'
  roster users patch $ID -f patch.json`
	cmd.AddCommand(newListCommand(&r, userKind), newGetCommand(&r, userKind),
		newUserCreateCommand(&r), newUserUpdateCommand(&r), patchCmd,
		newDeleteCommand(&r, userKind, "Delete users"),
		&cobra.Command{
			Use:   "deactivate USER...",
			Short: "Set users' active to false, as an identity provider does when someone leaves",
			Args:  cobra.MinimumNArgs(1),
			RunE: forEach(&r, userKind, "deactivated", func(ctx context.Context, c *client.Client, id string) error {
				return c.Users.Deactivate(ctx, id)
			}),
		},
		&cobra.Command{
			Use:   "activate USER...",
			Short: "Set users' active to true",
			Args:  cobra.MinimumNArgs(1),
			RunE: forEach(&r, userKind, "activated", func(ctx context.Context, c *client.Client, id string) error {
				return c.Users.Activate(ctx, id)
			}),
		})
	return cmd
}

func newUserCreateCommand(r *remote) *cobra.Command {
	var u client.User
	var name client.Name
	var emails []string
	var active bool
	cmd := newCreateCommand(r, userKind, func(cmd *cobra.Command) (*client.User, error) {
		if u.UserName == "" {
			return nil, errors.New("give --user-name, or the user's JSON with -f")
		}
		if name != (client.Name{}) {
			u.Name = &name
		}
		for i, e := range emails {
			u.Emails = append(u.Emails, client.Email{Value: e, Primary: i == 0})
		}
		if cmd.Flags().Changed("active") {
			u.Active = client.Bool(active)
		}
		return &u, nil
	})
	cmd.Example = `  roster users create --user-name alice@example.com --given-name Alice --family-name Ng --email alice@example.com
  roster users create -f alice.json
  echo '{"userName":"bob@example.com","active":true}' | roster users create -f -`
	f := cmd.Flags()
	f.StringVar(&u.UserName, "user-name", "", "userName, unique on the server, such as alice@example.com")
	f.StringVar(&name.GivenName, "given-name", "", "name.givenName")
	f.StringVar(&name.FamilyName, "family-name", "", "name.familyName")
	f.StringVar(&u.DisplayName, "display-name", "", "displayName")
	f.StringSliceVar(&emails, "email", nil, "email address, repeatable; the first is primary")
	f.BoolVar(&active, "active", false, "active; --active=false creates the user inactive (default: the server's default)")
	f.StringVar(&u.ExternalID, "external-id", "", "externalId, the identity provider's id for the user")
	return cmd
}

func newUserUpdateCommand(r *remote) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "update USER -f FILE",
		Short: "Replace a user (PUT) with its SCIM JSON from a file, or - for standard input",
		Long: `Replace a user (PUT) with its SCIM JSON from a file, or - for standard input.

When the JSON carries meta.version, as roster users get -o json prints it,
the server replaces the user only if it has not changed since: edit what
get printed, and a change made meanwhile is refused (412), not overwritten.`,
		Example: `  roster users get alice@example.com -o json > alice.json   # edit alice.json
  roster users update alice@example.com -f alice.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var u client.User
			if err := readJSON(cmd, file, &u); err != nil {
				return err
			}
			return r.run(cmd, func(ctx context.Context, c *client.Client, out *printer) error {
				id, err := userKind.resolve(ctx, c, args[0])
				if err != nil {
					return err
				}
				if u.ID != "" && u.ID != id {
					if id != args[0] {
						id = args[0] + " (" + id + ")"
					}
					return fmt.Errorf("the JSON is of user %s, not %s", u.ID, id)
				}
				u.ID = id
				replaced, err := c.Users.Replace(ctx, &u)
				if err != nil {
					return err
				}
				return printOne(out, userTable, replaced)
			})
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the user's SCIM JSON: a file, or - for standard input")
	cmd.MarkFlagRequired("file")
	return cmd
}
