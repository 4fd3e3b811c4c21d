package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/client/patch"
)

func newUsersCommand() *cobra.Command {
	var r remote
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage the users of a SCIM server (Roster or any other) over HTTP",
		Long: `Manage the users of a SCIM 2.0 server over HTTP: Roster, or any other.

--url and --token name the server (default $ROSTER_URL and $ROSTER_TOKEN).
Output is a table; with -o json it is the SCIM JSON of each user, one user
a line (JSON Lines: jq reads it as it comes, jq -s makes it an array).
A failure exits non-zero with the server's status, scimType and detail.`,
	}
	r.addFlags(cmd)

	users := func(c *client.Client) endpoint[client.User] { return c.Users }
	cmd.AddCommand(newListCommand(&r, "users", userTable, users), newGetCommand(&r, "user", userTable, users),
		newUserCreateCommand(&r, users), newUserUpdateCommand(&r), newUserPatchCommand(&r),
		newDeleteCommand(&r, "Delete users", users),
		&cobra.Command{
			Use:   "deactivate ID...",
			Short: "Set users' active to false, as an identity provider does when someone leaves",
			Args:  cobra.MinimumNArgs(1),
			RunE: forEachID(&r, func(ctx context.Context, c *client.Client, id string) error {
				return c.Users.Deactivate(ctx, id)
			}),
		},
		&cobra.Command{
			Use:   "activate ID...",
			Short: "Set users' active to true",
			Args:  cobra.MinimumNArgs(1),
			RunE: forEachID(&r, func(ctx context.Context, c *client.Client, id string) error {
				return c.Users.Activate(ctx, id)
			}),
		})
	return cmd
}

func newUserCreateCommand(r *remote, users func(*client.Client) endpoint[client.User]) *cobra.Command {
	var u client.User
	var name client.Name
	var emails []string
	var active bool
	cmd := newCreateCommand(r, "user", userTable, users, func(cmd *cobra.Command) (*client.User, error) {
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
		Use:   "update ID -f FILE",
		Short: "Replace a user (PUT) with its SCIM JSON from a file, or - for standard input",
		Long: `Replace a user (PUT) with its SCIM JSON from a file, or - for standard input.

When the JSON carries meta.version, as roster users get -o json prints it,
the server replaces the user only if it has not changed since: edit what
get printed, and a change made meanwhile is refused (412), not overwritten.`,
		Example: `  roster users get $ID -o json > alice.json   # edit alice.json
  roster users update $ID -f alice.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var u client.User
			if err := readJSON(cmd, file, &u); err != nil {
				return err
			}
			if u.ID != "" && u.ID != args[0] {
				return fmt.Errorf("the JSON is of user %s, not %s", u.ID, args[0])
			}
			u.ID = args[0]
			return r.run(cmd, func(ctx context.Context, c *client.Client, out *printer) error {
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

func newUserPatchCommand(r *remote) *cobra.Command {
	var file, ifMatch string
	var opFlags []string
	cmd := &cobra.Command{
		Use:   "patch ID (--op JSON... | -f FILE)",
		Short: "Change a user with SCIM PATCH operations",
		Long: `Change a user with SCIM PATCH operations (RFC 7644 §3.5.2), each in a
--op flag, or in a file (or - for standard input) that holds a PatchOp
request or an array of operations. It prints the user as changed.`,
		Example: `  roster users patch $ID --op '{"op":"replace","path":"active","value":false}'
  roster users patch $ID --op '{"op":"replace","path":"title","value":"Engineer"}' --op '{"op":"remove","path":"nickName"}'
  roster users patch $ID -f patch.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ops []patch.Op
			switch {
			case file != "" && len(opFlags) > 0:
				return errors.New("-f and --op do not go together: give the operations in the file, or in flags")
			case file != "":
				var raw json.RawMessage
				if err := readJSON(cmd, file, &raw); err != nil {
					return err
				}
				var err error
				if ops, err = parsePatch(raw); err != nil {
					return fmt.Errorf("%s: %w", file, err)
				}
			case len(opFlags) == 0:
				return errors.New("give operations with --op, or with -f")
			default:
				for _, s := range opFlags {
					op, err := parseOp([]byte(s))
					if err != nil {
						return fmt.Errorf("--op %s: %w", s, err)
					}
					ops = append(ops, op)
				}
			}
			return r.run(cmd, func(ctx context.Context, c *client.Client, out *printer) error {
				u, err := c.Users.PatchIfMatch(ctx, args[0], ifMatch, ops...)
				if err == nil && u == nil {
					// 204 No Content: the server did not send the user back.
					u, err = c.Users.Get(ctx, args[0])
				}
				if err != nil {
					return err
				}
				return printOne(out, userTable, u)
			})
		},
	}
	cmd.Flags().StringArrayVar(&opFlags, "op", nil, `a PATCH operation in JSON, such as '{"op":"replace","path":"active","value":false}'; repeatable`)
	cmd.Flags().StringVarP(&file, "file", "f", "", "a PatchOp request, or an array of operations, in JSON: a file, or - for standard input")
	cmd.Flags().StringVar(&ifMatch, "if-match", "", "change the user only if it is still at this version (meta.version)")
	return cmd
}

// parsePatch reads PATCH operations: a PatchOp request, or an array of
// operations.
func parsePatch(data []byte) ([]patch.Op, error) {
	var list []json.RawMessage
	if data = bytes.TrimSpace(data); bytes.HasPrefix(data, []byte("[")) {
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, err
		}
	} else {
		var req struct {
			Schemas    []string          `json:"schemas"`
			Operations []json.RawMessage `json:"Operations"`
		}
		if err := strict(data, &req); err != nil {
			return nil, err
		}
		list = req.Operations
	}
	if len(list) == 0 {
		return nil, errors.New("no operations")
	}
	ops := make([]patch.Op, len(list))
	for i, raw := range list {
		var err error
		if ops[i], err = parseOp(raw); err != nil {
			return nil, fmt.Errorf("operation %d: %w", i+1, err)
		}
	}
	return ops, nil
}

// parseOp reads one PATCH operation. Its value is kept as the JSON it is,
// so that a large number or a nested object goes out unchanged.
func parseOp(data []byte) (patch.Op, error) {
	var o struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	}
	if err := strict(data, &o); err != nil {
		return patch.Op{}, err
	}
	if o.Op == "" {
		return patch.Op{}, errors.New(`no "op" (add, replace or remove)`)
	}
	op := patch.Op{Op: o.Op, Path: o.Path}
	if len(o.Value) > 0 {
		op.Value = o.Value
	}
	return op, nil
}

// strict decodes one JSON value into v, refusing fields v has no place
// for, so that a misspelt "vaule" is an error and not an operation
// without a value.
func strict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more than one JSON value")
	}
	return nil
}
