package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// BasePath is where the console is served.
const BasePath = "/ui"

// Store is what the console reads and changes: the store with its sync
// history, admins, request log and resources' events.
type Store interface {
	store.Store
	store.SyncHistory
	store.Admins
	store.RequestLog
	store.ResourceEvents
	store.GroupMembers
}

// Config configures the console. Only Store is required.
type Config struct {
	Store Store
	// Registry holds the resource types (default schema.NewRegistry()).
	Registry *schema.Registry
	// Logger receives the console's failures; nil discards.
	Logger *slog.Logger
	// SCIMBaseURL is the public URL of the SCIM API, shown for each
	// directory; empty means the URL the console was reached by, with
	// /scim/v2. When it is https, cookies are Secure also over plain
	// HTTP (TLS ended at a proxy).
	SCIMBaseURL string
	// SessionTTL is how long a login lasts (default 12 hours).
	SessionTTL time.Duration
	// LoginRate is the login attempts per second each client address may
	// make, with bursts of LoginBurst (default one every 5 seconds, bursts
	// of 5); more get 429.
	LoginRate  rate.Limit
	LoginBurst int
	// Poll is how often the live feed looks for events other processes
	// wrote (default event.DefaultPoll).
	Poll time.Duration
	// KeepAlive is how often the live feed sends a comment (default 15 s).
	KeepAlive time.Duration
	// QueryBudget bounds the time the store may spend selecting a page's
	// users or groups, or counting them (store.Query.Budget; default
	// 500 ms, negative: no bound). A search that no index serves (inside
	// names and addresses) is refused past it, and a count past it is
	// shown as unknown, rather than a page read a million users.
	QueryBudget time.Duration
	// Redeliver, if set, sends a webhook the events of directory dir
	// (an id) with seqs from to to again (webhook.Deliverer.Redeliver);
	// nil hides the console's redeliver forms.
	Redeliver func(ctx context.Context, webhook, dir string, from, to int64) ([]store.DeliveryAttempt, error)
}

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

type console struct {
	Config
	pages     map[string]*template.Template
	static    http.Handler
	logins    *loginLimiter
	dummyOnce sync.Once
	dummy     string
}

// New returns the console's handler, which serves the paths under
// BasePath.
func New(cfg Config) http.Handler {
	if cfg.Registry == nil {
		cfg.Registry = schema.NewRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.LoginRate == 0 {
		cfg.LoginRate, cfg.LoginBurst = rate.Every(5*time.Second), 5
	}
	if cfg.LoginBurst <= 0 {
		cfg.LoginBurst = 1
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = 15 * time.Second
	}
	if cfg.QueryBudget == 0 {
		cfg.QueryBudget = 500 * time.Millisecond
	}
	sub, _ := fs.Sub(staticFiles, "static")
	c := &console{Config: cfg, pages: parsePages(), static: http.StripPrefix(BasePath+"/static/", http.FileServerFS(sub)),
		logins: newLoginLimiter(cfg.LoginRate, cfg.LoginBurst)}
	mux := http.NewServeMux()
	mux.Handle("GET "+BasePath+"/static/", c.static)
	mux.HandleFunc("GET "+BasePath+"/login", c.loginPage)
	mux.HandleFunc("POST "+BasePath+"/login", c.login)
	mux.HandleFunc("GET "+BasePath+"/setup", c.setupPage)
	mux.HandleFunc("POST "+BasePath+"/setup", c.setup)
	mux.Handle("POST "+BasePath+"/logout", c.auth(c.logout))
	mux.Handle("GET "+BasePath+"/{$}", c.auth(c.directories))
	mux.Handle("GET "+BasePath, http.RedirectHandler(BasePath+"/", http.StatusFound))
	mux.Handle("POST "+BasePath+"/directories", c.auth(c.createDirectory))
	mux.Handle("GET "+BasePath+"/directories/{dir}", c.auth(c.directory))
	mux.Handle("POST "+BasePath+"/directories/{dir}/delete", c.auth(c.deleteDirectory))
	mux.Handle("POST "+BasePath+"/directories/{dir}/tokens", c.auth(c.createToken))
	mux.Handle("POST "+BasePath+"/directories/{dir}/tokens/{id}/revoke", c.auth(c.revokeToken))
	mux.Handle("POST "+BasePath+"/directories/{dir}/clients", c.auth(c.createClient))
	mux.Handle("POST "+BasePath+"/directories/{dir}/clients/{id}/revoke", c.auth(c.revokeClient))
	mux.Handle("GET "+BasePath+"/directories/{dir}/users", c.auth(c.users))
	mux.Handle("GET "+BasePath+"/directories/{dir}/users/{id}", c.auth(c.user))
	mux.Handle("GET "+BasePath+"/directories/{dir}/groups", c.auth(c.groups))
	mux.Handle("GET "+BasePath+"/directories/{dir}/groups/{id}", c.auth(c.group))
	mux.Handle("GET "+BasePath+"/webhooks/{id}", c.auth(c.webhook))
	mux.Handle("POST "+BasePath+"/webhooks/{id}/redeliver", c.auth(c.redeliver))
	mux.Handle("GET "+BasePath+"/requests", c.auth(c.requests))
	mux.Handle("GET "+BasePath+"/live", c.auth(c.live))
	mux.Handle("GET "+BasePath+"/live/stream", c.auth(c.stream))
	mux.Handle(BasePath+"/", c.auth(func(w http.ResponseWriter, r *http.Request, _ *session) error {
		return pageError{http.StatusNotFound, "There is no such page."}
	}))
	return securityHeaders(mux)
}

// dummyHash is checked against when there is no such admin, so that a
// login answers as slowly for an unknown name as for a wrong password.
func (c *console) dummyHash() string {
	c.dummyOnce.Do(func() { c.dummy, _ = HashPassword("not anybody's password at all") })
	return c.dummy
}

type nonceKey struct{}

// securityHeaders sets a strict Content-Security-Policy with a nonce per
// answer (scripts only from the console itself, and with the nonce),
// and keeps pages out of frames, caches and Referer headers (a setup
// link's secret is in its URL).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [16]byte
		rand.Read(b[:])
		nonce := base64.RawURLEncoding.EncodeToString(b[:])
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self' 'nonce-"+nonce+"'; style-src 'self'; img-src 'self'; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		if !strings.HasPrefix(r.URL.Path, BasePath+"/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), nonceKey{}, nonce)))
	})
}

func nonceOf(r *http.Request) string { s, _ := r.Context().Value(nonceKey{}).(string); return s }

// The cookies: the session's, and before a session, the double-submit
// CSRF token of the login and setup forms.
const (
	sessionCookie = "roster_session"
	formCookie    = "roster_form"
)

// session is a logged-in admin's request.
type session struct {
	store.Session
	secret string
}

// csrf is the session's CSRF token: an HMAC of the session's secret, which
// a page of another site can neither read nor compute.
func (s *session) csrf() string {
	m := hmac.New(sha256.New, []byte(s.secret))
	m.Write([]byte("roster console csrf"))
	return hex.EncodeToString(m.Sum(nil))
}

// pageError is an error shown to the admin in words, with its status.
type pageError struct {
	status int
	msg    string
}

func (e pageError) Error() string { return e.msg }

// auth runs h for a logged-in admin: without a session, a GET is sent to
// the login page and anything else gets 401; a POST without the
// session's CSRF token gets 403.
func (c *console) auth(h func(http.ResponseWriter, *http.Request, *session) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s *session
		if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
			se, err := c.Store.Session(r.Context(), ck.Value)
			switch {
			case err == nil:
				s = &session{Session: se, secret: ck.Value}
			case !errors.Is(err, store.ErrUnauthorized):
				c.fail(w, r, nil, err)
				return
			}
		}
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, BasePath+"/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.render(w, r, http.StatusUnauthorized, "login", nil, map[string]any{"Error": "Your session has ended: log in again."})
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				c.fail(w, r, s, pageError{http.StatusBadRequest, "The form could not be read."})
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.csrf())) != 1 {
				c.fail(w, r, s, pageError{http.StatusForbidden, "The form was refused: its CSRF token is missing or wrong. Reload the page and try again."})
				return
			}
		}
		if err := h(w, r, s); err != nil {
			c.fail(w, r, s, err)
		}
	})
}

// fail shows err: a pageError in its words, a missing thing as 404, and
// anything else as a logged 500.
func (c *console) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var pe pageError
	switch {
	case errors.As(err, &pe):
	case errors.Is(err, store.ErrNotFound):
		pe = pageError{http.StatusNotFound, "There is no such directory, user or group (it may have been deleted)."}
	case errors.Is(err, store.ErrConflict):
		pe = pageError{http.StatusConflict, "That name is taken."}
	case errors.Is(err, store.ErrOverBudget):
		pe = pageError{http.StatusBadRequest, "This search would read too much of the directory to answer quickly. " +
			"Search by the start of a user name, display name or email address, or by an external id, which the index finds."}
	case errors.Is(err, context.Canceled):
		return
	default:
		c.Logger.ErrorContext(r.Context(), "console page failed", "method", r.Method, "path", r.URL.Path, "err", err)
		pe = pageError{http.StatusInternalServerError, "Something went wrong on the server; its log says what."}
	}
	c.render(w, r, pe.status, "error", s, map[string]any{"Error": pe.msg})
}

// secureCookie reports whether cookies get the Secure attribute: when
// the request came over TLS, or the public URL is https (TLS ended at a
// proxy in front).
func (c *console) secureCookie(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(c.SCIMBaseURL, "https://")
}

func (c *console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: BasePath + "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.secureCookie(r)})
}

// clientAddr is the address a request came from, without its port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginLimiter limits login attempts per client address.
type loginLimiter struct {
	mu     sync.Mutex
	every  rate.Limit
	burst  int
	byAddr map[string]*rate.Limiter
}

func newLoginLimiter(every rate.Limit, burst int) *loginLimiter {
	return &loginLimiter{every: every, burst: burst, byAddr: map[string]*rate.Limiter{}}
}

// allow reports whether addr may try to log in now, and if not, how long
// it should wait.
func (l *loginLimiter) allow(addr string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.byAddr) > 10_000 {
		// Forget the addresses that have their whole burst back.
		now := time.Now()
		for a, lim := range l.byAddr {
			if lim.TokensAt(now) >= float64(l.burst) {
				delete(l.byAddr, a)
			}
		}
	}
	lim, ok := l.byAddr[addr]
	if !ok {
		lim = rate.NewLimiter(l.every, l.burst)
		l.byAddr[addr] = lim
	}
	res := lim.Reserve()
	if d := res.Delay(); d > 0 {
		res.Cancel()
		return false, d
	}
	return true, 0
}

// safeNext is where to go after logging in: a console path, never
// another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, BasePath+"/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return BasePath + "/"
	}
	return next
}
