package conformance

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster/client"
)

// Status is the outcome of one check.
type Status string

// The outcomes of a check: it passed, failed (the server broke a MUST, or
// a feature it advertises does not work), was skipped (the reason says
// why: the server does not support it, or the run was told not to), or
// warned (the server broke a SHOULD, or deviates in a way real clients
// tolerate).
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
	Warn Status = "warn"
)

// Profiles a run may choose: every check, or only those replaying what
// Okta's or Microsoft Entra ID's provisioning sends.
const (
	ProfileAll   = "all"
	ProfileOkta  = "okta"
	ProfileEntra = "entra"
)

// Config says which server to check, how, and which checks to run.
type Config struct {
	// URL is the server's SCIM base URL, such as
	// https://scim.example.com/scim/v2.
	URL string
	// Auth authenticates the checker: client.WithToken, WithBasicAuth or
	// WithOAuth2. Nil sends no credentials.
	Auth client.Option
	// HTTPClient, if set, gives the transport (TLS settings, a proxy) and
	// the timeout of each request (default 60 s).
	HTTPClient *http.Client
	// Profile is ProfileAll (the default, also ""), ProfileOkta or
	// ProfileEntra.
	Profile string
	// Only, if not empty, runs only the checks that have one of these
	// tags or ids; Skip leaves out the checks that have one.
	Only, Skip []string
	// ReadOnly runs only the checks that change nothing on the server;
	// the others are reported as skipped.
	ReadOnly bool
	// Large is the member count of the large-group check, which is
	// skipped when it is 0.
	Large int
	// Concurrency is how many requests the concurrency checks send at
	// once (default 8).
	Concurrency int
	// Prefix names what the run creates (default "rc" and random hex):
	// every user and group the checks create has a name that starts with
	// it.
	Prefix string
}

// Check is one conformance check: what it checks, where the rule comes
// from, and the function that checks it.
type Check struct {
	// ID is stable across versions, such as
	// filter.userName_eq_case_insensitive: its tag, a dot, a name.
	ID string
	// Tags group checks (discovery, users, filter, …); the first is the
	// check's own.
	Tags []string
	// Ref is the RFC section or vendor document the rule stems from.
	Ref string
	// Title says in a line what a server must do to pass.
	Title string
	// Writes says the check creates or changes resources (its own), so
	// that a read-only run skips it.
	Writes bool
	// Needs are the features the server must advertise; a check whose
	// feature the server says it lacks is skipped, saying so.
	Needs []Feature
	// Run checks; it reports through t.
	Run func(t *T)
}

// Feature is an optional part of SCIM a server advertises in its
// ServiceProviderConfig (RFC 7643 §5) or resource types.
type Feature string

// The features checks may need.
const (
	FeaturePatch  Feature = "patch"
	FeatureBulk   Feature = "bulk"
	FeatureFilter Feature = "filter"
	FeatureSort   Feature = "sort"
	FeatureETag   Feature = "etag"
	FeatureCursor Feature = "cursor"
	FeatureGroups Feature = "groups"
)

// Result is the outcome of one check.
type Result struct {
	ID     string   `json:"id"`
	Tags   []string `json:"tags"`
	Ref    string   `json:"ref"`
	Title  string   `json:"title"`
	Status Status   `json:"status"`
	// Message says why the check failed, warned or was skipped, or notes
	// what it measured.
	Message string `json:"message,omitempty"`
	// Expected and Got explain a failure or warning.
	Expected string        `json:"expected,omitempty"`
	Got      string        `json:"got,omitempty"`
	Duration time.Duration `json:"durationNs"`
	// Exchanges are the HTTP exchanges of a check that failed or warned,
	// secrets masked; DroppedExchanges counts those not kept.
	Exchanges        []Exchange `json:"exchanges,omitempty"`
	DroppedExchanges int        `json:"droppedExchanges,omitempty"`
}

// Report is the outcome of a run.
type Report struct {
	URL      string        `json:"url"`
	Profile  string        `json:"profile"`
	Prefix   string        `json:"prefix"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"durationNs"`
	// Features are what the server advertised; Notes say what discovery
	// could not read, and what the run assumed instead.
	Features map[Feature]bool `json:"features"`
	Notes    []string         `json:"notes,omitempty"`
	Results  []Result         `json:"results"`
	// Cleanup says what the run deleted of what it created, and what it
	// could not.
	Cleanup Cleanup `json:"cleanup"`
}

// Cleanup is what a run did to delete what it created.
type Cleanup struct {
	Deleted int `json:"deleted"`
	// Left are the resources (their URLs) that could not be deleted, each
	// with why.
	Left []string `json:"left,omitempty"`
}

// Count returns how many checks ended with status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == s {
			n++
		}
	}
	return n
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool { return r.Count(Fail) > 0 }

// Result returns the result of the check with id, if it ran.
func (r *Report) Result(id string) (Result, bool) {
	for _, res := range r.Results {
		if res.ID == id {
			return res, true
		}
	}
	return Result{}, false
}

// ErrCannotRun is what Run's error wraps when the checks could not run at
// all: the server is unreachable or refuses the credentials.
var ErrCannotRun = errors.New("conformance: the checks cannot run")

// Checks returns every check, in the order a run runs them.
func Checks() []Check {
	var all []Check
	for _, group := range [][]Check{discoveryChecks(), authChecks(), errorChecks(), userChecks(), filterChecks(),
		pagingChecks(), cursorChecks(), sortChecks(), projectionChecks(), patchChecks(), etagChecks(), bulkChecks(),
		groupChecks(), concurrencyChecks(), largeGroupChecks(), oktaChecks(), entraChecks(), rateLimitChecks()} {
		all = append(all, group...)
	}
	return all
}

// Run checks the server cfg names and returns the report. Its error wraps
// ErrCannotRun when the checks could not run at all (the report is then
// empty), or is ctx's error when ctx ended before the checks did (the
// report then holds those that ran, and what was created is deleted all
// the same).
func Run(ctx context.Context, cfg Config) (Report, error) {
	r, err := newRunner(cfg)
	if err != nil {
		return Report{}, err
	}
	rep := Report{URL: cfg.URL, Profile: r.cfg.Profile, Prefix: r.prefix, Started: time.Now()}
	if err := r.discover(ctx); err != nil {
		return Report{}, err
	}
	rep.Features, rep.Notes = r.features, r.notes
	var selected []Check
	for _, c := range Checks() {
		if r.selects(c) {
			selected = append(selected, c)
		}
	}
	for i, c := range selected {
		if ctx.Err() != nil {
			for _, c := range selected[i:] {
				rep.Results = append(rep.Results, resultOf(c, Skip, "the run was cancelled before this check"))
			}
			break
		}
		rep.Results = append(rep.Results, r.run(ctx, c))
	}
	for i := range rep.Results {
		if rep.Results[i].ID == rateLimitCheckID {
			rep.Results[i] = r.rateLimitResult(rep.Results[i])
		}
	}
	rep.Cleanup = r.cleanup(ctx, rep.Results)
	rep.Duration = time.Since(rep.Started)
	r.closeIdle() // the run's own transport: its connections end with it
	return rep, ctx.Err()
}

func resultOf(c Check, s Status, msg string) Result {
	return Result{ID: c.ID, Tags: c.Tags, Ref: c.Ref, Title: c.Title, Status: s, Message: msg}
}

// runner is the state of one run.
type runner struct {
	cfg       Config
	closeIdle func() // of the run's own transport, if it has one
	base      string
	prefix    string
	authed    *http.Client // requests with the run's credentials
	anon      *http.Client // requests without any

	features map[Feature]bool
	spc      client.ServiceProviderConfig
	notes    []string // what discovery could not learn, and what was assumed

	mu      sync.Mutex
	created []string // URLs of what the run created, in order
	fixture *population
	// fixtureErr says why the shared users could not be created, so that
	// the checks after the first that tried do not try again.
	fixtureErr string
	limited    []limitedAnswer // 429 answers seen
	seq        int
}

func newRunner(cfg Config) (*runner, error) {
	if cfg.Profile == "" {
		cfg.Profile = ProfileAll
	}
	if !slices.Contains([]string{ProfileAll, ProfileOkta, ProfileEntra}, cfg.Profile) {
		return nil, fmt.Errorf("conformance: profile %q: want all, okta or entra", cfg.Profile)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.Large < 0 {
		return nil, fmt.Errorf("conformance: large-group size %d is negative", cfg.Large)
	}
	for _, name := range append(slices.Clone(cfg.Only), cfg.Skip...) {
		if !slices.ContainsFunc(Checks(), func(c Check) bool { return c.ID == name || slices.Contains(c.Tags, name) }) {
			return nil, fmt.Errorf("conformance: no check has the tag or id %q", name)
		}
	}
	prefix := cfg.Prefix
	if prefix == "" {
		var b [4]byte
		rand.Read(b[:])
		prefix = "rc" + hex.EncodeToString(b[:])
	}
	timeout := 60 * time.Second
	// A transport of the run's own, not http.DefaultTransport itself:
	// whoever calls DefaultTransport.CloseIdleConnections (httptest's
	// Server.Close does) would otherwise break a request of the run that
	// is taking an idle connection at that moment.
	var base http.RoundTripper = http.DefaultTransport
	closeIdle := func() {}
	if t, ok := base.(*http.Transport); ok {
		own := t.Clone()
		base, closeIdle = own, own.CloseIdleConnections
	}
	if cfg.HTTPClient != nil {
		if cfg.HTTPClient.Transport != nil {
			base = cfg.HTTPClient.Transport
		}
		if cfg.HTTPClient.Timeout > 0 {
			timeout = cfg.HTTPClient.Timeout
		}
	}
	rec := recorder{base: base}
	opts := []client.Option{client.WithTransport(rec), client.WithUserAgent("roster-conform/1")}
	if cfg.Auth != nil {
		opts = append(opts, cfg.Auth)
	}
	c, err := client.New(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &runner{
		cfg:       cfg,
		closeIdle: closeIdle,
		base:      strings.TrimSuffix(cfg.URL, "/"),
		prefix:    prefix,
		authed:    &http.Client{Transport: c.Transport(), Timeout: timeout, CheckRedirect: noRedirect},
		anon:      &http.Client{Transport: rec, Timeout: timeout, CheckRedirect: noRedirect},
	}, nil
}

// selects reports whether the run's profile, Only and Skip select c.
func (r *runner) selects(c Check) bool {
	has := func(names []string) bool {
		return slices.ContainsFunc(names, func(n string) bool { return n == c.ID || slices.Contains(c.Tags, n) })
	}
	if r.cfg.Profile != ProfileAll && !slices.Contains(c.Tags, r.cfg.Profile) {
		return false
	}
	if len(r.cfg.Only) > 0 && !has(r.cfg.Only) {
		return false
	}
	return !has(r.cfg.Skip)
}

// run runs one check, turning its panics into failures.
func (r *runner) run(ctx context.Context, c Check) Result {
	if c.Writes && r.cfg.ReadOnly {
		return resultOf(c, Skip, "read-only run: this check creates or changes (its own) resources")
	}
	for _, f := range c.Needs {
		if !r.features[f] {
			return resultOf(c, Skip, notAdvertised(f))
		}
	}
	log := &exchangeLog{}
	t := &T{ctx: withLog(ctx, log), r: r, check: c, status: Pass}
	start := time.Now()
	t.call(c.Run)
	res := resultOf(c, t.status, t.message)
	res.Expected, res.Got = t.expected, t.got
	res.Duration = time.Since(start)
	if ctx.Err() != nil && t.status == Fail {
		res.Status, res.Message = Skip, "the run was cancelled during this check"
	}
	if res.Status == Fail || res.Status == Warn {
		res.Exchanges, res.DroppedExchanges = log.take()
	}
	return res
}

// notAdvertised says why a check of feature f was skipped.
func notAdvertised(f Feature) string {
	switch f {
	case FeatureGroups:
		return "the server's /ResourceTypes has no Group resource type"
	case FeatureCursor:
		return "the server's ServiceProviderConfig does not advertise cursor pagination (RFC 9865 pagination.cursor)"
	}
	return fmt.Sprintf("the server's ServiceProviderConfig says %s.supported is not true", f)
}

// cleanup deletes what the run created, newest first (groups before
// their members), with a context of its own, so that it runs also after
// ctx was cancelled. It deletes only what carries the run's prefix,
// read back before each DELETE: a server that answered a create with
// another resource's id, or a filter with resources it does not match,
// must not make the run delete what it did not create.
func (r *runner) cleanup(ctx context.Context, results []Result) Cleanup {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	r.mu.Lock()
	created := slices.Clone(r.created)
	r.mu.Unlock()
	slices.Reverse(created)
	var groups, users []string
	for _, u := range created {
		if strings.HasPrefix(u, r.base+"/Groups/") {
			groups = append(groups, u)
		} else {
			users = append(users, u)
		}
	}
	var (
		c    Cleanup
		mu   sync.Mutex // guards c and seen while users are deleted at once
		seen = map[string]bool{}
	)
	leave := func(format string, args ...any) {
		mu.Lock()
		c.Left = append(c.Left, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	del := func(u string) {
		mu.Lock()
		done := seen[u]
		seen[u] = true
		mu.Unlock()
		if done {
			return
		}
		got, err := r.send(ctx, req{method: http.MethodGet, path: u, patient: true})
		if err != nil {
			leave("%s: %v", u, err)
			return
		}
		switch {
		case got.Status == http.StatusNotFound:
			return // a check deleted it already
		case got.Status != http.StatusOK:
			leave("%s: GET answered %s, so it was not deleted", u, got)
			return
		}
		if name := nameOf(got.objectOrNil(), strings.HasPrefix(u, r.base+"/Groups/")); !r.ours(name) {
			leave("%s: its name %q does not start with the run's prefix %q, so it was not deleted", u, name, r.prefix)
			return
		}
		resp, err := r.send(ctx, req{method: http.MethodDelete, path: u, patient: true})
		switch {
		case err != nil:
			leave("%s: %v", u, err)
		case resp.Status < 300:
			mu.Lock()
			c.Deleted++
			mu.Unlock()
		case resp.Status == http.StatusNotFound:
			// A check deleted it already.
		default:
			leave("%s: DELETE answered %s", u, resp)
		}
	}
	for _, u := range groups {
		del(u)
	}
	// Users after the groups that hold them, Concurrency at a time: a
	// large-group run leaves thousands.
	var wg sync.WaitGroup
	sem := make(chan struct{}, r.cfg.Concurrency)
	for _, u := range users {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			del(u)
		})
	}
	wg.Wait()
	// A create whose answer was lost (the run cancelled while it was on
	// its way) made a resource the run never heard of: find what carries
	// the run's prefix. Only when the server's filters did not fail a
	// check, and only what the answer names with the prefix: a server
	// that mis-evaluates sw would answer others' resources.
	filtersFailed := slices.ContainsFunc(results, func(res Result) bool {
		return res.Status == Fail && slices.Contains(res.Tags, "filter")
	})
	if r.features[FeatureFilter] && !r.cfg.ReadOnly && !filtersFailed {
		for _, sweep := range []struct {
			endpoint, attr string
			group          bool
		}{{"/Groups", "displayName", true}, {"/Users", "userName", false}} {
			if sweep.group && !r.features[FeatureGroups] {
				continue
			}
			for range 20 {
				resp, err := r.send(ctx, req{method: http.MethodGet, patient: true,
					path: query(sweep.endpoint, "filter", fmt.Sprintf("%s sw %q", sweep.attr, r.prefix+"-"), "count", "100", "attributes", "id,"+sweep.attr)})
				if err != nil || resp.Status != http.StatusOK {
					break
				}
				var l struct{ Resources []map[string]any }
				if json.Unmarshal(resp.Body, &l) != nil {
					break
				}
				fresh := 0
				for _, res := range l.Resources {
					id := str(res, "id")
					if u := r.base + sweep.endpoint + "/" + url.PathEscape(id); id != "" && !seen[u] && r.ours(nameOf(res, sweep.group)) {
						fresh++
						del(u)
					}
				}
				if fresh == 0 {
					break
				}
			}
		}
	}
	return c
}

// nameOf returns the name a resource of the run carries: a group's
// displayName, a user's userName (or its displayName, for the user a
// check posted without a userName).
func nameOf(m map[string]any, group bool) string {
	if group {
		return str(m, "displayName")
	}
	return cmp.Or(str(m, "userName"), str(m, "displayName"))
}

// ours reports whether name is one the run gave: it starts with the
// run's prefix and a dash, as the run sent it (as is, or upper- or
// lower-cased by the checks of case-insensitive userNames).
func (r *runner) ours(name string) bool {
	for _, p := range []string{r.prefix, strings.ToUpper(r.prefix), strings.ToLower(r.prefix)} {
		if strings.HasPrefix(name, p+"-") {
			return true
		}
	}
	return false
}

// track remembers a resource the run created, to delete at the end.
func (r *runner) track(location string) {
	r.mu.Lock()
	r.created = append(r.created, location)
	r.mu.Unlock()
}

// name returns a new unique name of the run: its prefix, a number and
// what.
func (r *runner) name(what string) string {
	r.mu.Lock()
	r.seq++
	n := r.seq
	r.mu.Unlock()
	return fmt.Sprintf("%s-%03d-%s", r.prefix, n, what)
}
