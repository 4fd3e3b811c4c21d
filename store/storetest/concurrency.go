package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/store"
)

func (s *suite) testConcurrency(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	const n = 50

	// Entra and Okta retry: parallel creates of one userName make one user.
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = st.Create(ctx, dir, s.decode(t, s.users, fmt.Sprintf(`{"userName":"Same@Example.com","title":"t%d"}`, i)))
		})
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("a parallel create failed with %v, want ErrConflict", err)
		}
	}
	if created != 1 {
		t.Fatalf("%d parallel creates of one userName succeeded, want 1", created)
	}

	// Parallel member adds to one group all land.
	g := s.create(t, st, dir, s.groups, `{"displayName":"Everyone"}`)
	ids := make([]string, n)
	for i := range n {
		ids[i] = s.create(t, st, dir, s.users, fmt.Sprintf(`{"userName":"user%d"}`, i)).ID()
	}
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.patch(t, st, dir, s.groups, g.ID(), ops(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]}`, ids[i])), "")
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("a parallel member add failed: %v", err)
		}
	}
	got, err := st.Get(ctx, dir, s.groups, g.ID(), true)
	if err != nil {
		t.Fatal(err)
	}
	if m := memberIDs(got); len(m) != n {
		t.Fatalf("%d members after %d parallel adds", len(m), n)
	}
	if v := got.Meta().Version; v != fmt.Sprintf(`W/"%d"`, n+1) {
		t.Errorf("version after %d changes = %s", n, v)
	}
	// Okta sends the full list again: nothing changes, not even the version.
	var list []string
	for _, id := range ids {
		list = append(list, fmt.Sprintf(`{"value":%q}`, id))
	}
	same, err := s.patch(t, st, dir, s.groups, g.ID(), ops(`{"op":"replace","path":"members","value":[`+strings.Join(list, ",")+`]}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if same.Meta().Version != got.Meta().Version {
		t.Errorf("replacing members with the same list moved the version %s → %s", got.Meta().Version, same.Meta().Version)
	}
}
