package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/store"
)

func (s *suite) testList(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	other, err := st.CreateDirectory(ctx, "globex")
	if err != nil {
		t.Fatal(err)
	}
	s.create(t, st, other.ID, s.users, `{"userName":"alice@x.com","title":"Spy"}`)
	names := []string{"carol@x.com", "Alice@x.com", "bob@x.com", "dave@x.com", "Eve@y.com"}
	titles := []string{"Engineer", "", "Manager", "Engineer", ""}
	byName := map[string]*resource.Resource{}
	for i, n := range names {
		body := fmt.Sprintf(`{"userName":%q,"emails":[{"value":%q,"type":"work"}]`, n, n)
		if titles[i] != "" {
			body += fmt.Sprintf(`,"title":%q`, titles[i])
		}
		byName[n] = s.create(t, st, dir, s.users, body+`}`)
	}
	list := func(q store.Query) store.Page {
		t.Helper()
		q.Type = s.users
		p, err := st.List(ctx, dir, q)
		if err != nil {
			t.Fatalf("List(%+v): %v", q, err)
		}
		return p
	}
	userNames := func(p store.Page) []string {
		var out []string
		for _, r := range p.Resources {
			out = append(out, r.Attrs["userName"].(string))
		}
		return out
	}
	parse := func(f string) filter.Expr {
		t.Helper()
		e, err := filter.Parse(f, s.users)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}

	all := list(store.Query{Count: 100})
	if all.Total != 5 || !slices.Equal(userNames(all), names) {
		t.Fatalf("all users = %d %v, want the directory's 5 in creation order", all.Total, userNames(all))
	}
	if p := list(store.Query{Count: 0}); p.Total != 5 || len(p.Resources) != 0 {
		t.Fatalf("count=0 gave %d resources and total %d, want only the total 5", len(p.Resources), p.Total)
	}
	if p := list(store.Query{StartIndex: 2, Count: 2}); p.Total != 5 || !slices.Equal(userNames(p), names[1:3]) {
		t.Fatalf("startIndex=2 count=2 = %v (total %d), want %v", userNames(p), p.Total, names[1:3])
	}
	// A last page that is not full, and a whole list in a page larger than
	// it, tell the total as a count does.
	if p := list(store.Query{StartIndex: 4, Count: 3}); p.Total != 5 || !slices.Equal(userNames(p), names[3:]) {
		t.Fatalf("startIndex=4 count=3 = %v (total %d), want %v and total 5", userNames(p), p.Total, names[3:])
	}
	if p := list(store.Query{Filter: parse(`userName sw "b"`), StartIndex: 2, Count: 10}); p.Total != 1 || len(p.Resources) != 0 {
		t.Fatalf(`userName sw "b" from startIndex=2: %d resources, total %d; want none of a total of 1`, len(p.Resources), p.Total)
	}
	if p := list(store.Query{StartIndex: 9, Count: 2}); p.Total != 5 || len(p.Resources) != 0 {
		t.Fatalf("a start past the end = %v, want an empty page with total 5", userNames(p))
	}
	// Okta's lookup is case-insensitive and sees only this directory.
	if p := list(store.Query{Filter: parse(`userName eq "ALICE@X.COM"`), Count: 100}); p.Total != 1 || p.Resources[0].ID() != byName["Alice@x.com"].ID() {
		t.Fatalf(`userName eq "ALICE@X.COM" = %v, want this directory's Alice`, userNames(p))
	}
	if p := list(store.Query{Filter: parse(`userName eq "nobody"`), Count: 100}); p.Total != 0 || len(p.Resources) != 0 {
		t.Fatalf("no match gave %v", userNames(p))
	}
	if p := list(store.Query{Filter: parse(`title eq "Engineer" or userName sw "EVE"`), Count: 100}); !slices.Equal(userNames(p), []string{"carol@x.com", "dave@x.com", "Eve@y.com"}) {
		t.Fatalf("title eq Engineer or userName sw EVE = %v", userNames(p))
	}
	if p := list(store.Query{Filter: parse(`emails[type eq "work" and value ew "@y.com"]`), Count: 100}); !slices.Equal(userNames(p), []string{"Eve@y.com"}) {
		t.Fatalf("emails value path = %v", userNames(p))
	}
	if p := list(store.Query{Filter: parse(`title ne "Engineer"`), Count: 100}); p.Total != 3 {
		t.Fatalf("title ne Engineer = %v, want the 3 others, including those without a title", userNames(p))
	}

	// Sorting: case-insensitive userName; missing titles last, first when descending.
	userName, _ := s.users.Resolve("userName")
	if p := list(store.Query{SortBy: userName, Count: 100}); !slices.Equal(userNames(p), []string{"Alice@x.com", "bob@x.com", "carol@x.com", "dave@x.com", "Eve@y.com"}) {
		t.Fatalf("sortBy userName = %v", userNames(p))
	}
	if p := list(store.Query{SortBy: userName, Descending: true, StartIndex: 1, Count: 2}); !slices.Equal(userNames(p), []string{"Eve@y.com", "dave@x.com"}) {
		t.Fatalf("sortBy userName descending, first page = %v", userNames(p))
	}
	title, _ := s.users.Resolve("title")
	p := list(store.Query{SortBy: title, Count: 100})
	got := userNames(p)
	if got[0] != "carol@x.com" || got[1] != "dave@x.com" || got[2] != "bob@x.com" {
		t.Fatalf("sortBy title = %v, want the Engineers (in creation order), then the Manager, then those without", got)
	}
	emails, _ := s.users.Resolve("emails")
	if p := list(store.Query{SortBy: emails, Count: 100}); !slices.Equal(userNames(p), []string{"Alice@x.com", "bob@x.com", "carol@x.com", "dave@x.com", "Eve@y.com"}) {
		t.Fatalf("sortBy emails = %v", userNames(p))
	}
}

func (s *suite) testListGroups(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	u := s.create(t, st, dir, s.users, `{"userName":"alice"}`)
	s.create(t, st, dir, s.groups, fmt.Sprintf(`{"displayName":"Eng","members":[{"value":%q}]}`, u.ID()))
	s.create(t, st, dir, s.groups, `{"displayName":"Ops"}`)
	f, err := filter.Parse(`displayName eq "eng"`, s.groups)
	if err != nil {
		t.Fatal(err)
	}
	// Entra: GET /Groups?filter=displayName eq "…"&excludedAttributes=members.
	p, err := st.List(ctx, dir, store.Query{Type: s.groups, Filter: f, Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 1 || p.Resources[0].Attrs["displayName"] != "Eng" {
		t.Fatalf("displayName eq eng = %+v", p)
	}
	if _, ok := p.Resources[0].Attrs["members"]; ok {
		t.Fatal("a list without Members loaded the members")
	}
	p, err = st.List(ctx, dir, store.Query{Type: s.groups, Filter: f, Count: 100, Members: true})
	if err != nil {
		t.Fatal(err)
	}
	if ids := memberIDs(p.Resources[0]); !slices.Equal(ids, []string{u.ID()}) {
		t.Fatalf("members = %v, want alice", ids)
	}
}
