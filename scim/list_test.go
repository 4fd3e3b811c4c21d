package scim_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/rosterhq/roster/scim"
)

func TestListResponseJSON(t *testing.T) {
	raw := func(s ...string) []json.RawMessage {
		out := make([]json.RawMessage, len(s))
		for i, r := range s {
			out[i] = json.RawMessage(r)
		}
		return out
	}
	tests := []struct {
		name string
		resp *scim.ListResponse[json.RawMessage]
		want string
	}{
		{
			name: "an empty result encodes Resources as an empty array, not null",
			resp: scim.NewListResponse[json.RawMessage](0, nil),
			want: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`,
		},
		{
			name: "an empty non-nil slice encodes the same",
			resp: scim.NewListResponse(0, []json.RawMessage{}),
			want: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`,
		},
		{
			name: "itemsPerPage counts the page while totalResults counts all matches",
			resp: scim.NewListResponse(42, raw(`{"id":"a"}`, `{"id":"b"}`)),
			want: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":42,"startIndex":1,"itemsPerPage":2,"Resources":[{"id":"a"},{"id":"b"}]}`,
		},
		{
			name: "startIndex is the page's for index pagination",
			resp: func() *scim.ListResponse[json.RawMessage] {
				r := scim.NewListResponse(3, raw(`{"id":"c"}`))
				r.StartIndex = 3
				return r
			}(),
			want: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":3,"startIndex":3,"itemsPerPage":1,"Resources":[{"id":"c"}]}`,
		},
		{
			name: "a cursor page carries nextCursor and no startIndex",
			resp: func() *scim.ListResponse[json.RawMessage] {
				r := scim.NewListResponse(10, raw(`{"id":"a"}`))
				r.StartIndex, r.NextCursor = 0, "VZUTiy"
				return r
			}(),
			want: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":10,"itemsPerPage":1,"nextCursor":"VZUTiy","Resources":[{"id":"a"}]}`,
		},
		{
			name: "a middle cursor page carries both cursors",
			resp: func() *scim.ListResponse[json.RawMessage] {
				r := scim.NewListResponse(10, raw(`{"id":"a"}`))
				r.StartIndex, r.NextCursor, r.PreviousCursor = 0, "next", "prev"
				return r
			}(),
			want: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":10,"itemsPerPage":1,"nextCursor":"next","previousCursor":"prev","Resources":[{"id":"a"}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := json.Marshal(tt.resp)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(data) != tt.want {
				t.Errorf("Marshal =\n%s\nwant\n%s", data, tt.want)
			}
			m := decodeObject(t, data)
			for _, k := range []string{"totalResults", "itemsPerPage"} {
				if _, ok := m[k].(json.Number); !ok {
					t.Errorf("%s = %#v, want a JSON number", k, m[k])
				}
			}
		})
	}
}

func TestListResponseOfTypedResources(t *testing.T) {
	type user struct {
		ID       string `json:"id"`
		UserName string `json:"userName"`
	}
	resp := scim.NewListResponse(1, []user{{"2819c223", "bjensen"}})
	data, err := json.Marshal(resp)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	want := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"startIndex":1,"itemsPerPage":1,"Resources":[{"id":"2819c223","userName":"bjensen"}]}`
	if string(data) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", data, want)
	}

	var back scim.ListResponse[user]
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if !reflect.DeepEqual(&back, resp) {
		t.Errorf("round trip = %+v, want %+v", back, *resp)
	}
}

func TestListResponseDecodesAServerResponse(t *testing.T) {
	// RFC 7644 §3.4.2's example response, as a client receives it.
	body := `{
	  "schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
	  "totalResults":2,
	  "Resources":[
	    {"id":"2819c223-7f76-453a-919d-413861904646","userName":"bjensen"},
	    {"id":"c75ad752-64ae-4823-840d-ffa80929976c","userName":"jsmith"}
	  ]
	}`
	var resp scim.ListResponse[json.RawMessage]
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if resp.TotalResults != 2 || len(resp.Resources) != 2 || resp.StartIndex != 0 || resp.ItemsPerPage != 0 {
		t.Errorf("Unmarshal = %+v", resp)
	}
	if !reflect.DeepEqual(resp.Schemas, []string{scim.ListResponseURN}) {
		t.Errorf("schemas = %v", resp.Schemas)
	}
}
