package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/rosterhq/roster/store"
)

// A cursor walk over a directory that changes during the walk returns every
// resource that existed throughout exactly once.
func (s *suite) testCursor(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	var ids []string
	for i := range 25 {
		ids = append(ids, s.create(t, st, dir, s.users, fmt.Sprintf(`{"userName":"user%02d"}`, i)).ID())
	}
	seen := map[string]int{}
	after, pages := "", 0
	for {
		p, err := st.List(ctx, dir, store.Query{Type: s.users, Count: 10, Cursor: true, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total < 20 || len(p.Resources) > 10 {
			t.Fatalf("page %d: total %d, %d resources", pages, p.Total, len(p.Resources))
		}
		for _, r := range p.Resources {
			seen[r.ID()]++
		}
		pages++
		if pages == 1 {
			// Change the directory mid-walk: delete users on both sides of
			// the cursor, add new ones, rename one already seen.
			for _, i := range []int{3, 17} {
				if err := st.Delete(ctx, dir, s.users, ids[i], ""); err != nil {
					t.Fatal(err)
				}
			}
			s.create(t, st, dir, s.users, `{"userName":"late1"}`)
			s.create(t, st, dir, s.users, `{"userName":"late2"}`)
			renamed := s.decode(t, s.users, `{"userName":"user00-renamed"}`)
			renamed.SetID(ids[0])
			if _, err := st.Replace(ctx, dir, renamed, ""); err != nil {
				t.Fatal(err)
			}
		}
		if p.Next == "" {
			break
		}
		after = p.Next
		if pages > 10 {
			t.Fatal("the walk does not end")
		}
	}
	for i, id := range ids {
		if i == 3 || i == 17 {
			continue
		}
		if seen[id] != 1 {
			t.Errorf("user%02d was returned %d times, want once", i, seen[id])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s was returned %d times", id, n)
		}
	}
	// A filter applies to a cursor walk too.
	f := s.parse(t, `userName sw "late"`)
	p, err := st.List(ctx, dir, store.Query{Type: s.users, Filter: f, Count: 1, Cursor: true})
	if err != nil || p.Total != 2 || len(p.Resources) != 1 || p.Next == "" {
		t.Fatalf("filtered cursor page = %+v, %v; want 1 of 2 and a next position", p, err)
	}
	p, err = st.List(ctx, dir, store.Query{Type: s.users, Filter: f, Count: 1, Cursor: true, After: p.Next})
	if err != nil || len(p.Resources) != 1 || p.Next != "" || p.Resources[0].Attrs["userName"] != "late2" {
		t.Fatalf("second filtered cursor page = %+v, %v; want late2 and no next", p, err)
	}
	// NoTotal: the same pages, without a count of the rest.
	first, err := st.List(ctx, dir, store.Query{Type: s.users, Filter: f, Count: 1, Cursor: true, NoTotal: true})
	if err != nil || first.Total != 0 || len(first.Resources) != 1 || first.Resources[0].Attrs["userName"] != "late1" || first.Next == "" {
		t.Fatalf("cursor page with NoTotal = %+v, %v; want late1, a next position and no total", first, err)
	}
}
