package client

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rosterhq/roster/scim"
)

// Errors to test with errors.Is; they match an *Error of their status.
var (
	ErrBadRequest         = &scim.Error{Status: http.StatusBadRequest}
	ErrUnauthorized       = &scim.Error{Status: http.StatusUnauthorized}
	ErrForbidden          = &scim.Error{Status: http.StatusForbidden}
	ErrNotFound           = &scim.Error{Status: http.StatusNotFound}
	ErrConflict           = &scim.Error{Status: http.StatusConflict}
	ErrPreconditionFailed = &scim.Error{Status: http.StatusPreconditionFailed}
	ErrTooManyRequests    = &scim.Error{Status: http.StatusTooManyRequests}
)

// Error is an error answer of a SCIM server: its status, scimType and
// detail (RFC 7644 §3.12), and the request it answered.
type Error struct {
	Method   string
	URL      string
	Status   int
	ScimType string
	Detail   string
	// RetryAfter is how long the server asked the client to wait
	// (Retry-After), when it did: a 429 or 503 that asked for a longer
	// wait than the client's longest backoff is returned, not retried.
	RetryAfter time.Duration
}

// Error implements the error interface.
func (e *Error) Error() string {
	s := fmt.Sprintf("%s %s: %d", e.Method, e.URL, e.Status)
	if e.ScimType != "" {
		s += " " + e.ScimType
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Is matches e against an *scim.Error (such as ErrNotFound) by status and,
// when the target names one, scimType.
func (e *Error) Is(target error) bool {
	t, ok := target.(*scim.Error)
	return ok && t.Status == e.Status && (t.ScimType == "" || t.ScimType == e.ScimType)
}

// StatusOf returns the HTTP status of a server's error answer, or 0 when
// err is not one.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}
