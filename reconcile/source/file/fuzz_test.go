package file

import (
	"testing"

	"github.com/rosterhq/roster/reconcile/source"
)

// FuzzReadCSV reads a users and a groups CSV file, untrusted input: Read
// must never panic, and a snapshot it returns must hold together.
func FuzzReadCSV(f *testing.F) {
	for _, seed := range [][2]string{
		{"id,userName,groups\nu1,ada,g1\nu2,bob,\n", "id,name,members,parent\ng1,One,u2,\ng2,Two,g1;u1,g1\n"},
		{"\uFEFFid,active\n\"u\"\"1\",yes\n", "id,name\n"},
		{"id,mail\n,ada@example.com\n", "id,name,parent\n,A,B\n,B,\n"},
		{"id\nu1\nu1\n", "id,name,parent\na,A,a\n"},
		{"id,note\nu1,\"multi\nline\"\n", "id,name,members\ng,G,\"u1;;u1\"\n"},
		{"id,x\nu1,\"open\n", ""},
		{"", ""},
		{"id\n\xff\n", "a,b\n1\n"},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	s, err := New(Config{
		Users: "users.csv", Groups: "groups.csv",
		MultiValued:  []string{"note"},
		UserColumns:  UserColumns{IDFrom: "mail", Groups: "groups"},
		GroupColumns: GroupColumns{IDFrom: "name"},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, users, groups []byte) {
		ut, err := s.parser.csv("users.csv", users)
		if err != nil {
			return
		}
		gt, err := s.parser.csv("groups.csv", groups)
		if err != nil {
			return
		}
		snap, err := s.build(ut, gt)
		if err != nil {
			return
		}
		consistent(t, snap)
	})
}

// FuzzReadJSON is FuzzReadCSV for JSON.
func FuzzReadJSON(f *testing.F) {
	for _, seed := range []string{
		`[{"id": "u1", "groups": ["g1"]}]`,
		`{"users": [{"id": 1, "active": "no"}], "groups": [{"id": "g1", "name": "G", "members": "1", "parent": null}]}`,
		`{"groups": [{"id": "a", "name": "A", "parent": "b"}, {"id": "b", "name": "B", "parent": "a"}]}`,
		`[{"id": "u1", "x": {"y": 1}}]`,
		`[{"id": "u1"`,
		``,
	} {
		f.Add([]byte(seed))
	}
	s, err := New(Config{Users: "dir.json", UserColumns: UserColumns{Groups: "groups"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tables, err := s.parser.json("dir.json", data, kindUsers)
		if err != nil {
			return
		}
		ut := tables[kindUsers]
		if ut == nil {
			ut = &table{}
		}
		snap, err := s.build(ut, tables[kindGroups])
		if err != nil {
			return
		}
		consistent(t, snap)
	})
}

// consistent fails t unless a snapshot's ids are unique and its members
// and parents name its users and groups.
func consistent(t *testing.T, snap *source.Snapshot) {
	t.Helper()
	users, groups := map[string]bool{}, map[string]bool{}
	for _, u := range snap.Users {
		if u.ID == "" || users[u.ID] {
			t.Fatalf("user id %q empty or twice", u.ID)
		}
		users[u.ID] = true
	}
	for _, g := range snap.Groups {
		if g.ID == "" || groups[g.ID] || g.Name == "" {
			t.Fatalf("group %q: id empty or twice, or no name", g.ID)
		}
		groups[g.ID] = true
	}
	for _, g := range snap.Groups {
		for _, m := range g.Members {
			if users[m] == groups[m] {
				t.Fatalf("group %q: member %q is not one user or one group", g.ID, m)
			}
		}
		if g.Parent != "" && !groups[g.Parent] {
			t.Fatalf("group %q: parent %q is no group", g.ID, g.Parent)
		}
	}
}
