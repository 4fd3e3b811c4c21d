package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/event"
	"github.com/rosterhq/roster/internal/logbuf"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/server/management"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/database"
	"github.com/rosterhq/roster/webhook"
)

func newServeCommand(env getenv) *cobra.Command {
	var db dbFlag
	var addr, adminAddr, baseURL, tlsCert, tlsKey, logFormat, logLevel, secretKeyFile string
	var rateLimit float64
	var strict, allowPrivateWebhooks, logBodies bool
	var eventRetention, requestRetention, queryBudget time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the SCIM 2.0 server",
		Long: `Run the SCIM 2.0 server on an embedded SQLite database (--db roster.db),
or on PostgreSQL (--db postgres://user:pass@host/db), where any number of
servers may share one database behind a load balancer. Migrations are
applied at start, under a lock when on PostgreSQL.

On an empty database it creates a directory called "default" and prints a
bearer token for it, so that you can point curl, Okta or Entra at it at once.

By default it ignores what a resource names that its schemas do not define
(Entra's ADSCIM schema URN, the URNs and attributes of custom extensions),
and logs it at --log-level debug; --strict answers 400 instead.

The keys that sign access tokens are kept encrypted in the database with a
secret key: --secret-key-file (or $ROSTER_SECRET_KEY_FILE), else
$ROSTER_SECRET_KEY (at least 32 characters: openssl rand -base64 32), else,
on SQLite, the file beside the database (roster.key beside roster.db), made
(mode 0600) on the first start. On PostgreSQL a key is required, the same
on every replica. Keys kept in clear by an older version are encrypted at
start.

It delivers events to the webhooks (roster webhook create), in order per
webhook and directory; replicas sharing a PostgreSQL database share the
work. Webhooks to loopback, link-local or private addresses are refused
unless --allow-private-webhooks.

The web console is at /ui: on a database where no console admin has a
password yet, it prints a one-time link that sets the first admin's
(roster admin create NAME prints more). --admin-addr serves the console
and the management API (/api/v1) on another address, such as a private
interface, and not on --addr. The console's request log keeps every SCIM
request for --request-log-retention, with bodies (passwords and secrets
masked) only with --log-bodies.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if (tlsCert == "") != (tlsKey == "") {
				return errors.New("--tls-cert and --tls-key go together")
			}
			// A line per request, buffered: written on every 100 ms (and
			// when 64 KiB fill up, and at the end), not one write each.
			logs := logbuf.New(cmd.ErrOrStderr(), 100*time.Millisecond, 64<<10)
			defer logs.Flush()
			logger, err := newLogger(logs, logFormat, logLevel)
			if err != nil {
				return err
			}
			return serve(ctx, cmd, logger, env, serveOptions{addr: addr, db: db.String(), baseURL: baseURL, rateLimit: rateLimit, tlsCert: tlsCert, tlsKey: tlsKey,
				strict: strict, secretKeyFile: cmp.Or(secretKeyFile, env(secretKeyFileEnv)), eventRetention: eventRetention,
				allowPrivateWebhooks: allowPrivateWebhooks, adminAddr: adminAddr, logBodies: logBodies, requestRetention: requestRetention,
				queryBudget: queryBudget})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "localhost:8080", "address to listen on")
	cmd.Flags().StringVar(&adminAddr, "admin-addr", "", "address of the console (/ui) and the management API (/api/v1), which --addr then does not serve (default: --addr serves them)")
	cmd.Flags().BoolVar(&logBodies, "log-bodies", false, "keep SCIM requests' and answers' bodies in the request log (passwords and secrets masked, cut at 8 KiB)")
	cmd.Flags().DurationVar(&requestRetention, "request-log-retention", 7*24*time.Hour, "how long the console's request log keeps a request")
	db.add(cmd.Flags(), env)
	cmd.Flags().StringVar(&tlsCert, "tls-cert", "", "TLS certificate file (PEM); serve HTTPS with --tls-key")
	cmd.Flags().StringVar(&tlsKey, "tls-key", "", "TLS private key file (PEM)")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "log format: text or json")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "least severe log lines shown: debug, info, warn or error")
	cmd.Flags().BoolVar(&strict, "strict", false, "answer 400 to schema URNs and attributes the schemas do not define, instead of ignoring them")
	cmd.Flags().Float64Var(&rateLimit, "rate-limit", 100, "requests per second per token (bursts of twice that); 0 turns limiting off")
	cmd.Flags().DurationVar(&queryBudget, "query-budget", 500*time.Millisecond,
		"how long the database may work on one list or search request (SCIM and the console) before it gets 400 tooMany (a filter no index serves, over many users); 0 turns the bound off")
	cmd.Flags().StringVar(&baseURL, "base-url", "", "public URL of the SCIM API behind a proxy, such as https://scim.example.com/scim/v2")
	cmd.Flags().DurationVar(&eventRetention, "event-retention", event.DefaultRetention, "how long events are kept (the events API, webhooks, the stream)")
	cmd.Flags().BoolVar(&allowPrivateWebhooks, "allow-private-webhooks", false,
		"deliver to webhooks on loopback, link-local and private addresses (a receiver on this machine or network)")
	cmd.Flags().StringVar(&secretKeyFile, "secret-key-file", "",
		"file holding the secret key that encrypts the signing keys (default $ROSTER_SECRET_KEY_FILE; see above)")
	return cmd
}

// serveOptions are the flags of roster serve.
type serveOptions struct {
	addr, adminAddr, db, baseURL, tlsCert, tlsKey, secretKeyFile string
	rateLimit                                                    float64
	strict, allowPrivateWebhooks, logBodies                      bool
	eventRetention, requestRetention, queryBudget                time.Duration
}

// newLogger returns the logger of --log-format and --log-level (a level
// slog names: debug, info, warn or error).
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level must be debug, info, warn or error, not %q", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}

func serve(ctx context.Context, cmd *cobra.Command, logger *slog.Logger, env getenv, o serveOptions) error {
	addr, db, baseURL, rateLimit := o.addr, o.db, o.baseURL, o.rateLimit
	key, err := loadSecretKey(db, o.secretKeyFile, env, true)
	if err != nil {
		return err
	}
	st, err := database.Open(ctx, db, key.options()...)
	if err != nil {
		return explainKeyError(err, db, key)
	}
	defer st.Close()
	if key.generated {
		logger.Info("made a secret key to encrypt the signing keys; keep it, and back it up apart from the database",
			"file", key.from)
	}
	if key.warning != "" {
		logger.Warn(key.warning)
	}
	if err := firstRun(ctx, cmd, st, env("ROSTER_TOKEN")); err != nil {
		return err
	}
	limit := rateLimit
	if limit <= 0 {
		limit = -1 // server.Config reads a negative rate as off
	}
	cst, ok := st.(console.Store)
	if !ok {
		return fmt.Errorf("the store %T keeps no console admins or request log", st)
	}
	if o.eventRetention <= 0 {
		return errors.New("--event-retention must be a positive duration, such as 720h")
	}
	if o.requestRetention <= 0 {
		return errors.New("--request-log-retention must be a positive duration, such as 168h")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	adminLn := ln
	if o.adminAddr != "" {
		if adminLn, err = net.Listen("tcp", o.adminAddr); err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s (--admin-addr): %w", o.adminAddr, err)
		}
	}
	scheme := "http"
	if o.tlsCert != "" {
		scheme = "https"
	}
	adminURL := scheme + "://" + listenerHost(o.adminAddr, addr, adminLn)
	if err := consoleFirstRun(ctx, cmd, cst, adminURL); err != nil {
		ln.Close()
		adminLn.Close()
		return err
	}
	// Requests in flight, for the line that says how many a stop drained.
	var inFlight atomic.Int64
	go event.Prune(ctx, st, o.eventRetention, 10*time.Minute, func(err error) {
		logger.Warn("pruning old events failed; will retry", "err", err)
	})
	go console.PruneRequests(ctx, cst, o.requestRetention, 10*time.Minute, func(err error) {
		logger.Warn("pruning the request log failed; will retry", "err", err)
	})
	// The webhook deliveries, until the server has stopped; the store's
	// commits wake them, so that events go out at once rather than at the
	// next poll.
	hooks := webhook.New(webhook.Config{Store: st, AllowPrivate: o.allowPrivateWebhooks, Logger: logger, Retention: o.eventRetention})
	hooksCtx, stopHooks := context.WithCancel(context.WithoutCancel(ctx))
	hooksDone := make(chan error, 1)
	go func() { hooksDone <- hooks.Run(hooksCtx) }()
	defer func() {
		stopHooks()
		<-hooksDone
	}()
	reqLog := console.NewRequestLogger(cst, console.RequestLoggerConfig{Logger: logger})
	// The request log is written until the server has stopped, then what
	// is queued is written.
	logCtx, stopLog := context.WithCancel(context.WithoutCancel(ctx))
	logDone := make(chan struct{})
	go func() { reqLog.Run(logCtx); close(logDone) }()
	defer func() { stopLog(); <-logDone }()
	api := management.New(management.Config{Store: st, Logger: logger, SCIMBaseURL: baseURL,
		AllowPrivateWebhooks: o.allowPrivateWebhooks, OnChange: hooks.Wake})
	ui := console.New(console.Config{Store: cst, Logger: logger, SCIMBaseURL: baseURL, Redeliver: hooks.Redeliver,
		QueryBudget: cmp.Or(o.queryBudget, -1)})
	admin := map[string]http.Handler{management.BasePath + "/": api, console.BasePath + "/": ui, console.BasePath: ui}
	cfg := server.Config{Store: st, Logger: logger, BaseURL: baseURL, QueryBudget: cmp.Or(o.queryBudget, -1), // 0 turns it off
		RateLimit: limit, RateBurst: int(2 * rateLimit), Strict: o.strict, RequestLog: reqLog, LogBodies: o.logBodies}
	cfg.Handlers = admin
	var handler, adminHandler http.Handler
	if o.adminAddr == "" {
		handler = server.New(cfg)
	} else {
		// The admin listener's own paths, behind the same request log,
		// metrics and recovery from panics as the SCIM API.
		admin["/"] = http.RedirectHandler(console.BasePath+"/", http.StatusFound)
		handler, adminHandler = server.NewSplit(cfg)
	}
	newServer := func(h http.Handler) *http.Server {
		return &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inFlight.Add(1)
				defer inFlight.Add(-1)
				h.ServeHTTP(w, r)
			}),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			WriteTimeout:      90 * time.Second,
			IdleTimeout:       120 * time.Second,
		}
	}
	srvs := []*http.Server{newServer(handler)}
	lns := []net.Listener{ln}
	if adminHandler != nil {
		srvs, lns = append(srvs, newServer(adminHandler)), append(lns, adminLn)
	}
	logger.Info("serving SCIM", "url", scheme+"://"+ln.Addr().String()+server.BasePath, "db", dbName(db))
	logger.Info("serving the management API", "url", adminURL+management.BasePath, "keys", "roster key create --name NAME")
	logger.Info("serving the console", "url", adminURL+console.BasePath+"/", "admins", "roster admin create NAME")
	done := make(chan error, len(srvs))
	for i, srv := range srvs {
		go func() {
			if o.tlsCert != "" {
				done <- srv.ServeTLS(lns[i], o.tlsCert, o.tlsKey)
				return
			}
			done <- srv.Serve(lns[i])
		}()
	}
	select {
	case err := <-done:
		for _, srv := range srvs {
			srv.Close()
		}
		return err
	case <-ctx.Done():
	}
	// Finish the requests in flight, then stop, and say so: whoever sent
	// the signal (systemd, Kubernetes) sees that it was heard and obeyed.
	stopping, draining := time.Now(), inFlight.Load()
	shutdown, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	for _, srv := range srvs {
		if err := srv.Shutdown(shutdown); err != nil {
			logger.Error("stopped before the requests in flight finished", "reason", stopReason(ctx),
				"requests", draining, "unfinished", inFlight.Load(), "waited", time.Since(stopping).Round(time.Millisecond))
			return fmt.Errorf("shutdown: %w", err)
		}
	}
	for range srvs {
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	logger.Info("stopped", "reason", stopReason(ctx), "requests_drained", draining, "took", time.Since(stopping).Round(time.Millisecond))
	return nil
}

// drainTimeout is how long a stopping server waits for the requests in
// flight.
const drainTimeout = 30 * time.Second

// stopReason says why ctx ended: the signal ("terminated signal
// received"), or the caller's cancellation.
func stopReason(ctx context.Context) string {
	if err := context.Cause(ctx); err != nil {
		return err.Error()
	}
	return "stopped"
}

// firstRun creates the default directory and a token for it on an empty
// database: secret (ROSTER_TOKEN from the environment) if set, else a new
// one, printed once.
func firstRun(ctx context.Context, cmd *cobra.Command, st store.Store, secret string) error {
	dirs, err := st.Directories(ctx)
	if err != nil || len(dirs) > 0 {
		return err
	}
	if secret != "" && len(secret) < 32 {
		return errors.New("ROSTER_TOKEN must be at least 32 characters long")
	}
	d, err := st.CreateDirectory(ctx, "default")
	if errors.Is(err, store.ErrConflict) {
		return nil // another replica on the same database got here first
	}
	if err != nil {
		return err
	}
	if secret != "" {
		// A token chosen by whoever deploys Roster (a secret store, CI).
		if _, err := st.ImportToken(ctx, d.ID, "ROSTER_TOKEN", secret, time.Time{}); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Created directory %q; ROSTER_TOKEN is its bearer token.\n", d.Name)
		return nil
	}
	_, secret, err = st.CreateToken(ctx, d.ID, "first-run", time.Time{})
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Created directory %q with a bearer token (shown once, keep it):\n\n    %s\n\n", d.Name, secret)
	return nil
}

// listenerHost is the host:port of the console's links: the host of the
// flag (its --admin-addr, else --addr; localhost when it names every
// interface) with the port the listener got.
func listenerHost(adminAddr, addr string, ln net.Listener) string {
	host, _, err := net.SplitHostPort(cmp.Or(adminAddr, addr))
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	_, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		return ln.Addr().String()
	}
	return net.JoinHostPort(host, port)
}

// consoleFirstRun prints a one-time link that sets the password of the
// console's first admin, "admin", while no admin has a password; each
// start prints a new one (the earlier stops working).
func consoleFirstRun(ctx context.Context, cmd *cobra.Command, st console.Store, baseURL string) error {
	admins, err := st.Admins(ctx)
	if err != nil {
		return err
	}
	name := "admin"
	for _, a := range admins {
		if a.HasPassword {
			return nil
		}
	}
	if len(admins) > 0 {
		name = admins[0].Name
	}
	_, secret, err := st.AdminSetup(ctx, name, time.Now().Add(setupLinkTTL))
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Open the console and set the password of its admin %q with this link (it works once, for %s):\n\n    %s\n\n",
		name, setupLinkTTL, setupLink(baseURL, secret))
	return nil
}
