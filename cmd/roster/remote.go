package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/client"
)

// remote holds the flags of the commands that talk to a SCIM server over
// HTTP (users, groups, discover), as opposed to those that open the
// database (--db).
type remote struct {
	url, token, output string
}

// addFlags adds the server and output flags to cmd and its subcommands.
// The defaults come from the environment when the command runs, so that
// --help never prints the token.
func (r *remote) addFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&r.url, "url", "", "SCIM base URL, such as http://localhost:8080/scim/v2 (default $ROSTER_URL)")
	f.StringVar(&r.token, "token", "", "bearer token (default $ROSTER_TOKEN)")
	f.StringVarP(&r.output, "output", "o", "table", "output format: table, or json (one SCIM resource a line)")
}

// run connects to the server the flags name and calls fn. An error answer
// of the server comes back as a scimError, which shows its status,
// scimType and detail.
func (r *remote) run(cmd *cobra.Command, fn func(ctx context.Context, c *client.Client, out *printer) error) error {
	if r.output != "table" && r.output != "json" {
		return fmt.Errorf("--output must be table or json, not %q", r.output)
	}
	base, token := r.url, r.token
	if base == "" {
		base = os.Getenv("ROSTER_URL")
	}
	if token == "" {
		token = os.Getenv("ROSTER_TOKEN")
	}
	if base == "" {
		return errors.New("no server: give --url or set ROSTER_URL, such as http://localhost:8080/scim/v2")
	}
	opts := []client.Option{client.WithUserAgent("roster/" + version())}
	if token != "" {
		opts = append(opts, client.WithToken(token))
	}
	c, err := client.New(base, opts...)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if err := fn(ctx, c, &printer{w: cmd.OutOrStdout(), json: r.output == "json"}); err != nil {
		var ce *client.Error
		if errors.As(err, &ce) {
			// Keep what the client said it was doing, such as "add
			// members 1–100 of 250: ".
			if doing, ok := strings.CutSuffix(err.Error(), ce.Error()); ok {
				return &scimError{doing: doing, answer: ce, err: err}
			}
		}
		return err
	}
	return nil
}

// scimError shows a server's error answer with the status first, for
// people: "404 Not Found: resource nope not found (GET http://…)".
type scimError struct {
	doing  string        // what the client was doing, if it said
	answer *client.Error // the server's answer
	err    error         // the error as the client returned it
}

func (e *scimError) Error() string {
	a := e.answer
	s := fmt.Sprintf("%s%d %s", e.doing, a.Status, http.StatusText(a.Status))
	if a.ScimType != "" {
		s += " (scimType " + a.ScimType + ")"
	}
	if a.Detail != "" && a.Detail != http.StatusText(a.Status) {
		s += ": " + a.Detail
	}
	return s + " (" + a.Method + " " + a.URL + ")"
}

func (e *scimError) Unwrap() error { return e.err }

// readJSON decodes the JSON document in the file named path, or standard
// input for "-", into v.
func readJSON(cmd *cobra.Command, path string, v any) error {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(cmd.InOrStdin())
		path = "standard input"
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
