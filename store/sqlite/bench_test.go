package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlite"
	"github.com/rosterhq/roster/store/storetest"
)

// benchStore returns a store with n users, the ids of the users (the last
// of which is in no group), a group holding the others and a group of ten.
func benchStore(b testing.TB, n int) (st *sqlite.Store, dir string, users []string, big, small string) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	d, err := st.CreateDirectory(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	reg := schema.NewRegistry()
	ut, gt := reg.ResourceType("User"), reg.ResourceType("Group")
	members := make([]any, 0, n)
	for i := range n {
		r, err := resource.Decode(ut, fmt.Appendf(nil, `{"userName":"user%07d@example.com","name":{"givenName":"U","familyName":"%d"},
			"emails":[{"value":"user%07d@example.com","type":"work","primary":true}],"active":true}`, i, i, i), resource.Options{})
		if err != nil {
			b.Fatal(err)
		}
		u, err := st.Create(ctx, d.ID, r)
		if err != nil {
			b.Fatal(err)
		}
		users = append(users, u.ID())
		members = append(members, map[string]any{"value": u.ID()})
	}
	mk := func(name string, m []any) string {
		g := resource.New(gt)
		g.Attrs["displayName"] = name
		g.Attrs["members"] = m
		created, err := st.Create(ctx, d.ID, g)
		if err != nil {
			b.Fatal(err)
		}
		return created.ID()
	}
	big, small = mk("everyone", members), mk("ten", members[:10])
	r, err := resource.Decode(ut, []byte(`{"userName":"outsider@example.com"}`), resource.Options{})
	if err != nil {
		b.Fatal(err)
	}
	outsider, err := st.Create(ctx, d.ID, r)
	if err != nil {
		b.Fatal(err)
	}
	return st, d.ID, append(users, outsider.ID()), big, small
}

func BenchmarkStore(b *testing.B) {
	const n = 100_000
	st, dir, users, big, small := benchStore(b, n)
	reg := schema.NewRegistry()
	ut, gt := reg.ResourceType("User"), reg.ResourceType("Group")
	ctx := context.Background()

	b.Run("Get user", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := st.Get(ctx, dir, ut, users[i%n], false); err != nil {
				b.Fatal(err)
			}
			i += 7919
		}
	})
	// As GET /Users/{id} reads a user: with the groups it is in (every
	// user of the fixture is in the big group), and one in no group.
	b.Run("Get user with groups", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := st.Get(ctx, dir, ut, users[i%n], true); err != nil {
				b.Fatal(err)
			}
			i += 7919
		}
	})
	b.Run("Get user in no group with groups", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.Get(ctx, dir, ut, users[len(users)-1], true); err != nil {
				b.Fatal(err)
			}
		}
	})
	// As PATCH /Users/{id} changes a user: the answer shows its groups.
	b.Run("PATCH active of a user in no group", func(b *testing.B) {
		i := 0
		for b.Loop() {
			req, err := patch.Parse(ut, fmt.Appendf(nil, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":%t}]}`, i%2 == 0), resource.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := st.Patch(ctx, dir, ut, users[len(users)-1], req, "", true); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("List userName eq", func(b *testing.B) {
		i := 0
		for b.Loop() {
			f, err := filter.Parse(fmt.Sprintf(`userName eq "USER%07d@example.com"`, i%n), ut)
			if err != nil {
				b.Fatal(err)
			}
			p, err := st.List(ctx, dir, store.Query{Type: ut, Filter: f, Count: 100})
			if err != nil || p.Total != 1 {
				b.Fatalf("%v %d", err, p.Total)
			}
			i += 7919
		}
	})
	for _, g := range []struct {
		name string
		id   string
	}{{"10 members", small}, {"100,000 members", big}} {
		b.Run("PATCH add and remove one member of "+g.name, func(b *testing.B) {
			outsider := users[len(users)-1]
			add, _ := patch.Parse(gt, []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+outsider+`"}]}]}`), resource.Options{})
			remove, _ := patch.Parse(gt, []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"`+outsider+`\"]"}]}`), resource.Options{})
			for b.Loop() {
				if _, err := st.Patch(ctx, dir, gt, g.id, add, "", false); err != nil {
					b.Fatal(err)
				}
				if _, err := st.Patch(ctx, dir, gt, g.id, remove, "", false); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Get without members of "+g.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := st.Get(ctx, dir, gt, g.id, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLongValues: see storetest.BenchmarkLongValues.
func BenchmarkLongValues(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	storetest.BenchmarkLongValues(b, st)
}
