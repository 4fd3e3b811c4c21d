package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/store"
)

// cursor is what a RFC 9865 cursor carries: the store's position and what
// it is valid for. It travels signed, so a client can neither forge one
// nor carry it to another directory, resource type or filter.
type cursor struct {
	Key      string `json:"k,omitempty"` // the id of the store's signing key that signed it
	Dir      string `json:"d"`
	Type     string `json:"t"`
	Filter   string `json:"f,omitempty"`
	Position string `json:"p"`
	Expires  int64  `json:"e"`
}

// cursors signs and checks cursors with an HMAC key: Config.CursorKey if
// set, else keys derived from the store's signing keys, which every server
// on the database shares, so that a cursor from one replica works on
// another and after a restart.
type cursors struct {
	fixed   []byte
	st      store.SigningKeys
	timeout time.Duration

	mu      sync.Mutex
	current store.SigningKey // the key that signs, fetched at most once a minute
	fetched time.Time
	keys    map[string][]byte // derived keys by signing key id
}

func newCursors(st store.SigningKeys, key []byte, timeout time.Duration) *cursors {
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	return &cursors{fixed: key, st: st, timeout: timeout, keys: make(map[string][]byte)}
}

// derive returns the cursor key derived from a signing key, so that the
// key never signs two kinds of thing.
func derive(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("roster cursor"))
	return m.Sum(nil)
}

// signingKey returns the id and derived key that sign new cursors. The
// store is asked without holding mu, so that a request waits for the
// store only within its own context, not behind another's.
func (c *cursors) signingKey(ctx context.Context) (string, []byte, error) {
	if len(c.fixed) > 0 {
		return "", c.fixed, nil
	}
	c.mu.Lock()
	id, key := c.current.ID, c.keys[c.current.ID]
	fresh := id != "" && time.Since(c.fetched) <= time.Minute
	c.mu.Unlock()
	if fresh {
		return id, key, nil
	}
	k, err := c.st.CurrentSigningKey(ctx, keyMaxAge)
	if err != nil {
		return "", nil, err
	}
	key = derive(k.Key)
	c.mu.Lock()
	c.current, c.fetched = k, time.Now()
	c.keys[k.ID] = key
	c.mu.Unlock()
	return k.ID, key, nil
}

// verifyingKey returns the derived key of the signing key id; nil if
// there is no such key.
func (c *cursors) verifyingKey(ctx context.Context, id string) ([]byte, error) {
	if len(c.fixed) > 0 {
		return c.fixed, nil
	}
	if id == "" {
		return nil, nil
	}
	c.mu.Lock()
	key, ok := c.keys[id]
	c.mu.Unlock()
	if ok {
		return key, nil
	}
	k, err := c.st.SigningKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	key = derive(k.Key)
	c.mu.Lock()
	c.keys[id] = key
	c.mu.Unlock()
	return key, nil
}

func mac(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// encode returns the opaque cursor for a position.
func (c *cursors) encode(ctx context.Context, dir, typ, filter, position string) (string, error) {
	kid, key, err := c.signingKey(ctx)
	if err != nil {
		return "", err
	}
	b, _ := json.Marshal(cursor{Key: kid, Dir: dir, Type: typ, Filter: filter, Position: position, Expires: time.Now().Add(c.timeout).Unix()})
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + base64.RawURLEncoding.EncodeToString(mac(key, payload)), nil
}

// decode checks a cursor from a client and returns its position: 400
// invalidCursor if it is forged, damaged or for another query, 400
// expiredCursor if its time is up.
func (c *cursors) decode(ctx context.Context, s, dir, typ, filter string) (string, error) {
	invalid := scim.Errorf(http.StatusBadRequest, scim.InvalidCursor, "the cursor is not valid for this request")
	payload, sig, ok := strings.Cut(s, ".")
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil {
		return "", invalid
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	var cur cursor
	if err != nil || json.Unmarshal(b, &cur) != nil {
		return "", invalid
	}
	key, err := c.verifyingKey(ctx, cur.Key)
	if err != nil {
		return "", err
	}
	if key == nil || !hmac.Equal(got, mac(key, payload)) || cur.Dir != dir || cur.Type != typ || cur.Filter != filter {
		return "", invalid
	}
	if time.Now().Unix() > cur.Expires {
		return "", scim.Errorf(http.StatusBadRequest, scim.ExpiredCursor, "the cursor has expired; start the listing again")
	}
	return cur.Position, nil
}
