package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Values of scimType (RFC 7644 §3.12, and RFC 9865 for cursors).
const (
	InvalidFilter = "invalidFilter"
	TooMany       = "tooMany"
	Uniqueness    = "uniqueness"
	Mutability    = "mutability"
	InvalidSyntax = "invalidSyntax"
	InvalidPath   = "invalidPath"
	NoTarget      = "noTarget"
	InvalidValue  = "invalidValue"
	InvalidVers   = "invalidVers"
	Sensitive     = "sensitive"
	InvalidCursor = "invalidCursor"
	ExpiredCursor = "expiredCursor"
)

// Error is a SCIM error: the HTTP status a server answers with, an optional
// scimType keyword and a human-readable detail. Its JSON form is the error
// response of RFC 7644 §3.12, with the status as a string.
type Error struct {
	Status   int
	ScimType string
	Detail   string
	// Err is the underlying cause, if any; it is not part of the JSON form.
	Err error
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given status and scimType and a detail
// formatted as by fmt.Sprintf.
func Errorf(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// BadRequest returns a 400 *Error with the given scimType and detail.
func BadRequest(scimType, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, scimType, format, args...)
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.ScimType != "" {
		return fmt.Sprintf("scim: %d %s: %s", e.Status, e.ScimType, e.Detail)
	}
	return fmt.Sprintf("scim: %d: %s", e.Status, e.Detail)
}

// Is reports whether target is an *Error with the same status and, when
// target names one, the same scimType. It lets callers write
// errors.Is(err, &scim.Error{Status: 404}).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Status == e.Status && (t.ScimType == "" || t.ScimType == e.ScimType)
}

type errorJSON struct {
	Schemas  []string        `json:"schemas"`
	ScimType string          `json:"scimType,omitempty"`
	Detail   string          `json:"detail,omitempty"`
	Status   json.RawMessage `json:"status"`
}

// MarshalJSON encodes e as a SCIM error response body.
func (e *Error) MarshalJSON() ([]byte, error) {
	return json.Marshal(errorJSON{
		Schemas:  []string{ErrorURN},
		ScimType: e.ScimType,
		Detail:   e.Detail,
		Status:   json.RawMessage(strconv.Quote(strconv.Itoa(e.Status))),
	})
}

// UnmarshalJSON decodes a SCIM error response body. It accepts the status
// as a string, as the RFC says, or as a number, as some servers send it.
func (e *Error) UnmarshalJSON(data []byte) error {
	var v errorJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	status := string(v.Status)
	if s, err := strconv.Unquote(status); err == nil {
		status = s
	}
	n, err := strconv.Atoi(status)
	if err != nil {
		return fmt.Errorf("scim: error status %s is not a number", v.Status)
	}
	*e = Error{Status: n, ScimType: v.ScimType, Detail: v.Detail}
	return nil
}

// Prefix returns err with prefix put before its detail, when err is or
// wraps an *Error, so that a nested problem says where it is
// ("Operations[2]: ..."); any other error is wrapped with the prefix.
func Prefix(prefix string, err error) error {
	var serr *Error
	if errors.As(err, &serr) {
		return &Error{Status: serr.Status, ScimType: serr.ScimType, Detail: prefix + serr.Detail, Err: serr.Err}
	}
	return fmt.Errorf("%s%w", prefix, err)
}
