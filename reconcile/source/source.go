package source

import (
	"context"
	"crypto/sha1"
	"fmt"
)

// User is a person in a source directory.
type User struct {
	// ID is stable for the life of the person, whatever is renamed: an
	// objectGUID, an entryUUID, a configured attribute, or NameUUID of
	// the DN. The sync writes it to the target's externalId.
	ID string
	// Active is false for a disabled account (Active Directory's
	// userAccountControl bit, a file's active column).
	Active bool
	// Attributes are the source's fields as read, by name; a single-valued
	// field has one value. Names compare case-insensitively (see Get).
	Attributes map[string][]string
}

// Group is a group in a source directory.
type Group struct {
	// ID is stable for the life of the group, as User.ID.
	ID string
	// Name is the group's name as the source has it.
	Name string
	// Members are the IDs of the group's direct members: users and
	// groups of the same snapshot. A member the snapshot lacks is either
	// left out (LDAP, for members outside the base DN or filter) or an
	// error of the read (files, where it is a typo).
	Members []string
	// Parent is the ID of the group this one is nested in, for sources
	// that describe a hierarchy by parent (files); "" for none. The engine
	// treats it as membership of this group in the parent.
	Parent string
	// Attributes are the source's other fields, as for User.
	Attributes map[string][]string
}

// Snapshot is everything a source holds, read at one time.
type Snapshot struct {
	Users  []User
	Groups []Group
}

// Source reads a directory.
type Source interface {
	// Read returns the directory's users and groups in scope. An error
	// means the snapshot is unusable: the engine then changes nothing.
	Read(ctx context.Context) (*Snapshot, error)
}

// Get returns the first value of a field, compared ignoring case, or "".
func Get(attrs map[string][]string, name string) string {
	if vs := Values(attrs, name); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// Values returns the values of a field, compared ignoring case.
func Values(attrs map[string][]string, name string) []string {
	if vs, ok := attrs[name]; ok {
		return vs
	}
	for k, vs := range attrs {
		if equalFold(k, name) {
			return vs
		}
	}
	return nil
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// nameSpace is the UUID namespace of NameUUID: RFC 9562's namespace for
// X.500 distinguished names.
var nameSpace = [16]byte{0x6b, 0xa7, 0xb8, 0x14, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// NameUUID returns the name-based (version 5) UUID of name in the X.500
// namespace, as some sync tools derive a stable id from a DN when the
// directory has no id attribute. It changes when the name does.
func NameUUID(name string) string {
	h := sha1.New()
	h.Write(nameSpace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
