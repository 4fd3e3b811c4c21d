package server

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/rosterhq/roster/scim"
)

// statusWriter records the status a handler wrote, and for the request
// log what the handlers tell it: the credential, an error's scimType and
// detail, and with bodies logged, the response's body.
type statusWriter struct {
	http.ResponseWriter
	status                             int
	directory, token, scimType, detail string
	reqBody, respBody                  *cappedBuffer // nil unless bodies are logged
}

// Unwrap gives http.ResponseController the writer underneath, to flush a
// stream.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.respBody != nil {
		w.respBody.keep(b)
	}
	return w.ResponseWriter.Write(b)
}

// logRequests counts and logs one line per request with a request id (the client's
// X-Request-Id, or a new one, echoed back). It logs the method, path,
// status and duration, never headers, query values or bodies, which carry
// tokens, passwords and personal data. A SCIM request goes to reqLog too,
// if there is one, with its bodies if logBodies.
func logRequests(logger *slog.Logger, m *metrics, reqLog RequestLog, logBodies bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
			r.Header.Set("X-Request-Id", id) // for the events of the request's changes
		}
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		toLog := reqLog != nil && logged(r.URL.Path)
		if toLog && logBodies {
			sw.reqBody, sw.respBody = new(cappedBuffer), new(cappedBuffer)
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = teeBody{r.Body, sw.reqBody}
			}
		}
		start := time.Now()
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		if toLog {
			recordRequest(reqLog, sw, r, start, d)
		}
		// The mux has set r.Pattern to the route that matched.
		m.observe(r.Pattern, r.Method, sw.status, d)
		if logger.Enabled(r.Context(), slog.LevelInfo) {
			// LogAttrs, slog's way without an allocation per attribute.
			logger.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("id", id), slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Int("status", sw.status), slog.Duration("duration", d))
		}
	})
}

// recoverPanics turns a panic in a handler into a logged SCIM 500 instead
// of a dropped connection.
func recoverPanics(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				writeError(w, scim.Errorf(http.StatusInternalServerError, "", "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
