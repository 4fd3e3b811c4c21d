package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// events reads all events of a directory after a seq.
func events(t *testing.T, st store.Store, dir string, after int64, types ...string) []store.Event {
	t.Helper()
	var out []store.Event
	for {
		page, err := st.Events(context.Background(), store.EventQuery{Directory: dir, After: after, Types: types, Limit: 7})
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		out = append(out, page...)
		if len(page) < 7 {
			return out
		}
		after = page[len(page)-1].Seq
	}
}

// typesOf returns the types of events, each followed by its resource when
// it has one.
func typesOf(events []store.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}

// data decodes an event's data.
func data(t *testing.T, e store.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Data, &m); err != nil {
		t.Fatalf("%s: data %s: %v", e.Type, e.Data, err)
	}
	return m
}

func (s *suite) testEvents(t *testing.T) {
	st, dir := s.setup(t)
	ctx := store.WithEventContext(context.Background(), store.EventContext{Source: store.SourceSCIM, RequestID: "req-1", Token: "okta"})
	after := int64(1) // directory.created

	first := events(t, st, dir, 0)
	if len(first) != 1 || first[0].Type != store.DirectoryCreated || first[0].Seq != 1 {
		t.Fatalf("a new directory's events: %v, want directory.created with seq 1", typesOf(first))
	}

	u, err := st.Create(ctx, dir, s.decode(t, s.users, `{"userName":"ada","title":"Engineer","password":"$2a$hash-not-a-secret-here"}`))
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.Create(ctx, dir, s.decode(t, s.users, `{"userName":"alan"}`))
	if err != nil {
		t.Fatal(err)
	}
	got := events(t, st, dir, after)
	if !slices.Equal(typesOf(got), []string{store.UserCreated, store.UserCreated}) {
		t.Fatalf("after two creates: %v", typesOf(got))
	}
	e := got[0]
	if e.Resource != u.ID() || e.Directory != dir || e.Seq != 2 || e.ID == "" || e.Time.IsZero() {
		t.Errorf("user.created: %+v", e)
	}
	if e.Context != (store.EventContext{Source: store.SourceSCIM, RequestID: "req-1", Token: "okta"}) {
		t.Errorf("user.created context: %+v", e.Context)
	}
	if m := data(t, e); m["userName"] != "ada" || m["id"] != u.ID() || m["title"] != "Engineer" {
		t.Errorf("user.created data: %s", e.Data)
	}
	if strings.Contains(string(e.Data), "password") || strings.Contains(string(e.Data), "hash-not") {
		t.Errorf("user.created data holds the password: %s", e.Data)
	}

	// An update names the changed attributes' old values; a change of
	// active is a deactivation or a reactivation.
	after = got[len(got)-1].Seq
	for _, p := range []string{
		`{"op":"replace","path":"title","value":"CTO"}`,
		`{"op":"replace","path":"active","value":false}`,
		`{"op":"replace","path":"active","value":true}`,
		`{"op":"replace","path":"title","value":"CTO"}`, // no change: no event
		`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"R&D"}`,
	} {
		if _, err := s.patchCtx(ctx, t, st, dir, s.users, u.ID(), ops(p), ""); err != nil {
			t.Fatal(err)
		}
	}
	got = events(t, st, dir, after)
	if want := []string{store.UserUpdated, store.UserDeactivated, store.UserReactivated, store.UserUpdated}; !slices.Equal(typesOf(got), want) {
		t.Fatalf("after four changes and a no-op: %v, want %v", typesOf(got), want)
	}
	prev := func(e store.Event) string { return string(e.Previous) }
	if prev(got[0]) != `{"title":"Engineer"}` {
		t.Errorf("user.updated previous_attributes: %s", prev(got[0]))
	}
	if prev(got[1]) != `{"active":null}` || data(t, got[1])["active"] != false {
		t.Errorf("user.deactivated: previous %s, data %s", prev(got[1]), got[1].Data)
	}
	if prev(got[2]) != `{"active":false}` {
		t.Errorf("user.reactivated previous_attributes: %s", prev(got[2]))
	}
	if prev(got[3]) != `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":null}}` {
		t.Errorf("extension update previous_attributes: %s", prev(got[3]))
	}

	// A group's members are events of their own, one per member; the
	// group's data holds no members.
	after = got[len(got)-1].Seq
	g := s.createCtx(ctx, t, st, dir, s.groups, fmt.Sprintf(`{"displayName":"Eng","members":[{"value":%q},{"value":%q}]}`, u.ID(), v.ID()))
	if _, err := s.patchCtx(ctx, t, st, dir, s.groups, g.ID(), ops(fmt.Sprintf(`{"op":"remove","path":"members[value eq \"%s\"]"}`, v.ID())), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.patchCtx(ctx, t, st, dir, s.groups, g.ID(), ops(
		`{"op":"replace","path":"displayName","value":"Engineering"}`,
		fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q},{"value":%q}]}`, u.ID(), v.ID())), ""); err != nil {
		t.Fatal(err)
	}
	got = events(t, st, dir, after)
	want := []string{store.GroupCreated, store.GroupUserAdded, store.GroupUserAdded, store.GroupUserRemoved, store.GroupUpdated, store.GroupUserAdded}
	if !slices.Equal(typesOf(got), want) {
		t.Fatalf("group events: %v, want %v", typesOf(got), want)
	}
	if strings.Contains(string(got[0].Data), "members") || data(t, got[0])["displayName"] != "Eng" {
		t.Errorf("group.created data: %s", got[0].Data)
	}
	added := map[string]any{}
	for _, e := range got[1:3] {
		m := data(t, e)["member"].(map[string]any)
		added[m["id"].(string)] = m["type"]
	}
	if len(added) != 2 || added[u.ID()] != "User" || added[v.ID()] != "User" {
		t.Errorf("group.user_added members: %v", added)
	}
	if m := data(t, got[5]); m["group"].(map[string]any)["displayName"] != "Engineering" || got[5].Resource != v.ID() {
		t.Errorf("a member added with a rename names the new name: %s", got[5].Data)
	}

	// Deleting a user: user.deleted, and it leaves its groups.
	after = got[len(got)-1].Seq
	if err := st.Delete(ctx, dir, s.users, v.ID(), ""); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, dir, s.groups, g.ID(), ""); err != nil {
		t.Fatal(err)
	}
	got = events(t, st, dir, after)
	if want := []string{store.UserDeleted, store.GroupUserRemoved, store.GroupDeleted}; !slices.Equal(typesOf(got), want) {
		t.Fatalf("delete events: %v, want %v", typesOf(got), want)
	}
	if data(t, got[0])["userName"] != "alan" || got[1].Resource != v.ID() {
		t.Errorf("user.deleted %s, group.user_removed %+v", got[0].Data, got[1])
	}

	// The seqs are 1, 2, 3, … with no gap, and the type filter keeps
	// their numbers.
	all := events(t, st, dir, 0)
	for i, e := range all {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
	}
	deact := events(t, st, dir, 0, store.UserDeactivated, store.UserReactivated)
	if len(deact) != 2 || deact[0].Type != store.UserDeactivated || deact[0].Seq <= 3 {
		t.Errorf("the events of two types: %v", deact)
	}
	last, err := st.LastEventSeq(ctx, dir)
	if err != nil || last != all[len(all)-1].Seq {
		t.Errorf("LastEventSeq = %d, %v; want %d", last, err, all[len(all)-1].Seq)
	}
}

// testEventsOnlyForChanges holds that a change that fails writes no
// event.
func (s *suite) testEventsOnlyForChanges(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	u := s.create(t, st, dir, s.users, `{"userName":"ada"}`)
	g := s.create(t, st, dir, s.groups, `{"displayName":"Eng"}`)
	last, err := st.LastEventSeq(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	fails := []func() error{
		func() error { _, err := st.Create(ctx, dir, s.decode(t, s.users, `{"userName":"ADA"}`)); return err },
		func() error {
			_, err := s.patch(t, st, dir, s.users, u.ID(), ops(`{"op":"replace","path":"title","value":"x"}`), `W/"99"`)
			return err
		},
		func() error {
			// The first member exists, the second not: the whole PATCH fails.
			_, err := s.patch(t, st, dir, s.groups, g.ID(), ops(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q},{"value":"nobody"}]}`, u.ID())), "")
			return err
		},
		func() error {
			_, err := st.Create(ctx, dir, s.decode(t, s.groups, fmt.Sprintf(`{"displayName":"Ops","members":[{"value":%q},{"value":"nobody"}]}`, u.ID())))
			return err
		},
		func() error { return st.Delete(ctx, dir, s.users, "nobody", "") },
		func() error { return st.RevokeToken(ctx, dir, "nobody") },
		func() error {
			_, err := st.Create(ctx, "no-such-directory", s.decode(t, s.users, `{"userName":"x"}`))
			return err
		},
	}
	for i, f := range fails {
		if err := f(); err == nil {
			t.Fatalf("change %d succeeded", i)
		}
	}
	if got := events(t, st, dir, last); len(got) != 0 {
		t.Fatalf("failed changes wrote events: %v", typesOf(got))
	}
}

// testEventsThrough holds Events to EventQuery.Through: no event past it,
// with types or without, and the events up to it as without it.
func (s *suite) testEventsThrough(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	for i := range 5 {
		s.create(t, st, dir, s.users, fmt.Sprintf(`{"userName":"u%d"}`, i))
		s.create(t, st, dir, s.groups, fmt.Sprintf(`{"displayName":"g%d"}`, i))
	}
	all := events(t, st, dir, 0)
	if len(all) != 11 { // directory.created, then user.created and group.created five times
		t.Fatalf("%d events: %v", len(all), typesOf(all))
	}
	for _, tc := range []struct {
		after, through int64
		types          []string
	}{
		{0, 4, nil},
		{2, 7, nil},
		{0, 4, []string{store.GroupCreated}},
		{3, 9, []string{store.GroupCreated}},
		{3, 3, []string{store.UserCreated}},
		{0, 100, []string{store.UserCreated}},
	} {
		var want []store.Event
		for _, e := range all {
			if e.Seq > tc.after && e.Seq <= tc.through && (tc.types == nil || slices.Contains(tc.types, e.Type)) {
				want = append(want, e)
			}
		}
		got, err := st.Events(ctx, store.EventQuery{Directory: dir, After: tc.after, Through: tc.through, Types: tc.types, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(seqs(got), seqs(want)) {
			t.Errorf("after %d through %d of %v: seqs %v, want %v", tc.after, tc.through, tc.types, seqs(got), seqs(want))
		}
	}
}

// seqs returns the seqs of events.
func seqs(events []store.Event) []int64 {
	out := make([]int64, len(events))
	for i, e := range events {
		out[i] = e.Seq
	}
	return out
}

// testEventsOfCredentials covers directories and tokens: their events
// never hold a secret.
func (s *suite) testEventsOfCredentials(t *testing.T) {
	ctx := store.WithEventContext(context.Background(), store.EventContext{Source: store.SourceCLI})
	st := s.open(t)
	d, err := st.CreateDirectory(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.CreateDirectory(ctx, "globex")
	if err != nil {
		t.Fatal(err)
	}
	tok, secret, err := st.CreateToken(ctx, d.ID, "okta", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeToken(ctx, d.ID, "okta"); err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeToken(ctx, d.ID, "okta"); err != nil { // again: no second event
		t.Fatal(err)
	}
	s.create(t, st, other.ID, s.users, `{"userName":"ada"}`)
	got := events(t, st, d.ID, 0)
	if want := []string{store.DirectoryCreated, store.TokenCreated, store.TokenRevoked}; !slices.Equal(typesOf(got), want) {
		t.Fatalf("events: %v, want %v", typesOf(got), want)
	}
	for _, e := range got {
		if e.Context.Source != store.SourceCLI {
			t.Errorf("%s: source %q", e.Type, e.Context.Source)
		}
		if strings.Contains(string(e.Data), secret) || strings.Contains(string(e.Data), store.HashSecret(secret)) {
			t.Errorf("%s holds the token's secret or hash: %s", e.Type, e.Data)
		}
	}
	if got[1].Resource != tok.ID || data(t, got[1])["name"] != "okta" {
		t.Errorf("token.created: %+v %s", got[1], got[1].Data)
	}

	// Another directory's events are its own, numbered from 1.
	o := events(t, st, other.ID, 0)
	if want := []string{store.DirectoryCreated, store.UserCreated}; !slices.Equal(typesOf(o), want) || o[1].Seq != 2 {
		t.Fatalf("the other directory's events: %v", typesOf(o))
	}

	// A deleted directory's events stay, the last directory.deleted.
	if err := st.DeleteDirectory(ctx, "globex"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Directory(ctx, other.ID); err == nil {
		t.Fatal("the deleted directory is still there")
	}
	o = events(t, st, other.ID, 0)
	if len(o) != 3 || o[2].Type != store.DirectoryDeleted || o[2].Seq != 3 {
		t.Fatalf("a deleted directory's events: %v", typesOf(o))
	}
	if err := st.DeleteDirectory(ctx, "globex"); err == nil {
		t.Fatal("deleting a deleted directory succeeded")
	}
	if got := events(t, st, d.ID, 0); len(got) != 3 {
		t.Fatalf("deleting another directory changed this one's events: %v", typesOf(got))
	}
}

// testEventOrder holds that concurrent writers' events are read in
// order, each once (see EventOrder).
func (s *suite) testEventOrder(t *testing.T) {
	EventOrder(t, s.open(t))
}

// EventOrder holds that the events of 8 concurrent writers (creates of
// users and member adds to one group), spread over stores (replicas on
// one database), read all along by a poller on each store asking for
// those after the last it saw, are seen each once, in seq order, with no
// gap, and the same by every poller: no event ever gets a smaller seq
// than one already visible. stores must be new and share one database.
func EventOrder(t *testing.T, stores ...store.Store) {
	ctx := context.Background()
	reg := schema.NewRegistry()
	users, groups := reg.ResourceType("User"), reg.ResourceType("Group")
	first := stores[0]
	d, err := first.CreateDirectory(ctx, "order")
	if err != nil {
		t.Fatal(err)
	}
	dir := d.ID
	decode := func(rt *schema.ResourceType, body string) *resource.Resource {
		r, err := resource.Decode(rt, []byte(body), resource.Options{})
		if err != nil {
			panic(err) // the test's own bodies
		}
		return r
	}
	g, err := first.Create(ctx, dir, decode(groups, `{"displayName":"Everyone"}`))
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 15
	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, writers*each)
	for w := range writers {
		st := stores[w%len(stores)]
		wg.Go(func() {
			for i := range each {
				u, err := st.Create(ctx, dir, decode(users, fmt.Sprintf(`{"userName":"w%d-%d"}`, w, i)))
				if err != nil {
					errs <- err
					return
				}
				req, err := patch.Parse(groups, []byte(ops(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]}`, u.ID()))), resource.Options{})
				if err == nil {
					_, err = st.Patch(ctx, dir, groups, g.ID(), req, "", false)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	// A poller per store, at the same time: each store numbers the
	// events it reads (PostgreSQL), so the replicas number them side by
	// side.
	seen := make([][]store.Event, len(stores))
	var pollers sync.WaitGroup
	for i, st := range stores {
		pollers.Go(func() {
			after := int64(0)
			poll := func() bool {
				page, err := st.Events(ctx, store.EventQuery{Directory: dir, After: after, Limit: 1000})
				if err != nil {
					t.Error(err)
					return false
				}
				for _, e := range page {
					if e.Seq != after+1 {
						t.Errorf("poller %d: after seq %d it read seq %d: an event was skipped or read twice", i, after, e.Seq)
						return false
					}
					after = e.Seq
				}
				seen[i] = append(seen[i], page...)
				return true
			}
			for {
				select {
				case <-done:
					for n := -1; n != len(seen[i]) && poll(); {
						n = len(seen[i])
					}
					return
				default:
				}
				if !poll() {
					return
				}
			}
		})
	}
	pollers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	for i := 1; i < len(seen); i++ {
		if len(seen[i]) != len(seen[0]) {
			t.Fatalf("poller %d saw %d events, poller 0 %d", i, len(seen[i]), len(seen[0]))
		}
		for k := range seen[i] {
			if seen[i][k].ID != seen[0][k].ID {
				t.Fatalf("seq %d is event %s to poller %d, %s to poller 0", seen[i][k].Seq, seen[i][k].ID, i, seen[0][k].ID)
			}
		}
	}
	counts := map[string]int{}
	for _, e := range seen[0] {
		counts[e.Type]++
	}
	if counts[store.UserCreated] != writers*each || counts[store.GroupUserAdded] != writers*each {
		t.Fatalf("the pollers saw %v, want %d user.created and group.user_added", counts, writers*each)
	}
}

// testPruneEvents holds that PruneEvents deletes old events in batches.
func (s *suite) testPruneEvents(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	for i := range 5 {
		s.create(t, st, dir, s.users, fmt.Sprintf(`{"userName":"u%d"}`, i))
	}
	if n, err := st.PruneEvents(ctx, time.Now().Add(-time.Hour), 100); err != nil || n != 0 {
		t.Fatalf("pruning what is older than an hour ago: %d, %v", n, err)
	}
	future := time.Now().Add(time.Hour)
	total := 0
	for {
		n, err := st.PruneEvents(ctx, future, 4)
		if err != nil {
			t.Fatal(err)
		}
		if n > 4 {
			t.Fatalf("a prune of at most 4 deleted %d", n)
		}
		total += n
		if n < 4 {
			break
		}
	}
	if total != 5 {
		t.Fatalf("pruned %d events, want the 6 written but the newest", total)
	}
	if got := events(t, st, dir, 0); len(got) != 1 || got[0].Seq != 6 {
		t.Fatalf("events left: %v, want the newest", typesOf(got))
	}
	// Seqs go on from where they were: a reader that saw 6 misses nothing.
	s.create(t, st, dir, s.users, `{"userName":"next"}`)
	if got := events(t, st, dir, 6); len(got) != 1 || got[0].Seq != 7 {
		t.Fatalf("after pruning, the next event: %v", got)
	}
}
