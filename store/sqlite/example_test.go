package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlite"
)

// Store a user and a group in a directory, find the user the way Okta
// does, and add it to the group with Entra's PATCH.
func Example() {
	ctx := context.Background()
	tmp, _ := os.MkdirTemp("", "roster")
	defer os.RemoveAll(tmp)

	st, err := sqlite.Open(ctx, filepath.Join(tmp, "roster.db"))
	if err != nil {
		panic(err)
	}
	defer st.Close()
	reg := schema.NewRegistry()
	users, groups := reg.ResourceType("User"), reg.ResourceType("Group")

	acme, _ := st.CreateDirectory(ctx, "acme")
	u, _ := resource.Decode(users, []byte(`{"userName":"alice@example.com","active":true}`), resource.Options{})
	alice, _ := st.Create(ctx, acme.ID, u)
	g, _ := resource.Decode(groups, []byte(`{"displayName":"Engineering"}`), resource.Options{})
	eng, _ := st.Create(ctx, acme.ID, g)

	f, _ := filter.Parse(`userName eq "ALICE@EXAMPLE.COM"`, users)
	page, _ := st.List(ctx, acme.ID, store.Query{Type: users, Filter: f, Count: 100})
	fmt.Println(page.Total, page.Resources[0].ID() == alice.ID())

	add, _ := patch.Parse(groups, []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Add","path":"members","value":[{"value":"`+alice.ID()+`"}]}]}`), resource.Options{})
	eng, _ = st.Patch(ctx, acme.ID, groups, eng.ID(), add, "", true)
	fmt.Println(eng.Meta().Version, len(eng.Attrs["members"].([]any)))

	alice, _ = st.Get(ctx, acme.ID, users, alice.ID(), true)
	fmt.Println(alice.Attrs["groups"].([]any)[0].(map[string]any)["display"])
	// Output:
	// 1 true
	// W/"2" 1
	// Engineering
}
