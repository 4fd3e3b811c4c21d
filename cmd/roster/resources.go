package main

import (
	"context"
	"fmt"
	"iter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rosterhq/roster/client"
)

// endpoint is what the users and groups commands call alike of
// client.Users and client.Groups.
type endpoint[T any] interface {
	All(ctx context.Context, q client.Query) iter.Seq2[*T, error]
	Get(ctx context.Context, id string, attrs ...string) (*T, error)
	Create(ctx context.Context, res *T) (*T, error)
	Delete(ctx context.Context, id string) error
}

// newListCommand returns the list command of users or groups (noun).
func newListCommand[T any](r *remote, noun string, t table[T], of func(*client.Client) endpoint[T]) *cobra.Command {
	var q client.Query
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List " + noun + ", all of them page after page unless --filter or --count narrows it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return r.run(cmd, func(ctx context.Context, c *client.Client, out *printer) error {
				return printAll(out, t, firstN(of(c).All(ctx, q), q.Count))
			})
		},
	}
	cmd.Flags().StringVar(&q.Filter, "filter", "", `SCIM filter, such as 'userName sw "a"' or 'displayName eq "Engineering"'`)
	cmd.Flags().StringSliceVar(&q.Attributes, "attributes", nil, "attributes to return, such as userName,emails (default: all)")
	cmd.Flags().IntVar(&q.Count, "count", 0, "list at most this many (default: all, page after page)")
	return cmd
}

// newGetCommand returns the get command of users or groups.
func newGetCommand[T any](r *remote, noun string, t table[T], of func(*client.Client) endpoint[T]) *cobra.Command {
	var attrs []string
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show a " + noun,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return r.run(cmd, func(ctx context.Context, c *client.Client, out *printer) error {
				res, err := of(c).Get(ctx, args[0], attrs...)
				if err != nil {
					return err
				}
				return printOne(out, t, res)
			})
		},
	}
	cmd.Flags().StringSliceVar(&attrs, "attributes", nil, "attributes to return (default: all)")
	return cmd
}

// newCreateCommand returns the create command of users or groups, which
// creates one from its SCIM JSON (-f FILE, or -f - for standard input),
// or from the flags the caller adds, which build makes a resource of.
func newCreateCommand[T any](r *remote, noun string, t table[T], of func(*client.Client) endpoint[T], build func(*cobra.Command) (*T, error)) *cobra.Command {
	var file string
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
				created, err := of(c).Create(ctx, res)
				if err != nil {
					return err
				}
				return printOne(out, t, created)
			})
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the "+noun+"'s SCIM JSON: a file, or - for standard input")
	return cmd
}

// newDeleteCommand returns the delete command of users or groups.
func newDeleteCommand[T any](r *remote, short string, of func(*client.Client) endpoint[T]) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID...",
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: forEachID(r, func(ctx context.Context, c *client.Client, id string) error {
			return of(c).Delete(ctx, id)
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

// forEachID returns the RunE of a command that does fn to each id of its
// arguments in turn, stopping at the first failure.
func forEachID(r *remote, fn func(ctx context.Context, c *client.Client, id string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, ids []string) error {
		return r.run(cmd, func(ctx context.Context, c *client.Client, _ *printer) error {
			for _, id := range ids {
				if err := fn(ctx, c, id); err != nil {
					return err
				}
			}
			return nil
		})
	}
}
