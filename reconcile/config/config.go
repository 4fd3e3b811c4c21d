package config

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/reconcile/source"
	"github.com/rosterhq/roster/reconcile/source/file"
	"github.com/rosterhq/roster/reconcile/source/scimserver"
)

// Config is a sync configuration.
type Config struct {
	Source  Source            `yaml:"source"`
	Target  Endpoint          `yaml:"target"`
	Mapping reconcile.Mapping `yaml:"mapping"`
	Policy  reconcile.Policy  `yaml:"policy"`
	// Scope narrows the source to some groups and their members.
	Scope reconcile.Scope `yaml:"scope"`
	// State is the state file (default: the config's path + ".state.json");
	// the lock file is beside it, with ".lock".
	State string `yaml:"state"`
	// MinUsers aborts a run whose source holds fewer users (default 1).
	MinUsers int `yaml:"minUsers"`
	// Database is where runs are recorded (roster sync history): a SQLite
	// file or a postgres:// URL, such as Roster's own database; "" records
	// nothing.
	Database string `yaml:"database"`
	// Name names this sync in the history (default: the config file's
	// absolute path, so that two sync.yaml of two directories are two
	// syncs). The copy of the state the database keeps is this name's and
	// the target's (see RestoreState).
	Name string `yaml:"name"`

	dir string // the config file's directory, for relative paths
}

// Source says where the users and groups come from.
type Source struct {
	Type string      `yaml:"type"` // ldap, file or scim
	File file.Config `yaml:"file"`
	LDAP LDAP        `yaml:"ldap"`
	SCIM struct {
		Endpoint `yaml:",inline"`
		Filter   string `yaml:"filter"`
	} `yaml:"scim"`
}

// Endpoint is a SCIM server and its credentials: a bearer token (Token,
// TokenFile or TokenEnv), HTTP Basic credentials (Basic) or an OAuth 2.0
// client (OAuth), one of them.
type Endpoint struct {
	URL       string `yaml:"url"`
	Token     string `yaml:"token"`
	TokenFile string `yaml:"tokenFile"`
	TokenEnv  string `yaml:"tokenEnv"`
	Basic     *Basic `yaml:"basic"`
	OAuth     *OAuth `yaml:"oauth"`
	// Concurrency, RateLimit (requests a second) and MemberBatch (members
	// per PATCH; some targets refuse more than 100) tune the client.
	Concurrency int     `yaml:"concurrency"`
	RateLimit   float64 `yaml:"rateLimit"`
	MemberBatch int     `yaml:"memberBatch"`
	// Bulk creates users in bulk requests (RFC 7644 §3.7) when the target
	// offers them: far fewer round trips to a distant target.
	Bulk    bool          `yaml:"bulk"`
	Timeout time.Duration `yaml:"timeout"`
}

// Basic is HTTP Basic credentials: a user, and a password inline, in a
// file or in an environment variable.
type Basic struct {
	User         string `yaml:"user"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"passwordFile"`
	PasswordEnv  string `yaml:"passwordEnv"`
}

// OAuth is an OAuth 2.0 client (the client credentials grant): access
// tokens come from TokenURL, and are renewed as they expire.
type OAuth struct {
	TokenURL         string   `yaml:"tokenURL"`
	ClientID         string   `yaml:"clientId"`
	ClientSecret     string   `yaml:"clientSecret"`
	ClientSecretFile string   `yaml:"clientSecretFile"`
	ClientSecretEnv  string   `yaml:"clientSecretEnv"`
	Scopes           []string `yaml:"scopes"`
}

// Load reads a configuration file. Unknown keys are errors, so that a
// misspelt setting is not silently ignored.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sync config: %w", err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("sync config %s: %w", path, err)
	}
	c.dir = filepath.Dir(path)
	c.Mapping.Where = mappingLines(path, data)
	if c.Name == "" {
		// As typed, two configurations run from two directories, both as
		// --config sync.yaml, would share one history and one state copy.
		c.Name = path
		if abs, err := filepath.Abs(path); err == nil {
			c.Name = abs
		}
	}
	if c.State == "" {
		c.State = path + ".state.json"
	}
	c.State = c.rel(c.State)
	for _, e := range []*Endpoint{&c.Target, &c.Source.SCIM.Endpoint} {
		e.TokenFile = c.rel(e.TokenFile)
		if e.Basic != nil {
			e.Basic.PasswordFile = c.rel(e.Basic.PasswordFile)
		}
		if e.OAuth != nil {
			e.OAuth.ClientSecretFile = c.rel(e.OAuth.ClientSecretFile)
		}
	}
	if c.Target.URL == "" {
		return nil, fmt.Errorf("sync config %s: target.url is required", path)
	}
	return &c, nil
}

// rel resolves a path relative to the config file's directory.
func (c *Config) rel(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// Client returns a client of an endpoint.
func (e Endpoint) Client(userAgent string) (*client.Client, error) {
	auth, err := e.auth()
	if err != nil {
		return nil, err
	}
	opts := []client.Option{auth}
	if userAgent != "" {
		opts = append(opts, client.WithUserAgent(userAgent))
	}
	if e.Concurrency > 0 {
		opts = append(opts, client.WithConcurrency(e.Concurrency))
	}
	if e.RateLimit > 0 {
		opts = append(opts, client.WithRateLimit(e.RateLimit, max(1, int(e.RateLimit))))
	}
	if e.MemberBatch > 0 {
		opts = append(opts, client.WithMemberBatch(e.MemberBatch))
	}
	if e.Timeout > 0 {
		opts = append(opts, client.WithTimeout(e.Timeout))
	}
	return client.New(e.URL, opts...)
}

// auth returns the client option of the endpoint's credentials, reading
// the secret.
func (e Endpoint) auth() (client.Option, error) {
	switch {
	case e.Basic != nil:
		password, err := secret("basic.password", e.Basic.Password, e.Basic.PasswordFile, e.Basic.PasswordEnv)
		if err != nil {
			return nil, err
		}
		return client.WithBasicAuth(e.Basic.User, password), nil
	case e.OAuth != nil:
		s, err := secret("oauth.clientSecret", e.OAuth.ClientSecret, e.OAuth.ClientSecretFile, e.OAuth.ClientSecretEnv)
		if err != nil {
			return nil, err
		}
		return client.WithOAuth2(e.OAuth.TokenURL, e.OAuth.ClientID, s, e.OAuth.Scopes...), nil
	case e.Token != "" || e.TokenFile != "" || e.TokenEnv != "":
		token, err := secret("token", e.Token, e.TokenFile, e.TokenEnv)
		if err != nil {
			return nil, err
		}
		return client.WithToken(token), nil
	}
	return nil, errors.New("sync config: no credentials (token, tokenFile or tokenEnv; basic; or oauth) for " + e.URL)
}

// credentials returns how many kinds of credentials (a token, basic,
// oauth) the endpoint names.
func (e Endpoint) credentials() int {
	n := 0
	for _, given := range []bool{e.Token != "" || e.TokenFile != "" || e.TokenEnv != "", e.Basic != nil, e.OAuth != nil} {
		if given {
			n++
		}
	}
	return n
}

// secret returns a secret given inline, in a file or in an environment
// variable, the first of them set.
func secret(what, inline, file, env string) (string, error) {
	switch {
	case inline != "":
		return inline, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("sync config: %s file: %w", what, err)
		}
		return strings.TrimSpace(string(b)), nil
	case env != "":
		if v := os.Getenv(env); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("sync config: %s: $%s is empty", what, env)
	}
	return "", fmt.Errorf("sync config: no %s (inline, in a file or in an environment variable)", what)
}

// Engine builds the engine the configuration describes and takes the
// run's locks (see lock); call unlock when the run is over. When h (the
// configuration's database, see History) is not nil, it then, holding
// the locks, restores a missing state file from the copy h keeps
// (restored is when that copy was saved; zero when nothing was restored),
// brings the copy up to date with the file, and keeps it in step with
// every save of the state from then on (reconcile.State.AfterSave); h must
// stay open until unlock.
func (c *Config) Engine(ctx context.Context, userAgent string, h History) (e *reconcile.Engine, restored time.Time, unlock func(), err error) {
	src, err := c.source(userAgent)
	if err != nil {
		return nil, time.Time{}, nil, err
	}
	target, err := c.Target.Client(userAgent)
	if err != nil {
		return nil, time.Time{}, nil, err
	}
	if unlock, err = c.lock(ctx); err != nil {
		return nil, time.Time{}, nil, err
	}
	defer func() {
		if err != nil {
			unlock()
		}
	}()
	if h != nil {
		if restored, err = c.RestoreState(ctx, h); err != nil {
			return nil, time.Time{}, nil, err
		}
		if err := c.KeepState(ctx, h); err != nil {
			return nil, time.Time{}, nil, err
		}
	}
	state, err := reconcile.LoadState(c.State)
	if err != nil {
		return nil, time.Time{}, nil, err
	}
	if h != nil {
		keep := context.WithoutCancel(ctx) // a run stopped midway still keeps what it saved
		state.AfterSave = func(data []byte) error { return c.keepState(keep, h, data) }
	}
	return &reconcile.Engine{Source: src, Target: target, Mapping: c.Mapping, Policy: c.Policy, Scope: c.Scope, State: state,
		Concurrency: c.Target.Concurrency, MinUsers: c.MinUsers, Bulk: c.Target.Bulk}, restored, unlock, nil
}

// lock takes the locks that keep two runs apart, or returns
// reconcile.ErrLocked: a lock file beside the state file (one configuration
// run twice); one named after the target in the user's cache directory
// (two configurations on this machine syncing into one target); and,
// when the database is PostgreSQL, an advisory lock named after the
// target (runs on other machines).
func (c *Config) lock(ctx context.Context) (unlock func(), err error) {
	var unlocks []func()
	unlock = func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			unlocks[i]()
		}
	}
	paths := []string{c.State + ".lock"}
	if p, ok := targetLockPath(c.Target.URL); ok {
		paths = append(paths, p)
	}
	for _, p := range paths {
		u, err := reconcile.Lock(p)
		if err != nil {
			unlock()
			return nil, err
		}
		unlocks = append(unlocks, u)
	}
	u, err := c.pgLock(ctx)
	if err != nil {
		unlock()
		return nil, err
	}
	unlocks = append(unlocks, u)
	return unlock, nil
}

// targetLockPath returns the path of the lock file of a target URL, in
// the user's cache directory (created if need be), or false if there is
// no such directory.
func targetLockPath(target string) (string, bool) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", false
	}
	dir = filepath.Join(dir, "roster", "sync-locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", false
	}
	sum := sha256.Sum256([]byte(targetKey(target)))
	return filepath.Join(dir, hex.EncodeToString(sum[:12])+".lock"), true
}

// targetKey is what names a target in locks: its URL without a trailing
// slash, scheme and host in lower case.
func targetKey(target string) string {
	target = strings.TrimRight(target, "/")
	if u, err := url.Parse(target); err == nil && u.Host != "" {
		u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
		return u.String()
	}
	return target
}

func (c *Config) source(userAgent string) (source.Source, error) {
	switch strings.ToLower(c.Source.Type) {
	case "file":
		fc := c.Source.File
		fc.Users, fc.Groups = c.rel(fc.Users), c.rel(fc.Groups)
		return file.New(fc)
	case "scim":
		cl, err := c.Source.SCIM.Client(userAgent)
		if err != nil {
			return nil, err
		}
		return scimserver.New(cl, c.Source.SCIM.Filter), nil
	case "ldap":
		return c.ldapSource()
	}
	return nil, fmt.Errorf("sync config: source.type must be ldap, file or scim, not %q", c.Source.Type)
}

// mappingLines returns where each of mapping.users' paths is written in
// a configuration file, as "path:line", for errors that name the line.
func mappingLines(path string, data []byte) map[string]string {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	child := func(n *yaml.Node, key string) *yaml.Node {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
		return nil
	}
	users := child(child(doc.Content[0], "mapping"), "users")
	if users == nil || users.Kind != yaml.MappingNode {
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(users.Content); i += 2 {
		out[users.Content[i].Value] = fmt.Sprintf("%s:%d", path, users.Content[i].Line)
	}
	return out
}

// Validate checks the configuration as far as it can without touching
// the source or the target, nor reading a secret: the source's type and
// its required settings, the URLs, the mapping's paths and expressions,
// and the policy's values. Load has already refused unknown keys.
func (c *Config) Validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	checkURL := func(what, raw string, schemes ...string) {
		u, err := url.Parse(raw)
		switch {
		case raw == "":
			bad("%s is required", what)
		case err != nil || u.Host == "":
			bad("%s %q is not a URL", what, raw)
		default:
			ok := false
			for _, s := range schemes {
				ok = ok || strings.EqualFold(u.Scheme, s)
			}
			if !ok {
				bad("%s %q: the scheme must be %s", what, raw, strings.Join(schemes, " or "))
			}
		}
	}
	checkURL("target.url", c.Target.URL, "http", "https")
	// Credentials: one kind, complete (the secret itself is not read).
	checkAuth := func(what string, e Endpoint) {
		switch e.credentials() {
		case 0:
			bad("%s: no credentials: a token (token, tokenFile or tokenEnv), basic or oauth", what)
		case 1:
		default:
			bad("%s: more than one kind of credentials (token, basic, oauth): give one", what)
		}
		if b := e.Basic; b != nil {
			if b.User == "" {
				bad("%s.basic.user is required", what)
			}
			if b.Password == "" && b.PasswordFile == "" && b.PasswordEnv == "" {
				bad("%s.basic: no password (password, passwordFile or passwordEnv)", what)
			}
		}
		if o := e.OAuth; o != nil {
			checkURL(what+".oauth.tokenURL", o.TokenURL, "http", "https")
			if o.ClientID == "" {
				bad("%s.oauth.clientId is required", what)
			}
			if o.ClientSecret == "" && o.ClientSecretFile == "" && o.ClientSecretEnv == "" {
				bad("%s.oauth: no client secret (clientSecret, clientSecretFile or clientSecretEnv)", what)
			}
		}
	}
	checkAuth("target", c.Target)
	switch strings.ToLower(c.Source.Type) {
	case "file":
		if c.Source.File.Users == "" {
			bad("source.file.users is required")
		}
	case "scim":
		checkURL("source.scim.url", c.Source.SCIM.URL, "http", "https")
		checkAuth("source.scim", c.Source.SCIM.Endpoint)
	case "ldap":
		checkURL("source.ldap.url", c.Source.LDAP.URL, "ldap", "ldaps")
	default:
		bad("source.type must be ldap, file or scim, not %q", c.Source.Type)
	}
	if err := c.Mapping.Check(); err != nil {
		bad("%v", err)
	}
	if s := c.Policy.MaxDeprovisionShare; s < 0 || s > 1 {
		bad("policy.maxDeprovisionShare %v is not between 0 and 1", s)
	}
	switch c.Policy.RetireGroups {
	case "", reconcile.RetireKeep, reconcile.RetireRename, reconcile.RetireDelete:
	default:
		bad("policy.retireGroups %q is not keep, rename or delete", c.Policy.RetireGroups)
	}
	if _, err := reconcile.ParseAdoptPolicy(string(c.Policy.Adopt)); err != nil {
		bad("%v", err)
	}
	if c.Policy.MaxDeprovision < 0 || c.Policy.GracePeriod < 0 || c.MinUsers < 0 {
		bad("policy.maxDeprovision, policy.gracePeriod and minUsers cannot be negative")
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("sync config %s:\n  %s", c.Name, strings.Join(problems, "\n  "))
}
