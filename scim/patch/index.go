package patch

import (
	"reflect"
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
// members, so the map is built only for more than scanLimit lookups.
type index struct {
	complex bool // values are objects identified by their "value"
	fold    bool // compare string values case-insensitively
	byValue map[valueKey][]int
	others  []int
	scans   int // lookups left to do by scanning
}

const scanLimit = 8

// newIndex returns an index for values of a, for about lookups lookups.
func newIndex(a *schema.Attribute, lookups int) *index {
	idx := &index{fold: true, scans: scanLimit}
	if lookups > scanLimit {
		idx.scans = 0
	}
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

func (idx *index) build(list []any) {
	idx.byValue = make(map[valueKey][]int, len(list))
	for i, v := range list {
		idx.add(v, i)
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

// lookup returns the indexes of the values of list (the list the index was
// made for, with any values added since) equal to v.
func (idx *index) lookup(list []any, v any) []int {
	k, ok := idx.key(v)
	if idx.byValue == nil {
		if idx.scans--; idx.scans < 0 {
			idx.build(list)
		} else {
			var out []int
			for i, el := range list {
				if ok && idx.same(el, k, v) || !ok && reflect.DeepEqual(el, v) {
					out = append(out, i)
				}
			}
			return out
		}
	}
	var out []int
	if !ok {
		for _, i := range idx.others {
			if reflect.DeepEqual(list[i], v) {
				out = append(out, i)
			}
		}
		return out
	}
	for _, i := range idx.byValue[k] {
		if sameType(list[i], v) {
			out = append(out, i)
		}
	}
	return out
}

// same reports whether el has the identity k and a type compatible with v.
// It compares strings without folding them first, as it runs once per
// value of the list.
func (idx *index) same(el any, k valueKey, v any) bool {
	ev := el
	if m, ok := el.(map[string]any); ok && idx.complex {
		ev = m["value"]
	}
	if s, ok := ev.(string); ok && k.kind == 's' {
		if idx.fold && !strings.EqualFold(s, k.s) || !idx.fold && s != k.s {
			return false
		}
		return sameType(el, v)
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
	f    float64
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
		if v {
			return valueKey{kind: 'b', f: 1}, true
		}
		return valueKey{kind: 'b'}, true
	case int64:
		return valueKey{kind: 'n', f: float64(v)}, true
	case float64:
		return valueKey{kind: 'n', f: v}, true
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
