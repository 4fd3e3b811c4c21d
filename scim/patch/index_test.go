package patch

import (
	"testing"

	"github.com/rosterhq/roster/scim/schema"
)

// Merging one value many times must not index its position again each
// time: lookups would walk an ever longer list, quadratic in the request.
func TestMergingDuplicatesKeepsOneIndexEntry(t *testing.T) {
	members := schema.GroupSchema().Attribute("members")
	l := &values{ref: schema.Ref{Attr: members}, idx: newIndex(members)}
	add := make([]any, 1000)
	for i := range add {
		add[i] = map[string]any{"value": "a", "display": "A"}
	}
	l.merge(add)
	if len(l.vals) != 1 {
		t.Fatalf("%d values, want 1", len(l.vals))
	}
	k, _ := l.idx.key(l.vals[0])
	if n := len(l.idx.byValue[k]); n != 1 {
		t.Fatalf("the value is indexed %d times, want once", n)
	}
}
