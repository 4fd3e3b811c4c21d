package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/webhook"
)

// rotationOverlap is how long a rotated webhook secret still signs beside
// the new one.
const rotationOverlap = 24 * time.Hour

func newWebhookCommand(env getenv) *cobra.Command {
	var db dbFlag
	cmd := &cobra.Command{Use: "webhook", Short: "Manage the webhooks events are delivered to, and receive them"}
	db.add(cmd.PersistentFlags(), env)
	cmd.AddCommand(newWebhookCreateCommand(&db), newWebhookUpdateCommand(&db), newWebhookListCommand(&db),
		newWebhookDeleteCommand(&db), newWebhookRotateCommand(&db), newWebhookDeliveriesCommand(&db),
		newWebhookRedeliverCommand(&db), newWebhookListenCommand())
	return cmd
}

// checkEventTypes refuses a type that is no event type.
func checkEventTypes(types []string) error {
	for _, t := range types {
		if !store.IsEventType(t) {
			return fmt.Errorf("--type %q is not an event type; the types are %s", t, strings.Join(store.EventTypes, ", "))
		}
	}
	return nil
}

func newWebhookCreateCommand(db *dbFlag) *cobra.Command {
	var url, directory, output string
	var types []string
	var allowPrivate bool
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a webhook and print its id and signing secret (the secret alone on the last line)",
		Long: `Create a webhook: the events of a directory (--directory), or of every
directory, of the given types (--type, repeated; all by default), are
POSTed to --url from now on, in order, signed with the secret printed
(Standard Webhooks: verify with webhook.Verify, or roster webhook listen).
A URL that resolves to a loopback, link-local or private address is
refused unless --allow-private; roster serve delivers to one only with
--allow-private-webhooks.`,
		Example: `  roster webhook create --url https://app.example.com/roster-events --directory acme --type user.created --type user.deactivated
  eval "$(roster webhook create --url https://app.example.com/roster-events -o env)"   # sets WEBHOOK_ID, WEBHOOK_SECRET`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "env" {
				return fmt.Errorf("--output must be text or env, not %q", output)
			}
			if err := checkEventTypes(types); err != nil {
				return err
			}
			if err := webhook.CheckURL(cmd.Context(), url, allowPrivate); err != nil {
				return explainPrivate(err)
			}
			return withStore(cmd, db, func(ctx context.Context, st store.Store) error {
				w, err := st.CreateWebhook(ctx, store.WebhookSpec{URL: url, Directory: directory, Types: types})
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if output == "env" {
					_, err = fmt.Fprintf(out, "WEBHOOK_ID=%s\nWEBHOOK_SECRET=%s\n", shellQuote(w.ID), shellQuote(w.Secret))
					return err
				}
				_, err = fmt.Fprintf(out, "Created webhook %s for %s (%s); its signing secret:\n%s\n", w.ID, w.URL, describeWebhook(ctx, st, w), w.Secret)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "the endpoint's URL (http or https)")
	cmd.MarkFlagRequired("url")
	cmd.Flags().StringVar(&directory, "directory", "", "the directory name or id whose events it gets (default: every directory's)")
	cmd.Flags().StringArrayVar(&types, "type", nil, "an event type it gets, such as user.created (repeat it; default: all)")
	cmd.Flags().BoolVar(&allowPrivate, "allow-private", false, "allow a URL on a loopback, link-local or private address")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text, or env: WEBHOOK_ID=… and WEBHOOK_SECRET=… lines for a shell's eval")
	return cmd
}

// explainPrivate adds to a refusal of a private address how to allow it.
func explainPrivate(err error) error {
	if errors.Is(err, webhook.ErrPrivateAddress) {
		return fmt.Errorf("%w (pass --allow-private for a receiver on this machine or network; roster serve then needs --allow-private-webhooks)", err)
	}
	return err
}

// describeWebhook says whose events of which types a webhook gets.
func describeWebhook(ctx context.Context, st store.Store, w store.Webhook) string {
	dir := "every directory"
	if w.Directory != "" {
		dir = "directory " + directoryName(ctx, st, w.Directory)
	}
	types := "all events"
	if len(w.Types) > 0 {
		types = strings.Join(w.Types, ", ")
	}
	return dir + ", " + types
}

// directoryName returns the name of the directory of id, or id if it has
// none to read (a deleted directory).
func directoryName(ctx context.Context, st store.Store, id string) string {
	if d, err := st.Directory(ctx, id); err == nil {
		return d.Name
	}
	return id
}

func newWebhookUpdateCommand(db *dbFlag) *cobra.Command {
	var url string
	var types []string
	var enabled, allowPrivate bool
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Change a webhook's URL, event types, or turn it on or off",
		Example: `  roster webhook update wh_… --url https://app.example.com/v2/roster-events
  roster webhook update wh_… --enabled   # after a 410 Gone turned it off: delivery resumes where it stopped`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var u store.WebhookUpdate
			if cmd.Flags().Changed("url") {
				if err := webhook.CheckURL(cmd.Context(), url, allowPrivate); err != nil {
					return explainPrivate(err)
				}
				u.URL = &url
			}
			if cmd.Flags().Changed("type") {
				if err := checkEventTypes(types); err != nil {
					return err
				}
				u.Types = &types
			}
			if cmd.Flags().Changed("enabled") {
				u.Enabled = &enabled
			}
			if u == (store.WebhookUpdate{}) {
				return errors.New("nothing to change: give --url, --type or --enabled")
			}
			return withStore(cmd, db, func(ctx context.Context, st store.Store) error {
				w, err := st.UpdateWebhook(ctx, args[0], u)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "Updated webhook %s: %s (%s), enabled %v\n", w.ID, w.URL, describeWebhook(ctx, st, w), w.Enabled)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "the endpoint's new URL")
	cmd.Flags().StringArrayVar(&types, "type", nil, "the event types it gets (repeat it; --type= alone for all)")
	cmd.Flags().BoolVar(&enabled, "enabled", true, "turn it on (--enabled) or off (--enabled=false)")
	cmd.Flags().BoolVar(&allowPrivate, "allow-private", false, "allow a URL on a loopback, link-local or private address")
	return cmd
}

func newWebhookListCommand(db *dbFlag) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the webhooks (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, db, func(ctx context.Context, st store.Store) error {
				hooks, err := st.Webhooks(ctx)
				if err != nil {
					return err
				}
				tw := newTable(cmd.OutOrStdout(), "ID", "URL", "DIRECTORY", "TYPES", "ENABLED", "CREATED")
				for _, w := range hooks {
					dir, types, enabled := "*", "*", "yes"
					if w.Directory != "" {
						dir = directoryName(ctx, st, w.Directory)
					}
					if len(w.Types) > 0 {
						types = strings.Join(w.Types, ",")
					}
					if !w.Enabled {
						enabled = "no"
						if w.Disabled != "" {
							enabled += " (" + w.Disabled + ")"
						}
					}
					writeRow(tw, w.ID, w.URL, dir, types, enabled, stamp(w.Created))
				}
				return tw.Flush()
			})
		},
	}
}

func newWebhookDeleteCommand(db *dbFlag) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a webhook, with its delivery log",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, db, func(ctx context.Context, st store.Store) error {
				if err := st.DeleteWebhook(ctx, args[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "deleted webhook %s\n", args[0])
				return err
			})
		},
	}
}

func newWebhookRotateCommand(db *dbFlag) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate ID",
		Short: "Give a webhook a new signing secret, printed alone on the last line; the old one signs beside it for 24 hours",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, db, func(ctx context.Context, st store.Store) error {
				w, err := st.RotateWebhookSecret(ctx, args[0], rotationOverlap)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "Deliveries to %s carry two signatures until %s, one with the old secret and one with this new one:\n%s\n",
					w.URL, stamp(w.PreviousUntil), w.Secret)
				return err
			})
		},
	}
}

func newWebhookDeliveriesCommand(db *dbFlag) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "deliveries ID",
		Short: "Show a webhook's delivery log, newest first, and the events it gave up on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, db, func(ctx context.Context, st store.Store) error {
				if _, err := st.Webhook(ctx, args[0]); err != nil {
					return err
				}
				attempts, err := st.DeliveryAttempts(ctx, args[0], limit)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				tw := newTable(out, "TIME", "DIRECTORY", "SEQ", "EVENT", "TRY", "STATUS", "TOOK", "ERROR")
				for _, a := range attempts {
					try := strconv.Itoa(a.Attempt)
					if a.Manual {
						try = "manual"
					}
					status := "-"
					if a.Status != 0 {
						status = strconv.Itoa(a.Status)
					}
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", stamp(a.Time), a.Directory, a.Seq, a.Event, try, status,
						a.Duration.Round(time.Microsecond), oneLine(a.Error))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				dead, err := st.DeadLetters(ctx, args[0], limit)
				if err != nil || len(dead) == 0 {
					return err
				}
				fmt.Fprintln(out, "\nGave up on (dead letters; roster webhook redeliver sends them again):")
				tw = newTable(out, "TIME", "DIRECTORY", "SEQ", "EVENT", "TRIES", "STATUS", "ERROR")
				for _, d := range dead {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%s\n", stamp(d.Time), d.Directory, d.Seq, d.Event, d.Attempts, d.Status, oneLine(d.Error))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 50, "the most attempts to show")
	return cmd
}

// oneLine keeps an error on one line of a table.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// parseSeqs reads N or N-M.
func parseSeqs(s string) (from, to int64, err error) {
	a, b, isRange := strings.Cut(s, "-")
	from, err = strconv.ParseInt(a, 10, 64)
	to = from
	if err == nil && isRange {
		to, err = strconv.ParseInt(b, 10, 64)
	}
	if err != nil || from < 1 || to < from {
		return 0, 0, fmt.Errorf("--seq %q: want a seq (12) or a range of them (12-20), from 1", s)
	}
	return from, to, nil
}

func newWebhookRedeliverCommand(db *dbFlag) *cobra.Command {
	var seqs, directory string
	var allowPrivate bool
	cmd := &cobra.Command{
		Use:   "redeliver ID",
		Short: "Send events again to a webhook, freshly signed, once each (extra deliveries: where delivery stands does not change)",
		Example: `  roster webhook redeliver wh_… --directory acme --seq 42
  roster webhook redeliver wh_… --directory acme --seq 40-60`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			from, to, err := parseSeqs(seqs)
			if err != nil {
				return err
			}
			return withStore(cmd, db, func(ctx context.Context, st store.Store) error {
				dir := directory
				if d, err := st.Directory(ctx, directory); err == nil {
					dir = d.ID
				} // else an id: a deleted directory's events are still kept
				d := webhook.New(webhook.Config{Store: st, AllowPrivate: allowPrivate})
				attempts, err := d.Redeliver(ctx, args[0], dir, from, to)
				for _, a := range attempts {
					result := strconv.Itoa(a.Status)
					if a.Error != "" {
						result = oneLine(a.Error)
					}
					fmt.Fprintf(cmd.OutOrStdout(), "seq %d (%s): %s\n", a.Seq, a.Event, result)
				}
				if err == nil && len(attempts) == 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "no event of seq %s in directory %s that the webhook gets\n", seqs, directory)
				}
				return explainPrivate(err)
			})
		},
	}
	cmd.Flags().StringVar(&seqs, "seq", "", "the seq of an event (12), or a range (12-20)")
	cmd.Flags().StringVar(&directory, "directory", "", "the directory name or id the events are of")
	cmd.Flags().BoolVar(&allowPrivate, "allow-private", false, "allow delivering to a loopback, link-local or private address")
	cmd.MarkFlagRequired("seq")
	cmd.MarkFlagRequired("directory")
	return cmd
}

func newWebhookListenCommand() *cobra.Command {
	var addr string
	var secrets []string
	var count int
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Receive webhook deliveries: verify each signature and print each verified event as a JSON line",
		Long: `Listen on --addr for webhook deliveries (on any path), verify each with
the webhook's secret (--secret, twice during a rotation) and print each
verified event on stdout, one JSON line each, answering 204. A delivery
whose signature does not verify, or whose timestamp is more than 5
minutes away, gets 401 and is not printed. A GET answers 200, so that a
script can wait for the listener. With --count it exits after that many
events, and with --timeout fails if they have not come by then.`,
		Example: `  roster webhook listen --addr 127.0.0.1:8083 --secret whsec_…
  roster webhook listen --addr 127.0.0.1:8083 --secret "$WEBHOOK_SECRET" --count 1 --timeout 1m > event.json   # exits after one event`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, s := range secrets {
				if _, err := webhook.Sign(s, "", time.Time{}, nil); err != nil {
					return fmt.Errorf("--secret: %w", err)
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx, done := context.WithCancel(ctx)
			defer done()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			var mu sync.Mutex
			printed := 0
			out := cmd.OutOrStdout()
			rc := &webhook.Receiver{Secrets: secrets, Deliver: func(body []byte, _ http.Header) error {
				var line bytes.Buffer
				if err := json.Compact(&line, body); err != nil {
					return fmt.Errorf("the body is no JSON: %w", err)
				}
				line.WriteByte('\n')
				mu.Lock()
				defer mu.Unlock()
				if count > 0 && printed >= count {
					return errors.New("this listener has printed the events it was asked for")
				}
				if _, err := out.Write(line.Bytes()); err != nil {
					return err
				}
				if printed++; count > 0 && printed == count {
					done()
				}
				return nil
			}}
			srv := &http.Server{
				Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodGet || r.Method == http.MethodHead {
						fmt.Fprintln(w, "roster webhook listen: POST deliveries here")
						return
					}
					rc.ServeHTTP(w, r)
				}),
				ReadHeaderTimeout: 10 * time.Second,
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "listening for webhook deliveries on http://%s\n", ln.Addr())
			serveErr := make(chan error, 1)
			go func() { serveErr <- srv.Serve(ln) }()
			var expired <-chan time.Time
			if timeout > 0 {
				t := time.NewTimer(timeout)
				defer t.Stop()
				expired = t.C
			}
			var failed error
			select {
			case err := <-serveErr:
				return err
			case <-ctx.Done():
			case <-expired:
				mu.Lock()
				failed = fmt.Errorf("--timeout: %d of the %d events came within %s", printed, count, timeout)
				mu.Unlock()
			}
			shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return errors.Join(failed, srv.Shutdown(shutdown))
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8083", "address to listen on")
	cmd.Flags().StringArrayVar(&secrets, "secret", nil, "the webhook's signing secret, whsec_… (repeat it for both secrets during a rotation)")
	cmd.Flags().IntVar(&count, "count", 0, "exit after printing this many events (default: run until interrupted)")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "fail if the --count events have not come within this time, such as 1m (default: wait for ever)")
	cmd.MarkFlagRequired("secret")
	return cmd
}
