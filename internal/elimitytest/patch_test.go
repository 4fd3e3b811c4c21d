package elimitytest

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	filter "github.com/scim2/filter-parser/v2"
)

func TestPatchIsStrictWhereTheRFCIsClear(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, op, path string
		value          any
		want           string // the attributes after, as JSON; "" for noTarget
	}{
		{"a replace through a filter that matches nothing is noTarget", "replace", `emails[type eq "home"].value`, "h@x", ""},
		{"a remove through a filter that matches nothing is noTarget", "remove", `emails[type eq "home"]`, nil, ""},
		{"a replace through a filter that matches changes the element", "Replace", `emails[type eq "work"].value`, "w2@x",
			`{"emails":[{"type":"work","value":"w2@x"}],"userName":"ann"}`},
		{"Entra's add through a filter that matches nothing makes the element", "Add", `emails[type eq "home"].value`, "h@x",
			`{"emails":[{"type":"work","value":"w@x"},{"type":"home","value":"h@x"}],"userName":"ann"}`},
		{"Entra's dotted and URN keys without a path", "Replace", "", map[string]any{"name.givenName": "Ann", enterpriseURN + ":department": "R&D"},
			`{"emails":[{"type":"work","value":"w@x"}],"name":{"givenName":"Ann"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R\u0026D"},"userName":"ann"}`},
		{"Entra's remove of manager[value eq …] on the single-valued manager", "Remove", enterpriseURN + `:manager[value eq "b"]`, nil,
			`{"emails":[{"type":"work","value":"w@x"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{},"userName":"ann"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := map[string]any{"userName": "ann", "emails": []any{map[string]any{"type": "work", "value": "w@x"}}}
			if tc.path != "" && tc.op == "Remove" {
				a[enterpriseURN] = map[string]any{"manager": map[string]any{"value": "b"}}
			}
			op := scim.PatchOperation{Op: tc.op, Value: tc.value}
			if tc.path != "" {
				p, err := filter.ParsePath([]byte(tc.path))
				if err != nil {
					t.Fatal(err)
				}
				op.Path = &p
			}
			var ext string
			err := apply(a, &ext, op)
			if tc.want == "" {
				if !errors.Is(err, scimerrors.ScimErrorNoTarget) {
					t.Errorf("apply: %v, want noTarget", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			if got, _ := json.Marshal(a); string(got) != tc.want {
				t.Errorf("after the PATCH\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}
