package resource_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/resource"
)

func BenchmarkDecodeUser(b *testing.B) {
	rt := userType(b)
	body := readTestdata(b, "rfc7643-8.2-full-user.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := resource.Decode(rt, body, resource.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeUser(b *testing.B) {
	rt := userType(b)
	r := mustDecode(b, rt, string(readTestdata(b, "rfc7643-8.2-full-user.json")))
	r.SetID("2819c223-7f76-453a-919d-413861904646")
	r.SetMeta(resource.Meta{
		Created:      time.Date(2010, 1, 23, 4, 56, 22, 0, time.UTC),
		LastModified: time.Date(2011, 5, 13, 4, 42, 34, 0, time.UTC),
		Location:     "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
		Version:      `W/"a330bc54f0671c9"`,
	})
	b.SetBytes(int64(len(r.AppendJSON(nil, nil))))
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf = r.AppendJSON(buf[:0], nil)
	}
}

// group100k returns a Group body with 100,000 members in the shape of
// RFC 7643 §8.4.
func group100k() []byte {
	var sb strings.Builder
	sb.WriteString(`{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Everyone", "members": [`)
	for i := range 100_000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		id := fmt.Sprintf("%08x-7f76-453a-919d-413861904646", i)
		fmt.Fprintf(&sb, `{"value": %q, "$ref": "https://example.com/v2/Users/%s", "display": "User %d"}`, id, id, i)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

func BenchmarkDecodeGroup100k(b *testing.B) {
	rt := groupType(b)
	body := group100k()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := resource.Decode(rt, body, resource.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeGroup100k(b *testing.B) {
	rt := groupType(b)
	r := mustDecode(b, rt, string(group100k()))
	r.SetID("e9e30dba-f08f-4109-8486-d5c6a331660a")
	b.SetBytes(int64(len(r.AppendJSON(nil, nil))))
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf = r.AppendJSON(buf[:0], nil)
	}
}
