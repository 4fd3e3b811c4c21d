package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/rosterhq/roster/scim"
)

// cursor is what a RFC 9865 cursor carries: the store's position and what
// it is valid for. It travels signed, so a client can neither forge one
// nor carry it to another directory, resource type or filter.
type cursor struct {
	Dir      string `json:"d"`
	Type     string `json:"t"`
	Filter   string `json:"f,omitempty"`
	Position string `json:"p"`
	Expires  int64  `json:"e"`
}

// cursors signs and checks cursors with an HMAC key.
type cursors struct {
	key     []byte
	timeout time.Duration
}

func newCursors(key []byte, timeout time.Duration) *cursors {
	if len(key) == 0 {
		// A key of this process: cursors do not survive a restart or cross
		// replicas unless Config.CursorKey is set.
		key = make([]byte, 32)
		rand.Read(key)
	}
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	return &cursors{key: key, timeout: timeout}
}

func (c *cursors) mac(payload string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// encode returns the opaque cursor for a position.
func (c *cursors) encode(dir, typ, filter, position string) string {
	b, _ := json.Marshal(cursor{Dir: dir, Type: typ, Filter: filter, Position: position, Expires: time.Now().Add(c.timeout).Unix()})
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + base64.RawURLEncoding.EncodeToString(c.mac(payload))
}

// decode checks a cursor from a client and returns its position: 400
// invalidCursor if it is forged, damaged or for another query, 400
// expiredCursor if its time is up.
func (c *cursors) decode(s, dir, typ, filter string) (string, error) {
	invalid := scim.Errorf(http.StatusBadRequest, scim.InvalidCursor, "the cursor is not valid for this request")
	payload, sig, ok := strings.Cut(s, ".")
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(got, c.mac(payload)) {
		return "", invalid
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	var cur cursor
	if err != nil || json.Unmarshal(b, &cur) != nil || cur.Dir != dir || cur.Type != typ || cur.Filter != filter {
		return "", invalid
	}
	if time.Now().Unix() > cur.Expires {
		return "", scim.Errorf(http.StatusBadRequest, scim.ExpiredCursor, "the cursor has expired; start the listing again")
	}
	return cur.Position, nil
}
