package console_test

import (
	"crypto/tls"
	"net/http"
	"testing"
)

// tlsTransport trusts the test server's certificate.
func tlsTransport(t *testing.T, e *env) http.RoundTripper {
	t.Helper()
	return &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
}
