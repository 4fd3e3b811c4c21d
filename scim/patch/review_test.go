package patch_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

// Inputs a review of the per-request list machinery found wrong.

func TestRemoveWithAValueThatListsNothingNeverRemovesEveryMember(t *testing.T) {
	group := `{"displayName":"G","members":[{"value":"a"},{"value":"b"}]}`
	r := decode(t, groupType(), group)
	if err := apply(r, ops(`{"op":"remove","path":"members","value":[]}`), resource.Options{}); err != nil {
		t.Fatalf("an empty list: %v", err)
	}
	if got := asJSON(t, r)["members"]; len(got.([]any)) != 2 {
		t.Fatalf("an empty list removed members: %v", got)
	}
	for _, value := range []string{`{}`, `[{"value":null}]`, `[{"id":"a"}]`} {
		r := decode(t, groupType(), group)
		err := apply(r, ops(`{"op":"remove","path":"members","value":`+value+`}`), resource.Options{})
		var serr *scim.Error
		if !errors.As(err, &serr) || serr.ScimType != scim.InvalidValue {
			t.Errorf("remove with value %s = %v, want 400 invalidValue", value, err)
		}
	}
}

func TestValuesWithRunesThatFoldOddlyAreFound(t *testing.T) {
	runApplyCases(t, []applyCase{
		{
			name:   "a filtered remove of a value with İ",
			rt:     groupType(),
			before: `{"displayName":"G","members":[{"value":"İ1"},{"value":"b"}]}`,
			body:   ops(`{"op":"remove","path":"members[value eq \"İ1\"]"}`),
			after:  `{"displayName":"G","members":[{"value":"b"}]}`,
		},
		{
			name:   "adding a value with İ again keeps one",
			rt:     groupType(),
			before: `{"displayName":"G","members":[{"value":"İ1"}]}`,
			body:   ops(`{"op":"add","path":"members","value":[{"value":"İ1"}]}`),
			after:  `{"displayName":"G","members":[{"value":"İ1"}]}`,
		},
	})
}

func TestEqualValuesAreUpdatedInListOrder(t *testing.T) {
	// With more than a scan's worth of lookups the index answers; of two
	// equal values it must pick the one a scan would: the first.
	var adds []string
	for i := range 10 {
		adds = append(adds, fmt.Sprintf(`{"value":"x%d@x"}`, i))
	}
	body := ops(`{"op":"add","path":"emails","value":[`+strings.Join(adds, ",")+`]}`,
		`{"op":"replace","path":"emails[value eq \"b@x\"].value","value":"A@X"}`,
		`{"op":"add","path":"emails","value":[{"value":"a@x","display":"new"}]}`)
	r := decode(t, userType(), `{"userName":"u","emails":[{"value":"b@x","display":"first"},{"value":"a@x","display":"second"}]}`)
	if err := apply(r, body, resource.Options{}); err != nil {
		t.Fatal(err)
	}
	emails := asJSON(t, r)["emails"].([]any)
	first, second := emails[0].(map[string]any), emails[1].(map[string]any)
	if len(emails) != 12 || first["display"] != "new" || second["display"] != "second" {
		t.Fatalf("emails = %v, want the first of the equal values updated", emails)
	}
}

func TestImmutableValuesStayPut(t *testing.T) {
	reg := schema.NewRegistry()
	ext, err := schema.Parse([]byte(`{"id":"urn:example:params:scim:schemas:extension:badges:2.0:User","attributes":[
		{"name":"badges","type":"string","multiValued":true,"mutability":"immutable"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.AddExtension("User", ext, false); err != nil {
		t.Fatal(err)
	}
	const urn = "urn:example:params:scim:schemas:extension:badges:2.0:User"
	users := reg.ResourceType("User")
	cases := []struct{ name, rt, body string }{
		{"a member's immutable value removed through a filter", "Group", ops(`{"op":"remove","path":"members[value eq \"a\"].value"}`)},
		{"a member's immutable display removed through a filter", "Group", ops(`{"op":"remove","path":"members[value eq \"a\"].display"}`)},
		{"a member's immutable display replaced with null", "Group", ops(`{"op":"replace","path":"members[value eq \"a\"].display","value":null}`)},
		{"an immutable multi-valued attribute replaced", "User", ops(`{"op":"replace","path":"` + urn + `:badges","value":["y"]}`)},
		{"an immutable multi-valued attribute added to", "User", ops(`{"op":"add","path":"` + urn + `:badges","value":["y"]}`)},
		{"an immutable multi-valued attribute removed by value", "User", ops(`{"op":"remove","path":"` + urn + `:badges","value":["x"]}`)},
		{"an immutable multi-valued attribute removed", "User", ops(`{"op":"remove","path":"` + urn + `:badges"}`)},
		{"an extension with an immutable value removed", "User", ops(`{"op":"remove","path":"` + urn + `"}`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r *resource.Resource
			if tc.rt == "Group" {
				r = decode(t, groupType(), `{"displayName":"G","members":[{"value":"a","display":"A"}]}`)
			} else {
				r = decode(t, users, `{"userName":"u","`+urn+`":{"badges":["x"]}}`)
			}
			err := apply(r, tc.body, resource.Options{})
			var serr *scim.Error
			if !errors.As(err, &serr) || serr.ScimType != scim.Mutability {
				t.Fatalf("got %v, want 400 mutability", err)
			}
		})
	}
}

func TestApplyNeverPanicsOnHandMadeRequests(t *testing.T) {
	users := userType()
	title, _ := filter.ParsePath("title", users)
	emails, _ := filter.ParsePath("emails", users)
	parsed, err := patch.Parse(users, []byte(ops(`{"op":"add","path":"emails","value":[{"value":"a@x"}]}`)), resource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tampered := parsed.Operations[0]
	tampered.Value = map[string]any{"value": "a@x"} // a store rewrote a checked value
	filterOnSimple := &filter.Path{Attr: title.Attr, Filter: &filter.Compare{Attr: filter.AttrPath{Name: "value"}, Op: filter.Eq, Value: "x"}}
	for name, req := range map[string]*patch.Request{
		"a filter on a simple attribute": {Type: users, Operations: []patch.Operation{{Op: patch.Remove, Path: filterOnSimple}}},
		"a checked value changed":        {Type: users, Operations: []patch.Operation{tampered}},
		"a number for a list of emails":  {Type: users, Operations: []patch.Operation{{Op: patch.Add, Path: emails, Value: 42}}},
	} {
		t.Run(name, func(t *testing.T) {
			err := req.Apply(decode(t, users, `{"userName":"u"}`))
			var serr *scim.Error
			if !errors.As(err, &serr) || serr.Status != 400 {
				t.Fatalf("got %v, want a 400 *scim.Error", err)
			}
		})
	}
	t.Run("a resource without attributes", func(t *testing.T) {
		r := &resource.Resource{Type: users}
		req := &patch.Request{Type: users, Operations: []patch.Operation{{Op: patch.Add, Path: title, Value: "x"}}}
		if err := req.Apply(r); err == nil || r.Attrs != nil {
			// userName is required, so this fails validation; it must not panic.
			t.Fatalf("Apply = %v with attrs %v, want a validation error", err, r.Attrs)
		}
	})
}

func TestErrorsNameTheClientsOperation(t *testing.T) {
	r := decode(t, userType(), `{"userName":"u"}`)
	err := apply(r, ops(`{"op":"replace","path":"title","value":"x"}`, `{"op":"replace","value":{"active":false,"userName":null}}`), resource.Options{})
	if err == nil || !strings.Contains(err.Error(), "Operations[1]") {
		t.Fatalf("got %v, want it to name Operations[1]", err)
	}
}

func TestAManagerChangedThroughAFilterDropsTheOldRef(t *testing.T) {
	r := decode(t, userType(), `{"userName":"u","`+enterprise+`":{"manager":{"value":"A","$ref":"../Users/A"}}}`)
	if err := apply(r, ops(`{"op":"replace","path":"manager[value eq \"A\"].value","value":"B"}`), resource.Options{}); err != nil {
		t.Fatal(err)
	}
	m := asJSON(t, r)[enterprise].(map[string]any)["manager"].(map[string]any)
	if m["value"] != "B" || m["$ref"] != nil {
		t.Fatalf("manager = %v, want only value B", m)
	}
}

func TestAValueFilterAsAKeyOfAPathlessValue(t *testing.T) {
	runApplyCases(t, []applyCase{{
		name:   "Entra: {\"emails[type eq \\\"work\\\"].value\": x}",
		rt:     userType(),
		before: `{"userName":"u"}`,
		body:   ops(`{"op":"Add","value":{"emails[type eq \"work\"].value":"u@x.com","title":"T"}}`),
		after:  `{"userName":"u","title":"T","emails":[{"type":"work","value":"u@x.com"}]}`,
	}})
}

func TestLargeIntegersAreDistinctValues(t *testing.T) {
	reg := schema.NewRegistry()
	ext, err := schema.Parse([]byte(`{"id":"urn:example:params:scim:schemas:extension:nums:2.0:User","attributes":[
		{"name":"nums","type":"integer","multiValued":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.AddExtension("User", ext, false); err != nil {
		t.Fatal(err)
	}
	const urn = "urn:example:params:scim:schemas:extension:nums:2.0:User"
	r := decode(t, reg.ResourceType("User"), `{"userName":"u","`+urn+`":{"nums":[9007199254740992,9007199254740993]}}`)
	if err := apply(r, ops(`{"op":"remove","path":"`+urn+`:nums","value":[9007199254740993]}`), resource.Options{}); err != nil {
		t.Fatal(err)
	}
	got := r.Attrs[urn].(map[string]any)["nums"].([]any)
	if len(got) != 1 || got[0] != int64(9007199254740992) {
		t.Fatalf("nums = %v, want [9007199254740992]", got)
	}
}
