package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/conformance"
)

func newConformCommand(env getenv) *cobra.Command {
	r := remote{env: env}
	var cfg conformance.Config
	var output string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "conform [URL]",
		Short: "Check a SCIM server against RFC 7643/7644 and what Okta and Entra send",
		Long: `Check a SCIM 2.0 server (Roster or any other) at URL, its SCIM base URL
(default $ROSTER_URL), against RFC 7643, RFC 7644, RFC 9865 and what Okta
and Microsoft Entra ID send. It reads /ServiceProviderConfig, /ResourceTypes
and /Schemas first and skips what the server says it does not support.

It creates only users and groups of its own, named with a unique run prefix
(rc…), changes nothing else, and deletes them at the end, also on Ctrl-C;
--read-only runs only the checks that change nothing.

Each check has an id (filter.userName_eq_case_insensitive) and tags
(discovery, auth, errors, users, filter, paging, cursor, sort, projection,
patch, etag, bulk, groups, concurrency, large-group, rate-limit, okta,
entra); --only and --skip take ids or tags.

Output is a table by tag, coloured on a terminal (unless $NO_COLOR is
set), with each failure explained under it; -v adds the HTTP exchanges.
Exit status: 0 when every check passed (or was skipped or warned), 1 when
some failed, 2 when the checks could not run.`,
		Example: `  roster conform http://localhost:8080/scim/v2 --token $TOKEN
  roster conform https://app.example.com/scim/v2 --token $TOKEN --profile okta -v
  roster conform $URL --token $TOKEN --only filter,paging -o junit=conform.xml
  roster conform $URL --token $TOKEN --read-only -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cannot := func(err error) error { return &exitError{code: 2, err: err} }
			format, junitFile, ok := strings.Cut(output, "=")
			switch {
			case format == "junit" && ok && junitFile != "":
			case (format == "text" || format == "json") && !ok:
			default:
				return cannot(fmt.Errorf("--output must be text, json or junit=FILE, not %q", output))
			}
			cfg.URL = r.env("ROSTER_URL")
			if len(args) == 1 {
				cfg.URL = args[0]
			}
			if cfg.URL == "" {
				return cannot(errors.New("no server: give its SCIM base URL, such as roster conform http://localhost:8080/scim/v2, or set ROSTER_URL"))
			}
			auth, err := r.auth()
			if err != nil {
				return cannot(err)
			}
			cfg.Auth = auth
			ctx, stop := signal.NotifyContext(cmp.Or[context.Context](cmd.Context(), context.Background()), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := conformance.Run(ctx, cfg)
			if errors.Is(err, conformance.ErrCannotRun) || (err != nil && rep.Results == nil) {
				return cannot(err)
			}
			out := cmd.OutOrStdout()
			if junitFile != "" {
				if werr := writeJUnit(junitFile, &rep); werr != nil {
					return cannot(werr)
				}
			}
			if format == "json" {
				if werr := rep.WriteJSON(out); werr != nil {
					return cannot(werr)
				}
			} else if werr := rep.WriteText(out, conformance.TextOptions{Color: isTerminal(out) && r.env("NO_COLOR") == "", Verbose: verbose}); werr != nil {
				return cannot(werr)
			}
			switch {
			case err != nil:
				return cannot(fmt.Errorf("interrupted (%w) after %d checks; %s", err, len(rep.Results), cleanedUp(rep.Cleanup)))
			case rep.Failed():
				return &exitError{code: 1, err: fmt.Errorf("%d of %d checks failed", rep.Count(conformance.Fail), len(rep.Results))}
			}
			return nil
		},
	}
	f := cmd.Flags()
	r.addAuthFlags(f)
	f.StringVar(&cfg.Profile, "profile", conformance.ProfileAll, "all, okta (the checks replaying what Okta sends) or entra (Microsoft Entra ID's and its validator's)")
	f.StringSliceVar(&cfg.Only, "only", nil, "run only the checks with these tags or ids (comma-separated)")
	f.StringSliceVar(&cfg.Skip, "skip", nil, "leave out the checks with these tags or ids (comma-separated)")
	f.BoolVar(&cfg.ReadOnly, "read-only", false, "run only the checks that change nothing on the server")
	f.IntVar(&cfg.Large, "large", 0, "run the large-group check with this many members (it creates them), timing it")
	f.IntVar(&cfg.Concurrency, "concurrency", 8, "requests the concurrency checks send at once")
	f.StringVarP(&output, "output", "o", "text", "text (a table by tag), json, or junit=FILE (JUnit XML written to FILE, text on standard output)")
	f.BoolVarP(&verbose, "verbose", "v", false, "print the HTTP exchanges of each failing or warning check (secrets masked)")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
	return cmd
}

// writeJUnit writes the report as JUnit XML to the file named path.
func writeJUnit(path string, rep *conformance.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--output junit: %w", err)
	}
	if err := rep.WriteJUnit(f); err != nil {
		f.Close()
		return fmt.Errorf("--output junit: %w", err)
	}
	return f.Close()
}

// cleanedUp says what became of what an interrupted run created.
func cleanedUp(c conformance.Cleanup) string {
	if len(c.Left) == 0 {
		return "what the run created was deleted"
	}
	return fmt.Sprintf("%d resources the run created could not be deleted (listed in the report)", len(c.Left))
}
