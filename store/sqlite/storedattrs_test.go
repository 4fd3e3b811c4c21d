package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// TestStoredMembersAndGroupsAreNeverShown: members and groups come from
// the membership table alone. Should the stored attributes hold them
// (data written past the store), Get and List leave them out, whether
// they compute them or not.
func TestStoredMembersAndGroupsAreNeverShown(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, _ := st.CreateDirectory(ctx, "acme")
	reg := schema.NewRegistry()
	ut, gt := reg.ResourceType("User"), reg.ResourceType("Group")
	u, _ := resource.Decode(ut, []byte(`{"userName":"ann"}`), resource.Options{})
	u, err = st.Create(ctx, d.ID, u)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := resource.Decode(gt, []byte(`{"displayName":"G"}`), resource.Options{})
	g, err = st.Create(ctx, d.ID, g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.d.w.Exec(`UPDATE resources SET attrs = json_set(attrs, '$.groups', json('[{"value":"stale","display":"Stale","type":"direct"}]')) WHERE id = ?`, u.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.d.w.Exec(`UPDATE resources SET attrs = json_set(attrs, '$.members', json('[{"value":"stale","type":"User"}]')) WHERE id = ?`, g.ID()); err != nil {
		t.Fatal(err)
	}
	for _, members := range []bool{true, false} {
		r, err := st.Get(ctx, d.ID, ut, u.ID(), members)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := r.Attrs["groups"]; ok {
			t.Errorf("Get user members=%v: stale stored groups returned: %v", members, v)
		}
		r, err = st.Get(ctx, d.ID, gt, g.ID(), members)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := r.Attrs["members"]; ok {
			t.Errorf("Get group members=%v: stale stored members returned: %v", members, v)
		}
		page, err := st.List(ctx, d.ID, store.Query{Type: ut, Count: 10, Members: members})
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := page.Resources[0].Attrs["groups"]; ok {
			t.Errorf("List users members=%v: stale stored groups returned: %v", members, v)
		}
	}
}
