package elimitytest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	filter "github.com/scim2/filter-parser/v2"
)

// enterpriseURN is the one extension the server may have (RFC 7643 §4.3).
const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// apply applies one PATCH operation to a resource's attributes a and its
// externalId (RFC 7644 §3.5.2); the library has parsed the path and
// checked it against the schema.
func apply(a map[string]any, ext *string, op scim.PatchOperation) error {
	kind := strings.ToLower(op.Op) // Entra sends "Replace" and "Add"
	if op.Path == nil {
		values, ok := op.Value.(map[string]any)
		if !ok {
			return scimerrors.ScimErrorInvalidValue
		}
		for k, v := range values {
			setKey(a, ext, k, v)
		}
		return nil
	}
	name := op.Path.AttributePath.AttributeName
	if strings.EqualFold(name, "externalId") {
		*ext, _ = op.Value.(string)
		if kind == "remove" {
			*ext = ""
		}
		return nil
	}
	if uri := op.Path.AttributePath.URI(); uri != "" {
		// An extension's attribute (urn:…:User:manager), whatever value
		// filter follows it: the extension's attributes are single-valued.
		obj, _ := a[uri].(map[string]any)
		if obj == nil {
			if kind == "remove" {
				return nil
			}
			obj = map[string]any{}
			a[uri] = obj
		}
		if kind == "remove" {
			delete(obj, keyOf(obj, name))
		} else {
			obj[keyOf(obj, name)] = op.Value
		}
		return nil
	}
	key := keyOf(a, name)
	if op.Path.ValueExpression != nil {
		return applyFiltered(a, key, kind, op)
	}
	if sub := op.Path.AttributePath.SubAttributeName(); sub != "" {
		obj, _ := a[key].(map[string]any)
		if obj == nil {
			if kind == "remove" {
				return nil
			}
			obj = map[string]any{}
			a[key] = obj
		}
		if kind == "remove" {
			delete(obj, keyOf(obj, sub))
		} else {
			obj[keyOf(obj, sub)] = op.Value
		}
		return nil
	}
	list, _ := a[key].([]any)
	values, many := op.Value.([]any)
	switch {
	case kind == "remove" && many: // remove these values (Entra's members)
		a[key] = slices.DeleteFunc(list, func(e any) bool { return slices.ContainsFunc(values, func(v any) bool { return sameValue(e, v) }) })
	case kind == "remove":
		delete(a, key)
	case kind == "add" && many:
		for _, v := range values {
			if !slices.ContainsFunc(list, func(e any) bool { return sameValue(e, v) }) {
				list = append(list, v)
			}
		}
		a[key] = list
	default:
		a[key] = op.Value
	}
	return nil
}

// applyFiltered applies an operation through a value filter
// (emails[type eq "work"].value). A replace or remove that matches no
// element is noTarget (RFC 7644 §3.5.2.3); an add that matches none,
// through an eq filter, makes the element the filter describes, as
// Entra expects.
func applyFiltered(a map[string]any, key, kind string, op scim.PatchOperation) error {
	list, _ := a[key].([]any)
	sub := op.Path.SubAttributeName()
	found := false
	var kept []any
	for _, e := range list {
		elem, _ := e.(map[string]any)
		if elem == nil || !matches(op.Path.ValueExpression, elem) {
			kept = append(kept, e)
			continue
		}
		found = true
		switch {
		case kind == "remove" && sub == "":
		case kind == "remove":
			delete(elem, keyOf(elem, sub))
			kept = append(kept, elem)
		case sub != "":
			elem[keyOf(elem, sub)] = op.Value
			kept = append(kept, elem)
		default:
			kept = append(kept, op.Value)
		}
	}
	if !found {
		e, ok := op.Path.ValueExpression.(*filter.AttributeExpression)
		if kind != "add" || sub == "" || !ok || e.Operator != filter.EQ {
			return scimerrors.ScimErrorNoTarget
		}
		kept = append(kept, map[string]any{e.AttributePath.AttributeName: e.CompareValue, sub: op.Value})
	}
	a[key] = kept
	return nil
}

// setKey sets an attribute of a PATCH value without a path: a plain
// name, externalId, a dotted sub-attribute (name.givenName) or an
// extension's attribute by its URN (urn:…:User:department), as Entra
// sends.
func setKey(a map[string]any, ext *string, key string, v any) {
	if strings.EqualFold(key, "externalId") {
		*ext, _ = v.(string)
		return
	}
	if values, ok := v.(map[string]any); ok && strings.EqualFold(key, enterpriseURN) {
		// The extension whole: its attributes are replaced one by one.
		obj, _ := a[enterpriseURN].(map[string]any)
		if obj == nil {
			obj = map[string]any{}
			a[enterpriseURN] = obj
		}
		for k, x := range values {
			obj[keyOf(obj, k)] = x
		}
		return
	}
	if i := strings.LastIndex(key, ":"); strings.HasPrefix(strings.ToLower(key), "urn:") && i > 0 {
		obj, _ := a[key[:i]].(map[string]any)
		if obj == nil {
			obj = map[string]any{}
			a[key[:i]] = obj
		}
		obj[key[i+1:]] = v
		return
	}
	if parent, sub, ok := strings.Cut(key, "."); ok {
		obj, _ := a[keyOf(a, parent)].(map[string]any)
		if obj == nil {
			obj = map[string]any{}
			a[keyOf(a, parent)] = obj
		}
		obj[keyOf(obj, sub)] = v
		return
	}
	a[keyOf(a, key)] = v
}

// matches evaluates a value filter (eq, and, or) on one element of a
// multi-valued attribute.
func matches(e filter.Expression, elem map[string]any) bool {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		v, ok := elem[keyOf(elem, e.AttributePath.AttributeName)]
		return ok && e.Operator == filter.EQ && strings.EqualFold(fmt.Sprint(v), fmt.Sprint(e.CompareValue))
	case *filter.LogicalExpression:
		if e.Operator == filter.AND {
			return matches(e.Left, elem) && matches(e.Right, elem)
		}
		return matches(e.Left, elem) || matches(e.Right, elem)
	}
	return false
}

// keyOf returns the key of m that is name ignoring case, or name.
func keyOf(m map[string]any, name string) string {
	for k := range m {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

// sameValue reports whether two elements of a multi-valued attribute are
// the same: equal "value"s for complex ones.
func sameValue(a, b any) bool {
	am, ok1 := a.(map[string]any)
	bm, ok2 := b.(map[string]any)
	if ok1 && ok2 {
		return am["value"] != nil && am["value"] == bm["value"]
	}
	return a == b
}
