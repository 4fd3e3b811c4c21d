package patch_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
)

// userWithEmails returns a user with n emails, the last one of type work.
func userWithEmails(b *testing.B, n int) *resource.Resource {
	b.Helper()
	emails := make([]string, n)
	for i := range emails {
		typ := "other"
		if i == n-1 {
			typ = "work"
		}
		emails[i] = fmt.Sprintf(`{"value":"user%d@example.com","type":%q}`, i, typ)
	}
	return decode(b, userType(), `{"userName":"bjensen","emails":[`+strings.Join(emails, ",")+`]}`)
}

// groupWithMembers returns a group with n members.
func groupWithMembers(b *testing.B, n int) *resource.Resource {
	b.Helper()
	var sb strings.Builder
	sb.WriteString(`{"displayName":"Everyone","members":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"value":"%08d-7f76-453a-919d-413861904646","display":"User %d"}`, i, i)
	}
	sb.WriteString(`]}`)
	return decode(b, groupType(), sb.String())
}

// benchApply applies body to r again and again. Apply never changes the
// values it was given, so each iteration starts from the same attributes.
func benchApply(b *testing.B, r *resource.Resource, body string) {
	b.Helper()
	req, err := patch.Parse(r.Type, []byte(body), resource.Options{})
	if err != nil {
		b.Fatal(err)
	}
	orig := r.Attrs
	b.ReportAllocs()
	for b.Loop() {
		r.Attrs = orig
		if err := req.Apply(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkApplyUser50Emails(b *testing.B) {
	b.Run("replace through a filter", func(b *testing.B) {
		benchApply(b, userWithEmails(b, 50), ops(`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@example.com"}`))
	})
	b.Run("add an email", func(b *testing.B) {
		benchApply(b, userWithEmails(b, 50), ops(`{"op":"add","path":"emails","value":[{"value":"new@example.com","type":"home"}]}`))
	})
	b.Run("Entra path-less replace", func(b *testing.B) {
		benchApply(b, userWithEmails(b, 50), ops(`{"op":"Replace","value":{"active":false,"name.givenName":"Ann","`+enterprise+`:department":"R&D"}}`))
	})
	b.Run("parse and apply", func(b *testing.B) {
		r := userWithEmails(b, 50)
		body := []byte(ops(`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@example.com"}`))
		orig := r.Attrs
		b.ReportAllocs()
		for b.Loop() {
			r.Attrs = orig
			req, err := patch.Parse(r.Type, body, resource.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := req.Apply(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkApplyGroupMembers shows that a membership change costs time
// linear in the group's size: compare the 10, 1,000 and 100,000 sizes.
func BenchmarkApplyGroupMembers(b *testing.B) {
	for _, n := range []int{10, 1_000, 100_000} {
		g := groupWithMembers(b, n)
		b.Run(fmt.Sprintf("add one member/%d", n), func(b *testing.B) {
			benchApply(b, g, ops(`{"op":"add","path":"members","value":[{"value":"new-member","display":"New"}]}`))
		})
		b.Run(fmt.Sprintf("remove one member by filter/%d", n), func(b *testing.B) {
			benchApply(b, g, ops(fmt.Sprintf(`{"op":"remove","path":"members[value eq \"%08d-7f76-453a-919d-413861904646\"]"}`, n/2)))
		})
		b.Run(fmt.Sprintf("remove 100 members by value/%d", n), func(b *testing.B) {
			vals := make([]string, 100)
			for i := range vals {
				vals[i] = fmt.Sprintf(`{"value":"%08d-7f76-453a-919d-413861904646"}`, i*n/100)
			}
			benchApply(b, g, ops(`{"op":"Remove","path":"members","value":[`+strings.Join(vals, ",")+`]}`))
		})
		b.Run(fmt.Sprintf("100 operations of one member each/%d", n), func(b *testing.B) {
			var list []string
			for i := range 50 {
				list = append(list, fmt.Sprintf(`{"op":"remove","path":"members[value eq \"%08d-7f76-453a-919d-413861904646\"]"}`, i*n/50),
					fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":"new-%d"}]}`, i))
			}
			benchApply(b, g, ops(list...))
		})
		b.Run(fmt.Sprintf("add 100 members/%d", n), func(b *testing.B) {
			vals := make([]string, 100)
			for i := range vals {
				vals[i] = fmt.Sprintf(`{"value":"new-%d"}`, i)
			}
			benchApply(b, g, ops(`{"op":"Add","path":"members","value":[`+strings.Join(vals, ",")+`]}`))
		})
	}
}
