package bulk_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/rosterhq/roster/scim/bulk"
)

// FuzzResolve checks, for any JSON value, that Resolve does not change
// its argument; fails exactly when a reference is unknown, naming the
// first unknown one Refs lists; and otherwise returns the value with the
// same keys and shape, every reference replaced and nothing else changed.
// Resolving every reference to itself changes nothing.
func FuzzResolve(f *testing.F) {
	for _, tt := range resolveCases {
		f.Add([]byte(tt.in))
	}
	f.Add([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"bulkId:ada"}]}]}`))
	f.Add([]byte(`{"bulkId:ada":{"bulkId:eng":["bulkId:a/b",{"value":"bulkId:ada"}]}}`))
	f.Add([]byte(`["bulkId:\u0061da","bulkId:ada\u0000","bulkId:é"]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var v any
		if d.Decode(&v) != nil {
			return
		}
		before, _ := json.Marshal(v)
		got, err := bulk.Resolve(v, lookup)
		if after, _ := json.Marshal(v); !bytes.Equal(before, after) {
			t.Fatalf("Resolve changed its argument: %s, was %s", after, before)
		}
		var unknown *string
		for _, ref := range bulk.Refs(v) {
			if _, ok := known[ref]; !ok {
				unknown = &ref
				break
			}
		}
		if unknown != nil {
			var u *bulk.UnknownError
			if !errors.As(err, &u) || u.BulkID != *unknown {
				t.Fatalf("Resolve(%s) = %v; want an *UnknownError for %q", before, err, *unknown)
			}
		} else if err != nil {
			t.Fatalf("Resolve(%s): %v, with every reference known", before, err)
		} else {
			if refs := bulk.Refs(got); refs != nil {
				t.Fatalf("Resolve(%s) left references %q", before, refs)
			}
			if !resolved(v, got) {
				g, _ := json.Marshal(got)
				t.Fatalf("Resolve(%s) = %s: more than references changed", before, g)
			}
		}
		same, err := bulk.Resolve(v, func(bulkID string) (string, bool) { return bulk.Prefix + bulkID, true })
		if err != nil || !reflect.DeepEqual(same, v) {
			t.Fatalf("resolving every reference to itself: %v, %v", same, err)
		}
	})
}

// resolved reports whether out is in with each reference replaced by its
// id and nothing else changed.
func resolved(in, out any) bool {
	switch in := in.(type) {
	case string:
		if ref, ok := bulk.Ref(in); ok {
			return out == known[ref]
		}
		return out == in
	case map[string]any:
		o, ok := out.(map[string]any)
		if !ok || len(o) != len(in) {
			return false
		}
		for k, x := range in {
			y, ok := o[k]
			if !ok || !resolved(x, y) {
				return false
			}
		}
		return true
	case []any:
		o, ok := out.([]any)
		if !ok || len(o) != len(in) {
			return false
		}
		for i := range in {
			if !resolved(in[i], o[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(in, out)
}
