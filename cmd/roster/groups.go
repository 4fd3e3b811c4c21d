package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/client"
)

func newGroupsCommand() *cobra.Command {
	var r remote
	cmd := &cobra.Command{
		Use:   "groups",
		Short: "Manage the groups of a SCIM server (Roster or any other) over HTTP",
		Long: `Manage the groups of a SCIM 2.0 server over HTTP: Roster, or any other.

--url and --token name the server (default $ROSTER_URL and $ROSTER_TOKEN).
Output is a table; with -o json it is the SCIM JSON of each group, one
group a line. A failure exits non-zero with the server's status, scimType
and detail.`,
	}
	r.addFlags(cmd)

	groups := func(c *client.Client) endpoint[client.Group] { return c.Groups }
	cmd.AddCommand(newListCommand(&r, "groups", groupTable, groups), newGetCommand(&r, "group", groupTable, groups),
		newGroupCreateCommand(&r, groups),
		&cobra.Command{
			Use:   "add-members GROUP-ID MEMBER-ID...",
			Short: "Add users (or groups) to a group, by id",
			Args:  cobra.MinimumNArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				return r.run(cmd, func(ctx context.Context, c *client.Client, _ *printer) error {
					return c.Groups.AddMembers(ctx, args[0], args[1:]...)
				})
			},
		},
		&cobra.Command{
			Use:   "remove-members GROUP-ID MEMBER-ID...",
			Short: "Remove members from a group, by id",
			Args:  cobra.MinimumNArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				return r.run(cmd, func(ctx context.Context, c *client.Client, _ *printer) error {
					return c.Groups.RemoveMembers(ctx, args[0], args[1:]...)
				})
			},
		},
		newDeleteCommand(&r, "Delete groups (their members stay)", groups))
	return cmd
}

func newGroupCreateCommand(r *remote, groups func(*client.Client) endpoint[client.Group]) *cobra.Command {
	var g client.Group
	var members []string
	cmd := newCreateCommand(r, "group", groupTable, groups, func(*cobra.Command) (*client.Group, error) {
		if g.DisplayName == "" {
			return nil, errors.New("give --display-name, or the group's JSON with -f")
		}
		for _, m := range members {
			g.Members = append(g.Members, client.Member{Value: m})
		}
		return &g, nil
	})
	cmd.Example = `  roster groups create --display-name Engineering --member $ALICE_ID --member $BOB_ID
  roster groups create -f engineering.json`
	f := cmd.Flags()
	f.StringVar(&g.DisplayName, "display-name", "", "displayName, such as Engineering")
	f.StringSliceVar(&members, "member", nil, "id of a user or group to make a member; repeatable")
	f.StringVar(&g.ExternalID, "external-id", "", "externalId, the identity provider's id for the group")
	return cmd
}
