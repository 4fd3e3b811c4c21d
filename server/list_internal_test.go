package server

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/rosterhq/roster/scim"
)

// writeList writes what json.Marshal of the ListResponse would, byte for
// byte (for resources without <, > and &, which json.Marshal would
// escape in them and writeList leaves as a single resource's answer has
// them).
func TestWriteListEncodesAsJSONMarshalDoes(t *testing.T) {
	users := []json.RawMessage{
		json.RawMessage(`{"id":"1","userName":"ann"}`),
		json.RawMessage(`{"id":"2","userName":"bob \"the\" builder","emails":[{"value":"b@example.com"}]}`),
	}
	for name, lr := range map[string]*scim.ListResponse[json.RawMessage]{
		"empty":  scim.NewListResponse[json.RawMessage](0, nil),
		"a page": scim.NewListResponse(7, users),
		"a cursor page": func() *scim.ListResponse[json.RawMessage] {
			lr := scim.NewListResponse(2, users)
			lr.StartIndex, lr.NextCursor = 0, "abc-_=="
			return lr
		}(),
		"a later page": func() *scim.ListResponse[json.RawMessage] {
			lr := scim.NewListResponse(9, users[:1])
			lr.StartIndex = 5
			return lr
		}(),
		"both cursors": func() *scim.ListResponse[json.RawMessage] {
			lr := scim.NewListResponse(2, users)
			lr.NextCursor, lr.PreviousCursor = "n", "p\"q"
			return lr
		}(),
		"no total given": scim.NewListResponse(0, users[:1]),
	} {
		want, err := json.Marshal(lr)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		writeList(w, lr)
		if got := w.Body.Bytes(); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
		if w.Code != 200 || w.Header().Get("Content-Type") != contentType {
			t.Errorf("%s: status %d, Content-Type %q", name, w.Code, w.Header().Get("Content-Type"))
		}
	}
}
