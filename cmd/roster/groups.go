package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/client"
)

func newGroupsCommand(env getenv) *cobra.Command {
	r := remote{env: env, ids: true}
	cmd := &cobra.Command{
		Use:   "groups",
		Short: "Manage the groups of a SCIM server (Roster or any other) over HTTP",
		Long: `Manage the groups of a SCIM 2.0 server over HTTP: Roster, or any other.

--url names the server (default $ROSTER_URL); --token, --basic-user or
--oauth-client-id how to authenticate (see --help of a command). A GROUP
argument is a group's id or displayName; a MEMBER a user's or a group's
id, a userName or a group's displayName.
Output is a table; with -o json it is the SCIM JSON of each group, one
group a line. A failure exits non-zero with the server's status, scimType
and detail.`,
	}
	r.addFlags(cmd)

	patchCmd := newPatchCommand(&r, groupKind)
	patchCmd.Example = `  roster groups patch Engineering --op '{"op":"replace","path":"externalId","value":"okta-g1"}'
  roster groups patch $ID -f patch.json`
	cmd.AddCommand(newListCommand(&r, groupKind), newGetCommand(&r, groupKind),
		newGroupCreateCommand(&r), patchCmd,
		&cobra.Command{
			Use:     "rename GROUP NEW-NAME",
			Short:   "Set a group's displayName",
			Example: `  roster groups rename Engineering "Product Engineering"`,
			Args:    cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				if args[1] == "" {
					return errors.New("a group's new name cannot be empty")
				}
				return r.run(cmd, func(ctx context.Context, c *client.Client, out *printer) error {
					id, err := groupKind.resolve(ctx, c, args[0])
					if err != nil {
						return err
					}
					if err := c.Groups.Rename(ctx, id, args[1]); err != nil {
						return err
					}
					g, err := c.Groups.Get(ctx, id)
					if err != nil {
						return err
					}
					return printOne(out, groupTable, g)
				})
			},
		},
		newMembersCommand(&r, "add-members", "Add users (or groups) to a group", "added %s to %s", (*client.Groups).AddMembers),
		newMembersCommand(&r, "remove-members", "Remove members from a group", "removed %s from %s", (*client.Groups).RemoveMembers),
		newDeleteCommand(&r, groupKind, "Delete groups (their members stay)"))
	return cmd
}

// newMembersCommand returns add-members or remove-members, which finds
// the group and the members its arguments name, then calls change and
// prints, unless --quiet, a line for each member: done with the member
// and the group, such as "added %s to %s".
func newMembersCommand(r *remote, use, short, done string, change func(*client.Groups, context.Context, string, ...string) error) *cobra.Command {
	return &cobra.Command{
		Use:     use + " GROUP MEMBER...",
		Short:   short + ", by id or name",
		Example: fmt.Sprintf("  roster groups %s Engineering alice@example.com bob@example.com\n  roster groups %s $GROUP_ID $USER_ID", use, use),
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return r.run(cmd, func(ctx context.Context, c *client.Client, out *printer) error {
				group, err := groupKind.lookup(ctx, c, args[0])
				if err != nil {
					return err
				}
				members := make([]ref, len(args)-1)
				ids := make([]string, len(members))
				for i, m := range args[1:] {
					if members[i], err = resolveMember(ctx, c, m); err != nil {
						return err
					}
					ids[i] = members[i].id
				}
				if err := change(c.Groups, ctx, group.id, ids...); err != nil {
					return err
				}
				for _, m := range members {
					if err := out.printf(done+"\n", m, group); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
}

func newGroupCreateCommand(r *remote) *cobra.Command {
	var g client.Group
	var members []string
	cmd := newCreateCommand(r, groupKind, func(*cobra.Command) (*client.Group, error) {
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
