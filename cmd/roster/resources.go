package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/client/filter"
	"github.com/rosterhq/roster/client/patch"
)

// endpoint is what the users and groups commands call alike of
// client.Users and client.Groups.
type endpoint[T any] interface {
	All(ctx context.Context, q client.Query) iter.Seq2[*T, error]
	List(ctx context.Context, q client.Query) (*client.Page[T], error)
	Get(ctx context.Context, id string, attrs ...string) (*T, error)
	Create(ctx context.Context, res *T) (*T, error)
	PatchIfMatch(ctx context.Context, id, version string, ops ...patch.Op) (*T, error)
	Delete(ctx context.Context, id string) error
}

// kind is what the users and groups commands need to know of users or
// groups: what to call them, the attribute that names one, how to show
// them and where they are.
type kind[T any] struct {
	noun   string // user or group
	attr   string // the attribute that names one: userName or displayName
	table  table[T]
	of     func(*client.Client) endpoint[T]
	nameOf func(*T) string
}

var (
	userKind = kind[client.User]{noun: "user", attr: "userName", table: userTable,
		of:     func(c *client.Client) endpoint[client.User] { return c.Users },
		nameOf: func(u *client.User) string { return u.UserName },
	}
	groupKind = kind[client.Group]{noun: "group", attr: "displayName", table: groupTable,
		of:     func(c *client.Client) endpoint[client.Group] { return c.Groups },
		nameOf: func(g *client.Group) string { return g.DisplayName },
	}
)

// maxNamed is how many resources of one name a lookup asks for: one is
// the answer, more are listed in the error that says the name is
// ambiguous.
const maxNamed = 10

// find returns the resource arg stands for: the one whose id it is, else
// the one whose name (userName, displayName) it is, compared ignoring
// case as servers do. attrs are the attributes to return (all if none).
func (k kind[T]) find(ctx context.Context, c *client.Client, arg string, attrs ...string) (*T, error) {
	if arg == "" {
		return nil, fmt.Errorf("an empty %s id or %s", k.noun, k.attr)
	}
	res, err := k.of(c).Get(ctx, arg, attrs...)
	if !errors.Is(err, client.ErrNotFound) {
		return res, err
	}
	r, err := k.byName(ctx, c, arg, err)
	if err != nil {
		return nil, err
	}
	return k.of(c).Get(ctx, r.id, attrs...)
}

// resolve returns the id of the resource arg stands for, as find finds
// it, asking the server for no more than ids.
func (k kind[T]) resolve(ctx context.Context, c *client.Client, arg string) (string, error) {
	r, err := k.lookup(ctx, c, arg)
	return r.id, err
}

// ref names a resource a command acted on, for the line it prints.
type ref struct{ id, name string }

// String returns "alice@example.com (id 2819c223)", or "id 2819c223"
// when the server did not send the name.
func (r ref) String() string {
	if r.name == "" || r.name == r.id {
		return "id " + r.id
	}
	return r.name + " (id " + r.id + ")"
}

// lookup returns the id and name of the resource arg stands for, as find
// finds it, asking the server for no more than those.
func (k kind[T]) lookup(ctx context.Context, c *client.Client, arg string) (ref, error) {
	if arg == "" {
		return ref{}, fmt.Errorf("an empty %s id or %s", k.noun, k.attr)
	}
	res, err := k.of(c).Get(ctx, arg, k.attr)
	if !errors.Is(err, client.ErrNotFound) {
		if err != nil {
			return ref{}, err
		}
		return ref{id: k.table.id(res), name: k.nameOf(res)}, nil
	}
	return k.byName(ctx, c, arg, err)
}

// byName returns the one resource named name; notFound is the server's
// answer to name taken as an id, which the error wraps when no resource
// has that name either.
func (k kind[T]) byName(ctx context.Context, c *client.Client, name string, notFound error) (ref, error) {
	found, err := k.named(ctx, c, name)
	if err != nil {
		return ref{}, err
	}
	return only(found, notFound, fmt.Sprintf("%s has id or %s %q", k.noun, k.attr, name), k.noun+"s")
}

// named returns the resources named name, ignoring case. It checks the
// names the server answers, so that a server that ignores the filter
// cannot make a command act on another resource.
func (k kind[T]) named(ctx context.Context, c *client.Client, name string) ([]ref, error) {
	page, err := k.of(c).List(ctx, client.Query{Filter: filter.Eq(k.attr, name).String(), Attributes: []string{k.attr}, Count: maxNamed})
	if err != nil {
		return nil, fmt.Errorf("look up %s %q: %w", k.attr, name, err)
	}
	var found []ref
	for i := range page.Resources {
		if res := &page.Resources[i]; strings.EqualFold(k.nameOf(res), name) {
			found = append(found, ref{id: k.table.id(res), name: k.nameOf(res)})
		}
	}
	return found, nil
}

// only returns the one resource of found. With none it returns "no " +
// what, wrapping notFound (the server's 404 for the argument as an id);
// with more, an error that lists their ids, as some servers let two
// resources share a name.
func only(found []ref, notFound error, what, plural string) (ref, error) {
	switch len(found) {
	case 0:
		return ref{}, fmt.Errorf("no %s: %w", what, notFound)
	case 1:
		return found[0], nil
	}
	n := fmt.Sprint(len(found))
	if len(found) == maxNamed {
		n = "at least " + n
	}
	ids := make([]string, len(found))
	for i, r := range found {
		ids[i] = r.id
	}
	return ref{}, fmt.Errorf("more than one %s (%s %s: %s): give an id", what, n, plural, strings.Join(ids, ", "))
}

// resolveMember returns the user or group arg stands for, as a member of
// a group: a user's or a group's id, else a userName or a group's
// displayName. A name that is both a user's and a group's is ambiguous.
func resolveMember(ctx context.Context, c *client.Client, arg string) (ref, error) {
	if arg == "" {
		return ref{}, errors.New("an empty member id or name")
	}
	u, notFound := c.Users.Get(ctx, arg, userKind.attr)
	if !errors.Is(notFound, client.ErrNotFound) {
		if notFound != nil {
			return ref{}, notFound
		}
		return ref{id: u.ID, name: u.UserName}, nil
	}
	g, err := c.Groups.Get(ctx, arg, groupKind.attr)
	if !errors.Is(err, client.ErrNotFound) {
		if err != nil {
			return ref{}, err
		}
		return ref{id: g.ID, name: g.DisplayName}, nil
	}
	users, err := userKind.named(ctx, c, arg)
	if err != nil {
		return ref{}, err
	}
	groups, err := groupKind.named(ctx, c, arg)
	if err != nil {
		return ref{}, err
	}
	return only(append(users, groups...), notFound, fmt.Sprintf("user or group has id, userName or displayName %q", arg), "users and groups")
}

// newListCommand returns the list command of users or groups.
func newListCommand[T any](r *remote, k kind[T]) *cobra.Command {
	var q client.Query
	var order string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List " + k.noun + "s, all of them page after page unless --filter or --count narrows it",
		Example: fmt.Sprintf(`  roster %[1]ss list --filter '%[2]s sw "a"'
  roster %[1]ss list --sort-by %[2]s --sort-order descending --count 10`, k.noun, k.attr),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch strings.ToLower(order) {
			case "", "ascending":
			case "descending":
				q.Descending = true
			default:
				return fmt.Errorf("--sort-order must be ascending or descending, not %q", order)
			}
			if order != "" && q.SortBy == "" {
				return errors.New("--sort-order orders by --sort-by: give both")
			}
			return r.run(cmd, func(ctx context.Context, c *client.Client, out *printer) error {
				return printAll(out, k.table, firstN(k.of(c).All(ctx, q), q.Count))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Filter, "filter", "", `SCIM filter, such as 'userName sw "a"' or 'displayName eq "Engineering"'`)
	f.StringSliceVar(&q.Attributes, "attributes", nil, "attributes to return, such as userName,emails (default: all)")
	f.IntVar(&q.Count, "count", 0, "list at most this many (default: all, page after page)")
	f.StringVar(&q.SortBy, "sort-by", "", "attribute to sort by, such as "+k.attr+" or meta.lastModified (where the server sorts)")
	f.StringVar(&order, "sort-order", "", "ascending or descending, with --sort-by (default ascending)")
	return cmd
}

// newGetCommand returns the get command of users or groups.
func newGetCommand[T any](r *remote, k kind[T]) *cobra.Command {
	var attrs []string
	cmd := &cobra.Command{
		Use:   "get " + strings.ToUpper(k.noun),
		Short: fmt.Sprintf("Show a %s, by id or %s", k.noun, k.attr),
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return r.run(cmd, func(ctx context.Context, c *client.Client, out *printer) error {
				res, err := k.find(ctx, c, args[0], attrs...)
				if err != nil {
					return err
				}
				return printOne(out, k.table, res)
			})
		},
	}
	cmd.Flags().StringSliceVar(&attrs, "attributes", nil, "attributes to return (default: all)")
	return cmd
}

// newCreateCommand returns the create command of users or groups, which
// creates one from its SCIM JSON (-f FILE, or -f - for standard input),
// or from the flags the caller adds, which build makes a resource of.
func newCreateCommand[T any](r *remote, k kind[T], build func(*cobra.Command) (*T, error)) *cobra.Command {
	var file string
	noun := k.noun
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a " + noun + " from flags, or from its SCIM JSON (-f " + noun + ".json, or -f - for standard input)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var res *T
			if file == "" {
				var err error
				if res, err = build(cmd); err != nil {
					return err
				}
			} else {
				var flag string
				cmd.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
					if f.Changed && f.Name != "file" && flag == "" {
						flag = f.Name
					}
				})
				if flag != "" {
					return fmt.Errorf("-f and --%s do not go together: give the %s in the file, or in flags", flag, noun)
				}
				res = new(T)
				if err := readJSON(cmd, file, res); err != nil {
					return err
				}
			}
			return r.run(cmd, func(ctx context.Context, c *client.Client, out *printer) error {
				created, err := k.of(c).Create(ctx, res)
				if err != nil {
					return err
				}
				return printOne(out, k.table, created)
			})
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the "+noun+"'s SCIM JSON: a file, or - for standard input")
	return cmd
}

// newPatchCommand returns the patch command of users or groups, which
// takes its operations in --op flags or in a file.
func newPatchCommand[T any](r *remote, k kind[T]) *cobra.Command {
	var file, ifMatch string
	var opFlags []string
	noun, arg := k.noun, strings.ToUpper(k.noun)
	cmd := &cobra.Command{
		Use:   "patch " + arg + " (--op JSON... | -f FILE)",
		Short: "Change a " + noun + " with SCIM PATCH operations",
		Long: fmt.Sprintf(`Change a %s (by id or %s) with SCIM PATCH operations (RFC 7644 §3.5.2),
each in a --op flag, or in a file (or - for standard input) that holds a
PatchOp request or an array of operations. It prints the %s as changed.`, noun, k.attr, noun),
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
				id, err := k.resolve(ctx, c, args[0])
				if err != nil {
					return err
				}
				res, err := k.of(c).PatchIfMatch(ctx, id, ifMatch, ops...)
				if err == nil && res == nil {
					// 204 No Content: the server did not send it back.
					res, err = k.of(c).Get(ctx, id)
				}
				if err != nil {
					return err
				}
				return printOne(out, k.table, res)
			})
		},
	}
	cmd.Flags().StringArrayVar(&opFlags, "op", nil, `a PATCH operation in JSON, such as '{"op":"replace","path":"active","value":false}'; repeatable`)
	cmd.Flags().StringVarP(&file, "file", "f", "", "a PatchOp request, or an array of operations, in JSON: a file, or - for standard input")
	cmd.Flags().StringVar(&ifMatch, "if-match", "", "change the "+noun+" only if it is still at this version (meta.version)")
	return cmd
}

// newDeleteCommand returns the delete command of users or groups.
func newDeleteCommand[T any](r *remote, k kind[T], short string) *cobra.Command {
	return &cobra.Command{
		Use:   "delete " + strings.ToUpper(k.noun) + "...",
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: forEach(r, k, "deleted", func(ctx context.Context, c *client.Client, id string) error {
			return k.of(c).Delete(ctx, id)
		}),
	}
}

// firstN yields the first n resources of seq, all of them when n <= 0.
func firstN[T any](seq iter.Seq2[*T, error], n int) iter.Seq2[*T, error] {
	if n <= 0 {
		return seq
	}
	return func(yield func(*T, error) bool) {
		i := 0
		for res, err := range seq {
			if !yield(res, err) || err != nil {
				return
			}
			if i++; i == n {
				return
			}
		}
	}
}

// forEach returns the RunE of a command that does fn to each resource of
// its arguments (ids or names): it finds them all first, so that a name
// that matches nothing changes nothing, then does fn to each in turn,
// stopping at the first failure. After each it prints a line such as
// "deactivated alice@example.com (id 2819c223)", done being the verb,
// unless --quiet.
func forEach[T any](r *remote, k kind[T], done string, fn func(ctx context.Context, c *client.Client, id string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		return r.run(cmd, func(ctx context.Context, c *client.Client, out *printer) error {
			found := make([]ref, len(args))
			for i, arg := range args {
				var err error
				if found[i], err = k.lookup(ctx, c, arg); err != nil {
					return err
				}
			}
			for _, res := range found {
				if err := fn(ctx, c, res.id); err != nil {
					return err
				}
				if err := out.done(done, res); err != nil {
					return err
				}
			}
			return nil
		})
	}
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
