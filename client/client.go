package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/time/rate"

	"github.com/rosterhq/roster/internal/retryafter"
	"github.com/rosterhq/roster/scim"
)

// maxResponseBytes bounds a response body the client reads.
const maxResponseBytes = 64 << 20

// Client is a client of one SCIM service provider. It is safe for
// concurrent use.
type Client struct {
	// Users and Groups are the /Users and /Groups endpoints.
	Users  *Users
	Groups *Groups

	base        *url.URL
	http        *http.Client
	header      http.Header
	auth        func(*http.Request)
	retries     int
	minBackoff  time.Duration
	maxBackoff  time.Duration
	limiter     *rate.Limiter
	slots       chan struct{}
	memberBatch int

	mu  sync.Mutex
	spc *ServiceProviderConfig // discovered on first need
}

// Option configures a Client.
type Option func(*Client) error

// WithToken authenticates with a bearer token.
func WithToken(token string) Option {
	return func(c *Client) error {
		c.auth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
		return nil
	}
}

// WithBasicAuth authenticates with HTTP Basic credentials.
func WithBasicAuth(user, password string) Option {
	return func(c *Client) error {
		c.auth = func(r *http.Request) { r.SetBasicAuth(user, password) }
		return nil
	}
}

// WithOAuth2 authenticates with access tokens from an OAuth 2.0 token
// endpoint (client credentials grant, RFC 6749 §4.4), fetched and renewed
// as they expire.
func WithOAuth2(tokenURL, clientID, clientSecret string, scopes ...string) Option {
	return func(c *Client) error {
		cfg := clientcredentials.Config{ClientID: clientID, ClientSecret: clientSecret, TokenURL: tokenURL, Scopes: scopes}
		base := c.http.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		ctx := context.WithValue(context.Background(), oauth2HTTPClient, &http.Client{Transport: base, Timeout: c.http.Timeout})
		src := cfg.TokenSource(ctx)
		c.auth = nil
		c.http.Transport = &oauth2Transport{base: base, source: src}
		return nil
	}
}

// WithTransport sends requests through rt (an http.RoundTripper that adds
// authentication, traces or a proxy).
func WithTransport(rt http.RoundTripper) Option {
	return func(c *Client) error {
		c.http.Transport = rt
		return nil
	}
}

// WithHTTPClient uses hc for requests (its Transport and Timeout).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		cp := *hc
		c.http = &cp
		return nil
	}
}

// WithHeader adds a header to every request.
func WithHeader(name, value string) Option {
	return func(c *Client) error {
		c.header.Add(name, value)
		return nil
	}
}

// WithTimeout bounds each HTTP request, retries apart (default 60 s).
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		c.http.Timeout = d
		return nil
	}
}

// WithUserAgent sets the User-Agent (default "roster-client/1").
func WithUserAgent(ua string) Option { return WithHeader("User-Agent", ua) }

// WithRetries sets how many times a failed request is retried (default 4)
// and the backoff before the first retry, which doubles up to max.
func WithRetries(n int, min, max time.Duration) Option {
	return func(c *Client) error {
		if n < 0 || min < 0 || max < min {
			return errors.New("client: WithRetries: negative count or backoff, or max < min")
		}
		c.retries, c.minBackoff, c.maxBackoff = n, min, max
		return nil
	}
}

// WithRateLimit limits the client to perSecond requests a second, with
// bursts of burst.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *Client) error {
		c.limiter = rate.NewLimiter(rate.Limit(perSecond), max(burst, 1))
		return nil
	}
}

// WithConcurrency limits the requests in flight at once.
func WithConcurrency(n int) Option {
	return func(c *Client) error {
		if n < 1 {
			return errors.New("client: WithConcurrency: n must be at least 1")
		}
		c.slots = make(chan struct{}, n)
		return nil
	}
}

// WithMemberBatch sets how many members one PATCH of AddMembers or
// RemoveMembers carries (default 100; some servers refuse more).
func WithMemberBatch(n int) Option {
	return func(c *Client) error {
		if n < 1 {
			return errors.New("client: WithMemberBatch: n must be at least 1")
		}
		c.memberBatch = n
		return nil
	}
}

// New returns a client of the SCIM service at baseURL, such as
// https://example.com/scim/v2.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q: want http(s)://host/path", baseURL)
	}
	c := &Client{
		base:        u,
		http:        &http.Client{Timeout: 60 * time.Second, Transport: newTransport()},
		header:      http.Header{"User-Agent": {"roster-client/1"}},
		retries:     4,
		minBackoff:  200 * time.Millisecond,
		maxBackoff:  30 * time.Second,
		memberBatch: 100,
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if ua := c.header.Values("User-Agent"); len(ua) > 1 {
		c.header.Set("User-Agent", ua[len(ua)-1])
	}
	c.Users = &Users{resources[User]{c: c, endpoint: "/Users"}}
	c.Groups = &Groups{resources[Group]{c: c, endpoint: "/Groups"}}
	return c, nil
}

// newTransport returns the transport of a client that was given none:
// http.DefaultTransport's settings, but keeping enough idle connections
// to the one host it talks to that concurrent callers reuse them (the
// default keeps 2: 8 goroutines calling in bursts opened 6 new
// connections a burst).
func newTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}

// request is one API call.
type request struct {
	method  string
	path    string // relative to the base URL, with its query
	body    any    // encoded as JSON; nil for none
	ifMatch string
	// idempotent says the request may be sent again after a failure that
	// leaves unknown whether the server carried it out.
	idempotent bool
}

// response is the server's answer to a successful call.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request, retrying what may be retried, and returns the
// answer if its status is 2xx, else an *Error.
func (c *Client) do(ctx context.Context, req request) (*response, error) {
	var body []byte
	if req.body != nil {
		var err error
		if body, err = json.Marshal(req.body); err != nil {
			return nil, fmt.Errorf("client: encode the request: %w", err)
		}
	}
	target := c.base.String() + req.path
	reached := false // an earlier attempt may have been carried out
	for attempt := 0; ; attempt++ {
		resp, err := c.send(ctx, req, target, body)
		wait, retry := c.shouldRetry(req, resp, err, attempt)
		if !retry {
			if err != nil {
				return nil, err
			}
			// A DELETE whose first attempt deleted, though its answer was
			// lost, finds nothing the second time: it did what was asked.
			if resp.status == http.StatusNotFound && req.method == http.MethodDelete && reached {
				return &response{status: http.StatusNoContent, header: resp.header}, nil
			}
			if resp.status >= 300 {
				return nil, answerError(req.method, target, resp)
			}
			return resp, nil
		}
		reached = reached || mayHaveActed(resp, err)
		// A wait the caller's deadline would cut short ends here, with the
		// server's answer rather than a bare context.DeadlineExceeded.
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			if err != nil {
				return nil, err
			}
			return nil, answerError(req.method, target, resp)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// send sends the request once, waiting for the rate limiter and a slot.
func (c *Client) send(ctx context.Context, req request, target string, body []byte) (*response, error) {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return nil, err
		}
	}
	if c.slots != nil {
		select {
		case c.slots <- struct{}{}:
			defer func() { <-c.slots }()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	for k, v := range c.header {
		hr.Header[k] = v
	}
	hr.Header.Set("Accept", "application/scim+json, application/json")
	if body != nil {
		hr.Header.Set("Content-Type", "application/scim+json")
	}
	if req.ifMatch != "" {
		hr.Header.Set("If-Match", req.ifMatch)
	}
	if c.auth != nil {
		c.auth(hr)
	}
	hresp, err := c.http.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", req.method, target, err)
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: read the answer: %w", req.method, target, err)
	}
	if len(data) > maxResponseBytes {
		return nil, fmt.Errorf("client: %s %s: the answer is larger than %d bytes", req.method, target, maxResponseBytes)
	}
	return &response{status: hresp.StatusCode, header: hresp.Header, body: data}, nil
}

// shouldRetry decides whether to send a request again after resp or err,
// and how long to wait first. 429 and 503 mean the server did not act on
// the request, so any request is retried; 502 and 504 come from a gateway
// that may have passed it on, and a broken connection may have broken
// after the server acted, so only idempotent requests are retried then,
// or any request whose connection was refused.
func (c *Client) shouldRetry(req request, resp *response, err error, attempt int) (time.Duration, bool) {
	if attempt >= c.retries {
		return 0, false
	}
	backoff := func() time.Duration {
		d := c.minBackoff
		for range attempt {
			if d >= c.maxBackoff/2 {
				d = c.maxBackoff
				break
			}
			d *= 2
		}
		d = min(d, c.maxBackoff)
		return d/2 + rand.N(d/2+1) // jitter: half of it, plus up to as much again
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || (errors.Is(err, context.DeadlineExceeded) && !isTimeout(err)) {
			return 0, false
		}
		if req.idempotent || errors.Is(err, syscall.ECONNREFUSED) {
			return backoff(), isNetwork(err)
		}
		return 0, false
	}
	switch resp.status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		if !req.idempotent {
			return 0, false
		}
	default:
		return 0, false
	}
	// Retry-After is the server's word: retrying sooner would only be
	// refused again, so a wait longer than the client's longest backoff
	// ends the retries and the caller gets the answer (Error.RetryAfter).
	if d, ok := retryafter.Parse(resp.header.Get("Retry-After"), time.Now(), maxRetryAfter); ok {
		return d, d <= c.maxBackoff
	}
	return backoff(), true
}

// mayHaveActed reports whether a failed attempt may have been carried out
// by the server: its answer came from a gateway or its connection broke
// after it was sent, rather than the server saying it did nothing (429,
// 503) or the connection never opening.
func mayHaveActed(resp *response, err error) bool {
	if err != nil {
		return !errors.Is(err, syscall.ECONNREFUSED)
	}
	return resp.status == http.StatusBadGateway || resp.status == http.StatusGatewayTimeout
}

// isNetwork reports whether err is the connection failing (refused,
// reset, closed, timed out), which another attempt may not meet, rather
// than a mistake another attempt would repeat (a bad URL, a certificate
// that does not verify).
func isNetwork(err error) bool {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // *url.Error is itself a net.Error, whatever it wraps
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// maxRetryAfter bounds the Retry-After a server can ask for.
const maxRetryAfter = 24 * time.Hour

// answerError returns the *Error for a non-2xx answer, with the SCIM
// error body's scimType and detail when it has one.
func answerError(method, target string, resp *response) error {
	e := &Error{Method: method, URL: target, Status: resp.status}
	if d, ok := retryafter.Parse(resp.header.Get("Retry-After"), time.Now(), maxRetryAfter); ok {
		e.RetryAfter = d
	}
	var body scim.Error
	if isJSON(resp) && json.Unmarshal(resp.body, &body) == nil {
		e.ScimType, e.Detail = body.ScimType, body.Detail
	} else {
		e.Detail = notJSON(resp)
	}
	if e.Detail == "" {
		e.Detail = http.StatusText(resp.status)
	}
	return e
}

// isJSON reports whether an answer says it is JSON, or, saying nothing,
// looks like it.
func isJSON(resp *response) bool {
	if ct := resp.header.Get("Content-Type"); ct != "" {
		return strings.Contains(strings.ToLower(ct), "json")
	}
	b := bytes.TrimSpace(resp.body)
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// notJSON describes an answer that is not JSON, such as the HTML error
// page of a proxy or a login page, by its type and title or first words.
func notJSON(resp *response) string {
	ct := resp.header.Get("Content-Type")
	if ct == "" {
		ct = http.DetectContentType(resp.body)
	}
	ct, _, _ = strings.Cut(ct, ";")
	text := strings.TrimSpace(string(resp.body))
	if m := htmlTitle.FindStringSubmatch(text); m != nil {
		text = strings.TrimSpace(m[1])
	}
	text = strings.Join(strings.Fields(text), " ")
	if len(text) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	if text == "" {
		return fmt.Sprintf("an empty %s answer, not SCIM JSON", ct)
	}
	return fmt.Sprintf("a %s answer, not SCIM JSON: %s", ct, text)
}

var htmlTitle = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// decode decodes a JSON answer into v, checking that it is JSON.
func decode(method, target string, resp *response, v any) error {
	if !isJSON(resp) {
		return fmt.Errorf("client: %s %s: %d with %s", method, target, resp.status, notJSON(resp))
	}
	if err := json.Unmarshal(resp.body, v); err != nil {
		return fmt.Errorf("client: %s %s: decode the answer: %w", method, target, err)
	}
	return nil
}

// rawJSON is a request body already encoded.
type rawJSON []byte

// MarshalJSON returns the bytes as they are.
func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

func jsonOf(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("client: encode: %w", err)
	}
	return b, nil
}

// Transport returns an http.RoundTripper that sends each request once, as
// the client sends its own: with the client's headers (those the request
// does not set itself) and credentials, through the client's transport,
// but without retries, rate limit or concurrency limit. It serves callers
// that must send what the typed methods never do and see the answer as
// it came, such as a compliance checker's malformed requests.
func (c *Client) Transport() http.RoundTripper {
	base := c.http.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		for k, v := range c.header {
			if _, ok := r.Header[k]; !ok {
				r.Header[k] = v
			}
		}
		if c.auth != nil && r.Header.Get("Authorization") == "" {
			c.auth(r)
		}
		return base.RoundTrip(r)
	})
}

// roundTripperFunc is a function that is an http.RoundTripper.
type roundTripperFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f.
func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
