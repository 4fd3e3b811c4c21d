package resource_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/resource"
)

// FuzzDecode checks that Decode never panics, fails only with a 400
// *scim.Error, decides the same way every time, and that what it accepts
// encodes to valid JSON that decodes (strictly) to the same attributes
// and encodes to the same bytes again.
func FuzzDecode(f *testing.F) {
	for _, tt := range rfcExamples {
		f.Add(readTestdata(f, tt.file), tt.resourceType == "Group")
	}
	for _, tt := range coercionCases {
		f.Add([]byte(tt.body), false)
	}
	for _, tt := range rejectCases {
		f.Add([]byte(tt.body), tt.group)
	}
	for _, tt := range ignoredCases {
		f.Add([]byte(tt.body), false)
	}
	for _, tt := range duplicateNameCases {
		f.Add([]byte(tt.body), false)
	}
	for _, body := range oddBodies {
		if len(body) < 1000 {
			f.Add([]byte(body), false)
			f.Add([]byte(body), true)
		}
	}
	f.Add([]byte(`{"displayName": "G", "members": [{"value": "u-1", "$ref": "../Users/u-1", "type": "User", "display": "U"}, "u-2"]}`), true)
	f.Add([]byte(`{"displayName": "G", "members": {"value": "u-1"}, "DISPLAYNAME": "g", "urn:ietf:params:scim:schemas:core:2.0:Group:members": []}`), true)

	reg := newRegistry(f)
	user, group := reg.ResourceType("User"), reg.ResourceType("Group")
	f.Fuzz(func(t *testing.T, body []byte, isGroup bool) {
		rt := user
		if isGroup {
			rt = group
		}
		r, err := resource.Decode(rt, body, resource.Options{})
		again, againErr := resource.Decode(rt, body, resource.Options{})
		if (err == nil) != (againErr == nil) || err != nil && err.Error() != againErr.Error() {
			t.Fatalf("decoding twice decides differently: %v, then %v", err, againErr)
		}
		strict, strictErr := resource.Decode(rt, body, resource.Options{Strict: true})
		if err != nil {
			var serr *scim.Error
			if !errors.As(err, &serr) || serr.Status != http.StatusBadRequest || serr.ScimType == "" || serr.Detail == "" {
				t.Fatalf("got %#v, want a 400 *scim.Error with a scimType and detail", err)
			}
			if strictErr == nil {
				t.Fatalf("strict accepts what lenient rejects: %v", err)
			}
			return
		}
		out := r.AppendJSON(nil, nil)
		if !json.Valid(out) {
			t.Fatalf("AppendJSON wrote invalid JSON: %q", out)
		}
		if strictErr == nil && !bytes.Equal(strict.AppendJSON(nil, nil), out) {
			t.Fatalf("strict and lenient decode differ:\n%s\n%s", strict.AppendJSON(nil, nil), out)
		}
		if !reflect.DeepEqual(again.Attrs, r.Attrs) {
			t.Fatalf("decoding twice differs:\n%#v\n%#v", r.Attrs, again.Attrs)
		}

		r2, err := resource.Decode(rt, out, resource.Options{Strict: true})
		if err != nil {
			t.Fatalf("decoding our own output %s: %v", out, err)
		}
		want := r.Clone()
		delete(want.Attrs, "password")
		if !reflect.DeepEqual(r2.Attrs, want.Attrs) {
			t.Fatalf("round trip changed the attributes:\n got %#v\nwant %#v", r2.Attrs, want.Attrs)
		}
		if out2 := r2.AppendJSON(nil, nil); !bytes.Equal(out2, out) {
			t.Fatalf("encoding is not idempotent:\n%s\n%s", out, out2)
		}
	})
}
