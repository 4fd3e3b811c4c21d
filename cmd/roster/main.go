// Command roster is the Roster identity-provisioning toolkit: a SCIM 2.0
// server, client, sync engine and compliance checker in one binary.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCommand(os.Getenv).Execute(); err != nil {
		os.Exit(exitCode(err))
	}
}

// exitError is the error of a command that exits with a code other than
// 1: roster conform exits 1 when checks failed and 2 when they could not
// run.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitCode returns the exit code err asks for: an exitError's, else 1.
func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return 1
}

// getenv is how commands read the environment: os.Getenv in the binary, a
// map of the test's choosing in tests, so that what a caller exported
// (ROSTER_URL, ROSTER_TOKEN, ROSTER_DB…) never reaches a test.
type getenv func(key string) string

// newRootCommand returns the roster command; its subcommands read the
// environment only through env.
func newRootCommand(env getenv) *cobra.Command {
	root := &cobra.Command{
		Use:           "roster",
		Short:         "Roster provisions users and groups over SCIM 2.0",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.AddCommand(newVersionCommand(), newServeCommand(env), newDirectoryCommand(env), newTokenCommand(env), newClientCommand(env), newKeyCommand(env), newAdminCommand(env), newMigrateCommand(env),
		newUsersCommand(env), newGroupsCommand(env), newDiscoverCommand(env), newConformCommand(env), newSyncCommand(),
		newWebhookCommand(env))
	refuseUnknownCommands(root)
	return root
}

// refuseUnknownCommands makes cmd, and each command under it that only
// holds subcommands, fail on an argument that names none of them, with a
// suggestion, where cobra would print the help and exit 0 (roster users
// lst). Without arguments such a command prints its help.
func refuseUnknownCommands(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		refuseUnknownCommands(sub)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		// The nearest names only: lst is list, one edit away, not also
		// get, two away.
		for cmd.SuggestionsMinimumDistance = 1; cmd.SuggestionsMinimumDistance <= 2; cmd.SuggestionsMinimumDistance++ {
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				return fmt.Errorf("%s; did you mean %s?", msg, strings.Join(s, " or "))
			}
		}
		return fmt.Errorf("%s; see %s --help", msg, cmd.CommandPath())
	}
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print Roster's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "roster %s\n", version())
			return err
		},
	}
}

// version returns the module version the binary was built from, or
// "(devel)" for a build from a working tree.
func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
