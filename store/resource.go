package store

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/rosterhq/roster/scim/schema"
)

// NewID returns a new random id, a version 4 UUID (RFC 9562 §5.4), such
// as a store gives directories, tokens, OAuth clients, signing keys and
// sync runs: any eight of its characters tell it from the others, as the
// CLI's short ids need.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	return uuid(b)
}

// NewResourceID returns a new id for a user or group, a version 7 UUID
// (RFC 9562 §5.7): 48 bits of Unix time in milliseconds, then 74 random
// bits. Ids made one after another sort near each other, so that the
// indexes keyed by them (a resource's id, an event's resource) grow at
// their end, as a sequence's do, instead of at a random page for each
// create; in a directory of a million users that page is rarely in memory.
func NewResourceID() string {
	var b [16]byte
	rand.Read(b[6:])
	ms := uint64(time.Now().UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x70
	return uuid(b)
}

// uuid sets the variant of b and writes it in the 8-4-4-4-12 form.
func uuid(b [16]byte) string {
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ETag returns the meta.version of a resource at the given version
// number: a weak entity tag such as W/"3", which is what the ifVersion of
// Replace, Delete and Patch is compared with.
func ETag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// NameAttr returns the attribute that names a resource of type rt in its
// directory, compared case-insensitively for ErrConflict: userName for
// users, displayName for groups and other types.
func NameAttr(rt *schema.ResourceType) string {
	if rt.Schema.Attribute("userName") != nil {
		return "userName"
	}
	return "displayName"
}
