package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	ldapv3 "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster/internal/ldaptest"
)

// TestSyncFromLDAP runs roster sync from a real slapd into a real Roster:
// the initial load, then the directory changes (a hire, an email change,
// a rename, a move between teams, a leaver, a group rename, a nested group
// change), a second run that converges, and a third that writes nothing.
func TestSyncFromLDAP(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t)
	people, teams := "ou=people,"+ldaptest.Suffix, "ou=groups,"+ldaptest.Suffix
	for _, ou := range []string{"people", "groups"} {
		srv.Add(t, "ou="+ou+","+ldaptest.Suffix, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {ou}})
	}
	person := func(uid, given, sn string) {
		srv.Add(t, "uid="+uid+","+people, map[string][]string{"objectClass": {"inetOrgPerson", "extensibleObject"}, "uid": {uid},
			"cn": {given + " " + sn}, "givenName": {given}, "sn": {sn}, "mail": {uid + "@example.com"},
			"userAccountControl": {"512"}}) // Active Directory's "enabled"
	}
	person("ada", "Ada", "Lovelace")
	person("alan", "Alan", "Turing")
	person("grace", "Grace", "Hopper")
	srv.Add(t, "cn=compilers,"+teams, map[string][]string{"objectClass": {"groupOfNames"}, "cn": {"compilers"},
		"member": {"uid=grace," + people}})
	srv.Add(t, "cn=engineering,"+teams, map[string][]string{"objectClass": {"groupOfNames"}, "cn": {"engineering"},
		"member": {"uid=ada," + people, "uid=alan," + people, "cn=compilers," + teams}})

	remote := newRoster(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(srv.RootPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "sync.yaml")
	if err := os.WriteFile(cfg, []byte(`source:
  type: ldap
  ldap:
    url: `+srv.URL+`
    bindDN: `+srv.RootDN+`
    bindPasswordFile: pw
    users: {baseDN: "`+people+`"}
    groups: {baseDN: "`+teams+`"}
target:
  url: `+remote[1]+`
  token: `+remote[3]+`
policy:
  maxDeprovision: 3
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := must(t, "sync", "apply", "--config", cfg)
	if rows := summary(t, out); rows["users created"] != "3 3 0" || rows["groups created"] != "2 2 0" || rows["members added"] != "4 4 0" {
		t.Fatalf("initial load:\n%s", out)
	}
	if out := must(t, "sync", "plan", "--config", cfg); !strings.Contains(out, "Nothing to change.") {
		t.Fatalf("right after the load:\n%s", out)
	}

	conn := srv.Conn(t)
	modify := func(dn string, attr string, values ...string) {
		t.Helper()
		req := ldapv3.NewModifyRequest(dn, nil)
		req.Replace(attr, values)
		if err := conn.Modify(req); err != nil {
			t.Fatal(err)
		}
	}
	person("edsger", "Edsger", "Dijkstra")                                            // a hire
	modify("uid=ada,"+people, "mail", "ada.lovelace@example.com")                     // an email change
	modify("uid=ada,"+people, "cn", "Ada King")                                       // a rename
	modify("uid=grace,"+people, "userAccountControl", "514")                          // disabled
	modify("uid=alan,"+people, "cn", "Alan M. Turing")                                // a rename (displayName)
	modify("cn=compilers,"+teams, "member", "uid=edsger,"+people)                     // a move: Grace out, Edsger in
	modify("cn=engineering,"+teams, "member", "uid=ada,"+people, "uid=grace,"+people) // Alan and the nested group out, Grace in
	if err := conn.Del(ldapv3.NewDelRequest("uid=alan,"+people, nil)); err != nil {   // a leaver
		t.Fatal(err)
	}
	if err := conn.ModifyDN(ldapv3.NewModifyDNRequest("cn=compilers,"+teams, "cn=languages", true, "")); err != nil { // a group rename
		t.Fatal(err)
	}
	out = must(t, "sync", "apply", "--config", cfg)
	for _, want := range []string{"create user edsger@example.com", "deactivate user alan@example.com",
		"deactivate user grace@example.com", `displayName: "Ada Lovelace" → "Ada King"`,
		`userName: "ada@example.com" → "ada.lovelace@example.com"`, `rename group "compilers" → languages`, "+edsger@example.com", "-Grace Hopper", "-compilers"} {
		if !strings.Contains(out, want) {
			t.Errorf("the second run lacks %q:\n%s", want, out)
		}
	}
	if out := must(t, "sync", "plan", "--config", cfg); !strings.Contains(out, "Nothing to change.") {
		t.Fatalf("after the changes:\n%s", out)
	}
	users := must(t, append([]string{"users", "list", "-o", "json"}, remote...)...)
	if !strings.Contains(users, "ada.lovelace@example.com") || !strings.Contains(users, `"userName":"alan@example.com"`) {
		t.Fatalf("users:\n%s", users)
	}
	groups := must(t, append([]string{"groups", "list"}, remote...)...)
	if !strings.Contains(groups, "languages") || strings.Contains(groups, "compilers") {
		t.Fatalf("groups:\n%s", groups)
	}

	// Grace is enabled again: reactivated, not recreated; then nothing.
	modify("uid=grace,"+people, "userAccountControl", "512")
	if out := must(t, "sync", "apply", "--config", cfg); !strings.Contains(out, "reactivate user grace@example.com") || summary(t, out)["users created"] != "" {
		t.Fatalf("re-enabling:\n%s", out)
	}
	if out := must(t, "sync", "plan", "--config", cfg); !strings.Contains(out, "Nothing to change.") {
		t.Fatalf("at the end:\n%s", out)
	}
}
