package server

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// brokenBody is the error of a request body that the server could not
// read to its end through the client's doing: the client stalled past the
// server's read timeout, closed the connection mid-body, or sent a
// malformed chunked encoding. It is a 400 (the connection is then
// closed), logged at debug level and counted by reason, never a 500 and
// an ERROR: anyone could otherwise inflate the server's fault rate and
// page whoever watches it.
type brokenBody struct {
	reason string // timeout, aborted or malformed
	err    error
}

// newBrokenBody classifies an error of reading a request body (one that
// is not http.MaxBytesError).
func newBrokenBody(err error) *brokenBody {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return &brokenBody{"timeout", err}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return &brokenBody{"aborted", err}
	}
	return &brokenBody{"malformed", err}
}

func (e *brokenBody) Error() string { return "read the request body: " + e.err.Error() }
func (e *brokenBody) Unwrap() error { return e.err }

// detail says what went wrong, for the client.
func (e *brokenBody) detail() string {
	switch e.reason {
	case "timeout":
		return "it did not arrive within the server's read timeout"
	case "aborted":
		return "it ended before its announced length or last chunk"
	}
	return "its chunked transfer encoding is malformed"
}
