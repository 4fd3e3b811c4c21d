package patch

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/scim/schema"
)

// index finds the values of a multi-valued attribute equal to a given one
// in constant time, so that adding or removing members of a large group
// costs time linear in the group, not quadratic. Complex values are equal
// when their "value" sub-attributes are (compared as the schema says) and
// their types, if both have one, agree; values without a "value" are
// compared whole.
type index struct {
	attr    *schema.Attribute
	byValue map[string][]int
	others  []int
}

func newIndex(a *schema.Attribute, list []any) *index {
	idx := &index{attr: a, byValue: make(map[string][]int, len(list))}
	for i, v := range list {
		idx.add(v, i)
	}
	return idx
}

func (idx *index) add(v any, i int) {
	if k, ok := idx.key(v); ok {
		idx.byValue[k] = append(idx.byValue[k], i)
		return
	}
	idx.others = append(idx.others, i)
}

// lookup returns the indexes of the values of list (the list the index was
// built from, with any values added since) equal to v.
func (idx *index) lookup(list []any, v any) []int {
	k, ok := idx.key(v)
	if !ok {
		var out []int
		for _, i := range idx.others {
			if reflect.DeepEqual(list[i], v) {
				out = append(out, i)
			}
		}
		return out
	}
	var out []int
	for _, i := range idx.byValue[k] {
		if sameType(list[i], v) {
			out = append(out, i)
		}
	}
	return out
}

// key returns the identity of v: its "value" (sub-attribute), folded to
// lower case unless caseExact.
func (idx *index) key(v any) (string, bool) {
	attr := idx.attr
	if m, ok := v.(map[string]any); ok {
		attr = idx.attr.SubAttribute("value")
		if attr == nil {
			return "", false
		}
		v = m["value"]
	}
	var s string
	switch v := v.(type) {
	case string:
		s = "s" + v
		if !attr.CaseExact {
			s = "s" + strings.ToLower(v)
		}
	case bool:
		s = "b" + strconv.FormatBool(v)
	case int64:
		s = "n" + strconv.FormatInt(v, 10)
	case float64:
		s = "n" + strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return "", false
	}
	return s, true
}

func sameType(a, b any) bool {
	ma, _ := a.(map[string]any)
	mb, _ := b.(map[string]any)
	ta, _ := ma["type"].(string)
	tb, _ := mb["type"].(string)
	return ta == "" || tb == "" || strings.EqualFold(ta, tb)
}
