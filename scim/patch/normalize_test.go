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
)

func TestParseNormalizesOperations(t *testing.T) {
	req, err := patch.Parse(userType(), []byte(ops(
		`{"op":"Replace","value":{"id":"ignored","meta":{"version":"x"},"active":"False","name.givenName":"Ann",
			"`+enterprise+`":{"department":"R&D"},"`+enterprise+`:costCenter":"42"}}`,
		`{"op":"Add","path":"`+enterprise+`","value":{"manager":"boss"}}`,
		`{"op":"Remove","path":"emails","value":[{"value":"a@x.com"}]}`,
	)), resource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range req.Operations {
		got = append(got, fmt.Sprintf("%s %s %v", op.Op, op.Path, op.Value))
	}
	want := []string{
		"replace active false",
		"replace name.givenName Ann",
		"replace " + enterprise + ":department R&D",
		"replace " + enterprise + ":costCenter 42",
		"add " + enterprise + ":manager map[value:boss]",
		"remove emails [map[value:a@x.com]]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("operations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseChecksValuesBeforeAnythingIsLoaded(t *testing.T) {
	// A store applies member operations itself; a bad value must be a 400
	// from Parse, before it touches the database.
	for _, body := range []string{
		ops(`{"op":"add","path":"members","value":[{"value":{"nested":"object"}}]}`),
		ops(`{"op":"replace","path":"displayName","value":["a","b"]}`),
		ops(`{"op":"replace","value":{"displayName":42}}`),
	} {
		_, err := patch.Parse(groupType(), []byte(body), resource.Options{})
		var serr *scim.Error
		if !errors.As(err, &serr) || serr.ScimType != scim.InvalidValue {
			t.Errorf("Parse(%s) = %v, want 400 invalidValue", body, err)
		}
	}
}

func TestApplyChecksHandBuiltOperations(t *testing.T) {
	users := userType()
	title, err := filter.ParsePath("title", users)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		op   patch.Operation
		ok   bool
	}{
		{"an op name in capitals", patch.Operation{Op: "Replace", Path: title, Value: "Boss"}, true},
		{"no path", patch.Operation{Op: patch.Replace, Value: map[string]any{"title": "x"}}, false},
		{"an unresolved path", patch.Operation{Op: patch.Replace, Path: &filter.Path{Attr: filter.AttrPath{Name: "title"}}, Value: "x"}, false},
		{"an unknown op", patch.Operation{Op: "copy", Path: title, Value: "x"}, false},
		{"a value of the wrong type", patch.Operation{Op: patch.Replace, Path: title, Value: 42}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := decode(t, users, `{"userName":"b"}`)
			req := &patch.Request{Type: users, Operations: []patch.Operation{tc.op}}
			err := req.Apply(r)
			if tc.ok && err != nil {
				t.Fatalf("Apply: %v", err)
			}
			var serr *scim.Error
			if !tc.ok && (!errors.As(err, &serr) || serr.Status != 400) {
				t.Fatalf("Apply = %v, want a 400 *scim.Error", err)
			}
			if tc.ok && r.Attrs["title"] != "Boss" {
				t.Fatalf("title = %v, want Boss", r.Attrs["title"])
			}
		})
	}
}

func TestManyOperationsOnOneListInOneRequest(t *testing.T) {
	runApplyCases(t, []applyCase{
		{
			name:   "add, remove and add again leaves one member",
			rt:     groupType(),
			before: `{"displayName":"Eng","members":[{"value":"a"}]}`,
			body: ops(`{"op":"add","path":"members","value":[{"value":"x"}]}`, `{"op":"remove","path":"members[value eq \"x\"]"}`,
				`{"op":"add","path":"members","value":[{"value":"x","display":"X"}]}`),
			after: `{"displayName":"Eng","members":[{"value":"a"},{"value":"x","display":"X"}]}`,
		},
		{
			name:   "remove then add of an existing member keeps one",
			rt:     groupType(),
			before: `{"displayName":"Eng","members":[{"value":"a"},{"value":"b"}]}`,
			body:   ops(`{"op":"remove","path":"members","value":[{"value":"a"}]}`, `{"op":"add","path":"members","value":[{"value":"a"}]}`),
			after:  `{"displayName":"Eng","members":[{"value":"b"},{"value":"a"}]}`,
		},
		{
			name:   "replace of the list then adds and a filtered remove",
			rt:     groupType(),
			before: `{"displayName":"Eng","members":[{"value":"a"},{"value":"b"}]}`,
			body: ops(`{"op":"replace","path":"members","value":[{"value":"c"}]}`, `{"op":"add","path":"members","value":[{"value":"d"},{"value":"a"}]}`,
				`{"op":"remove","path":"members[value eq \"c\"]"}`),
			after: `{"displayName":"Eng","members":[{"value":"d"},{"value":"a"}]}`,
		},
		{
			name:   "a filtered remove is case-insensitive like the filter",
			rt:     groupType(),
			before: `{"displayName":"Eng","members":[{"value":"ABC"},{"value":"b"}]}`,
			body:   ops(`{"op":"remove","path":"members[value eq \"abc\"]"}`),
			after:  `{"displayName":"Eng","members":[{"value":"b"}]}`,
		},
		{
			name:   "primary moves twice within a request",
			rt:     userType(),
			before: `{"userName":"u","emails":[{"value":"a@x","type":"work","primary":true},{"value":"b@x","type":"home"},{"value":"c@x","type":"other"}]}`,
			body: ops(`{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}`,
				`{"op":"replace","path":"emails[type eq \"other\"].primary","value":true}`),
			after: `{"userName":"u","emails":[{"value":"a@x","type":"work","primary":false},{"value":"b@x","type":"home","primary":false},{"value":"c@x","type":"other","primary":true}]}`,
		},
		{
			name:   "many member adds and removes in one request (more than a scan's worth)",
			rt:     groupType(),
			before: `{"displayName":"Eng","members":[{"value":"m0"},{"value":"m1"},{"value":"m2"},{"value":"m3"},{"value":"m4"},{"value":"m5"},{"value":"m6"},{"value":"m7"},{"value":"m8"},{"value":"m9"}]}`,
			body: ops(`{"op":"remove","path":"members[value eq \"m1\"]"}`, `{"op":"remove","path":"members[value eq \"m3\"]"}`,
				`{"op":"remove","path":"members[value eq \"m5\"]"}`, `{"op":"remove","path":"members[value eq \"m7\"]"}`,
				`{"op":"remove","path":"members[value eq \"m9\"]"}`, `{"op":"add","path":"members","value":[{"value":"m1"}]}`,
				`{"op":"remove","path":"members[value eq \"m0\"]"}`, `{"op":"remove","path":"members[value eq \"m2\"]"}`,
				`{"op":"remove","path":"members[value eq \"m4\"]"}`, `{"op":"remove","path":"members[value eq \"m6\"]"}`,
				`{"op":"remove","path":"members[value eq \"m1\"]"}`, `{"op":"add","path":"members","value":[{"value":"m2"},{"value":"m2"}]}`),
			after: `{"displayName":"Eng","members":[{"value":"m8"},{"value":"m2"}]}`,
		},
	})
}
