package server

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/rosterhq/roster/scim"
)

// BenchmarkWriteList encodes a page of 100 users, by writeList and by
// json.Marshal of the same ListResponse.
func BenchmarkWriteList(b *testing.B) {
	page := make([]json.RawMessage, 100)
	for i := range page {
		page[i] = json.RawMessage(fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"01a24f24-8483-7d74-95e3-%012d","userName":"user%d@example.com","name":{"givenName":"Given","familyName":"Family"},"emails":[{"value":"user%d@example.com","type":"work","primary":true}],"active":true,"meta":{"resourceType":"User","created":"2026-12-07T06:00:00Z","lastModified":"2026-12-07T06:00:00Z","version":"W/\"1\"","location":"http://127.0.0.1/scim/v2/Users/x"}}`, i, i, i))
	}
	lr := scim.NewListResponse(1000, page)
	b.Run("writeList", func(b *testing.B) {
		for b.Loop() {
			writeList(httptest.NewRecorder(), lr)
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			writeJSON(httptest.NewRecorder(), 200, lr)
		}
	})
}
