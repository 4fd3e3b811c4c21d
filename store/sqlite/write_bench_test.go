package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store/sqlite"
)

// BenchmarkWrite measures the store's writes one at a time, without HTTP:
// what a change costs the one writer. Run at two commits, it shows what a
// change to the write path costs (BENCHMARKS.md).
func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	d, err := st.CreateDirectory(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	reg := schema.NewRegistry()
	ut, gt := reg.ResourceType("User"), reg.ResourceType("Group")
	user := func(i int) *resource.Resource {
		r, err := resource.Decode(ut, fmt.Appendf(nil, `{"userName":"u%d@example.com","name":{"givenName":"A","familyName":"B"},"emails":[{"value":"u%d@example.com","type":"work","primary":true}],"externalId":"x%d","active":true}`, i, i, i), resource.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	n := 0
	b.Run("create user", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.Create(ctx, d.ID, user(n)); err != nil {
				b.Fatal(err)
			}
			n++
		}
	})
	target, err := st.Create(ctx, d.ID, user(-1))
	if err != nil {
		b.Fatal(err)
	}
	g := resource.New(gt)
	g.Attrs["displayName"] = "g"
	group, err := st.Create(ctx, d.ID, g)
	if err != nil {
		b.Fatal(err)
	}
	ops := func(rt *schema.ResourceType, op string) *patch.Request {
		req, err := patch.Parse(rt, []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+op+`]}`), resource.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return req
	}
	on, off := ops(ut, `{"op":"replace","path":"active","value":true}`), ops(ut, `{"op":"replace","path":"active","value":false}`)
	b.Run("PATCH active", func(b *testing.B) {
		i := 0
		for b.Loop() {
			req := on
			if i%2 == 0 {
				req = off
			}
			if _, err := st.Patch(ctx, d.ID, ut, target.ID(), req, "", false); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	add := ops(gt, `{"op":"add","path":"members","value":[{"value":"`+target.ID()+`"}]}`)
	remove := ops(gt, `{"op":"remove","path":"members[value eq \"`+target.ID()+`\"]"}`)
	b.Run("PATCH add and remove a member", func(b *testing.B) {
		for b.Loop() {
			for _, req := range []*patch.Request{add, remove} {
				if _, err := st.Patch(ctx, d.ID, gt, group.ID(), req, "", false); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
