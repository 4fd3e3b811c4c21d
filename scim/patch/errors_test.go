package patch_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

func TestApplyRejectsBadRequestsAndChangesNothing(t *testing.T) {
	user := `{"userName":"bjensen","emails":[{"value":"a@example.com","type":"work","primary":true}],"` + enterprise + `":{"department":"R&D"}}`
	group := `{"displayName":"Eng","members":[{"value":"a"}]}`
	cases := []struct {
		name     string
		rt       *schema.ResourceType
		before   string
		body     string
		scimType string
		detail   string
	}{
		{"malformed JSON", userType(), user, `{"Operations":[`, scim.InvalidSyntax, "not valid JSON"},
		{"trailing data", userType(), user, ops() + ` {}`, scim.InvalidSyntax, "after the JSON"},
		{"a body that is not an object", userType(), user, `[]`, scim.InvalidSyntax, "object"},
		{"no Operations", userType(), user, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`, scim.InvalidSyntax, "Operations"},
		{"Operations not an array", userType(), user, `{"Operations":{}}`, scim.InvalidSyntax, "array"},
		{"the wrong schema", userType(), user, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"Operations":[]}`, scim.InvalidSyntax, "PatchOp"},
		{"an operation that is not an object", userType(), user, ops(`"add"`), scim.InvalidSyntax, "Operations[0]"},
		{"an unknown op", userType(), user, ops(`{"op":"copy","path":"title","value":"x"}`), scim.InvalidSyntax, `"copy"`},
		{"a path that is not a string", userType(), user, ops(`{"op":"add","path":1,"value":"x"}`), scim.InvalidPath, "string"},
		{"a malformed path", userType(), user, ops(`{"op":"add","path":"emails[type eq","value":"x"}`), scim.InvalidPath, "emails[type eq"},
		{"a filter on a simple attribute", userType(), user, ops(`{"op":"add","path":"userName[value eq \"x\"]","value":"x"}`), scim.InvalidPath, "userName"},
		{"remove without a path", userType(), user, ops(`{"op":"remove"}`), scim.NoTarget, "path"},
		{"add without a value", userType(), user, ops(`{"op":"add","path":"title"}`), scim.InvalidValue, "value"},
		{"a path-less add whose value is not an object", userType(), user, ops(`{"op":"add","value":"x"}`), scim.InvalidValue, "object"},
		{"a value of the wrong type", userType(), user, ops(`{"op":"replace","path":"active","value":"maybe"}`), scim.InvalidValue, "active"},
		{"an array for a single-valued attribute", userType(), user, ops(`{"op":"replace","path":"title","value":["a","b"]}`), scim.InvalidValue, "title"},
		{"a readOnly attribute named by path", userType(), user, ops(`{"op":"replace","path":"id","value":"x"}`), scim.Mutability, "id"},
		{"a readOnly meta sub-attribute", userType(), user, ops(`{"op":"replace","path":"meta.created","value":"2011-05-13T04:42:34Z"}`), scim.Mutability, "meta"},
		{"the readOnly groups attribute", userType(), user, ops(`{"op":"add","path":"groups","value":[{"value":"g"}]}`), scim.Mutability, "groups"},
		{"an immutable member value changed", groupType(), group, ops(`{"op":"replace","path":"members[value eq \"a\"].value","value":"b"}`), scim.Mutability, "immutable"},
		{"removing the required userName", userType(), user, ops(`{"op":"remove","path":"userName"}`), scim.Mutability, "userName"},
		{"replacing userName with null", userType(), user, ops(`{"op":"replace","path":"userName","value":null}`), scim.Mutability, "userName"},
		{"removing the required displayName", groupType(), group, ops(`{"op":"remove","path":"displayName"}`), scim.Mutability, "displayName"},
		{"a filter that matches nothing and describes no value", userType(), user, ops(`{"op":"replace","path":"emails[value co \"zzz\"].type","value":"home"}`), scim.NoTarget, "emails"},
		{"primary set on every email without a filter", userType(), `{"userName":"bjensen","emails":[{"value":"a@example.com"},{"value":"b@example.com"}]}`,
			ops(`{"op":"replace","path":"emails.primary","value":true}`), scim.InvalidValue, "primary"},
		{"a sub-attribute of every member changed", groupType(), `{"displayName":"Eng","members":[{"value":"a","display":"A"}]}`,
			ops(`{"op":"replace","path":"members.display","value":"B"}`), scim.Mutability, "immutable"},
		{"two primary emails", userType(), user, ops(`{"op":"add","path":"emails","value":[{"value":"b@example.com","primary":true},{"value":"c@example.com","primary":true}]}`), scim.InvalidValue, "primary"},
		{"a late failure undoes earlier operations", userType(), user, ops(`{"op":"replace","path":"title","value":"Boss"}`, `{"op":"remove","path":"emails"}`, `{"op":"remove","path":"userName"}`), scim.Mutability, "Operations[2]"},
		{"an invalid filter in a path", groupType(), group, ops(`{"op":"remove","path":"members[value xx \"a\"]"}`), scim.InvalidPath, "xx"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := decode(t, tc.rt, tc.before)
			before := resource.CloneValue(r.Attrs)
			err := apply(r, tc.body, resource.Options{})
			var serr *scim.Error
			if !errors.As(err, &serr) {
				t.Fatalf("got %v, want a *scim.Error", err)
			}
			if serr.Status != 400 || serr.ScimType != tc.scimType {
				t.Errorf("got %d %s, want 400 %s (%s)", serr.Status, serr.ScimType, tc.scimType, serr.Detail)
			}
			if !strings.Contains(serr.Detail, tc.detail) {
				t.Errorf("detail %q does not mention %q", serr.Detail, tc.detail)
			}
			if !reflect.DeepEqual(r.Attrs, before) {
				t.Errorf("a failed PATCH changed the resource:\n got  %v\n want %v", r.Attrs, before)
			}
		})
	}
}

func TestUnknownAttributesAreIgnoredUnlessStrict(t *testing.T) {
	body := ops(`{"op":"replace","path":"urn:example:custom:2.0:User:shoeSize","value":"42"}`,
		`{"op":"replace","path":"favouriteColour","value":"blue"}`,
		`{"op":"replace","value":{"title":"Boss","hobby":"chess"}}`,
		`{"op":"add","path":"`+enterprise+`","value":{"department":"R&D","badge":"B-1"}}`,
		`{"op":"add","value":{"emails[type eq \"work\"].verified":true}}`)
	r := decode(t, userType(), `{"userName":"bjensen"}`)
	var ignored []string
	if err := apply(r, body, resource.Options{Ignored: func(name string) { ignored = append(ignored, name) }}); err != nil {
		t.Fatalf("lenient apply: %v", err)
	}
	if got := asJSON(t, r); got["title"] != "Boss" || got[enterprise] == nil || len(got) != 4 {
		t.Fatalf("lenient apply gave %v, want only title and the department added", got)
	}
	want := []string{"urn:example:custom:2.0:User:shoeSize", "favouriteColour", "hobby", enterprise + ":badge", `emails[type eq "work"].verified`}
	if !slices.Equal(ignored, want) {
		t.Errorf("Ignored heard %q, want %q", ignored, want)
	}

	r = decode(t, userType(), `{"userName":"bjensen"}`)
	err := apply(r, body, resource.Options{Strict: true})
	var serr *scim.Error
	if !errors.As(err, &serr) || serr.ScimType != scim.InvalidPath || !errors.Is(err, schema.ErrUnknownAttribute) {
		t.Fatalf("strict apply: got %v, want invalidPath wrapping ErrUnknownAttribute", err)
	}
}

func TestApplyLeavesTheOriginalValuesUntouched(t *testing.T) {
	// Apply copies on write: values shared with an earlier version of the
	// resource (a cache, a store's snapshot) must never change.
	r := decode(t, groupType(), `{"displayName":"Eng","members":[{"value":"a","display":"Ann"},{"value":"b"}]}`)
	snapshot := r.Attrs
	copyOfSnapshot := resource.CloneValue(snapshot)
	body := ops(`{"op":"add","path":"members","value":[{"value":"a","display":"Annie"},{"value":"c"}]}`,
		`{"op":"remove","path":"members[value eq \"b\"]"}`, `{"op":"replace","path":"displayName","value":"Engineering"}`)
	if err := apply(r, body, resource.Options{}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snapshot, copyOfSnapshot) {
		t.Fatalf("Apply changed values of the original:\n got  %v\n want %v", snapshot, copyOfSnapshot)
	}
	if got := asJSON(t, r)["members"]; len(got.([]any)) != 2 {
		t.Fatalf("members after PATCH = %v, want a (renamed display) and c", got)
	}
}

func TestParseExposesResolvedOperations(t *testing.T) {
	// A store can act on member operations itself (a membership table)
	// instead of loading the group: Parse hands it resolved paths.
	req, err := parseGroup(ops(`{"op":"Add","path":"members","value":[{"value":"a"}]}`,
		`{"op":"remove","path":"members[value eq \"b\"]"}`, `{"op":"replace","value":{"displayName":"X"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Operations) != 3 {
		t.Fatalf("got %d operations, want 3", len(req.Operations))
	}
	add, remove, rename := req.Operations[0], req.Operations[1], req.Operations[2]
	if add.Op != "add" || add.Path.Attr.Ref.Attr.Name != "members" || add.Path.Filter != nil {
		t.Errorf("first operation = %+v, want add to members", add)
	}
	if remove.Op != "remove" || remove.Path.Attr.Ref.Attr.Name != "members" || remove.Path.Filter == nil ||
		remove.Path.String() != `members[value eq "b"]` {
		t.Errorf("second operation = %+v, want remove of members[value eq \"b\"]", remove)
	}
	if rename.Op != "replace" || rename.Path.String() != "displayName" || rename.Value != "X" {
		t.Errorf("third operation = %+v, want the path-less replace as a replace of displayName", rename)
	}
}

// Inputs a review found to panic or to be silently dropped.
func TestApplyRegressions(t *testing.T) {
	t.Run("replacing a matched email with an empty object removes it", func(t *testing.T) {
		r := decode(t, userType(), `{"userName":"b","emails":[{"type":"home","value":"h"},{"type":"work","value":"w","primary":true}]}`)
		if err := apply(r, ops(`{"op":"replace","path":"emails[type eq \"work\"]","value":{}}`), resource.Options{}); err != nil {
			t.Fatal(err)
		}
		if got := asJSON(t, r)["emails"].([]any); len(got) != 1 {
			t.Fatalf("emails = %v, want only the home email", got)
		}
	})
	t.Run("an extension removed and added again in one request", func(t *testing.T) {
		for _, body := range []string{
			ops(`{"op":"add","path":"`+enterprise+`:department","value":"X"}`, `{"op":"remove","path":"`+enterprise+`"}`,
				`{"op":"add","path":"`+enterprise+`:department","value":"Y"}`),
			ops(`{"op":"add","value":{"`+enterprise+`:department":"X"}}`, `{"op":"remove","path":"`+enterprise+`"}`,
				`{"op":"add","value":{"`+enterprise+`:department":"Y"}}`),
		} {
			r := decode(t, userType(), `{"userName":"b"}`)
			if err := apply(r, body, resource.Options{}); err != nil {
				t.Fatal(err)
			}
			ext, _ := asJSON(t, r)[enterprise].(map[string]any)
			if ext["department"] != "Y" {
				t.Fatalf("extension = %v, want department Y", ext)
			}
		}
	})
	t.Run("an unknown name inside a value filter is an error, not a dropped operation", func(t *testing.T) {
		r := decode(t, groupType(), `{"displayName":"Eng","members":[{"value":"x"}]}`)
		err := apply(r, ops(`{"op":"remove","path":"members[id eq \"x\"]"}`), resource.Options{})
		var serr *scim.Error
		if !errors.As(err, &serr) || serr.ScimType != scim.InvalidPath {
			t.Fatalf("got %v, want 400 invalidPath", err)
		}
	})
	t.Run("replacing the manager with a plain id drops the old manager's $ref", func(t *testing.T) {
		r := decode(t, userType(), `{"userName":"b","`+enterprise+`":{"manager":{"value":"A","$ref":"../Users/A"}}}`)
		if err := apply(r, ops(`{"op":"Replace","path":"`+enterprise+`:manager","value":"B"}`), resource.Options{}); err != nil {
			t.Fatal(err)
		}
		ext := asJSON(t, r)[enterprise].(map[string]any)
		if m := ext["manager"].(map[string]any); m["value"] != "B" || m["$ref"] != nil {
			t.Fatalf("manager = %v, want only value B", m)
		}
	})
}

func TestRemovingAnImmutableAttributeIsAMutabilityError(t *testing.T) {
	reg := schema.NewRegistry()
	ext, err := schema.Parse([]byte(`{"id":"urn:example:params:scim:schemas:extension:badge:2.0:User","attributes":[
		{"name":"badge","type":"string","mutability":"immutable"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.AddExtension("User", ext, false); err != nil {
		t.Fatal(err)
	}
	r := decode(t, reg.ResourceType("User"), `{"userName":"b","urn:example:params:scim:schemas:extension:badge:2.0:User":{"badge":"42"}}`)
	err = apply(r, ops(`{"op":"remove","path":"urn:example:params:scim:schemas:extension:badge:2.0:User:badge"}`), resource.Options{})
	var serr *scim.Error
	if !errors.As(err, &serr) || serr.ScimType != scim.Mutability {
		t.Fatalf("got %v, want 400 mutability", err)
	}
}
