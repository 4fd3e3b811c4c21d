package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/reconcile/config"
)

func newSyncCommand() *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Reconcile a directory (LDAP, files, SCIM) into a SCIM target",
		Long: `Reconcile a source directory into any SCIM 2.0 target, as a configuration
file (--config, default sync.yaml) describes: plan shows what would change,
apply changes it. Two runs on one configuration never overlap (a lock file
beside the state file).`,
	}
	cmd.PersistentFlags().StringVar(&cfgPath, "config", "sync.yaml", "the sync configuration file (YAML)")
	engine := func(cmd *cobra.Command) (*reconcile.Engine, func(), error) {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return nil, nil, err
		}
		h, err := cfg.History(cmd.Context())
		if err != nil {
			return nil, nil, err
		}
		closeHistory := func() {}
		if h != nil {
			closeHistory = func() { h.Close() }
		}
		e, restored, unlock, err := cfg.Engine(cmd.Context(), syncUserAgent(), h)
		if err != nil {
			closeHistory()
			return nil, nil, err
		}
		sayRestored(cmd.ErrOrStderr(), cfg, restored)
		return e, func() { unlock(); closeHistory() }, nil
	}

	var output, out string
	plan := &cobra.Command{
		Use:   "plan",
		Short: "Show what the next run would change, changing nothing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, unlock, err := engine(cmd)
			if err != nil {
				return err
			}
			defer unlock()
			var endReading func()
			e.Reading, endReading = readingProgress(cmd.ErrOrStderr())
			p, err := e.Plan(cmd.Context())
			endReading()
			if err != nil {
				return err
			}
			if out != "" {
				if err := writePlan(out, p); err != nil {
					return err
				}
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(p)
			}
			return p.WriteText(cmd.OutOrStdout())
		},
	}
	plan.Flags().StringVarP(&output, "output", "o", "text", "output: text or json")
	plan.Flags().StringVar(&out, "out", "", "also write the plan as JSON to this file, for apply --plan")

	var planFile string
	var allowMass bool
	apply := &cobra.Command{
		Use:   "apply",
		Short: "Make the changes (or exactly those of a reviewed plan, --plan)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var saved *reconcile.Plan
			if planFile != "" {
				data, err := os.ReadFile(planFile)
				if err != nil {
					return err
				}
				saved = new(reconcile.Plan)
				if err := json.Unmarshal(data, saved); err != nil {
					return fmt.Errorf("%s: %w", planFile, err)
				}
			}
			started := time.Now()
			p, res, err := runSync(cmd.Context(), cfgPath, saved, allowMass, cmd.OutOrStdout(), cmd.ErrOrStderr())
			if res == nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout())
			if err := reconcile.WriteSummary(cmd.OutOrStdout(), p, res, time.Since(started)); err != nil {
				return err
			}
			// The summary groups the failures by cause; the first few
			// go to stderr whole, and the history keeps them all.
			for i, f := range res.Failed {
				if i == maxFailuresShown {
					fmt.Fprintf(cmd.ErrOrStderr(), "… and %d more failures (roster sync history --run ID lists every one, when the configuration names a database)\n",
						len(res.Failed)-maxFailuresShown)
					break
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "failed: %s: %s\n", f.What, f.Err)
			}
			if err != nil {
				return err
			}
			if len(res.Failed) > 0 {
				return fmt.Errorf("%d changes failed; the next run retries them", len(res.Failed))
			}
			return nil
		},
	}
	apply.Flags().StringVar(&planFile, "plan", "", "apply exactly this plan (from plan --out), refusing if either side changed since")
	apply.Flags().BoolVar(&allowMass, "allow-mass-changes", false, "apply a plan that deactivates or deletes more users than the policy's limit")

	// preview and explain: one user, read-only.
	aboutUser := func(use, short string, run func(e *reconcile.Engine, ctx context.Context, w io.Writer, who string) error) *cobra.Command {
		var who string
		c := &cobra.Command{
			Use:   use,
			Short: short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				e, unlock, err := engine(cmd)
				if err != nil {
					return err
				}
				defer unlock()
				var endReading func()
				e.Reading, endReading = readingProgress(cmd.ErrOrStderr())
				defer endReading()
				return run(e, cmd.Context(), endsReading{cmd.OutOrStdout(), endReading}, who)
			},
		}
		c.Flags().StringVar(&who, "user", "", "the user: source id, userName, or any field's value")
		c.MarkFlagRequired("user")
		return c
	}
	preview := aboutUser("preview", "Show what the mapping makes of a source user", (*reconcile.Engine).Preview)
	explain := aboutUser("explain", "Say whether a user is in scope, what they map to, and what the next run does to them", (*reconcile.Engine).Explain)
	validate := &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration file, touching neither the source nor the target",
		Long: `Check the configuration file as far as can be done without reading the
source, the target or a secret: unknown or misspelt keys, the source's type
and settings, the URLs, the mapping's paths and expressions, the policy.
What needs the target (does its schema have each mapped attribute?) is
checked at the start of every plan.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is valid: a %s source into %s\n", cfgPath, cfg.Source.Type, cfg.Target.URL)
			return nil
		},
	}
	cmd.AddCommand(plan, apply, preview, explain, validate, newSyncDaemonCommand(&cfgPath), newSyncHistoryCommand(&cfgPath))
	return cmd
}

// sayRestored says on w that the state file was missing and restored
// from the copy kept in the database, saved then, unless saved is zero.
func sayRestored(w io.Writer, cfg *config.Config, saved time.Time) {
	if !saved.IsZero() {
		fmt.Fprintf(w, "%s was missing: restored the state this sync kept in its database on %s\n", cfg.State, saved.Local().Format(time.RFC3339))
	}
}

// maxFailuresShown is how many failed changes apply writes out whole;
// its summary has them all, grouped by cause.
const maxFailuresShown = 10

func newSyncDaemonCommand(cfgPath *string) *cobra.Command {
	var every time.Duration
	var cronExpr, listen, logFormat string
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the sync now and then on a schedule, until stopped",
		Long: `Run the sync at once, then every --every (or as --cron says, such as
"0 6 * * 1-5"), until SIGINT or SIGTERM (a run in
progress finishes first). SIGHUP, or a POST to /run on --listen, starts a run
at once. --listen also serves Prometheus metrics on /metrics
(roster_sync_runs_total, roster_sync_changes_total, roster_sync_change_failures_total,
roster_sync_run_duration_seconds, roster_sync_last_success_timestamp_seconds).
The configuration is read again for every run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var when reconcile.Schedule = reconcile.Every(every)
			if cronExpr != "" {
				c, err := reconcile.ParseCron(cronExpr)
				if err != nil {
					return err
				}
				when = c
			} else if every <= 0 {
				return fmt.Errorf("--every must be positive")
			}
			logger, err := newLogger(cmd.ErrOrStderr(), logFormat, "info")
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			reg := prometheus.NewRegistry()
			d := reconcile.NewDaemon(func(ctx context.Context) (*reconcile.Plan, *reconcile.Result, error) {
				return runSync(ctx, *cfgPath, nil, false, io.Discard, io.Discard)
			}, when, reg, logger)

			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for range hup {
					d.Trigger()
				}
			}()
			if listen != "" {
				ln, err := net.Listen("tcp", listen)
				if err != nil {
					return err
				}
				mux := http.NewServeMux()
				mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
				mux.Handle("/run", d.TriggerHandler())
				srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
				go srv.Serve(ln)
				defer srv.Close()
				logger.Info("sync daemon listening", "addr", ln.Addr().String())
			}
			logger.Info("sync daemon started", "config", *cfgPath, "every", every.String(), "cron", cronExpr)
			return d.Serve(ctx)
		},
	}
	cmd.Flags().DurationVar(&every, "every", 15*time.Minute, "time between runs")
	cmd.Flags().StringVar(&cronExpr, "cron", "", `a cron schedule instead of --every, such as "*/30 * * * *" (local time)`)
	cmd.Flags().StringVar(&listen, "listen", "", "address for /metrics and POST /run, such as 127.0.0.1:9464")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "log format: text or json")
	return cmd
}

// runSync makes one run of the sync cfgPath configures: it applies saved
// (a reviewed plan) or a plan made now, written to w first, and records
// the run in the configuration's database, if it names one. The progress
// of reading and applying is drawn on progress if it is a terminal.
func runSync(ctx context.Context, cfgPath string, saved *reconcile.Plan, allowMass bool, w, progress io.Writer) (*reconcile.Plan, *reconcile.Result, error) {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	history, err := cfg.History(ctx)
	if err != nil {
		return nil, nil, err
	}
	if history != nil {
		defer history.Close()
	}
	started := time.Now()
	p, res, runErr := func() (*reconcile.Plan, *reconcile.Result, error) {
		// The state is restored from the database, and its copy there
		// kept in step with every save, under the run's locks.
		e, restored, unlock, err := cfg.Engine(ctx, syncUserAgent(), history)
		if err != nil {
			return nil, nil, err
		}
		defer unlock()
		sayRestored(progress, cfg, restored)
		var endReading func()
		e.Reading, endReading = readingProgress(progress)
		defer endReading()
		if bar := progressBar(progress, "applying"); bar != nil {
			e.Progress = func(done, total int) {
				endReading() // ApplySaved reads, then applies
				bar(done, total)
			}
		}
		if saved != nil {
			res, err := e.ApplySaved(ctx, saved, allowMass)
			return saved, res, err
		}
		p, err := e.Plan(ctx)
		endReading()
		if err != nil {
			return nil, nil, err
		}
		if err := p.WriteText(w); err != nil {
			return p, nil, err
		}
		res, err := e.Apply(ctx, p, allowMass)
		return p, res, err
	}()
	if history != nil {
		if err := cfg.Record(context.WithoutCancel(ctx), history, started, p, res, runErr); err != nil && runErr == nil {
			runErr = fmt.Errorf("the run is done, but recording it failed: %w", err)
		}
	}
	return p, res, runErr
}

func newSyncHistoryCommand(cfgPath *string) *cobra.Command {
	var limit int
	var runID string
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List the recorded runs (or one run's changes, --run ID)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(*cfgPath)
			if err != nil {
				return err
			}
			h, err := cfg.History(cmd.Context())
			if err != nil {
				return err
			}
			if h == nil {
				return fmt.Errorf("%s names no database: add database: (a SQLite file or a postgres:// URL) to record runs", *cfgPath)
			}
			defer h.Close()
			out := cmd.OutOrStdout()
			if runID != "" {
				r, err := cfg.FindRun(cmd.Context(), h, runID)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "run %s of %s: %s, %s → %s\nsummary: %s\n", r.ID, r.Config, r.Status,
					r.Started.Format(time.RFC3339), r.Ended.Format(time.RFC3339), r.Summary)
				if r.Error != "" {
					fmt.Fprintf(out, "error: %s\n", r.Error)
				}
				var changes []reconcile.Failure
				json.Unmarshal(r.Changes, &changes)
				for _, c := range changes {
					what := c.What
					if len(c.Members) > 0 {
						what += ": " + strings.Join(c.Members, ", ")
					}
					if c.Err != "" {
						fmt.Fprintf(out, "  FAILED %s: %s\n", what, c.Err)
					} else {
						fmt.Fprintf(out, "  ok     %s\n", what)
					}
				}
				return nil
			}
			runs, err := h.SyncRuns(cmd.Context(), cfg.Name, limit)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTARTED\tSECONDS\tSTATUS\tDONE")
			for _, r := range runs {
				fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%s\n", r.ID, r.Started.Local().Format("2006-01-02T15:04:05"),
					r.Ended.Sub(r.Started).Seconds(), r.Status, doneText(r.Summary))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many runs, newest first")
	cmd.Flags().StringVar(&runID, "run", "", "show one run (its id, or the start of it) and every change it made, naming the users and members")
	return cmd
}

// doneText sums up a recorded run's changes: "create 2, members +2".
func doneText(summary []byte) string {
	var sum struct {
		Done   *reconcile.Counts `json:"done"`
		Failed int               `json:"failed"`
	}
	if json.Unmarshal(summary, &sum) != nil || sum.Done == nil {
		return "-"
	}
	d := sum.Done
	var parts []string
	for _, c := range []struct {
		n    int
		text string
	}{{d.Create, "create"}, {d.Update, "update"}, {d.Deactivate, "deactivate"}, {d.Reactivate, "reactivate"}, {d.Delete, "delete"},
		{d.Adopt, "adopt"}, {d.GroupCreate, "group create"}, {d.GroupRename, "group rename"}, {d.GroupRetire, "group retire"},
		{d.MembersAdd, "members +"}, {d.MembersRemove, "members -"}, {sum.Failed, "failed"}} {
		if c.n > 0 {
			if strings.HasSuffix(c.text, "+") || strings.HasSuffix(c.text, "-") {
				parts = append(parts, fmt.Sprintf("%s%d", c.text, c.n))
			} else {
				parts = append(parts, fmt.Sprintf("%s %d", c.text, c.n))
			}
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

func writePlan(path string, p *reconcile.Plan) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// syncUserAgent is the User-Agent of the sync's requests: a Roster target
// records its changes as the sync's (server.syncUserAgent).
func syncUserAgent() string { return "roster-sync/" + version() }
