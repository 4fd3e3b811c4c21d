package client

import (
	"net/http"

	"golang.org/x/oauth2"
)

// oauth2HTTPClient is the context key under which package oauth2 finds the
// HTTP client to fetch tokens with.
var oauth2HTTPClient = oauth2.HTTPClient

// oauth2Transport adds a bearer token from source to every request.
type oauth2Transport struct {
	base   http.RoundTripper
	source oauth2.TokenSource
}

func (t *oauth2Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	tok, err := t.source.Token()
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	tok.SetAuthHeader(r)
	return t.base.RoundTrip(r)
}
