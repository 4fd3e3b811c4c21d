package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rosterhq/roster/store"
)

// OAuth 2.0 client credentials (RFC 6749 §4.4): a client of a directory
// exchanges its id and secret at POST /oauth/token for a short-lived JWT
// access token, which the SCIM API accepts as a bearer token. Entra ID's
// app gallery asks for this instead of long-lived tokens.

const (
	tokenIssuer   = "roster"
	tokenAudience = "roster-scim"
	// keyMaxAge is how long a signing key signs before a new one does.
	keyMaxAge = 24 * time.Hour
)

// accessClaims are the claims of an access token.
type accessClaims struct {
	Directory string `json:"dir"`
	jwt.RegisteredClaims
}

// UnmarshalJSON reads the claims, refusing times that are not JSON
// numbers. RFC 7519 §2 makes exp, nbf and iat NumericDates, but
// jwt.NumericDate also reads a numeric string ("exp":"9999999999"), which
// no issuer of ours writes.
func (c *accessClaims) UnmarshalJSON(b []byte) error {
	var times struct {
		Exp json.RawMessage `json:"exp"`
		Nbf json.RawMessage `json:"nbf"`
		Iat json.RawMessage `json:"iat"`
	}
	if err := json.Unmarshal(b, &times); err != nil {
		return err
	}
	for name, v := range map[string]json.RawMessage{"exp": times.Exp, "nbf": times.Nbf, "iat": times.Iat} {
		// A valid JSON value that starts with '-' or a digit is a number.
		if v != nil && (len(v) == 0 || v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
			return fmt.Errorf("claim %s is %s, not a number", name, v)
		}
	}
	type plain accessClaims // without this method
	return json.Unmarshal(b, (*plain)(c))
}

// oauthTooManyFailures answers 429 with Retry-After for an address over
// its failure limit, with an RFC 6749 error body: temporarily_unavailable,
// since no code says "wait".
func oauthTooManyFailures(w http.ResponseWriter, wait time.Duration) {
	secs := setRetryAfter(w, wait)
	oauthError(w, http.StatusTooManyRequests, "temporarily_unavailable",
		fmt.Sprintf("too many failed authentications from this address; retry after %d s", secs))
}

// oauthError answers with an RFC 6749 §5.2 error body.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="roster"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// token is the token endpoint.
func (s *server) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q is not client_credentials", gt))
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	// Failed client authentications count against the address as failed
	// tokens do (see authlimit.go).
	addr := clientAddr(r)
	limited, wait := s.failures.over(addr)
	cred := credentialOf("client", id, secret)
	if limited && !s.known.has(cred) {
		oauthTooManyFailures(w, wait)
		return
	}
	client, err := s.Store.AuthenticateClient(r.Context(), id, secret)
	if errors.Is(err, store.ErrUnauthorized) {
		if id != "" || secret != "" {
			s.failures.fail(addr)
		}
		if limited {
			oauthTooManyFailures(w, wait)
			return
		}
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.known.add(cred)
	signed, err := IssueJWT(r.Context(), s.Store, client.DirectoryID, client.ID, time.Now().Add(s.AccessTokenTTL))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": signed, "token_type": "Bearer", "expires_in": int(s.AccessTokenTTL.Seconds()),
	})
}

// tokenSubject prefixes the subject of a JWT that stands for a stored
// token (roster token create --jwt) rather than an OAuth client.
const tokenSubject = "token:"

// IssueJWT signs a JWT bearer token for the directory with the current
// signing key, valid until expires. subject is an OAuth client's id, or
// "token:" and the id of a stored token, whose revocation then ends the
// JWT too.
func IssueJWT(ctx context.Context, st store.SigningKeys, dir, subject string, expires time.Time) (string, error) {
	key, err := st.CurrentSigningKey(ctx, keyMaxAge)
	if err != nil {
		return "", err
	}
	claims := accessClaims{Directory: dir, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: tokenIssuer, Subject: subject, Audience: jwt.ClaimStrings{tokenAudience},
		IssuedAt: jwt.NewNumericDate(time.Now()), ExpiresAt: jwt.NewNumericDate(expires),
	}}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	t.Header["kid"] = key.ID
	return t.SignedString(key.Key)
}

// looksLikeJWT tells an access token (three dot-separated parts) from an
// opaque token (rst_…, no dots).
func looksLikeJWT(s string) bool { return strings.Count(s, ".") == 2 }

// verifyAccessToken checks a JWT access token and returns the token it
// stands for: its client, in its directory. A revoked client's tokens stop
// working at once. The signing keys that verify are held in memory (they
// never change); when limited (the client's address is over its failure
// limit), only those are used, and a JWT signed with another fails with
// errUnrecognized.
func (s *server) verifyAccessToken(ctx context.Context, raw string, limited bool) (store.Token, error) {
	var claims accessClaims
	var keyErr error
	_, err := jwt.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if key, ok := s.keys.get(kid); ok {
			return key, nil
		}
		if limited {
			keyErr = errUnrecognized
			return nil, keyErr
		}
		k, err := s.Store.SigningKey(ctx, kid)
		if err != nil {
			keyErr = err
			return nil, err
		}
		s.keys.add(k.ID, k.Key)
		return k.Key, nil
	}, jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(tokenIssuer), jwt.WithAudience(tokenAudience),
		jwt.WithExpirationRequired(), jwt.WithLeeway(5*time.Second))
	if keyErr != nil && !errors.Is(keyErr, store.ErrNotFound) {
		// Not the token's fault (the store is unavailable, or cannot read
		// its keys): 503 or 500, not 401. errUnrecognized: 429.
		return store.Token{}, keyErr
	}
	if err != nil {
		return store.Token{}, store.ErrUnauthorized
	}
	if id, ok := strings.CutPrefix(claims.Subject, tokenSubject); ok {
		t, err := s.Store.Token(ctx, id)
		if errors.Is(err, store.ErrUnavailable) {
			return store.Token{}, err
		}
		if err != nil || t.Revoked || t.DirectoryID != claims.Directory || !t.Expires.IsZero() && time.Now().After(t.Expires) {
			return store.Token{}, store.ErrUnauthorized
		}
		return t, nil
	}
	c, err := s.Store.Client(ctx, claims.Subject)
	if errors.Is(err, store.ErrUnavailable) {
		return store.Token{}, err
	}
	if err != nil || c.Revoked || c.DirectoryID != claims.Directory {
		return store.Token{}, store.ErrUnauthorized
	}
	return store.Token{ID: "client:" + c.ID, DirectoryID: c.DirectoryID, Name: c.Name}, nil
}
