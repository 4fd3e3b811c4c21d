package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rosterhq/roster/client"
)

// remote holds the flags of the commands that talk to a SCIM server over
// HTTP (users, groups, discover), as opposed to those that open the
// database (--db).
type remote struct {
	env         getenv // where ROSTER_URL and the secrets come from
	url, output string
	quiet       bool
	// ids lets -o id print the ids of the resources, one a line, as the
	// users and groups commands do (discover has none).
	ids bool
	// anonymous lets the command run without credentials, as discovery
	// endpoints are often served without authentication.
	anonymous bool

	token                                     string
	basicUser, basicPassword                  string
	oauthTokenURL, oauthClientID, oauthSecret string
}

// addFlags adds the server and output flags to cmd and its subcommands.
// The defaults come from the environment when the command runs, so that
// --help never prints a secret.
func (r *remote) addFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&r.url, "url", "", "SCIM base URL, such as http://localhost:8080/scim/v2 (default $ROSTER_URL)")
	r.addAuthFlags(f)
	formats := "output format: table, or json (one SCIM resource a line)"
	if r.ids {
		formats = "output format: table, json (one SCIM resource a line), or id (each one's id, a line each: ID=$(roster users create … -o id))"
	}
	f.StringVarP(&r.output, "output", "o", "table", formats)
	f.BoolVarP(&r.quiet, "quiet", "q", false, "print no line saying what was done (deactivated, deleted, added…)")
}

// addAuthFlags adds the flags that say how to authenticate (see auth) to f.
func (r *remote) addAuthFlags(f *pflag.FlagSet) {
	f.StringVar(&r.token, "token", "", "bearer token (default $ROSTER_TOKEN, unless another way to authenticate is given)")
	f.StringVar(&r.basicUser, "basic-user", "", "authenticate with HTTP Basic as this user (for Roster: the directory's name)")
	f.StringVar(&r.basicPassword, "basic-password", "", "the HTTP Basic password (default $ROSTER_BASIC_PASSWORD; for Roster: a token)")
	f.StringVar(&r.oauthTokenURL, "oauth-token-url", "", "authenticate with OAuth 2.0 client credentials from this token endpoint, such as http://localhost:8080/oauth/token")
	f.StringVar(&r.oauthClientID, "oauth-client-id", "", "the OAuth 2.0 client id")
	f.StringVar(&r.oauthSecret, "oauth-client-secret", "", "the OAuth 2.0 client secret (default $ROSTER_OAUTH_CLIENT_SECRET)")
}

// auth returns the client option of the one way to authenticate the flags
// and the environment give: a bearer token, HTTP Basic, or OAuth 2.0
// client credentials. The flags choose the way; the environment fills in
// its secret, and gives a token only when no flag chose another way.
func (r *remote) auth() (client.Option, error) {
	var ways []string
	if r.token != "" {
		ways = append(ways, "--token")
	}
	if r.basicUser != "" || r.basicPassword != "" {
		ways = append(ways, "--basic-user")
	}
	if r.oauthTokenURL != "" || r.oauthClientID != "" || r.oauthSecret != "" {
		ways = append(ways, "--oauth-client-id")
	}
	if len(ways) > 1 {
		return nil, fmt.Errorf("%s do not go together: authenticate one way", strings.Join(ways, " and "))
	}
	way := ""
	if len(ways) == 1 {
		way = ways[0]
	} else if r.env("ROSTER_TOKEN") != "" {
		way = "--token"
	}
	switch way {
	case "--token":
		return client.WithToken(cmp.Or(r.token, r.env("ROSTER_TOKEN"))), nil
	case "--basic-user":
		password := cmp.Or(r.basicPassword, r.env("ROSTER_BASIC_PASSWORD"))
		switch {
		case r.basicUser == "":
			return nil, errors.New("--basic-password goes with --basic-user: give the user too")
		case password == "":
			return nil, errors.New("--basic-user needs a password: give --basic-password or set ROSTER_BASIC_PASSWORD")
		}
		return client.WithBasicAuth(r.basicUser, password), nil
	case "--oauth-client-id":
		secret := cmp.Or(r.oauthSecret, r.env("ROSTER_OAUTH_CLIENT_SECRET"))
		var missing []string
		if r.oauthTokenURL == "" {
			missing = append(missing, "--oauth-token-url")
		}
		if r.oauthClientID == "" {
			missing = append(missing, "--oauth-client-id")
		}
		if secret == "" {
			missing = append(missing, "--oauth-client-secret (or ROSTER_OAUTH_CLIENT_SECRET)")
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("OAuth 2.0 client credentials need %s too", strings.Join(missing, " and "))
		}
		return client.WithOAuth2(r.oauthTokenURL, r.oauthClientID, secret), nil
	}
	if r.anonymous {
		return nil, nil
	}
	return nil, errors.New("no credentials: give --token (or set ROSTER_TOKEN), --basic-user and --basic-password, " +
		"or --oauth-token-url, --oauth-client-id and --oauth-client-secret")
}

// run connects to the server the flags name and calls fn. An error answer
// of the server comes back as a scimError, which shows its status,
// scimType and detail.
func (r *remote) run(cmd *cobra.Command, fn func(ctx context.Context, c *client.Client, out *printer) error) error {
	switch {
	case r.output == "table", r.output == "json", r.output == "id" && r.ids:
	case r.ids:
		return fmt.Errorf("--output must be table, json or id, not %q", r.output)
	default:
		return fmt.Errorf("--output must be table or json, not %q", r.output)
	}
	base := cmp.Or(r.url, r.env("ROSTER_URL"))
	if base == "" {
		return errors.New("no server: give --url or set ROSTER_URL, such as http://localhost:8080/scim/v2")
	}
	auth, err := r.auth()
	if err != nil {
		return err
	}
	opts := []client.Option{client.WithUserAgent("roster/" + version())}
	if auth != nil {
		opts = append(opts, auth)
	}
	c, err := client.New(base, opts...)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if err := fn(ctx, c, &printer{w: cmd.OutOrStdout(), json: r.output == "json", ids: r.output == "id", quiet: r.quiet}); err != nil {
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
