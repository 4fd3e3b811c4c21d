package patch_test

import (
	"reflect"
	"testing"

	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
)

// FuzzApply parses and applies arbitrary PATCH bodies to a user and a
// group. No input may panic; a failed PATCH must leave the resource as it
// was; a successful one must leave a resource that encodes and decodes.
func FuzzApply(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, tc := range fuzzResources() {
			rt := registry.ResourceType(tc.rt)
			r := decode(t, rt, tc.before)
			before := resource.CloneValue(r.Attrs)
			req, err := patch.Parse(rt, []byte(body), resource.Options{})
			if err != nil {
				continue
			}
			if err := req.Apply(r); err != nil {
				if !reflect.DeepEqual(r.Attrs, before) {
					t.Fatalf("failed PATCH %s changed the resource", body)
				}
				continue
			}
			out := r.AppendJSON(nil, nil)
			if _, err := resource.Decode(rt, out, resource.Options{}); err != nil {
				t.Fatalf("PATCH %s left a resource that does not decode again: %s: %v", body, out, err)
			}
		}
	})
}

// FuzzOneRequestEqualsOneOperationAtATime checks Apply's per-request
// machinery (one copy, one index, removals dropped at the end) against
// applying the same operations one request at a time.
func FuzzOneRequestEqualsOneOperationAtATime(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, tc := range fuzzResources() {
			rt := registry.ResourceType(tc.rt)
			req, err := patch.Parse(rt, []byte(body), resource.Options{})
			if err != nil {
				continue
			}
			whole := decode(t, rt, tc.before)
			if err := req.Apply(whole); err != nil {
				continue
			}
			step := decode(t, rt, tc.before)
			for _, op := range req.Operations {
				one := &patch.Request{Type: rt, Operations: []patch.Operation{op}}
				if err := one.Apply(step); err != nil {
					return // an intermediate state may be invalid on its own
				}
			}
			if a, b := string(whole.AppendJSON(nil, nil)), string(step.AppendJSON(nil, nil)); a != b {
				t.Fatalf("PATCH %s\n as one request:     %s\n one op at a time: %s", body, a, b)
			}
		}
	})
}

type fuzzResource struct{ rt, before string }

func fuzzResources() []fuzzResource {
	return []fuzzResource{
		{"User", `{"userName":"bjensen","name":{"givenName":"B"},"emails":[{"value":"a@example.com","type":"work","primary":true},{"value":"h@example.com","type":"home"}],
		"addresses":[{"type":"work","streetAddress":"1"}],"` + enterprise + `":{"manager":{"value":"m"}}}`},
		{"Group", `{"displayName":"Eng","members":[{"value":"a"},{"value":"b","display":"B"},{"value":"c"},{"value":"d"},{"value":"e"},{"value":"f"},{"value":"g"},{"value":"h"},{"value":"i"},{"value":"j"}]}`},
	}
}

func fuzzSeeds() []string {
	return []string{
		ops(),
		ops(`{"op":"Replace","path":"active","value":"False"}`),
		ops(`{"op":"Add","path":"emails[type eq \"work\"].value","value":"a@x.com"}`, `{"op":"Add","path":"emails[type eq \"work\"].primary","value":true}`),
		ops(`{"op":"Replace","value":{"active":false,"name.givenName":"Ann","` + enterprise + `:department":"R&D"}}`),
		ops(`{"op":"Remove","path":"` + enterprise + `:manager"}`),
		ops(`{"op":"Remove","path":"manager[value eq \"m\"]"}`),
		ops(`{"op":"replace","value":{"id":"GID","displayName":"NAME"}}`),
		ops(`{"op":"remove","path":"members[value eq \"a\"]"}`),
		ops(`{"op":"add","path":"members","value":[{"value":"b","display":"Bob"}]}`),
		ops(`{"op":"Remove","path":"members","value":[{"value":"a"}]}`),
		ops(`{"op":"replace","path":"members","value":[{"value":"a"},{"value":"c"}]}`),
		ops(`{"op":"replace","path":"addresses[type eq \"work\"].streetAddress","value":"1010 Broadway Ave"}`),
		ops(`{"op":"remove","path":"emails[type eq \"work\" and value ew \"example.com\"]"}`),
		ops(`{"op":"add","path":"` + enterprise + `","value":{"department":"R&D"}}`),
		ops(`{"op":"remove","path":"userName"}`),
		ops(`{"op":"copy"}`),
		`{"Operations":[{"op":"add","value":{"emails":[{"value":"x","primary":true},{"value":"y","primary":true}]}}]}`,
		`{"Operations":[{"op":"replace","path":"name","value":"x"}]}`,
		`[]`, `null`, `{`,
		// Found by review: a panic on a primary index after dropping an
		// emptied value, a panic re-adding a removed extension, a dropped op.
		ops(`{"op":"replace","path":"emails[type eq \"work\"]","value":{}}`),
		ops(`{"op":"add","path":"`+enterprise+`:department","value":"X"}`, `{"op":"remove","path":"`+enterprise+`"}`,
			`{"op":"add","path":"`+enterprise+`:department","value":"Y"}`),
		ops(`{"op":"remove","path":"members[id eq \"x\"]"}`),
		ops(`{"op":"Replace","path":"` + enterprise + `:manager","value":"B"}`),
		ops(`{"op":"add","path":"members","value":[{"value":"x"}]}`, `{"op":"remove","path":"members[value eq \"x\"]"}`,
			`{"op":"add","path":"members","value":[{"value":"x","display":"X"}]}`),
		ops(`{"op":"remove","path":"members","value":[{"value":"a"},{"value":"b"},{"value":"c"},{"value":"d"},{"value":"e"},{"value":"f"},{"value":"g"},{"value":"h"},{"value":"i"}]}`,
			`{"op":"add","path":"members","value":[{"value":"A"},{"value":"z"}]}`, `{"op":"remove","path":"members[value eq \"z\"]"}`),
		ops(`{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}`, `{"op":"replace","path":"emails[type eq \"work\"].primary","value":true}`),
		// A sub-attribute of every value, without a filter (RFC 7644 §3.5.2.3).
		ops(`{"op":"replace","path":"emails.value","value":"new@example.com"}`),
		ops(`{"op":"remove","path":"emails.type"}`),
		ops(`{"op":"add","path":"addresses.primary","value":true}`, `{"op":"replace","path":"emails.display","value":null}`),
		ops(`{"op":"replace","path":"members.display","value":"X"}`),
	}
}
