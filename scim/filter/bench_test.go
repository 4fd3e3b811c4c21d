package filter

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim/schema"
)

// benchFilters are a simple filter and the most complex RFC example.
var benchFilters = []struct{ name, filter string }{
	{"simple", `userName eq "bjensen"`},
	{"complex", `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org") or emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`},
}

func BenchmarkParse(b *testing.B) {
	for _, bf := range benchFilters {
		for _, mode := range []struct {
			name string
			rt   *schema.ResourceType
		}{{"unresolved", nil}, {"resolved", users}} {
			b.Run(bf.name+"/"+mode.name, func(b *testing.B) {
				if _, err := Parse(bf.filter, mode.rt); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Parse(bf.filter, mode.rt); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkParseRefusesALongValue measures the refusal of a filter whose
// value is a megabyte, with and without escapes, which Parse refuses
// before decoding.
func BenchmarkParseRefusesALongValue(b *testing.B) {
	for _, bm := range []struct{ name, value string }{
		{"1 MB", strings.Repeat("A", 1_000_000)},
		{"1 MB of escapes", strings.Repeat(`\u00e9`, 1_000_000/6)},
	} {
		f := `userName eq "` + bm.value + `"`
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(f)))
			for b.Loop() {
				if _, err := Parse(f, users); err == nil {
					b.Fatal("Parse accepted it")
				}
			}
		})
	}
}

// userWithEmails returns bjensen with n work emails, user0@example.com to
// user<n-1>@example.com.
func userWithEmails(n int) map[string]any {
	user := bjensen()
	emails := make([]any, n)
	for i := range emails {
		emails[i] = map[string]any{"value": fmt.Sprintf("user%d@example.com", i), "type": "work", "primary": i == 0}
	}
	user["emails"] = emails
	return user
}

func BenchmarkMatch(b *testing.B) {
	user := userWithEmails(50)
	const last = `emails[type eq "work" and value eq "USER49@example.com"]`
	for _, mode := range []struct {
		name string
		rt   *schema.ResourceType
	}{{"resolved", users}, {"unresolved", nil}} {
		b.Run("50emails_last/"+mode.name, func(b *testing.B) {
			e := mustParse(b, last, mode.rt)
			if !Match(e, user) {
				b.Fatalf("%s does not match the last email", e)
			}
			b.ReportAllocs()
			for b.Loop() {
				if !Match(e, user) {
					b.Fatal("no match")
				}
			}
		})
	}
}
