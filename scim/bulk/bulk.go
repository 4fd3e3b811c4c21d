package bulk

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Prefix starts a bulkId reference: "bulkId:eng" refers to bulkId "eng".
const Prefix = "bulkId:"

// Ref returns the bulkId s refers to, and whether s is a reference: the
// whole of s is Prefix and the bulkId, which may be empty (a reference to
// no operation, which never resolves). The prefix is compared as written,
// as RFC 7644 spells it.
func Ref(s string) (bulkID string, ok bool) {
	return strings.CutPrefix(s, Prefix)
}

// UnknownError is the error of Resolve and ResolvePath for a reference
// that the ids function does not know.
type UnknownError struct {
	BulkID string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("bulkId %q names no known resource", e.BulkID)
}

// Resolve returns v with every string value that is a reference (see Ref)
// replaced by the id that ids returns for its bulkId, in objects and
// arrays at any depth. Object keys are left as they are, whatever they
// look like. A reference ids does not know fails with an *UnknownError
// naming the first one met (in the order of Refs); a caller that leaves
// some references to others returns them unchanged from ids instead:
//
//	ids := func(bulkID string) (string, bool) {
//		if id, ok := known[bulkID]; ok {
//			return id, true
//		}
//		return bulk.Prefix + bulkID, true
//	}
//
// v is not changed: objects and arrays are copied. Values of types other
// than map[string]any, []any and string are returned as they are.
func Resolve(v any, ids func(bulkID string) (string, bool)) (any, error) {
	switch v := v.(type) {
	case string:
		ref, ok := Ref(v)
		if !ok {
			return v, nil
		}
		id, ok := ids(ref)
		if !ok {
			return nil, &UnknownError{BulkID: ref}
		}
		return id, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			x, err := Resolve(v[k], ids)
			if err != nil {
				return nil, err
			}
			out[k] = x
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			y, err := Resolve(x, ids)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	}
	return v, nil
}

// ResolvePath returns path ("/Groups/bulkId:eng") with every segment
// that is a reference replaced by the id ids returns for its bulkId, or
// an *UnknownError for the first reference ids does not know.
func ResolvePath(path string, ids func(bulkID string) (string, bool)) (string, error) {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		ref, ok := Ref(s)
		if !ok {
			continue
		}
		id, ok := ids(ref)
		if !ok {
			return "", &UnknownError{BulkID: ref}
		}
		segs[i] = id
	}
	return strings.Join(segs, "/"), nil
}

// Refs returns the bulkIds that the string values in v refer to, in the
// order Resolve meets them: arrays in order, objects by key in lexical
// order, depth first. A bulkId referred to twice is there twice.
func Refs(v any) []string {
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if ref, ok := Ref(v); ok {
				refs = append(refs, ref)
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(v[k])
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return refs
}

// PathRefs returns the bulkIds the segments of path refer to, in order.
func PathRefs(path string) []string {
	var refs []string
	for _, s := range strings.Split(path, "/") {
		if ref, ok := Ref(s); ok {
			refs = append(refs, ref)
		}
	}
	return refs
}
