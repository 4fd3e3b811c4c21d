package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// BasePath is where the SCIM API is served.
const BasePath = "/scim/v2"

// Config configures a server. Only Store is required.
type Config struct {
	Store store.Store
	// Registry holds the schemas and resource types served; nil means
	// schema.NewRegistry() (User with the Enterprise extension, Group).
	Registry *schema.Registry
	// MaxResults caps the count of a list request (default 1000);
	// DefaultCount is the count when the request names none (default 100).
	MaxResults   int
	DefaultCount int
	// MaxBodyBytes bounds request bodies (default 1 MiB); larger ones get 413.
	MaxBodyBytes int64
	// QueryBudget bounds the time the store may spend selecting the
	// resources of one filtered or sorted list or search request: the
	// filter, the sort, the skip to startIndex and the total (default
	// 500 ms; negative turns the bound off). A filter no index serves
	// makes the store read every resource of the type: at a million users
	// that is seconds of CPU, which one request must not take. Past the
	// budget the query stops and the request gets 400 tooMany (RFC 7644
	// §3.12), telling the client to narrow its filter or page with a
	// cursor. A list of every resource in creation order, and reading the
	// members of the page's groups, are not bounded (see
	// store.Query.Budget).
	QueryBudget time.Duration
	// Logger receives one line per failed request that is the server's
	// fault; nil discards.
	Logger *slog.Logger
	// PasswordIterations is the PBKDF2-SHA256 cost of stored password
	// hashes (default 600,000, OWASP's figure).
	PasswordIterations int
	// HashPassword turns a password a client sets into what the store
	// keeps; nil means PBKDF2-SHA256 with PasswordIterations, as
	// $pbkdf2-sha256$<iterations>$<salt>$<key>.
	HashPassword func(password string) (string, error)
	// PasswordHashers bounds the passwords the server hashes at once
	// (default half the CPUs, at least one): each hash costs CPU on
	// purpose, and requests that set passwords wait for their turn.
	PasswordHashers int
	// Strict answers 400 to a request that names what its resource type
	// does not define: a schema URN in "schemas" that is neither its core
	// schema nor one of its extensions, or an attribute (in a body or a
	// PATCH path); a POST or PUT must also list the core schema.
	// By default (lenient) they are ignored, and logged at debug level:
	// Microsoft Entra ID lists its ADSCIM schema and the URNs of custom
	// extensions it was configured with.
	Strict bool
	// RateLimit is the requests per second each token may make, with bursts
	// of RateBurst; more get 429 with Retry-After. 0 means 100 per second
	// with bursts of 200; a negative rate turns limiting off. Limits are
	// per process.
	RateLimit float64
	RateBurst int
	// AuthFailureLimit is the failed authentications per second each
	// client address may make, with bursts of AuthFailureBurst; more get
	// 429 with Retry-After, without reaching the store, unless the
	// server recognizes their credentials as good (see authlimit.go:
	// successes are never limited). 0 means one per second with bursts of
	// 20; a negative rate turns the limit off. The address is the
	// connection's: behind a proxy, every client shares the proxy's.
	AuthFailureLimit float64
	AuthFailureBurst int
	// CursorKey signs the cursors of cursor pagination (RFC 9865). Empty:
	// keys derived from the store's signing keys, which replicas on one
	// database share. CursorTimeout is how long a cursor stays valid
	// (default 10 minutes).
	CursorKey     []byte
	CursorTimeout time.Duration
	// AccessTokenTTL is the lifetime of OAuth access tokens (default 1 hour).
	AccessTokenTTL time.Duration
	// TokenCacheTTL is how long the server remembers that a bearer token
	// is valid before it asks the store again (default 2 seconds; negative
	// turns the cache off). A token revoked through another server (or the
	// CLI) keeps working here for at most this long.
	TokenCacheTTL time.Duration
	// BaseURL is the public URL of the SCIM API, such as
	// https://scim.example.com/scim/v2, for Location and meta.location
	// behind a TLS proxy; empty means the URL the request reached.
	BaseURL string
	// Handlers are served beside the SCIM API, by pattern (such as
	// "/api/v1/" for the management API), behind the same request log,
	// metrics and recovery from panics.
	Handlers map[string]http.Handler
	// RequestLog, if set, is told of every SCIM request (the API under
	// BasePath and the token endpoint) once it is answered; with
	// LogBodies, of its request and response bodies too (up to
	// LogBodyBytes each).
	RequestLog RequestLog
	LogBodies  bool
}

type server struct {
	Config
	limits   *limiters
	cursors  *cursors
	tokens   *tokenCache
	failures *failureLimiter
	known    *knownCredentials
	keys     *heldKeys
	hashers  chan struct{} // a semaphore of PasswordHashers places
	metrics  *metrics
}

// New returns the SCIM API handler, which also serves cfg.Handlers.
func New(cfg Config) http.Handler {
	h, _ := newHandlers(cfg, false)
	return h
}

// NewSplit returns the SCIM API handler and, apart, a handler of
// cfg.Handlers alone, for a listener of their own (roster serve
// --admin-addr): both behind the same request log, metrics (served by the
// first at /metrics) and recovery from panics. The second answers the
// paths no pattern of cfg.Handlers matches with a 404, unless one of them
// is "/".
func NewSplit(cfg Config) (api, handlers http.Handler) {
	return newHandlers(cfg, true)
}

func newHandlers(cfg Config, split bool) (api, handlers http.Handler) {
	if cfg.Registry == nil {
		cfg.Registry = schema.NewRegistry()
	}
	if cfg.MaxResults <= 0 {
		cfg.MaxResults = 1000
	}
	if cfg.DefaultCount <= 0 {
		cfg.DefaultCount = min(100, cfg.MaxResults)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.QueryBudget == 0 {
		cfg.QueryBudget = 500 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.PasswordIterations <= 0 {
		cfg.PasswordIterations = 600_000
	}
	if cfg.HashPassword == nil {
		cfg.HashPassword = pbkdf2Hasher(cfg.PasswordIterations)
	}
	if cfg.PasswordHashers <= 0 {
		cfg.PasswordHashers = max(runtime.GOMAXPROCS(0)/2, 1)
	}
	if cfg.AccessTokenTTL <= 0 {
		cfg.AccessTokenTTL = time.Hour
	}
	if cfg.TokenCacheTTL == 0 {
		cfg.TokenCacheTTL = 2 * time.Second
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit, cfg.RateBurst = 100, 200
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = max(int(cfg.RateLimit), 1)
	}
	if cfg.AuthFailureLimit == 0 {
		cfg.AuthFailureLimit, cfg.AuthFailureBurst = 1, 20
	}
	s := &server{Config: cfg, limits: newLimiters(cfg.RateLimit, cfg.RateBurst), cursors: newCursors(cfg.Store, cfg.CursorKey, cfg.CursorTimeout),
		tokens: newTokenCache(cfg.TokenCacheTTL), failures: newFailureLimiter(cfg.AuthFailureLimit, cfg.AuthFailureBurst),
		known: newKnownCredentials(), keys: newHeldKeys(), hashers: make(chan struct{}, cfg.PasswordHashers)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", s.ready)
	mux.HandleFunc("POST /oauth/token", s.token)
	mux.Handle("POST "+BasePath+"/.search", s.auth("", s.searchAll))
	mux.Handle("POST "+BasePath+"/Bulk", s.auth("", s.bulk))
	m := newMetrics()
	s.metrics = m
	mux.Handle("GET /metrics", m.handler())
	mux.HandleFunc("GET "+BasePath+"/ServiceProviderConfig", s.serviceProviderConfig)
	mux.HandleFunc("GET "+BasePath+"/ResourceTypes", s.resourceTypes)
	mux.HandleFunc("GET "+BasePath+"/ResourceTypes/{id}", s.resourceType)
	mux.HandleFunc("GET "+BasePath+"/Schemas", s.schemas)
	mux.HandleFunc("GET "+BasePath+"/Schemas/{id}", s.schema)
	for _, rt := range cfg.Registry.ResourceTypes() {
		name := rt.Name
		base := BasePath + rt.Endpoint
		mux.Handle("GET "+base, s.auth(name, s.list))
		mux.Handle("POST "+base, s.auth(name, s.create))
		mux.Handle("POST "+base+"/.search", s.auth(name, s.search))
		mux.Handle("GET "+base+"/{id}", s.auth(name, s.get))
		mux.Handle("PUT "+base+"/{id}", s.auth(name, s.replace))
		mux.Handle("PATCH "+base+"/{id}", s.auth(name, s.patch))
		mux.Handle("DELETE "+base+"/{id}", s.auth(name, s.delete))
		// The same paths without a method answer 405 with a SCIM body.
		mux.Handle(base, methodNotAllowed("GET, POST"))
		mux.Handle(base+"/{id}", methodNotAllowed("GET, PUT, PATCH, DELETE"))
	}
	for _, p := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/{id}", "/Schemas", "/Schemas/{id}"} {
		mux.Handle(BasePath+p, methodNotAllowed("GET"))
	}
	wrap := func(h http.Handler) http.Handler {
		return logRequests(cfg.Logger, m, cfg.RequestLog, cfg.LogBodies, recoverPanics(cfg.Logger, h))
	}
	apart := mux
	if split {
		apart = http.NewServeMux()
	}
	for pattern, h := range cfg.Handlers {
		apart.Handle(pattern, h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, scim.Errorf(http.StatusNotFound, "", "no endpoint %s", r.URL.Path))
	})
	if !split {
		return wrap(mux), nil
	}
	return wrap(mux), wrap(apart)
}

// ready answers 200 when the store answers, 503 otherwise.
func (s *server) ready(w http.ResponseWriter, r *http.Request) {
	if err := s.Store.Ping(r.Context()); err != nil {
		s.Logger.WarnContext(r.Context(), "not ready", "err", err)
		writeError(w, scim.Errorf(http.StatusServiceUnavailable, "", "the store is not available"))
		return
	}
	io.WriteString(w, "ok\n")
}

// methodNotAllowed answers 405 with the methods the path allows.
func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, scim.Errorf(http.StatusMethodNotAllowed, "", "%s is not allowed on %s; use %s", r.Method, r.URL.Path, allow))
	})
}

type ctxKey int

const tokenKey ctxKey = 0

// request is what a resource handler gets: the directory of the caller's
// token and the resource type of the endpoint (nil for the root .search).
type request struct {
	dir string
	rt  *schema.ResourceType
}

// auth authenticates the bearer token and hands the handler the token's
// directory and the endpoint's resource type; an error the handler returns
// (before writing anything) is answered by fail. The resource type is looked
// up per request, so extensions registered at runtime take effect.
func (s *server) auth(resourceType string, h func(http.ResponseWriter, *http.Request, request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddr(r)
		limited, wait := s.failures.over(addr)
		tok, err := s.authenticate(r, limited)
		switch {
		case errors.Is(err, errUnrecognized):
			tooManyFailures(w, wait)
			return
		case errors.Is(err, errNoCredentials):
			unauthorized(w, "a valid bearer token (or HTTP Basic credentials: the directory's name and a token) is required")
			return
		case errors.Is(err, store.ErrUnauthorized):
			s.failures.fail(addr)
			if limited {
				tooManyFailures(w, wait)
				return
			}
			unauthorized(w, "a valid bearer token (or HTTP Basic credentials: the directory's name and a token) is required")
			return
		case err != nil:
			s.fail(w, r, err)
			return
		}
		if sw, ok := w.(*statusWriter); ok {
			sw.directory, sw.token = tok.DirectoryID, tok.Name
		}
		if ok, wait := s.limits.allow(tok.ID); !ok {
			tooManyRequests(w, wait)
			return
		}
		r = r.WithContext(store.WithEventContext(context.WithValue(r.Context(), tokenKey, tok), eventContext(r, tok)))
		req := request{dir: tok.DirectoryID}
		if resourceType != "" {
			req.rt = s.Registry.ResourceType(resourceType)
		}
		if err := h(w, r, req); err != nil {
			s.fail(w, r, err)
		}
	})
}

// syncUserAgent starts the User-Agent of roster sync: the events of its
// changes say they are the sync's.
const syncUserAgent = "roster-sync/"

// eventContext is what the events of a request's changes record of it.
func eventContext(r *http.Request, tok store.Token) store.EventContext {
	src := store.SourceSCIM
	if strings.HasPrefix(r.UserAgent(), syncUserAgent) {
		src = store.SourceSync
	}
	return store.EventContext{Source: src, RequestID: r.Header.Get("X-Request-Id"), Token: tok.Name}
}

// authenticate returns the token a request carries: as a bearer token, or
// as the password of HTTP Basic credentials whose user name is the token's
// directory (name or id), which Okta can be configured to send. When the
// client's address is over its failure limit (limited), it asks the store
// only about credentials it recognizes (see authlimit.go), failing with
// errUnrecognized for others.
func (s *server) authenticate(r *http.Request, limited bool) (store.Token, error) {
	if scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		secret = strings.TrimSpace(secret)
		switch {
		case secret == "":
			return store.Token{}, errNoCredentials
		case looksLikeJWT(secret):
			return s.verifyAccessToken(r.Context(), secret, limited)
		}
		return s.authenticateToken(r.Context(), secret, limited)
	}
	user, secret, ok := r.BasicAuth()
	if !ok || secret == "" {
		return store.Token{}, errNoCredentials
	}
	tok, err := s.authenticateToken(r.Context(), secret, limited)
	if err != nil {
		return tok, err
	}
	d, err := s.Store.Directory(r.Context(), tok.DirectoryID)
	if err != nil {
		return store.Token{}, err
	}
	if !strings.EqualFold(user, d.Name) && user != d.ID {
		return store.Token{}, store.ErrUnauthorized
	}
	return tok, nil
}

// authenticateToken returns the token whose secret this is, from the
// cache or the store; when limited, only if the secret has authenticated
// on this server before.
func (s *server) authenticateToken(ctx context.Context, secret string, limited bool) (store.Token, error) {
	c := credentialOf("token", secret)
	if limited && !s.known.has(c) {
		return store.Token{}, errUnrecognized
	}
	tok, err := s.tokens.authenticate(ctx, s.Store, secret)
	if err == nil {
		s.known.add(c)
	}
	return tok, err
}

func unauthorized(w http.ResponseWriter, detail string) {
	w.Header().Add("WWW-Authenticate", `Bearer realm="roster"`)
	w.Header().Add("WWW-Authenticate", `Basic realm="roster"`)
	writeError(w, scim.Errorf(http.StatusUnauthorized, "", "%s", detail))
}

// fail answers err: a *scim.Error as it says, the store's errors with their
// SCIM statuses, anything else as a 500 that is logged (without the
// request's body or headers, which may hold passwords and tokens).
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var serr *scim.Error
	var tooBig *http.MaxBytesError
	var broken *brokenBody
	switch {
	case errors.As(err, &broken):
		// The client broke its own request; nothing is wrong with the
		// server, so nothing to log above debug (see brokenBody).
		s.Logger.DebugContext(r.Context(), "request body broken by the client", "method", r.Method, "path", r.URL.Path,
			"reason", broken.reason, "err", broken.err)
		s.metrics.brokenBody(broken.reason)
		w.Header().Set("Connection", "close")
		writeError(w, scim.Errorf(http.StatusBadRequest, "", "the request body could not be read: %s", broken.detail()))
	case errors.As(err, &serr):
		writeError(w, serr)
	case errors.As(err, &tooBig):
		writeError(w, scim.Errorf(http.StatusRequestEntityTooLarge, "", "the request body is larger than %d bytes", tooBig.Limit))
	case errors.Is(err, store.ErrNotFound):
		writeError(w, scim.Errorf(http.StatusNotFound, "", "resource %s not found", r.PathValue("id")))
	case errors.Is(err, store.ErrConflict):
		writeError(w, scim.Errorf(http.StatusConflict, scim.Uniqueness, "a resource with this userName or displayName (compared ignoring case) exists in the directory"))
	case errors.Is(err, store.ErrOverBudget):
		s.metrics.overBudget()
		writeError(w, scim.Errorf(http.StatusBadRequest, scim.TooMany,
			"the query needs more work than the server does for one request (%v); narrow the filter to an attribute the server indexes (id, userName, displayName, externalId, emails.value, meta.lastModified), or leave out sortBy",
			s.QueryBudget))
	case errors.Is(err, store.ErrPreconditionFailed):
		writeError(w, scim.Errorf(http.StatusPreconditionFailed, "", "the resource has changed: its version does not match If-Match"))
	case errors.Is(err, store.ErrUnavailable):
		// The database is restarting or unreachable: nothing was done,
		// and the client may try again shortly.
		s.Logger.WarnContext(r.Context(), "store unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, scim.Errorf(http.StatusServiceUnavailable, "", "the database is not available; try again shortly"))
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
	default:
		s.Logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, scim.Errorf(http.StatusInternalServerError, "", "internal error"))
	}
}

const contentType = "application/scim+json"

func writeError(w http.ResponseWriter, e *scim.Error) {
	if sw, ok := w.(*statusWriter); ok {
		sw.scimType, sw.detail = e.ScimType, e.Detail
	}
	writeJSON(w, e.Status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"schemas":["`+scim.ErrorURN+`"],"status":"500","detail":"internal error"}`)
	}
	writeBody(w, status, body)
}

// writeList answers 200 with a page of resources, each already encoded
// by resource.AppendJSON (so valid and compact JSON). The envelope is
// written here, in the field order and with the omissions of
// scim.ListResponse's encoding: json.Marshal would scan every resource
// again to compact it.
func writeList(w http.ResponseWriter, lr *scim.ListResponse[json.RawMessage]) {
	n := 128 + len(lr.NextCursor) + len(lr.PreviousCursor)
	for _, r := range lr.Resources {
		n += len(r) + 1
	}
	b := make([]byte, 0, n)
	str := func(s string) {
		q, _ := json.Marshal(s) // a string always encodes
		b = append(b, q...)
	}
	b = append(b, `{"schemas":[`...)
	for i, s := range lr.Schemas {
		if i > 0 {
			b = append(b, ',')
		}
		str(s)
	}
	b = append(b, `],"totalResults":`...)
	b = strconv.AppendInt(b, int64(lr.TotalResults), 10)
	if lr.StartIndex != 0 {
		b = append(b, `,"startIndex":`...)
		b = strconv.AppendInt(b, int64(lr.StartIndex), 10)
	}
	b = append(b, `,"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(lr.ItemsPerPage), 10)
	if lr.NextCursor != "" {
		b = append(b, `,"nextCursor":`...)
		str(lr.NextCursor)
	}
	if lr.PreviousCursor != "" {
		b = append(b, `,"previousCursor":`...)
		str(lr.PreviousCursor)
	}
	b = append(b, `,"Resources":[`...)
	for i, r := range lr.Resources {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	b = append(b, "]}"...)
	writeBody(w, http.StatusOK, b)
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(body)
}
