package main

import (
	"context"
	"errors"
	"fmt"

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

	var list listFlags
	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List groups, all of them page after page unless --filter or --count narrows it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return r.run(cmd, func(ctx context.Context, c *client.Client, out *printer) error {
				return printAll(out, groupTable, firstN(c.Groups.All(ctx, list.query()), list.count))
			})
		},
	}
	list.add(listCmd)

	var attrs []string
	get := &cobra.Command{
		Use:   "get ID",
		Short: "Show a group",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return r.run(cmd, func(ctx context.Context, c *client.Client, out *printer) error {
				g, err := c.Groups.Get(ctx, args[0], attrs...)
				if err != nil {
					return err
				}
				return printOne(out, groupTable, g)
			})
		},
	}
	get.Flags().StringSliceVar(&attrs, "attributes", nil, "attributes to return (default: all)")

	cmd.AddCommand(listCmd, get, newGroupCreateCommand(&r),
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
		&cobra.Command{
			Use:   "delete ID...",
			Short: "Delete groups (their members stay)",
			Args:  cobra.MinimumNArgs(1),
			RunE: forEachID(&r, func(ctx context.Context, c *client.Client, id string) error {
				return c.Groups.Delete(ctx, id)
			}),
		})
	return cmd
}

func newGroupCreateCommand(r *remote) *cobra.Command {
	var file string
	var g client.Group
	var members []string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a group from flags, or from its SCIM JSON (-f group.json, or -f - for standard input)",
		Example: `  roster groups create --display-name Engineering --member $ALICE_ID --member $BOB_ID
  roster groups create -f engineering.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			flag, fromFlags := changedAny(cmd, "display-name", "member", "external-id")
			switch {
			case file != "" && fromFlags:
				return fmt.Errorf("-f and --%s do not go together: give the group in the file, or in flags", flag)
			case file != "":
				g = client.Group{}
				if err := readJSON(cmd, file, &g); err != nil {
					return err
				}
			case g.DisplayName == "":
				return errors.New("give --display-name, or the group's JSON with -f")
			default:
				for _, m := range members {
					g.Members = append(g.Members, client.Member{Value: m})
				}
			}
			return r.run(cmd, func(ctx context.Context, c *client.Client, out *printer) error {
				created, err := c.Groups.Create(ctx, &g)
				if err != nil {
					return err
				}
				return printOne(out, groupTable, created)
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "the group's SCIM JSON: a file, or - for standard input")
	f.StringVar(&g.DisplayName, "display-name", "", "displayName, such as Engineering")
	f.StringSliceVar(&members, "member", nil, "id of a user or group to make a member; repeatable")
	f.StringVar(&g.ExternalID, "external-id", "", "externalId, the identity provider's id for the group")
	return cmd
}
