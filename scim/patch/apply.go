package patch

import (
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

// Apply applies the request's operations to r in order. Either all of them
// succeed and r holds the result, or Apply returns an error and r is
// unchanged. After the operations, the resource must still be valid:
// required attributes present and at most one primary value per attribute.
//
// Apply copies only what it changes: a PATCH that adds one member to a
// group of 100,000 copies the member list once, not the members.
func (req *Request) Apply(r *resource.Resource) error {
	s := &state{
		rt:    r.Type,
		attrs: maps.Clone(r.Attrs),
		owned: map[string]bool{},
		opts:  req.opts,
	}
	for i, op := range req.Operations {
		if err := s.apply(op); err != nil {
			return scim.Prefix("Operations["+strconv.Itoa(i)+"]: ", err)
		}
	}
	result := &resource.Resource{Type: r.Type, Attrs: s.attrs}
	if err := result.Validate(); err != nil {
		return err
	}
	r.Attrs = s.attrs
	return nil
}

// state is the resource under change. attrs is a shallow copy of the
// original; values reachable from it are shared with the original until
// they are copied, which happens before any change.
type state struct {
	rt    *schema.ResourceType
	attrs map[string]any
	owned map[string]bool // extension objects already copied
	opts  resource.Options
}

func (s *state) apply(op Operation) error {
	if op.Path != nil {
		return s.applyRef(op.Op, op.Path.Attr.Ref, op.Path.Filter, op.Value, false)
	}
	// No path: the value is an object of attributes (RFC 7644 §3.5.2.1),
	// whose names may be dotted or URN-qualified (Entra ID).
	obj := op.Value.(map[string]any)
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if strings.EqualFold(k, "schemas") {
			continue
		}
		ref, err := s.rt.Resolve(k)
		if err != nil {
			if s.opts.Strict {
				return scim.BadRequest(scim.InvalidValue, "%v", err)
			}
			continue
		}
		if err := s.applyRef(op.Op, ref, nil, obj[k], true); err != nil {
			return err
		}
	}
	return nil
}

// applyRef applies one operation to the attribute ref names. implicit is
// true when the attribute was named inside a path-less value, where
// readOnly attributes (Okta sends the group's id) are skipped, not errors.
func (s *state) applyRef(op Op, ref schema.Ref, f filter.Expr, value any, implicit bool) error {
	if ref.Attr == nil {
		return s.applyExtension(op, ref.Extension, value)
	}
	if ref.Attr.Mutability == schema.ReadOnly || ref.Sub != nil && ref.Sub.Mutability == schema.ReadOnly {
		if implicit {
			return nil
		}
		return scim.BadRequest(scim.Mutability, "%s is readOnly", ref)
	}
	if f != nil {
		return s.filtered(op, ref, f, value)
	}
	switch {
	case op == Remove || op == Replace && value == nil:
		return s.remove(ref, value)
	case value == nil:
		return nil
	}
	if ref.Sub != nil {
		if ref.Attr.MultiValued {
			return scim.BadRequest(scim.InvalidPath, "%s names a sub-attribute of every %s value; select values with a filter, as in %s[type eq \"work\"].%s",
				ref, ref.Attr.Name, ref.Attr.Name, ref.Sub.Name)
		}
		v, err := resource.DecodeValue(ref.Sub, value, s.opts)
		if err != nil {
			return err
		}
		m := s.complexCopy(ref)
		if err := setSub(m, ref.Sub, v); err != nil {
			return err
		}
		s.store(ref, m)
		return nil
	}
	a := ref.Attr
	v, err := resource.DecodeValue(a, value, s.opts)
	if err != nil {
		return err
	}
	switch {
	case v == nil:
		if op == Replace {
			return s.remove(ref, nil)
		}
		return nil
	case a.MultiValued:
		var list []any
		if op == Add {
			list, _ = s.get(ref).([]any)
		}
		list, touched := merge(a, slices.Clone(list), v.([]any))
		s.store(ref, clearOtherPrimaries(list, touched))
	case a.Type == schema.Complex:
		// Both add and replace set the given sub-attributes and leave the
		// others (RFC 7644 §3.5.2.1 and §3.5.2.3).
		m := s.complexCopy(ref)
		if nv, ok := v.(map[string]any)["value"]; ok && !reflect.DeepEqual(m["value"], nv) {
			// A new referenced value (Entra replaces the manager with a
			// plain id): the old $ref and display described the old one.
			for _, sub := range a.SubAttributes {
				if sub.Mutability != schema.Immutable {
					delete(m, sub.Name)
				}
			}
		}
		for _, sub := range a.SubAttributes {
			if sv, ok := v.(map[string]any)[sub.Name]; ok {
				if err := setSub(m, sub, sv); err != nil {
					return err
				}
			}
		}
		s.store(ref, m)
	default:
		if err := checkImmutable(a, s.get(ref), v); err != nil {
			return err
		}
		s.store(ref, v)
	}
	return nil
}

// applyExtension applies an operation whose path is a bare extension URN.
func (s *state) applyExtension(op Op, urn string, value any) error {
	if op == Remove {
		for _, a := range s.rt.Extension(urn).Schema.Attributes {
			if a.Required {
				return scim.BadRequest(scim.Mutability, "%s:%s is required and cannot be removed", urn, a.Name)
			}
		}
		delete(s.attrs, urn)
		delete(s.owned, urn)
		return nil
	}
	obj, ok := value.(map[string]any)
	if !ok {
		return scim.BadRequest(scim.InvalidValue, "the value for %s must be an object of its attributes", urn)
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		ref, err := s.rt.ResolveParts(urn, k, "")
		if err != nil {
			if s.opts.Strict {
				return scim.BadRequest(scim.InvalidValue, "%v", err)
			}
			continue
		}
		if err := s.applyRef(op, ref, nil, obj[k], true); err != nil {
			return err
		}
	}
	return nil
}

// remove removes the attribute or sub-attribute ref names. With a value
// and a multi-valued attribute, only the values equal to those given are
// removed (Entra: remove members with [{"value": id}]).
func (s *state) remove(ref schema.Ref, value any) error {
	leaf := ref.Leaf()
	if value != nil && ref.Sub == nil && ref.Attr.MultiValued {
		given, err := resource.DecodeValue(ref.Attr, value, s.opts)
		if err != nil {
			return err
		}
		list, _ := s.get(ref).([]any)
		drop := make(map[int]bool)
		idx := newIndex(ref.Attr, len(asList(given)))
		for _, g := range asList(given) {
			for _, i := range idx.lookup(list, g) {
				drop[i] = true
			}
		}
		if len(drop) > 0 {
			s.store(ref, without(list, drop))
		}
		return s.checkRequired(ref)
	}
	if leaf.Required {
		return scim.BadRequest(scim.Mutability, "%s is required and cannot be removed", ref)
	}
	if v, _ := s.currentLeaf(ref); v != nil && leaf.Mutability == schema.Immutable {
		return scim.BadRequest(scim.Mutability, "%s is immutable and cannot be removed", ref)
	}
	if ref.Sub == nil {
		s.store(ref, nil)
		return nil
	}
	switch cur := s.get(ref).(type) {
	case map[string]any:
		m := maps.Clone(cur)
		delete(m, ref.Sub.Name)
		s.store(ref, m)
	case []any:
		list := slices.Clone(cur)
		for i, el := range list {
			if m, ok := el.(map[string]any); ok {
				if _, has := m[ref.Sub.Name]; has {
					m = maps.Clone(m)
					delete(m, ref.Sub.Name)
					list[i] = m
				}
			}
		}
		s.store(ref, dropEmpty(list))
	}
	return nil
}

// filtered applies an operation to the values of a complex attribute that
// match the value filter f.
func (s *state) filtered(op Op, ref schema.Ref, f filter.Expr, value any) error {
	a := ref.Attr
	cur := s.get(ref)
	list := asList(cur)
	var matches []int
	for i, el := range list {
		if m, ok := el.(map[string]any); ok && filter.MatchValue(f, m) {
			matches = append(matches, i)
		}
	}
	if op == Remove {
		if len(matches) == 0 {
			return nil // already gone: removing is idempotent
		}
		if ref.Sub != nil {
			if ref.Sub.Required {
				return scim.BadRequest(scim.Mutability, "%s is required and cannot be removed", ref)
			}
			list = slices.Clone(list)
			for _, i := range matches {
				m := maps.Clone(list[i].(map[string]any))
				delete(m, ref.Sub.Name)
				list[i] = m
			}
			s.storeList(a, ref, dropEmpty(list))
			return nil
		}
		drop := make(map[int]bool, len(matches))
		for _, i := range matches {
			drop[i] = true
		}
		s.storeList(a, ref, without(list, drop))
		return s.checkRequired(ref)
	}
	if value == nil {
		return scim.BadRequest(scim.InvalidValue, "%s needs a \"value\"", op)
	}
	var sv any
	var elem map[string]any
	var err error
	if ref.Sub != nil {
		if sv, err = resource.DecodeValue(ref.Sub, value, s.opts); err != nil {
			return err
		}
	} else {
		ev, err := resource.DecodeElement(a, value, s.opts)
		if err != nil {
			return err
		}
		elem, _ = ev.(map[string]any)
	}
	list = slices.Clone(list)
	touched := make(map[int]bool)
	if len(matches) == 0 {
		// Entra ID: a replace (or add) through a filter that matches nothing
		// adds the value the filter describes, so that
		// emails[type eq "work"].value = x creates the work email.
		base, ok := derive(f)
		if !ok {
			return scim.BadRequest(scim.NoTarget, "no value of %s matches [%s]", a.Name, f)
		}
		if ref.Sub != nil {
			if sv == nil {
				return nil
			}
			base[ref.Sub.Name] = sv
		} else {
			maps.Copy(base, elem)
		}
		if !a.MultiValued && len(list) > 0 {
			return scim.BadRequest(scim.NoTarget, "the value of %s does not match [%s]", a.Name, f)
		}
		list = append(list, base)
		touched[len(list)-1] = true
	}
	for _, i := range matches {
		m := maps.Clone(list[i].(map[string]any))
		switch {
		case ref.Sub != nil:
			if err := setSub(m, ref.Sub, sv); err != nil {
				return err
			}
		case op == Replace:
			for _, sub := range a.SubAttributes {
				if err := setSub(m, sub, elem[sub.Name]); err != nil {
					return err
				}
			}
		default:
			for _, sub := range a.SubAttributes {
				if v, ok := elem[sub.Name]; ok {
					if err := setSub(m, sub, v); err != nil {
						return err
					}
				}
			}
		}
		list[i] = m
		touched[i] = true
	}
	s.storeList(a, ref, dropEmpty(clearOtherPrimaries(list, touched)))
	return nil
}

// storeList stores a list of values for a, unwrapping it for a
// single-valued complex attribute.
func (s *state) storeList(a *schema.Attribute, ref schema.Ref, list []any) {
	if a.MultiValued {
		s.store(ref, list)
		return
	}
	if len(list) == 0 {
		s.store(ref, nil)
		return
	}
	s.store(ref, list[0])
}

// checkRequired fails when removing values left a required attribute
// without any.
func (s *state) checkRequired(ref schema.Ref) error {
	if ref.Attr.Required && resource.Unassigned(s.get(ref)) {
		return scim.BadRequest(scim.Mutability, "%s is required and cannot be left without values", ref)
	}
	return nil
}

// get returns the current value of ref's attribute, which must not be
// modified.
func (s *state) get(ref schema.Ref) any {
	c := s.attrs
	if ref.Extension != "" {
		c, _ = s.attrs[ref.Extension].(map[string]any)
	}
	return c[ref.Attr.Name]
}

// currentLeaf returns the current value of the attribute or sub-attribute
// ref names (for a sub-attribute of a multi-valued attribute, the list of
// them); ok is false when there is none.
func (s *state) currentLeaf(ref schema.Ref) (any, bool) {
	r := resource.Resource{Type: s.rt, Attrs: s.attrs}
	return r.Get(ref)
}

// complexCopy returns a copy of the single complex value of ref's
// attribute, or a new empty map.
func (s *state) complexCopy(ref schema.Ref) map[string]any {
	if m, ok := s.get(ref).(map[string]any); ok {
		return maps.Clone(m)
	}
	return map[string]any{}
}

// store sets ref's attribute to v, or removes it when v is unassigned.
func (s *state) store(ref schema.Ref, v any) {
	c := s.attrs
	if ref.Extension != "" {
		c, _ = s.attrs[ref.Extension].(map[string]any)
		if !s.owned[ref.Extension] {
			c = maps.Clone(c)
			if c == nil {
				c = map[string]any{}
			}
			s.owned[ref.Extension] = true
			s.attrs[ref.Extension] = c
		}
	}
	if resource.Unassigned(v) {
		delete(c, ref.Attr.Name)
	} else {
		c[ref.Attr.Name] = v
	}
	if ref.Extension != "" && len(c) == 0 {
		delete(s.attrs, ref.Extension)
		delete(s.owned, ref.Extension)
	}
}

// setSub sets sub-attribute sub of m to v (deleting it when v is nil),
// refusing to change an immutable sub-attribute that has a value.
func setSub(m map[string]any, sub *schema.Attribute, v any) error {
	if sub.Mutability == schema.ReadOnly {
		return nil
	}
	if err := checkImmutable(sub, m[sub.Name], v); err != nil {
		return err
	}
	if resource.Unassigned(v) {
		delete(m, sub.Name)
	} else {
		m[sub.Name] = v
	}
	return nil
}

func checkImmutable(a *schema.Attribute, old, v any) error {
	if a.Mutability == schema.Immutable && old != nil && !reflect.DeepEqual(old, v) {
		return scim.BadRequest(scim.Mutability, "%s is immutable and already has a value", a.Name)
	}
	return nil
}

// merge appends the values of add to list, except those equal to a value
// already there (RFC 7644 §3.5.2.1: adding an existing value changes
// nothing), which are updated in place with the sub-attributes given. It
// returns the list and the indexes of the values added or updated.
func merge(a *schema.Attribute, list, add []any) ([]any, map[int]bool) {
	touched := make(map[int]bool, len(add))
	idx := newIndex(a, len(add))
	for _, v := range add {
		if same := idx.lookup(list, v); len(same) > 0 {
			i := same[0]
			if m, ok := v.(map[string]any); ok {
				old, _ := list[i].(map[string]any)
				merged := maps.Clone(old)
				for k, sv := range m {
					if sub := a.SubAttribute(k); sub == nil || sub.Mutability != schema.Immutable || merged[k] == nil {
						merged[k] = sv
					}
				}
				list[i] = merged
			}
			touched[i] = true
			continue
		}
		list = append(list, v)
		idx.add(v, len(list)-1)
		touched[len(list)-1] = true
	}
	return list, touched
}

// clearOtherPrimaries sets primary to false on every value not touched
// when a touched value is primary (RFC 7644 §3.5.2: setting primary on one
// value clears it on the others).
func clearOtherPrimaries(list []any, touched map[int]bool) []any {
	newPrimary := false
	for i := range touched {
		if m, ok := list[i].(map[string]any); ok && m["primary"] == true {
			newPrimary = true
		}
	}
	if !newPrimary {
		return list
	}
	for i, el := range list {
		if m, ok := el.(map[string]any); ok && !touched[i] && m["primary"] == true {
			m = maps.Clone(m)
			m["primary"] = false
			list[i] = m
		}
	}
	return list
}

// derive returns the value a filter of eq comparisons joined by and
// describes, as in [type eq "work"] → {"type": "work"}; ok is false for
// any other filter.
func derive(f filter.Expr) (map[string]any, bool) {
	switch f := f.(type) {
	case *filter.And:
		l, ok := derive(f.Left)
		if !ok {
			return nil, false
		}
		r, ok := derive(f.Right)
		if !ok {
			return nil, false
		}
		maps.Copy(l, r)
		return l, true
	case *filter.Compare:
		if f.Op != filter.Eq || f.Value == nil || f.Attr.Ref.Sub == nil {
			return nil, false
		}
		v := f.Value
		if t, ok := v.(time.Time); ok {
			v = t.UTC().Format(time.RFC3339Nano)
		}
		return map[string]any{f.Attr.Ref.Sub.Name: v}, true
	}
	return nil, false
}

func asList(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case nil:
		return nil
	}
	return []any{v}
}

// without returns list minus the indexes in drop, in a new slice.
func without(list []any, drop map[int]bool) []any {
	out := make([]any, 0, len(list)-len(drop))
	for i, el := range list {
		if !drop[i] {
			out = append(out, el)
		}
	}
	return out
}

// dropEmpty removes values left empty by removing sub-attributes.
func dropEmpty(list []any) []any {
	return slices.DeleteFunc(list, resource.Unassigned)
}
