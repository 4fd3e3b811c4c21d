package server_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/server"
)

// The tests in this file replay what Microsoft Entra ID's provisioning
// service sends (../shared/clients/REAL-CLIENTS.md, Entra items 1 to 9).

// entraUser returns a user as Entra creates it (Entra 2): core and
// enterprise attributes, active as the string "True".
func entraUser(userName, externalID, managerID string) string {
	manager := ""
	if managerID != "" {
		manager = fmt.Sprintf(`,"manager":{"value":%q}`, managerID)
	}
	return fmt.Sprintf(`{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId": %q,
		"userName": %q,
		"active": "True",
		"displayName": "Ann Lee",
		"title": "Engineer",
		"emails": [{"primary": true, "type": "work", "value": %q}],
		"name": {"formatted": "Ann Lee", "familyName": "Lee", "givenName": "Ann"},
		"addresses": [{"type": "work", "country": "NZ", "locality": "Wellington"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
			"employeeNumber": "701984",
			"department": "Engineering"%s
		}
	}`, externalID, userName, userName, manager)
}

// Entra 1 and 7: lookups by the matching attribute, and "test connection".
func TestEntraLooksUpByTheMatchingAttribute(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		ann := a.create(t, "/Users", entraUser("Ann.Lee@Contoso.com", "ann-object-id", ""))
		a.create(t, "/Users", entraUser("bob@contoso.com", "bob-object-id", ""))
		g := a.create(t, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Sales","externalId":"sales-object-id"}`)
		a.must(t, http.StatusNoContent, http.MethodPatch, "/Groups/"+g["id"].(string),
			patchOps(fmt.Sprintf(`{"op":"Add","path":"members","value":[{"value":%q}]}`, ann["id"])))

		for _, f := range []string{
			`userName eq "Ann.Lee@Contoso.com"`,
			`userName eq "ann.lee@contoso.com"`,
			`externalId eq "ann-object-id"`,
			`emails[type eq "work"].value eq "Ann.Lee@Contoso.com"`,
			`userName eq "Ann.Lee@Contoso.com" and externalId eq "ann-object-id"`,
		} {
			total, found := a.list(t, "/Users"+query("filter", f))
			if total != 1 || len(found) != 1 || found[0]["id"] != ann["id"] {
				t.Errorf("filter %s found %d users %v, want ann", f, total, ids(found))
			}
		}

		// Test connection: a filter on a value that does not exist (Entra 7).
		for _, path := range []string{
			"/Users" + query("filter", `userName eq "8d4cfa3e-2b4e-4f0e-9c34-0e8f6a1b6c11"`),
			"/Users" + query("filter", `externalId eq "8d4cfa3e-2b4e-4f0e-9c34-0e8f6a1b6c11"`),
			"/Users" + query("filter", `emails[type eq "work"].value eq "nobody@contoso.com"`),
			"/Users" + query("filter", `userName eq "Ann.Lee@Contoso.com" and externalId eq "bob-object-id"`),
			"/Groups" + query("filter", `displayName eq "0b7e3b70-9a0b-4d5e-8fd0-4c2f8f3a8e21"`, "excludedAttributes", "members"),
		} {
			if total, found := a.list(t, path); total != 0 || len(found) != 0 {
				t.Errorf("GET %s found %d resources, want 0", path, total)
			}
		}

		total, found := a.list(t, "/Groups"+query("filter", `displayName eq "sales"`, "excludedAttributes", "members"))
		if total != 1 || found[0]["id"] != g["id"] || found[0]["displayName"] != "Sales" {
			t.Fatalf("the group lookup found %d groups %v, want Sales", total, found)
		}
		if _, ok := found[0]["members"]; ok {
			t.Errorf("excludedAttributes=members still returned members: %v", found[0]["members"])
		}
		// Without excludedAttributes the member is there.
		if _, found := a.list(t, "/Groups"+query("filter", `displayName eq "Sales"`)); !slices.Equal(values(found[0], "members"), []string{ann["id"].(string)}) {
			t.Errorf("the group's members are %v, want ann", found[0]["members"])
		}
	})
}

// Entra 2 and 6: create with the enterprise extension; values stored as sent.
func TestEntraCreatesAUserWithTheEnterpriseExtension(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		boss := a.create(t, "/Users", entraUser("Boss@Contoso.com", "boss-object-id", ""))
		u := a.create(t, "/Users", entraUser("Ann.Lee@Contoso.com", "ann-object-id", boss["id"].(string)))

		if u["active"] != true {
			t.Errorf("active \"True\" was stored as %#v, want true", u["active"])
		}
		if u["userName"] != "Ann.Lee@Contoso.com" || u["externalId"] != "ann-object-id" || at(u, "emails", 0, "value") != "Ann.Lee@Contoso.com" {
			t.Errorf("values were not stored exactly as sent: %v", u)
		}
		if at(u, "addresses", 0, "locality") != "Wellington" || at(u, "name", "formatted") != "Ann Lee" {
			t.Errorf("the created user lost attributes: %v", u)
		}
		if s, _ := u["schemas"].([]any); !slices.Contains(s, any(enterpriseURN)) {
			t.Errorf("schemas %v lack the enterprise extension", u["schemas"])
		}
		if at(u, enterpriseURN, "employeeNumber") != "701984" || at(u, enterpriseURN, "department") != "Engineering" ||
			at(u, enterpriseURN, "manager", "value") != boss["id"] {
			t.Errorf("the enterprise extension is %v", u[enterpriseURN])
		}
		if got := a.get(t, "/Users/"+u["id"].(string)); !jsonEqual(got, u) {
			t.Errorf("GET after POST differs:\n got %v\nwant %v", got, u)
		}

		// Group displayNames are unique (Entra 6), compared without case.
		a.create(t, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Sales"}`)
		a.mustFail(t, http.StatusConflict, "uniqueness", http.MethodPost, "/Groups",
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"SALES"}`)
	})
}

// Entra 3 and 5: PATCH of a user, in both shapes, with capitalised ops.
func TestEntraPatchesAUser(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		boss := a.create(t, "/Users", entraUser("boss@contoso.com", "boss-object-id", ""))["id"].(string)
		id := a.create(t, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@contoso.com",
			"active":true,"name":{"givenName":"Annie","familyName":"Lee"}}`)["id"].(string)
		path := "/Users/" + id

		patch := func(ops ...string) map[string]any {
			t.Helper()
			r := a.do(t, http.MethodPatch, path, patchOps(ops...))
			res := r.must(t, http.StatusOK)
			checkETag(t, r, res)
			if got := a.get(t, path); !jsonEqual(got, res) {
				t.Fatalf("GET after PATCH differs from the PATCH's answer:\n got %v\nwant %v", got, res)
			}
			return res
		}

		u := patch(`{"op":"Replace","path":"active","value":"False"}`)
		if u["active"] != false {
			t.Errorf(`Replace active "False" left active %#v`, u["active"])
		}

		u = patch(`{"op":"Replace","value":{"active":true,"name.givenName":"Ann","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"R&D"}}`)
		if u["active"] != true || at(u, "name", "givenName") != "Ann" || at(u, "name", "familyName") != "Lee" || at(u, enterpriseURN, "department") != "R&D" {
			t.Errorf("the path-less Replace of dotted and URN keys gave %v", u)
		}

		// Adds through a filter that matches nothing build one element.
		u = patch(`{"op":"Add","path":"emails[type eq \"work\"].value","value":"ann@contoso.com"}`)
		u = patch(`{"op":"Add","path":"emails[type eq \"work\"].primary","value":"True"}`)
		emails, _ := u["emails"].([]any)
		if len(emails) != 1 || at(emails, 0, "value") != "ann@contoso.com" || at(emails, 0, "type") != "work" || at(emails, 0, "primary") != true {
			t.Errorf("two adds through emails[type eq \"work\"] gave emails %v, want one primary work email", u["emails"])
		}
		u = patch(`{"op":"Replace","path":"emails[type eq \"home\"].value","value":"ann@home.example"}`)
		if emails, _ := u["emails"].([]any); len(emails) != 2 || at(emails, 1, "value") != "ann@home.example" || at(emails, 1, "type") != "home" {
			t.Errorf("a Replace through a filter that matches nothing gave emails %v, want the home email added", u["emails"])
		}

		u = patch(`{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"` + boss + `"}`)
		if at(u, enterpriseURN, "manager", "value") != boss || at(u, enterpriseURN, "department") != "R&D" {
			t.Errorf("Replace manager with a plain id gave %v", u[enterpriseURN])
		}
		u = patch(`{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}`)
		if at(u, enterpriseURN, "manager") != nil || at(u, enterpriseURN, "department") != "R&D" {
			t.Errorf("Remove manager gave %v", u[enterpriseURN])
		}
		patch(`{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"` + boss + `"}`)
		u = patch(`{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq \"` + boss + `\"]"}`)
		if at(u, enterpriseURN, "manager") != nil {
			t.Errorf("Remove manager[value eq ID] gave %v, want no manager", u[enterpriseURN])
		}

		// Capitalised and upper-case ops are applied, not ignored.
		u = patch(`{"op":"Add","path":"nickName","value":"Annie"}`, `{"op":"REPLACE","path":"title","value":"Lead"}`)
		if u["nickName"] != "Annie" || u["title"] != "Lead" {
			t.Errorf("Add/REPLACE gave nickName %v title %v", u["nickName"], u["title"])
		}
		u = patch(`{"op":"Remove","path":"nickName"}`)
		if _, ok := u["nickName"]; ok || u["title"] != "Lead" {
			t.Errorf("Remove nickName gave %v", u)
		}

		// Entra 8: an empty Operations array is a no-op.
		before := a.get(t, path)
		a.must(t, http.StatusOK, http.MethodPatch, path, patchOps())
		a.unchanged(t, path, before)

		// Entra 5: disable, then delete once the source object is gone.
		u = patch(`{"op":"Replace","path":"active","value":"False"}`)
		if u["active"] != false {
			t.Fatalf("disable left active %#v", u["active"])
		}
		a.must(t, http.StatusNoContent, http.MethodDelete, path, nil)
		a.mustFail(t, http.StatusNotFound, "", http.MethodGet, path, nil)
		if total, _ := a.list(t, "/Users"+query("filter", `userName eq "ann@contoso.com"`)); total != 0 {
			t.Errorf("the deleted user is still found")
		}
		a.mustFail(t, http.StatusNotFound, "", http.MethodDelete, path, nil)
	})
}

// Entra 4 and 8: a group created empty and filled by PATCH.
func TestEntraFillsAGroupByPatch(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		var u []string
		for i := range 5 {
			u = append(u, a.create(t, "/Users", fmt.Sprintf(`{"userName":"user%d@contoso.com"}`, i))["id"].(string))
		}
		g := a.create(t, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"externalId":"g-object-id","displayName":"Sales"}`)
		gid := g["id"].(string)
		path := "/Groups/" + gid

		patch := func(ops ...string) {
			t.Helper()
			a.must(t, http.StatusNoContent, http.MethodPatch, path, patchOps(ops...))
		}
		expect := func(want ...string) {
			t.Helper()
			got := a.get(t, path)
			if m := values(got, "members"); !slices.Equal(m, sorted(want...)) {
				t.Errorf("the group's members are %v, want %v", m, sorted(want...))
			}
			if got["displayName"] != "Sales" || got["externalId"] != "g-object-id" {
				t.Errorf("member changes changed the group: %v", got)
			}
		}
		members := func(op string, ids ...string) string {
			var vals []string
			for _, id := range ids {
				vals = append(vals, fmt.Sprintf(`{"value":%q}`, id))
			}
			return fmt.Sprintf(`{"op":%q,"path":"members","value":[%s]}`, op, strings.Join(vals, ","))
		}

		patch(members("Add", u[0], u[1], u[2]))
		expect(u[0], u[1], u[2])
		patch(members("Add", u[2], u[3]))
		expect(u[0], u[1], u[2], u[3])
		patch(members("Remove", u[1]))
		expect(u[0], u[2], u[3])
		patch(members("Remove", u[0], u[3]))
		expect(u[2])
		patch(members("Add", u[4]), fmt.Sprintf(`{"op":"Remove","path":%q}`, fmt.Sprintf("members[value eq %q]", u[2])))
		expect(u[4])

		// Entra 8: an empty Operations array is a no-op.
		before := a.get(t, path)
		patch()
		a.unchanged(t, path, before)

		// Deleting a member user takes it out of the group.
		a.must(t, http.StatusNoContent, http.MethodDelete, "/Users/"+u[4], nil)
		expect()
	})
}

// Entra's documented group create lists its ADSCIM schema beside the core
// one, and users carry the URNs of custom extensions Entra was configured
// with (issue 11, item 7). By default they are ignored, and logged at debug
// level; Config.Strict refuses them, and the data stays unchanged.
func TestEntraListsSchemasRosterDoesNotDefine(t *testing.T) {
	const (
		adscimGroup = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
		custom      = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"
	)
	group := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","` + adscimGroup + `"],"externalId":"g-object-id","displayName":"Sales","members":[]}`
	user := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + enterpriseURN + `","` + custom + `"],
		"userName":"ann@contoso.com","active":true,
		"` + enterpriseURN + `":{"department":"R&D"},
		"` + custom + `":{"costCode":"42"},"` + custom + `:badge":"B-1"}`
	forEachStore(t, func(t *testing.T) {
		var logs lockedBuffer
		a := newAPI(t, server.Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		g := a.create(t, "/Groups", group)
		if s, _ := g["schemas"].([]any); !slices.Equal(s, []any{groupURN}) {
			t.Errorf("the created group's schemas are %v, want only the core schema", g["schemas"])
		}
		u := a.create(t, "/Users", user)
		if s, _ := u["schemas"].([]any); !slices.Equal(s, []any{userURN, enterpriseURN}) {
			t.Errorf("the created user's schemas are %v, want the core and enterprise schemas", u["schemas"])
		}
		if at(u, enterpriseURN, "department") != "R&D" || u[custom] != nil || u[custom+":badge"] != nil {
			t.Errorf("the created user is %v, want the department and nothing of the custom extension", u)
		}
		uid := u["id"].(string)
		a.must(t, http.StatusOK, http.MethodPut, "/Users/"+uid, strings.Replace(user, `"active":true`, `"active":false`, 1))
		a.must(t, http.StatusOK, http.MethodPatch, "/Users/"+uid,
			patchOps(`{"op":"Replace","path":"`+custom+`:badge","value":"B-2"}`, `{"op":"Replace","path":"title","value":"Lead"}`))
		for _, want := range []string{adscimGroup, custom, custom + ":badge", "POST", "PUT", "PATCH"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("the debug log does not mention %q:\n%s", want, logs.String())
			}
		}

		strict := newAPI(t, server.Config{Strict: true})
		strict.mustFail(t, http.StatusBadRequest, "invalidValue", http.MethodPost, "/Groups", group)
		strict.mustFail(t, http.StatusBadRequest, "invalidValue", http.MethodPost, "/Users", user)
		su := strict.create(t, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@contoso.com"}`)
		path := "/Users/" + su["id"].(string)
		strict.mustFail(t, http.StatusBadRequest, "invalidValue", http.MethodPut, path, user)
		strict.mustFail(t, http.StatusBadRequest, "invalidPath", http.MethodPatch, path,
			patchOps(`{"op":"Replace","path":"title","value":"Lead"}`, `{"op":"Replace","path":"`+custom+`:badge","value":"B-2"}`))
		strict.unchanged(t, path, su)
		if total, _ := strict.list(t, "/Groups"); total != 0 {
			t.Errorf("a refused group create left %d groups", total)
		}
	})
}

// lockedBuffer is a bytes.Buffer that a server's goroutines may log to.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
