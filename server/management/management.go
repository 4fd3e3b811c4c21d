package management

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// BasePath is where the management API is served.
const BasePath = "/api/v1"

// Config configures the management API. Only Store is required.
type Config struct {
	Store store.Store
	// Registry holds the resource types (nil: schema.NewRegistry()).
	Registry *schema.Registry
	// Logger receives the failures that are the server's fault; nil
	// discards.
	Logger *slog.Logger
	// SCIMBaseURL, when set, is the public URL of the SCIM API
	// (https://scim.example.com/scim/v2), which answers that create a
	// directory or a credential name; empty: built from the request.
	SCIMBaseURL string
	// KeepAlive is how often the event stream writes a comment when it
	// has nothing to send (default 15 s); Poll how often it looks for
	// other processes' events (default 1 s).
	KeepAlive, Poll time.Duration
	// OnChange, when set, is called after a request changed something
	// (such as to wake a webhook worker).
	OnChange func()
	// AllowPrivateWebhooks lets webhooks have URLs on loopback,
	// link-local and private addresses (see webhook.CheckURL).
	AllowPrivateWebhooks bool
}

// maxBody bounds request bodies: they are a name or two.
const maxBody = 64 << 10

type api struct {
	Config
}

// New returns the management API's handler, for the paths under BasePath.
func New(cfg Config) http.Handler {
	if cfg.Registry == nil {
		cfg.Registry = schema.NewRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = 15 * time.Second
	}
	if cfg.OnChange == nil {
		cfg.OnChange = func() {}
	}
	a := &api{Config: cfg}
	mux := http.NewServeMux()
	route := func(pattern string, h func(http.ResponseWriter, *http.Request) error) {
		mux.Handle(pattern, a.auth(h))
	}
	route("GET "+BasePath+"/directories", a.listDirectories)
	route("POST "+BasePath+"/directories", a.createDirectory)
	route("GET "+BasePath+"/directories/{dir}", a.getDirectory)
	route("DELETE "+BasePath+"/directories/{dir}", a.deleteDirectory)
	route("GET "+BasePath+"/directories/{dir}/tokens", a.listTokens)
	route("POST "+BasePath+"/directories/{dir}/tokens", a.createToken)
	route("DELETE "+BasePath+"/directories/{dir}/tokens/{id}", a.revokeToken)
	route("GET "+BasePath+"/directories/{dir}/clients", a.listClients)
	route("POST "+BasePath+"/directories/{dir}/clients", a.createClient)
	route("DELETE "+BasePath+"/directories/{dir}/clients/{id}", a.revokeClient)
	route("GET "+BasePath+"/directories/{dir}/users", a.listResources("User"))
	route("GET "+BasePath+"/directories/{dir}/users/{id}", a.getResource("User"))
	route("GET "+BasePath+"/directories/{dir}/groups", a.listResources("Group"))
	route("GET "+BasePath+"/directories/{dir}/groups/{id}", a.getResource("Group"))
	route("GET "+BasePath+"/events", a.listEvents)
	route("GET "+BasePath+"/events/stream", a.stream)
	route("POST "+BasePath+"/webhooks", a.createWebhook)
	route("GET "+BasePath+"/webhooks", a.listWebhooks)
	route("GET "+BasePath+"/webhooks/{id}", a.getWebhook)
	route("PATCH "+BasePath+"/webhooks/{id}", a.updateWebhook)
	route("DELETE "+BasePath+"/webhooks/{id}", a.deleteWebhook)
	route("POST "+BasePath+"/webhooks/{id}/rotate", a.rotateWebhook)
	route("GET "+BasePath+"/webhooks/{id}/deliveries", a.webhookDeliveries)
	mux.HandleFunc(BasePath+"/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errorf(http.StatusNotFound, "no endpoint %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// apiError is an error answered with its status and message.
type apiError struct {
	status  int
	message string
}

func (e *apiError) Error() string { return e.message }

func errorf(status int, format string, args ...any) error {
	return &apiError{status: status, message: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = &apiError{status: http.StatusInternalServerError, message: "internal error"}
	}
	writeJSON(w, e.status, map[string]string{"error": e.message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// auth lets through requests with a valid management key as a bearer
// token, and answers errors h returns.
func (a *api) auth(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || secret == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="roster-management"`)
			writeError(w, errorf(http.StatusUnauthorized, "a management key (roster key create) is required as a bearer token"))
			return
		}
		key, err := a.Store.AuthenticateManagementKey(r.Context(), strings.TrimSpace(secret))
		if errors.Is(err, store.ErrUnauthorized) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="roster-management", error="invalid_token"`)
			writeError(w, errorf(http.StatusUnauthorized, "the management key is unknown, expired or revoked (a directory's SCIM token does not work here)"))
			return
		}
		if err == nil {
			ctx := store.WithEventContext(r.Context(), store.EventContext{Source: store.SourceAPI,
				RequestID: r.Header.Get("X-Request-Id"), Token: key.Name})
			err = h(w, r.WithContext(ctx))
		}
		if err != nil {
			a.fail(w, r, err)
		}
	})
}

// fail answers an error: an *apiError as it is, a store's errors with
// their status, anything else 500 (logged).
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *apiError
	var se *scim.Error
	switch {
	case errors.As(err, &e):
	case errors.As(err, &se):
		err = errorf(se.Status, "%s", se.Detail)
	case errors.Is(err, store.ErrNotFound):
		err = errorf(http.StatusNotFound, "%s", trimStore(err))
	case errors.Is(err, store.ErrConflict):
		err = errorf(http.StatusConflict, "%s", trimStore(err))
	case errors.Is(err, store.ErrUnavailable):
		err = errorf(http.StatusServiceUnavailable, "the database is not available; retry")
	case errors.Is(err, context.Canceled):
		return
	default:
		a.Logger.ErrorContext(r.Context(), "management api", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, err)
}

// trimStore drops the dialect's name from a store error: "sqlite: …".
func trimStore(err error) string {
	msg := err.Error()
	for _, p := range []string{"sqlite: ", "postgres: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// decode reads a JSON request body into v, refusing unknown fields.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, "the body is over %d bytes", maxBody)
		}
		return errorf(http.StatusBadRequest, "reading the body: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "the body is not the JSON object expected: %v", err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "the body holds more than one JSON value")
	}
	return nil
}

// directory returns the directory the path's {dir} names (id or name).
func (a *api) directory(r *http.Request) (store.Directory, error) {
	d, err := a.Store.Directory(r.Context(), r.PathValue("dir"))
	if errors.Is(err, store.ErrNotFound) {
		return d, errorf(http.StatusNotFound, "no directory %q", r.PathValue("dir"))
	}
	return d, err
}

// scimBase returns the SCIM API's URL as a client of this request sees it.
func (a *api) scimBase(r *http.Request) string {
	if a.SCIMBaseURL != "" {
		return strings.TrimSuffix(a.SCIMBaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/scim/v2"
}
