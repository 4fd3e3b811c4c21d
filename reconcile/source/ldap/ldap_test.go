package ldap

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	ldapv3 "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster/internal/ldaptest"
	"github.com/rosterhq/roster/reconcile/source"
)

const (
	people = "ou=people," + ldaptest.Suffix
	teams  = "ou=groups," + ldaptest.Suffix
)

// adGUID is u08's objectGUID, and adGUIDString how Active Directory writes
// it.
var (
	adGUID       = string([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	adGUIDString = "03020100-0504-0706-0809-0a0b0c0d0e0f"
)

// directory starts a slapd holding ten people u00…u09 (u09 disabled the
// Active Directory way, u08 with an objectGUID), a person outside the
// people's subtree, and groups: eng (u00, u01 written in another case,
// the nested group backend, and the outsider), backend (a
// groupOfUniqueNames), ops (u04, and u07 by u07's memberOf only), a cycle
// a ⇄ b, a group that lists itself, and ad (u08).
func directory(t *testing.T, opts ...ldaptest.Option) *ldaptest.Server {
	t.Helper()
	srv := ldaptest.Start(t, opts...)
	add := func(dn string, attrs map[string][]string) { srv.Add(t, dn, attrs) }
	ou := func(name string) {
		add("ou="+name+","+ldaptest.Suffix, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {name}})
	}
	ou("people")
	ou("groups")
	ou("elsewhere")
	for i := range 10 {
		name := fmt.Sprintf("u%02d", i)
		attrs := map[string][]string{
			"objectClass":  {"inetOrgPerson"},
			"cn":           {name},
			"sn":           {"User " + name},
			"uid":          {name},
			"mail":         {name + "@example.com"},
			"userPassword": {"pw-" + name},
		}
		switch name {
		case "u07":
			attrs["objectClass"] = append(attrs["objectClass"], "extensibleObject")
			attrs["memberOf"] = []string{"CN=ops,OU=Groups,DC=example,DC=com"}
		case "u08":
			attrs["objectClass"] = append(attrs["objectClass"], "extensibleObject")
			attrs["userAccountControl"] = []string{"512"}
			attrs["objectGUID"] = []string{adGUID}
		case "u09":
			attrs["objectClass"] = append(attrs["objectClass"], "extensibleObject")
			attrs["userAccountControl"] = []string{"514"}
		}
		add("cn="+name+","+people, attrs)
	}
	ghost := "cn=ghost,ou=elsewhere," + ldaptest.Suffix
	add(ghost, map[string][]string{"objectClass": {"inetOrgPerson"}, "cn": {"ghost"}, "sn": {"Ghost"}})

	group := func(name string, members ...string) {
		add("cn="+name+","+teams, map[string][]string{"objectClass": {"groupOfNames"}, "cn": {name}, "member": members})
	}
	user := func(name string) string { return "cn=" + name + "," + people }
	team := func(name string) string { return "cn=" + name + "," + teams }
	group("eng", user("u00"), "CN=U01, OU=People,DC=Example,DC=Com", team("backend"), ghost)
	add(team("backend"), map[string][]string{
		"objectClass":  {"groupOfUniqueNames"},
		"cn":           {"backend"},
		"uniqueMember": {user("u02") + "#'0101'B", user("u03")},
	})
	group("ops", user("u04"))
	group("a", team("b"))
	group("b", team("a"), user("u05"))
	group("self", team("self"), user("u06"))
	group("ad", user("u08"))
	return srv
}

// rootConfig reads the fixture's people and groups as the root DN.
func rootConfig(srv *ldaptest.Server) Config {
	return Config{
		URL:          srv.URL,
		BindDN:       srv.RootDN,
		BindPassword: srv.RootPassword,
		Users:        Search{BaseDN: people},
		Groups:       GroupSearch{Search: Search{BaseDN: teams}},
	}
}

func read(t *testing.T, cfg Config) (*source.Snapshot, error) {
	t.Helper()
	src, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return src.Read(context.Background())
}

func mustRead(t *testing.T, cfg Config) *source.Snapshot {
	t.Helper()
	snap, err := read(t, cfg)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return snap
}

// names returns the snapshot's membership by names: group name → sorted
// names of its members (users by cn, groups by name).
func names(t *testing.T, snap *source.Snapshot) map[string][]string {
	t.Helper()
	byID := map[string]string{}
	for _, u := range snap.Users {
		byID[u.ID] = source.Get(u.Attributes, "cn")
	}
	for _, g := range snap.Groups {
		byID[g.ID] = g.Name
	}
	out := map[string][]string{}
	for _, g := range snap.Groups {
		out[g.Name] = []string{}
		for _, m := range g.Members {
			name, ok := byID[m]
			if !ok {
				t.Fatalf("group %s: member %q is not in the snapshot", g.Name, m)
			}
			out[g.Name] = append(out[g.Name], name)
		}
		slices.Sort(out[g.Name])
	}
	return out
}

func TestReadResolvesUsersGroupsAndMembership(t *testing.T) {
	srv := directory(t)
	cfg := rootConfig(srv)
	cfg.PageSize = 3 // ten people, seven groups: several pages each
	snap := mustRead(t, cfg)

	if len(snap.Users) != 10 {
		t.Fatalf("%d users, want 10", len(snap.Users))
	}
	for _, u := range snap.Users {
		name := source.Get(u.Attributes, "cn")
		if want := name != "u09"; u.Active != want {
			t.Errorf("%s: Active = %v, want %v", name, u.Active, want)
		}
		if want := "cn=" + name + "," + people; source.Get(u.Attributes, "dn") != want {
			t.Errorf("%s: dn = %q, want %q", name, source.Get(u.Attributes, "dn"), want)
		}
		if source.Get(u.Attributes, "mail") != name+"@example.com" {
			t.Errorf("%s: mail = %q", name, source.Get(u.Attributes, "mail"))
		}
		if source.Values(u.Attributes, "userPassword") != nil {
			t.Errorf("%s: userPassword was kept", name)
		}
		switch name {
		case "u08":
			if u.ID != adGUIDString || source.Get(u.Attributes, "objectGUID") != adGUIDString {
				t.Errorf("u08: id %q, objectGUID %q, want both %q", u.ID, source.Get(u.Attributes, "objectGUID"), adGUIDString)
			}
		default:
			if u.ID == "" || u.ID != source.Get(u.Attributes, "entryUUID") {
				t.Errorf("%s: id %q, want its entryUUID %q", name, u.ID, source.Get(u.Attributes, "entryUUID"))
			}
		}
	}

	want := map[string][]string{
		"eng":     {"backend", "u00", "u01"},
		"backend": {"u02", "u03"},
		"ops":     {"u04", "u07"},
		"a":       {"b"},
		"b":       {"a", "u05"},
		"self":    {"u06"},
		"ad":      {"u08"},
	}
	if got := names(t, snap); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("membership:\n got %v\nwant %v", got, want)
	}
	for _, g := range snap.Groups {
		if source.Values(g.Attributes, "member") != nil || source.Values(g.Attributes, "uniqueMember") != nil {
			t.Errorf("group %s keeps its member DNs in Attributes", g.Name)
		}
	}
}

func TestIDs(t *testing.T) {
	srv := directory(t)
	ids := func(snap *source.Snapshot) map[string]string {
		out := map[string]string{}
		for _, u := range snap.Users {
			out[source.Get(u.Attributes, "cn")] = u.ID
		}
		for _, g := range snap.Groups {
			out["group "+g.Name] = g.ID
		}
		return out
	}

	t.Run("entryUUIDs are the same from one read to the next", func(t *testing.T) {
		cfg := rootConfig(srv)
		cfg.IDAttribute = "entryUUID"
		first, second := ids(mustRead(t, cfg)), ids(mustRead(t, cfg))
		if len(first) != 17 || !maps.Equal(first, second) {
			t.Fatalf("ids changed between reads:\n%v\n%v", first, second)
		}
	})
	t.Run("dn gives the name-based UUID of the DN in lower case", func(t *testing.T) {
		cfg := rootConfig(srv)
		cfg.IDAttribute = IDFromDN
		got := ids(mustRead(t, cfg))
		if want := source.NameUUID("cn=u01," + people); got["u01"] != want {
			t.Errorf("u01: id %q, want %q", got["u01"], want)
		}
		if want := source.NameUUID("cn=eng," + teams); got["group eng"] != want {
			t.Errorf("eng: id %q, want %q", got["group eng"], want)
		}
	})
	t.Run("a search names its own id attribute", func(t *testing.T) {
		cfg := rootConfig(srv)
		cfg.Users.IDAttribute = "uid"
		cfg.Users.Attributes = []string{"cn"} // uid is read all the same
		got := ids(mustRead(t, cfg))
		if got["u03"] != "u03" || len(got["group eng"]) != 36 {
			t.Errorf("ids %v", got)
		}
	})
	t.Run("an entry without the id attribute fails the read", func(t *testing.T) {
		cfg := rootConfig(srv)
		cfg.IDAttribute = "employeeNumber"
		if snap, err := read(t, cfg); err == nil || snap != nil || !strings.Contains(err.Error(), "employeeNumber") {
			t.Fatalf("Read = %v, %v; want an error about employeeNumber", snap, err)
		}
	})
}

func TestReadFails(t *testing.T) {
	srv := directory(t, ldaptest.WithConfig(
		// reader may read 5 entries a search, and any number page by
		// page; limited may read 5 in all, page by page or not.
		`limits dn.exact="cn=reader,dc=example,dc=com" size.soft=5 size.hard=5 size.prtotal=unlimited`,
		`limits dn.exact="cn=limited,dc=example,dc=com" size.soft=5 size.hard=5 size.prtotal=5`,
	))
	for _, name := range []string{"reader", "limited"} {
		srv.Add(t, "cn="+name+","+ldaptest.Suffix, map[string][]string{
			"objectClass": {"person"}, "cn": {name}, "sn": {name}, "userPassword": {"pw"},
		})
	}

	t.Run("paging reads past a server's size limit", func(t *testing.T) {
		cfg := rootConfig(srv)
		cfg.BindDN, cfg.BindPassword = "cn=reader,"+ldaptest.Suffix, "pw"
		cfg.PageSize = 3
		if snap := mustRead(t, cfg); len(snap.Users) != 10 {
			t.Fatalf("%d users, want 10", len(snap.Users))
		}
	})

	tests := []struct {
		name   string
		change func(*Config)
		code   uint16 // the LDAP result code expected, 0 for any
	}{
		{"when the bind password is wrong", func(c *Config) { c.BindPassword = "wrong" }, ldapv3.LDAPResultInvalidCredentials},
		{"when the users' base DN does not exist", func(c *Config) { c.Users.BaseDN = "ou=nobody," + ldaptest.Suffix }, ldapv3.LDAPResultNoSuchObject},
		{"when the groups' base DN does not exist", func(c *Config) { c.Groups.BaseDN = "ou=nogroups," + ldaptest.Suffix }, ldapv3.LDAPResultNoSuchObject},
		{"when the server stops the search at its size limit", func(c *Config) {
			c.BindDN, c.BindPassword = "cn=limited,"+ldaptest.Suffix, "pw"
			c.PageSize = 3
		}, ldapv3.LDAPResultSizeLimitExceeded},
		{"when the server is not there", func(c *Config) { c.URL = "ldap://127.0.0.1:1" }, ldapv3.ErrorNetwork},
		{"when an entry is both a user and a group", func(c *Config) {
			c.Users = Search{BaseDN: ldaptest.Suffix, Filter: "(|(objectClass=inetOrgPerson)(cn=eng))"}
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rootConfig(srv)
			tt.change(&cfg)
			snap, err := read(t, cfg)
			if err == nil || snap != nil {
				t.Fatalf("Read = %v, %v; want no snapshot and an error", snap, err)
			}
			t.Log(err)
			if tt.code != 0 && !ldapv3.IsErrorWithCode(err, tt.code) {
				t.Fatalf("Read: %v; want LDAP result %d", err, tt.code)
			}
		})
	}

	t.Run("when the context is canceled", func(t *testing.T) {
		src, err := New(rootConfig(srv))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if snap, err := src.Read(ctx); !errors.Is(err, context.Canceled) || snap != nil {
			t.Fatalf("Read = %v, %v; want context.Canceled", snap, err)
		}
	})
}

func TestTLS(t *testing.T) {
	srv := directory(t)
	tests := []struct {
		name   string
		change func(*Config)
		ok     bool
	}{
		{"StartTLS with the server's CA", func(c *Config) { c.StartTLS, c.TLS.CAFile = true, srv.CAFile }, true},
		{"LDAPS with the server's CA", func(c *Config) { c.URL, c.TLS.CAFile = srv.LDAPSURL, srv.CAFile }, true},
		{"LDAPS with a name the certificate lacks", func(c *Config) {
			c.URL, c.TLS.CAFile, c.TLS.ServerName = srv.LDAPSURL, srv.CAFile, "ldap.example.com"
		}, false},
		{"StartTLS with the system's CAs", func(c *Config) { c.StartTLS = true }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rootConfig(srv)
			tt.change(&cfg)
			snap, err := read(t, cfg)
			if tt.ok && (err != nil || len(snap.Users) != 10) {
				t.Fatalf("Read: %v", err)
			}
			if !tt.ok && (err == nil || snap != nil) {
				t.Fatalf("Read = %v, %v; want an error", snap, err)
			}
		})
	}
}

func TestDefaultUserFilterFindsOpenLDAPPeople(t *testing.T) {
	srv := directory(t)
	cfg := rootConfig(srv)
	cfg.Users = Search{BaseDN: ldaptest.Suffix}
	cfg.Users.Filter = ""
	snap := mustRead(t, cfg)
	if len(snap.Users) != 11 { // with the ghost
		t.Fatalf("%d users, want 11", len(snap.Users))
	}
}

func TestReadsTheMemberOfOverlaysOperationalAttribute(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.WithMemberOf())
	for _, ou := range []string{"people", "groups"} {
		srv.Add(t, "ou="+ou+","+ldaptest.Suffix, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {ou}})
	}
	for _, name := range []string{"ann", "bob"} {
		srv.Add(t, "cn="+name+","+people, map[string][]string{"objectClass": {"inetOrgPerson"}, "cn": {name}, "sn": {name}})
	}
	srv.Add(t, "cn=dev,"+teams, map[string][]string{"objectClass": {"groupOfNames"}, "cn": {"dev"}, "member": {"cn=ann," + people}})
	srv.Add(t, "cn=all,"+teams, map[string][]string{"objectClass": {"groupOfNames"}, "cn": {"all"}, "member": {"cn=bob," + people, "cn=dev," + teams}})

	cfg := rootConfig(srv)
	cfg.Users.Attributes = []string{"cn"}
	snap := mustRead(t, cfg)
	for _, u := range snap.Users {
		if len(source.Values(u.Attributes, "memberOf")) != 1 {
			t.Errorf("%s: memberOf = %v, want the overlay's one group", source.Get(u.Attributes, "cn"), source.Values(u.Attributes, "memberOf"))
		}
	}
	want := map[string][]string{"dev": {"ann"}, "all": {"bob", "dev"}}
	if got := names(t, snap); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("membership:\n got %v\nwant %v", got, want)
	}
}
