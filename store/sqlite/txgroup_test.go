package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlite"
)

// TestTransactionsCommittedTogetherFailAlone runs PATCHes of one group at
// once, every other one failing half way (its second member does not
// exist), so that the writer commits several in one transaction: each
// that failed leaves neither members nor events, each that succeeded
// leaves both.
func TestTransactionsCommittedTogetherFailAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := st.CreateDirectory(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	reg := schema.NewRegistry()
	ut, gt := reg.ResourceType("User"), reg.ResourceType("Group")
	const n = 40
	ids := make([]string, n)
	for i := range n {
		r, _ := resource.Decode(ut, fmt.Appendf(nil, `{"userName":"u%d"}`, i), resource.Options{})
		u, err := st.Create(ctx, d.ID, r)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = u.ID()
	}
	g := resource.New(gt)
	g.Attrs["displayName"] = "everyone"
	group, err := st.Create(ctx, d.ID, g)
	if err != nil {
		t.Fatal(err)
	}
	before, err := st.LastEventSeq(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			value := fmt.Sprintf(`[{"value":%q}]`, ids[i])
			if i%2 == 1 {
				value = fmt.Sprintf(`[{"value":%q},{"value":"nobody"}]`, ids[i])
			}
			req, err := patch.Parse(gt, []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":`+value+`}]}`), resource.Options{})
			if err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = st.Patch(ctx, d.ID, gt, group.ID(), req, "", false)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (err == nil) != (i%2 == 0) {
			t.Errorf("PATCH %d: %v", i, err)
		}
	}
	got, err := st.Get(ctx, d.ID, gt, group.ID(), true)
	if err != nil {
		t.Fatal(err)
	}
	members := map[string]bool{}
	for _, m := range got.Attrs["members"].([]any) {
		members[m.(map[string]any)["value"].(string)] = true
	}
	events, err := st.Events(ctx, store.EventQuery{Directory: d.ID, After: before, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	added := map[string]bool{}
	for i, e := range events {
		if e.Type != store.GroupUserAdded || e.Seq != before+int64(i)+1 {
			t.Fatalf("event %d: %s seq %d", i, e.Type, e.Seq)
		}
		added[e.Resource] = true
	}
	for i, id := range ids {
		if members[id] != (i%2 == 0) || added[id] != (i%2 == 0) {
			t.Errorf("user %d: member %v, event %v; want both %v", i, members[id], added[id], i%2 == 0)
		}
	}
}
