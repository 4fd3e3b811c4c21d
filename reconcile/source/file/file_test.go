package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rosterhq/roster/reconcile/source"
)

// writeFiles writes name → content into a new directory and returns its path.
func writeFiles(t *testing.T, contents map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, c := range contents {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// in makes a Config's paths relative to dir.
func in(dir string, cfg Config) Config {
	if cfg.Users != "" {
		cfg.Users = filepath.Join(dir, cfg.Users)
	}
	if cfg.Groups != "" {
		cfg.Groups = filepath.Join(dir, cfg.Groups)
	}
	return cfg
}

func read(t *testing.T, cfg Config) (*source.Snapshot, error) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s.Read(context.Background())
}

func mustRead(t *testing.T, cfg Config) *source.Snapshot {
	t.Helper()
	snap, err := read(t, cfg)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return snap
}

func equal(t *testing.T, got, want *source.Snapshot) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("snapshot:\n got %+v\nwant %+v", *got, *want)
	}
}

func TestReadCSV(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"users.csv": "\uFEFFid,userName,title,active,groups,roles\n" +
			"1001,ada,\"Engineer, Principal\",yes,eng,admin;dev\n" +
			"1002, bob ,\"He said \"\"hi\"\"\",Disabled,,\n" +
			"1003,cy,\"two\nlines\",TRUE,eng; ops ,\n",
		"groups.csv": "id,name,members,parent\n" +
			"all,Everyone,eng;ops,\n" +
			"eng,Engineering,1002;1001,all\n" +
			"ops,Operations,,all\n" +
			"sre,SRE,1003,ops\n",
	})
	got := mustRead(t, in(dir, Config{
		Users: "users.csv", Groups: "groups.csv",
		MultiValued: []string{"ROLES"},
		UserColumns: UserColumns{Groups: "groups"},
	}))
	equal(t, got, &source.Snapshot{
		Users: []source.User{
			{ID: "1001", Active: true, Attributes: map[string][]string{
				"id": {"1001"}, "userName": {"ada"}, "title": {"Engineer, Principal"}, "active": {"yes"}, "groups": {"eng"}, "roles": {"admin", "dev"}}},
			{ID: "1002", Active: false, Attributes: map[string][]string{
				"id": {"1002"}, "userName": {"bob"}, "title": {`He said "hi"`}, "active": {"Disabled"}}},
			{ID: "1003", Active: true, Attributes: map[string][]string{
				"id": {"1003"}, "userName": {"cy"}, "title": {"two\nlines"}, "active": {"TRUE"}, "groups": {"eng", "ops"}}},
		},
		Groups: []source.Group{
			{ID: "all", Name: "Everyone", Members: []string{"eng", "ops"}, Attributes: map[string][]string{
				"id": {"all"}, "name": {"Everyone"}, "members": {"eng", "ops"}}},
			{ID: "eng", Name: "Engineering", Members: []string{"1002", "1001", "1003"}, Parent: "all", Attributes: map[string][]string{
				"id": {"eng"}, "name": {"Engineering"}, "members": {"1002", "1001"}, "parent": {"all"}}},
			{ID: "ops", Name: "Operations", Members: []string{"1003"}, Parent: "all", Attributes: map[string][]string{
				"id": {"ops"}, "name": {"Operations"}, "parent": {"all"}}},
			{ID: "sre", Name: "SRE", Members: []string{"1003"}, Parent: "ops", Attributes: map[string][]string{
				"id": {"sre"}, "name": {"SRE"}, "members": {"1003"}, "parent": {"ops"}}},
		},
	})
}

func TestReadCSVWithSemicolonsAndOtherColumnNames(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"users.CSV": "EmployeeID;Mail;Status\r\n" +
			"7;ada@example.com;enabled\r\n" +
			"8;\"bob;jr@example.com\";0\r\n",
		"teams.txt": "TeamID;Title;People;Above\r\n" +
			"t1;Team One;\"7;8\";\r\n" +
			"t2;Team Two;8;t1\r\n",
	})
	got := mustRead(t, in(dir, Config{
		Users: "users.CSV", Groups: "teams.txt", Format: CSV, Delimiter: ";",
		UserColumns:  UserColumns{ID: "employeeid", Active: "status"},
		GroupColumns: GroupColumns{ID: "teamid", Name: "title", Members: "people", Parent: "above"},
	}))
	var ids []string
	for _, u := range got.Users {
		ids = append(ids, u.ID)
	}
	if !reflect.DeepEqual(ids, []string{"7", "8"}) || !got.Users[0].Active || got.Users[1].Active {
		t.Errorf("users %+v", got.Users)
	}
	if mail := source.Get(got.Users[1].Attributes, "mail"); mail != "bob;jr@example.com" {
		t.Errorf("mail %q: a quoted delimiter is text", mail)
	}
	want := []source.Group{
		{ID: "t1", Name: "Team One", Members: []string{"7", "8"}},
		{ID: "t2", Name: "Team Two", Members: []string{"8"}, Parent: "t1"},
	}
	for i := range got.Groups {
		got.Groups[i].Attributes = nil
	}
	if !reflect.DeepEqual(got.Groups, want) {
		t.Errorf("groups %+v, want %+v", got.Groups, want)
	}
}

func TestReadJSON(t *testing.T) {
	users := `[
		{"id": "u1", "userName": "ada", "active": true, "employeeNumber": 42, "phones": ["1", " 2 ", null], "manager": null, "groups": "g1;g2"},
		{"id": 2, "userName": "bob", "active": "no", "ratio": 1.5e3, "remote": false, "groups": ["g2"]}
	]`
	groups := `[
		{"id": "g1", "name": "One", "members": ["u1", "g2"]},
		{"id": "g2", "name": "Two", "members": "2", "parent": null}
	]`
	wantUsers := []source.User{
		{ID: "u1", Active: true, Attributes: map[string][]string{
			"id": {"u1"}, "userName": {"ada"}, "active": {"true"}, "employeeNumber": {"42"}, "phones": {"1", "2"}, "groups": {"g1", "g2"}}},
		{ID: "2", Active: false, Attributes: map[string][]string{
			"id": {"2"}, "userName": {"bob"}, "active": {"no"}, "ratio": {"1.5e3"}, "remote": {"false"}, "groups": {"g2"}}},
	}
	wantGroups := []source.Group{
		{ID: "g1", Name: "One", Members: []string{"u1", "g2"}, Attributes: map[string][]string{
			"id": {"g1"}, "name": {"One"}, "members": {"u1", "g2"}}},
		{ID: "g2", Name: "Two", Members: []string{"2", "u1"}, Attributes: map[string][]string{
			"id": {"g2"}, "name": {"Two"}, "members": {"2"}}},
	}
	want := &source.Snapshot{Users: wantUsers, Groups: wantGroups}
	cfg := Config{UserColumns: UserColumns{Groups: "groups"}}

	t.Run("two files", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"users.json": users, "groups.json": groups})
		cfg := cfg
		cfg.Users, cfg.Groups = "users.json", "groups.json"
		equal(t, mustRead(t, in(dir, cfg)), want)
	})
	combined := "\uFEFF" + `{"users": ` + users + `, "groups": ` + groups + "}\n"
	t.Run("one file", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"dir.json": combined})
		cfg := cfg
		cfg.Users = "dir.json"
		equal(t, mustRead(t, in(dir, cfg)), want)
	})
	t.Run("one file named twice", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"dir.json": combined})
		cfg := cfg
		cfg.Users, cfg.Groups = "dir.json", "./dir.json"
		equal(t, mustRead(t, in(dir, cfg)), want)
	})
}

func TestReadJSONAndCSVTogether(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"users.json": `[{"id": "u1"}]`,
		"groups.csv": "id,name,members\ng1,One,u1\n",
	})
	got := mustRead(t, in(dir, Config{Users: "users.json", Groups: "groups.csv"}))
	if len(got.Users) != 1 || len(got.Groups) != 1 || !reflect.DeepEqual(got.Groups[0].Members, []string{"u1"}) {
		t.Errorf("got %+v", got)
	}
}

func TestIDFrom(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"users.csv":  "id,mail,groups\n,ada@example.com,Engineering\nu2,bob@example.com,Everyone\n",
		"groups.csv": "id,name,members,parent\n,Everyone,ada@example.com,\n,Engineering,u2,Everyone\n",
	})
	got := mustRead(t, in(dir, Config{
		Users: "users.csv", Groups: "groups.csv",
		UserColumns:  UserColumns{IDFrom: "mail", Groups: "groups"},
		GroupColumns: GroupColumns{IDFrom: "name"},
	}))
	ada, everyone, eng := source.NameUUID("ada@example.com"), source.NameUUID("Everyone"), source.NameUUID("Engineering")
	if got.Users[0].ID != ada || got.Users[1].ID != "u2" {
		t.Errorf("user ids %q, %q: want the mail's UUID where there is no id", got.Users[0].ID, got.Users[1].ID)
	}
	want := []source.Group{
		{ID: everyone, Name: "Everyone", Members: []string{ada, "u2"}},
		{ID: eng, Name: "Engineering", Members: []string{"u2", ada}, Parent: everyone},
	}
	for i := range got.Groups {
		got.Groups[i].Attributes = nil
	}
	if !reflect.DeepEqual(got.Groups, want) {
		t.Errorf("groups %+v,\nwant %+v", got.Groups, want)
	}
}

func TestActive(t *testing.T) {
	for value, want := range map[string]bool{
		"true": true, "YES": true, "1": true, "Enabled": true,
		"false": false, "No": false, "0": false, "DISABLED": false,
	} {
		dir := writeFiles(t, map[string]string{"users.csv": "id,active\nu1," + value + "\n"})
		if got := mustRead(t, in(dir, Config{Users: "users.csv"})).Users[0].Active; got != want {
			t.Errorf("active %q read as %v", value, got)
		}
	}
	dir := writeFiles(t, map[string]string{"users.csv": "id\nu1\n", "users.json": `[{"id": "u1"}]`})
	for _, name := range []string{"users.csv", "users.json"} {
		if !mustRead(t, in(dir, Config{Users: name})).Users[0].Active {
			t.Errorf("%s: a file without the active column has inactive users", name)
		}
	}
}

func TestAnEmptyUsersFileIsNoError(t *testing.T) {
	for name, content := range map[string]string{
		"header.csv": "id,userName\n",
		"empty.csv":  "",
		"bom.csv":    "\uFEFF",
		"array.json": "[]",
		"empty.json": " \n",
		"both.json":  `{"users": [], "groups": []}`,
	} {
		dir := writeFiles(t, map[string]string{name: content})
		snap := mustRead(t, in(dir, Config{Users: name}))
		if len(snap.Users) != 0 || len(snap.Groups) != 0 {
			t.Errorf("%s: %+v", name, snap)
		}
	}
}

func TestReadErrors(t *testing.T) {
	const users = "id,userName\nu1,ada\nu2,bob\n"
	for _, tc := range []struct {
		name   string
		users  string // users.csv, or users.json if it starts with [ or {
		groups string // groups.csv, or groups.json as users
		cfg    Config
		want   string
	}{
		{name: "a malformed row", users: "id,userName\nu1,ada,extra\n", want: "users.csv: record on line 2: wrong number of fields"},
		{name: "a stray quote", users: "id,userName\nu1,a\"da\n", want: `users.csv: parse error on line 2, column 5: bare " in non-quoted-field`},
		{name: "an open quote", users: "id,userName\nu1,\"ada\n", want: "extraneous or missing"},
		{name: "bytes that are not UTF-8", users: "id,userName\nu1,ada\nu2,\xff\n", want: "users.csv line 3: not UTF-8"},
		{name: "a column without a name", users: "id,,userName\n", want: "users.csv line 1: column 2 has no name"},
		{name: "a column twice", users: "id,Mail,mail\n", want: `users.csv line 1: columns 2 and 3 are both "mail"`},
		{name: "no id column", users: "userName\nada\nbob\n", want: `file source: ` + "%s" + `users.csv: no column "id"`},
		{name: "no id column and no column to derive one from", users: "userName\nada\n", cfg: Config{UserColumns: UserColumns{IDFrom: "mail"}}, want: `no column "id" or "mail"`},
		{name: "an empty id", users: "id,userName\n,ada\n", want: "users.csv line 2: no id"},
		{name: "an empty id and nothing to derive one from", users: "id,mail\n,\n", cfg: Config{UserColumns: UserColumns{IDFrom: "mail"}}, want: "users.csv line 2: no id, and no mail to derive one from"},
		{name: "a duplicate user id", users: "id,userName\nu1,ada\nu2,bob\nu1,cy\n", want: `users.csv line 4: duplicate id "u1" (first at ` + "%s" + `users.csv line 2)`},
		{name: "a duplicate group id", users: users, groups: "id,name\ng1,One\ng1,Two\n", want: `groups.csv line 3: duplicate id "g1"`},
		{name: "an empty active value", users: "id,active\nu1,\n", want: `users.csv line 2: active is ""; want true, false`},
		{name: "an unknown active value", users: "id,active\nu1,terminated\n", want: `active is "terminated"`},
		{name: "a group without a name", users: users, groups: "id,name\ng1,\n", want: "groups.csv line 2: no name"},
		{name: "no name column", users: users, groups: "id,title\ng1,One\n", want: `groups.csv: no column "name"`},
		{name: "a member that names nothing", users: users, groups: "id,name,members\ng1,One,u1;u3\n", want: `groups.csv line 2: member "u3" names no user or group`},
		{name: "a member that names a user and a group", users: users, groups: "id,name,members\ng1,One,u1\nu2,Two,u2\n", want: `member "u2" is both the user at`},
		{name: "a parent that names nothing", users: users, groups: "id,name,parent\ng1,One,g9\n", want: `groups.csv line 2: parent "g9" names no group`},
		{name: "a parent that is a user", users: users, groups: "id,name,parent\ng1,One,u1\n", want: `parent "u1" names no group`},
		{name: "a user's group that names nothing", users: "id,groups\nu1,g1;g2\n", groups: "id,name\ng1,One\n",
			cfg: Config{UserColumns: UserColumns{Groups: "groups"}}, want: `users.csv line 2: group "g2" names no group`},
		{name: "a user in a group with a group's id", users: "id,groups\ng1,g1\n", groups: "id,name\ng1,One\n",
			cfg: Config{UserColumns: UserColumns{Groups: "groups"}}, want: `user "g1", a member of "g1", has the id of the group at`},
		{name: "a group that is its own parent", users: users, groups: "id,name,parent\ng1,One,g1\n", want: `groups.csv line 2: group "g1" is nested in itself: g1 in g1`},
		{name: "a cycle of parents", users: users, groups: "id,name,parent\na,A,c\nb,B,a\nc,C,b\nd,D,a\n", want: `is nested in itself: a in c in b in a`},
		{name: "a cycle of parents and members", users: users, groups: "id,name,members,parent\na,A,c,b\nb,B,,\nc,C,b,\n", want: `is nested in itself`},
		{name: "a group that is its own member", users: users, groups: "id,name,members\ng1,One,u1;g1\n", want: `group "g1" is nested in itself`},
		{name: "groups in both files", users: `{"users": [], "groups": []}`, groups: "id,name\n", want: "holds groups, and so does"},
		{name: "users in the groups file", users: `[]`, groups: `{"users": []}`, want: "holds users; they belong in"},
		{name: "JSON that is not JSON", users: "[{\"id\": \"u1\"},\n{\"id\" \"u2\"}]", want: "users.json line 2: "},
		{name: "JSON cut short", users: `[{"id": "u1"}`, want: "unexpected EOF"},
		{name: "JSON after the end", users: `[] []`, want: "more after the end"},
		{name: "a JSON string", users: `"users"`, want: "want an array of objects, or an object"},
		{name: "a JSON array of arrays", users: `[[]]`, want: "users[0]: want an object"},
		{name: "a JSON object with another key", users: `{"people": []}`, want: `"people": want users or groups`},
		{name: "a JSON object with users twice", users: `{"users": [], "Users": []}`, want: "users given twice"},
		{name: "a JSON object as a value", users: `[{"id": "u1", "manager": {"id": "u2"}}]`, want: "users[0]: manager: an object"},
		{name: "a JSON array of objects as a value", users: `[{"id": "u1", "emails": [{"value": "a"}]}]`, want: "emails: an array may hold"},
		{name: "a JSON field twice", users: `[{"id": "u1", "Mail": "a", "mail": "b"}]`, want: `fields "Mail" and "mail" are one`},
		{name: "a JSON id with two values", users: `[{"id": ["u1", "u2"]}]`, want: "users.json line 1 (users[0]): 2 values for id"},
		{name: "a missing id in JSON", users: `[{"userName": "ada"}]`, want: "no id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := func(base, content string) string {
				if strings.HasPrefix(content, "[") || strings.HasPrefix(content, "{") || strings.HasPrefix(content, `"`) {
					return base + ".json"
				}
				return base + ".csv"
			}
			contents := map[string]string{name("users", tc.users): tc.users}
			cfg := tc.cfg
			cfg.Users = name("users", tc.users)
			if tc.groups != "" {
				cfg.Groups = name("groups", tc.groups)
				contents[cfg.Groups] = tc.groups
			}
			dir := writeFiles(t, contents)
			snap, err := read(t, in(dir, cfg))
			if snap != nil {
				t.Errorf("a snapshot with the error: %+v", snap)
			}
			want := strings.ReplaceAll(tc.want, "%s", dir+string(filepath.Separator))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v, want one with %q", err, want)
			}
		})
	}
}

func TestReadMissingFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{"users.csv": "id\nu1\n"})
	for _, cfg := range []Config{
		{Users: "nope.csv"},
		{Users: "users.csv", Groups: "nope.json"},
	} {
		_, err := read(t, in(dir, cfg))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%+v: error %v, want fs.ErrNotExist", cfg, err)
		}
	}
}

func TestErrorListsProblemsTogether(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,active\n")
	for i := range 25 {
		fmt.Fprintf(&b, "u%d,maybe\n", i)
	}
	dir := writeFiles(t, map[string]string{"users.csv": b.String()})
	_, err := read(t, in(dir, Config{Users: "users.csv"}))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "file source: 25 problems:\n") || !strings.HasSuffix(msg, "\n\tand 5 more") || strings.Count(msg, "\n\t") != 21 {
		t.Errorf("error:\n%s", msg)
	}
}

func TestNewRefusesAnUnusableConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "no users file"},
		{Config{Users: "users.txt"}, "cannot tell its format"},
		{Config{Users: "users.csv", Groups: "groups"}, "cannot tell its format"},
		{Config{Users: "users.csv", Format: "xml"}, `format "xml"`},
		{Config{Users: "users.csv", Delimiter: ";;"}, "want one character"},
		{Config{Users: "users.csv", Delimiter: `"`}, "want one character"},
		{Config{Users: "users.csv", Delimiter: "\n"}, "want one character"},
		{Config{Users: "users.csv", Groups: "users.csv"}, "only a JSON file can hold both"},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v): %v, want an error with %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := New(Config{Users: "u.tsv", Format: CSV, Delimiter: "\t"}); err != nil {
		t.Errorf("a tab-separated file: %v", err)
	}
}

func TestReadHonorsACanceledContext(t *testing.T) {
	dir := writeFiles(t, map[string]string{"users.csv": "id\nu1\n"})
	s, err := New(in(dir, Config{Users: "users.csv"}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Read: %v", err)
	}
}
