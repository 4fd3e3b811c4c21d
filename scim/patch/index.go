package patch

import (
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/scim/schema"
)

// index finds the values of a multi-valued attribute equal to a given one,
// so that adding or removing members of a large group costs time linear in
// the group, not quadratic. Complex values are equal when their "value"
// sub-attributes are (compared as the schema says) and their types, if
// both have one, agree; values without a "value" are compared whole.
//
// For a few lookups a scan is cheaper than building a map over 100,000
// members, so the map is built only once more than scanLimit lookups are
// made or expected. The map may hold stale positions (of values since
// removed or changed); lookup checks each one against the list.
type index struct {
	complex bool // values are objects identified by their "value"
	fold    bool // compare string values case-insensitively
	byValue map[valueKey][]int
	others  []int
	scans   int // lookups left to do by scanning
}

const scanLimit = 8

// newIndex returns an empty index for values of a.
func newIndex(a *schema.Attribute) *index {
	idx := &index{fold: true, scans: scanLimit}
	cmp := a
	if a.Type == schema.Complex {
		cmp = a.SubAttribute("value")
		idx.complex = cmp != nil
	}
	if cmp != nil && cmp.CaseExact {
		idx.fold = false
	}
	return idx
}

// expect builds the map now if n more lookups in list are coming and
// scanning for them would cost more.
func (idx *index) expect(list []any, n int) {
	if idx.byValue == nil && n > idx.scans {
		idx.build(list)
	}
}

func (idx *index) build(list []any) {
	idx.byValue = make(map[valueKey][]int, len(list))
	for i, v := range list {
		if v != nil {
			idx.add(v, i)
		}
	}
}

// add records that list[i] is v. It is a no-op until the map is built.
func (idx *index) add(v any, i int) {
	if idx.byValue == nil {
		return
	}
	if k, ok := idx.key(v); ok {
		idx.byValue[k] = append(idx.byValue[k], i)
		return
	}
	idx.others = append(idx.others, i)
}

// lookup returns the positions of the values of list (the list the index
// was made for, with any changes since recorded by add) equal to v.
func (idx *index) lookup(list []any, v any) []int {
	k, ok := idx.key(v)
	var out []int
	if idx.byValue == nil {
		if idx.scans--; idx.scans >= 0 {
			for i, el := range list {
				if ok && idx.same(el, k, v) || !ok && el != nil && reflect.DeepEqual(el, v) {
					out = append(out, i)
				}
			}
			return out
		}
		idx.build(list)
	}
	if !ok {
		for _, i := range idx.others {
			if list[i] != nil && reflect.DeepEqual(list[i], v) {
				out = append(out, i)
			}
		}
		return out
	}
	for _, i := range idx.byValue[k] {
		if idx.same(list[i], k, v) {
			out = append(out, i)
		}
	}
	// In list order, as a scan finds them, and each position once: a
	// value changed and changed back is indexed twice.
	slices.Sort(out)
	return slices.Compact(out)
}

// same reports whether el has the identity k and a type compatible with v.
func (idx *index) same(el any, k valueKey, v any) bool {
	ev := el
	if m, ok := el.(map[string]any); ok && idx.complex {
		ev = m["value"]
	}
	if s, ok := ev.(string); ok && k.kind == 's' {
		if idx.fold {
			// Fold as key does: EqualFold and ToLower disagree on some
			// runes (İ lowers to two).
			s = strings.ToLower(s)
		}
		return s == k.s && sameType(el, v)
	}
	ek, ok := idx.key(el)
	return ok && ek == k && sameType(el, v)
}

// valueKey is the identity of a value: its kind and its string or
// numeric form. (A struct, not an interface, so that making one does not
// allocate.)
type valueKey struct {
	kind byte
	s    string
}

// key returns the identity of v: its "value" (sub-attribute), folded to
// lower case unless caseExact.
func (idx *index) key(v any) (valueKey, bool) {
	if m, ok := v.(map[string]any); ok {
		if !idx.complex {
			return valueKey{}, false
		}
		v = m["value"]
	}
	switch v := v.(type) {
	case string:
		if idx.fold {
			v = strings.ToLower(v)
		}
		return valueKey{kind: 's', s: v}, true
	case bool:
		return valueKey{kind: 'b', s: strconv.FormatBool(v)}, true
	case int64:
		return valueKey{kind: 'n', s: strconv.FormatInt(v, 10)}, true
	case float64:
		// A whole float64 keys as the integer it is, so that 1 and 1.0 are
		// one value while 2^53 and 2^53+1 (int64s) stay two.
		if v == math.Trunc(v) && math.Abs(v) < 1<<63 {
			return valueKey{kind: 'n', s: strconv.FormatInt(int64(v), 10)}, true
		}
		return valueKey{kind: 'n', s: strconv.FormatFloat(v, 'g', -1, 64)}, true
	}
	return valueKey{}, false
}

func sameType(a, b any) bool {
	ma, _ := a.(map[string]any)
	mb, _ := b.(map[string]any)
	ta, _ := ma["type"].(string)
	tb, _ := mb["type"].(string)
	return ta == "" || tb == "" || strings.EqualFold(ta, tb)
}
