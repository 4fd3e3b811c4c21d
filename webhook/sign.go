package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every webhook secret: "whsec_" and the key in
// base64, as the Standard Webhooks specification has it.
const SecretPrefix = "whsec_"

// The headers of a delivery (Standard Webhooks).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock, either way, for Verify to accept it.
const DefaultTolerance = 5 * time.Minute

// Errors Verify returns, wrapped.
var (
	// ErrMissingHeaders: a webhook header is missing or malformed.
	ErrMissingHeaders = errors.New("webhook: missing or malformed webhook-id, webhook-timestamp or webhook-signature")
	// ErrTimestamp: the timestamp is outside the tolerance (a replay, or
	// a clock far off).
	ErrTimestamp = errors.New("webhook: timestamp outside the tolerance")
	// ErrSignature: no signature matches any of the secrets.
	ErrSignature = errors.New("webhook: no matching signature")
)

// secretKey returns the key of a secret: the bytes its base64 after
// SecretPrefix encodes (the prefix is optional, as the reference
// libraries read it).
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("webhook: a secret is %s and a key in base64", SecretPrefix)
	}
	return key, nil
}

// mac returns the HMAC-SHA256 of id.timestamp.body under key.
func mac(key []byte, id string, ts int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write(strconv.AppendInt(nil, ts, 10))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Sign returns the signature of a delivery of body with id at ts under
// secret: "v1," and the base64 of the HMAC-SHA256 of id.timestamp.body.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, ts.Unix(), body)), nil
}

// SignatureHeader returns the webhook-signature header of a delivery
// signed with each of secrets (two during a rotation), separated by
// spaces.
func SignatureHeader(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sig, err := Sign(s, id, ts, body)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

// signature is one entry of a webhook-signature header.
type signature struct {
	version string
	mac     []byte
}

// parseSignatures reads a webhook-signature header: entries separated by
// spaces, each a version, a comma and a base64 signature. Entries it
// cannot read are skipped, as a receiver must skip versions it does not
// know.
func parseSignatures(header string) []signature {
	var out []signature
	for _, entry := range strings.Fields(header) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			continue
		}
		out = append(out, signature{version: version, mac: b})
	}
	return out
}

// Verify checks a delivery as a receiver gets it: its headers h and its
// body, as read from the request, unchanged. It accepts the delivery if
// its timestamp is within tolerance of now (DefaultTolerance when 0) and
// one of its v1 signatures is that of one of secrets (the comparison
// takes constant time). Pass the endpoint's secret, or both during a
// rotation.
func Verify(secrets []string, h http.Header, body []byte, tolerance time.Duration) error {
	return verifyAt(secrets, h, body, tolerance, time.Now())
}

func verifyAt(secrets []string, h http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: webhook-timestamp %q", ErrMissingHeaders, tsText)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: %s is %s from now", ErrTimestamp, tsText, d.Round(time.Second))
	}
	parsed := parseSignatures(sigs)
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			return err
		}
		want := mac(key, id, ts, body)
		for _, sig := range parsed {
			if sig.version == "v1" && hmac.Equal(sig.mac, want) {
				return nil
			}
		}
	}
	return ErrSignature
}
