package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

const (
	enterpriseURN = schema.EnterpriseUserURN
	acmeURN       = "urn:example:params:scim:schemas:extension:acme:2.0:User"
)

// acmeSchema is a custom User extension with an attribute of every type.
const acmeSchema = `{
	"id": "` + acmeURN + `",
	"name": "AcmeUser",
	"attributes": [
		{"name": "level", "type": "integer"},
		{"name": "score", "type": "decimal"},
		{"name": "vip", "type": "boolean"},
		{"name": "hired", "type": "dateTime"},
		{"name": "tags", "type": "string", "multiValued": true},
		{"name": "code", "type": "string", "caseExact": true},
		{"name": "badges", "type": "integer", "multiValued": true},
		{"name": "shifts", "type": "dateTime", "multiValued": true},
		{"name": "homepage", "type": "reference", "referenceTypes": ["external"]},
		{"name": "site", "type": "complex", "subAttributes": [
			{"name": "building", "type": "string"},
			{"name": "floor", "type": "integer"}
		]}
	]
}`

// fixtureUser is a user as a client sends it, with what the store adds.
type fixtureUser struct {
	id       string
	modified string // meta.lastModified; meta.created is a day earlier
	version  int64
	body     string
}

var fixtureUsers = []fixtureUser{
	// RFC 7643 §8.2, with the enterprise extension of §8.3.
	{"u-bjensen-full", "2011-05-13T04:42:34Z", 3, `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "` + enterpriseURN + `"],
		"externalId": "bjensen",
		"userName": "bjensen@example.com",
		"name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara",
			"middleName": "Jane", "honorificPrefix": "Ms.", "honorificSuffix": "III"},
		"displayName": "Babs Jensen",
		"nickName": "Babs",
		"profileUrl": "https://login.example.com/bjensen",
		"emails": [
			{"value": "bjensen@example.com", "type": "work", "primary": true},
			{"value": "babs@jensen.org", "type": "home"}
		],
		"addresses": [
			{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "region": "CA",
				"postalCode": "91608", "country": "USA", "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA", "primary": true},
			{"type": "home", "streetAddress": "456 Hollywood Blvd", "locality": "Hollywood", "region": "CA",
				"postalCode": "91608", "country": "USA"}
		],
		"phoneNumbers": [{"value": "555-555-5555", "type": "work"}, {"value": "555-555-4444", "type": "mobile"}],
		"ims": [{"value": "someaimhandle", "type": "aim"}],
		"photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"}],
		"userType": "Employee",
		"title": "Tour Guide",
		"preferredLanguage": "en-US",
		"locale": "en-US",
		"timezone": "America/Los_Angeles",
		"active": true,
		"password": "t1meMa$heen",
		"x509Certificates": [{"value": "TUlJRERqQ0NBbmVnQXdJQkFnSUpBTw=="}],
		"` + enterpriseURN + `": {
			"employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
			"division": "Theme Park", "department": "Tour Operations",
			"manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
		}
	}`},
	{"u-bjensen", "2011-05-13T04:42:34.000000001Z", 1, `{"userName": "bjensen", "title": "Tour Guide", "userType": "Employee",
		"emails": [{"value": "bjensen@example.org", "type": "home"}], "active": false,
		"` + enterpriseURN + `": {"department": "R&D", "manager": {"value": "u-jsmith"}}}`},
	{"u-jsmith", "2011-05-13T04:42:33.999999999Z", 2, `{"userName": "jsmith", "userType": "Intern", "externalId": "JS-1",
		"name": {"givenName": "John", "familyName": "Smith"}, "active": true,
		"emails": [{"value": "john@example.org", "type": "work"}, {"value": "jsmith@example.com", "type": "home", "primary": true}],
		"ims": [{"value": "js@foo.com", "type": "xmpp"}]}`},
	{"u-jane", "2010-01-01T00:00:00Z", 1, `{"userName": "Jane.Doe", "displayName": "Jane Doe", "userType": "Employee", "title": "Manager",
		"emails": [{"value": "jane@home.example.com", "type": "work"}, {"value": "jane@example.com", "type": "home"}],
		"ims": [{"value": "jane@bar.com", "type": "xmpp"}, {"value": "jane@foo.com", "type": "gtalk"}]}`},
	{"u-john", "2012-02-29T12:00:00+01:00", 5, `{"userName": "JOHN", "externalId": "john", "active": false, "userType": "Contractor"}`},
	{"u-omalley", "2011-05-13T06:42:34+02:00", 1, `{"userName": "omalley", "name": {"familyName": "O'Malley", "givenName": "Sean"},
		"emails": [{"value": "sean@omalley.ie"}], "` + enterpriseURN + `": {"manager": {"value": "26118915-6090-4610-87E4-49D8CA9F808D"}}}`},
	{"u-arger", "2024-03-01T10:00:00Z", 1, `{"userName": "Ärger", "name": {"givenName": "Ärni", "familyName": "Ärger"}, "displayName": "ÄRNI ÄRGER"}`},
	{"u-ilkay", "2024-03-01T10:00:00.5Z", 1, `{"userName": "İlkay", "displayName": "İlkay Işık", "name": {"givenName": "İlkay"}}`},
	{"u-jessica", "2024-03-02T00:00:00Z", 2, `{"userName": "Jeſſica", "emails": [{"value": "JESSICA@EXAMPLE.COM", "type": "Work"}]}`},
	{"u-odysseus", "2024-03-03T00:00:00Z", 1, `{"userName": "ΟΔΥΣΣΕΥΣ", "nickName": "Οδυσσεύς"}`},
	{"u-dzemal", "2024-03-04T00:00:00Z", 1, `{"userName": "ǅemal", "title": "ǄEMAL"}`},
	{"u-empty", "2024-03-05T00:00:00Z", 1, `{"userName": "", "title": "", "externalId": "", "emails": [{"value": "", "type": ""}],
		"` + acmeURN + `": {"tags": [""], "code": ""}}`},
	{"u-nul", "2024-03-06T00:00:00Z", 1, `{"userName": "nul\u0000byte", "title": "nul\u0000"}`},
	{"u-wild", "2024-03-07T00:00:00Z", 1, `{"userName": "sam%_x", "displayName": "100% _real_"}`},
	{"u-sassy", "2024-03-08T00:00:00Z", 1, `{"userName": "SassySusans"}`},
	{"u-nine-s", "2024-03-09T00:00:00Z", 1, `{"userName": "ssssssssSx", "nickName": "ſ"}`},
	{"u-bare", "2025-01-01T00:00:00Z", 1, `{"userName": "bare"}`},
	{"u-work-home", "2025-01-02T00:00:00Z", 1, `{"userName": "mixer", "userType": "Employee",
		"emails": [{"value": "a@home.net", "type": "work"}, {"value": "b@example.com", "type": "home"}]}`},
	{"u-acme1", "2020-01-01T00:00:00Z", 1, `{"userName": "acme1", "` + acmeURN + `": {
		"level": 1, "score": 2.5, "vip": true, "hired": "2020-01-01T00:00:00Z", "tags": ["Red", "blue"], "code": "AbC",
		"badges": [1, 2, 3], "shifts": ["2021-01-01T08:00:00+08:00", "2021-01-02T08:00:00Z"],
		"homepage": "https://Acme.example.com/one", "site": {"building": "B1", "floor": 3}}}`},
	{"u-acme2", "2020-01-02T00:00:00Z", 1, `{"userName": "acme2", "` + acmeURN + `": {
		"level": 5, "score": 2, "vip": false, "hired": "2020-01-01T01:00:00+01:00", "tags": ["GREEN"], "code": "abc",
		"badges": [5], "site": {"building": "b2"}}}`},
	{"u-acme3", "2020-01-03T00:00:00Z", 1, `{"userName": "acme3", "` + acmeURN + `": {
		"level": 10, "score": 0.1, "hired": "2019-12-31T23:00:00.5-01:00", "tags": ["blue", "Blue"], "code": "B",
		"site": {"floor": 0}}}`},
	{"u-acme4", "2020-01-04T00:00:00Z", 1, `{"userName": "acme4", "` + acmeURN + `": {
		"level": -3, "score": 100000000000000000000, "vip": "False", "hired": "2020-01-01T00:00:00.000000001Z"}}`},
	{"u-acme5", "2020-01-05T00:00:00Z", 1, `{"userName": "acme5", "` + acmeURN + `": {
		"level": 9007199254740993, "score": 1152921504606846976, "hired": "2020-06-01T12:00:00", "shifts": ["0000-01-01T00:00:00+01:00"]}}`},
	{"u-acme6", "2020-01-06T00:00:00Z", 1, `{"userName": "acme6", "` + acmeURN + `": {
		"level": 0, "score": -0.5, "vip": true, "hired": "9999-12-31T23:30:00-01:00"}}`},
	{"u-binary", "2021-01-01T00:00:00Z", 1, `{"userName": "binary", "x509Certificates": [{"value": "QUJD"}, {"value": "ZGVm"}],
		"profileUrl": "HTTPS://Example.com/binary", "active": true}`},
	{"u-addr", "2021-01-02T00:00:00Z", 1, `{"userName": "addr", "addresses": [{"type": "work", "postalCode": "10001", "country": "usa"},
		{"type": "home", "postalCode": "91210", "primary": true}], "phoneNumbers": [{"value": "+1 555", "type": "mobile", "primary": true}]}`},
	{"u-group-user", "2021-01-03T00:00:00Z", 1, `{"userName": "cycler", "displayName": "In a Cycle"}`},
	{"u-ent-only", "2021-01-04T00:00:00Z", 1, `{"userName": "entonly", "` + enterpriseURN + `": {"employeeNumber": "5", "division": ""}}`},
	{"u-ent-empty", "2021-01-05T00:00:00Z", 1, `{"userName": "entempty", "` + enterpriseURN + `": {"manager": {"value": ""}}}`},
	{"u-lang", "2021-01-06T00:00:00Z", 4, `{"userName": "lang", "preferredLanguage": "fr-CA", "locale": "fr-CA", "timezone": "America/Montreal",
		"nickName": "Straße", "title": "STRASSE", "entitlements": [{"value": "Admin"}], "roles": [{"value": "owner", "primary": true}]}`},
}

// fixtureGroup is a group with its member rows.
type fixtureGroup struct {
	dir      string
	id       string
	modified string
	body     string
	members  [][2]string // member id, member type
}

var fixtureGroups = []fixtureGroup{
	{"d1", "g-tour", "2011-05-13T04:42:34Z", `{"displayName": "Tour Guides", "externalId": "grp-1"}`,
		[][2]string{{"u-bjensen-full", "User"}, {"u-bjensen", "User"}, {"g-nested", "Group"}}},
	{"d1", "g-nested", "2012-01-01T00:00:00Z", `{"displayName": "Nested"}`,
		[][2]string{{"u-jsmith", "User"}, {"u-jane", "User"}}},
	{"d1", "g-top", "2013-01-01T00:00:00Z", `{"displayName": "Top"}`,
		[][2]string{{"g-tour", "Group"}, {"u-jsmith", "User"}}},
	{"d1", "g-cycle-a", "2014-01-01T00:00:00Z", `{"displayName": "Cycle A"}`,
		[][2]string{{"g-cycle-b", "Group"}, {"u-group-user", "User"}}},
	{"d1", "g-cycle-b", "2014-01-02T00:00:00Z", `{"displayName": "Cycle B"}`,
		[][2]string{{"g-cycle-a", "Group"}}},
	{"d1", "g-empty", "2015-01-01T00:00:00Z", `{"displayName": "Empty"}`, nil},
	{"d1", "g-admins", "2016-01-01T00:00:00Z", `{"displayName": "Ädmins", "externalId": "ADM"}`,
		[][2]string{{"u-arger", "User"}, {"u-ilkay", "user"}, {"u-missing", "User"}}},
	// As read back, a group may lack the displayName held in r.name.
	{"d1", "g-nameless", "2017-01-01T00:00:00Z", `{"externalId": "nameless"}`, nil},
	// Another directory, whose memberships must not leak into d1.
	{"d2", "g-empty", "2015-01-01T00:00:00Z", `{"displayName": "Empty"}`,
		[][2]string{{"u-omalley", "User"}, {"u-bare", "User"}}},
	{"d2", "g-other", "2015-01-01T00:00:00Z", `{"displayName": "Other"}`,
		[][2]string{{"g-empty", "Group"}}},
}

// filterFixture is a database holding the fixture, and the resources of
// directory d1 as filter.Match sees them: with id, meta, and the members
// (groups) or groups (users) the store computes on read.
type filterFixture struct {
	db     *sql.DB
	users  *schema.ResourceType
	groups *schema.ResourceType
	data   map[string]map[string]map[string]any // type name → id → attributes
}

func newFilterFixture(t *testing.T) *filterFixture {
	t.Helper()
	reg := schema.NewRegistry()
	ext, err := schema.Parse([]byte(acmeSchema))
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.AddExtension("User", ext, false); err != nil {
		t.Fatal(err)
	}
	fx := &filterFixture{
		db:     openFilterDB(t),
		users:  reg.ResourceType("User"),
		groups: reg.ResourceType("Group"),
		data:   map[string]map[string]map[string]any{"User": {}, "Group": {}},
	}
	for _, dir := range []string{"d1", "d2"} {
		fx.exec(t, `INSERT INTO directories (id, name, name_key, created) VALUES (?, ?, ?, ?)`,
			dir, dir, dir, "2010-01-01T00:00:00.000000000Z")
	}

	// Decoded resources and the names members display, by directory and id.
	type stored struct {
		r        *resource.Resource
		created  time.Time
		modified time.Time
		version  int64
	}
	d1 := map[string]stored{}
	display := map[string]string{}
	put := func(dir, id string, rt *schema.ResourceType, modified string, version int64, body string) {
		t.Helper()
		// Users as clients send them; groups, and the user with an empty
		// userName (which older data may hold), as the store reads them back
		// (not validated), so that one can lack its displayName.
		r, err := resource.Decode(rt, []byte(body), resource.Options{Response: rt.Name == "Group" || id == "u-empty"})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		m, err := schema.ParseDateTime(modified)
		if err != nil {
			t.Fatal(err)
		}
		c := m.Add(-24 * time.Hour)
		name, _ := r.Attrs[store.NameAttr(rt)].(string)
		attrs := make(map[string]any, len(r.Attrs))
		for k, v := range r.Attrs {
			switch k {
			case "id", "meta", "members", "groups":
			default:
				attrs[k] = v
			}
		}
		js, err := json.Marshal(attrs)
		if err != nil {
			t.Fatal(err)
		}
		var ext any
		if s := r.ExternalID(); s != "" {
			ext = s
		}
		fx.exec(t, `INSERT INTO resources
			(directory_id, type, id, name, name_key, external_id, created, last_modified, version, attrs)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			dir, rt.Name, id, name, strings.ToLower(name), ext, c.UTC().Format(timeFormat), m.UTC().Format(timeFormat), version, string(js))
		if dir == "d1" {
			d1[id] = stored{r, c, m, version}
			if dn, ok := r.Attrs["displayName"].(string); ok {
				name = dn
			}
			display[id] = name
		}
	}
	for _, u := range fixtureUsers {
		put("d1", u.id, fx.users, u.modified, u.version, u.body)
	}
	for _, g := range fixtureGroups {
		put(g.dir, g.id, fx.groups, g.modified, 1, g.body)
		for _, m := range g.members {
			fx.exec(t, `INSERT INTO members (directory_id, group_id, member_id, member_type) VALUES (?, ?, ?, ?)`,
				g.dir, g.id, m[0], m[1])
		}
	}

	// What the store computes on read, computed here without SQL: a
	// group's members, and a user's groups, direct and through nested
	// groups.
	parents := map[string][]string{} // member id → groups it is a direct member of
	members := map[string][]any{}
	for _, g := range fixtureGroups {
		if g.dir != "d1" {
			continue
		}
		for _, m := range g.members {
			parents[m[0]] = append(parents[m[0]], g.id)
			v := map[string]any{"value": m[0], "type": m[1]}
			if d := display[m[0]]; d != "" {
				v["display"] = d
			}
			members[g.id] = append(members[g.id], v)
		}
	}
	groupsOf := func(id string) []any {
		direct := map[string]bool{}
		for _, g := range parents[id] {
			direct[g] = true
		}
		seen := map[string]bool{}
		queue := slices.Clone(parents[id])
		for len(queue) > 0 {
			g := queue[0]
			queue = queue[1:]
			if !seen[g] {
				seen[g] = true
				queue = append(queue, parents[g]...)
			}
		}
		var out []any
		for _, g := range slices.Sorted(maps.Keys(seen)) {
			typ := "indirect"
			if direct[g] {
				typ = "direct"
			}
			out = append(out, map[string]any{"value": g, "display": display[g], "type": typ})
		}
		return out
	}
	for id, s := range d1 {
		r := s.r.Clone()
		r.SetID(id)
		r.SetMeta(resource.Meta{Created: s.created, LastModified: s.modified, Version: store.ETag(s.version)})
		if r.Type.Name == "User" {
			if gs := groupsOf(id); len(gs) > 0 {
				r.Attrs["groups"] = gs
			}
		} else if ms := members[id]; len(ms) > 0 {
			r.Attrs["members"] = ms
		}
		fx.data[r.Type.Name][id] = r.Attrs
	}
	return fx
}

// openFilterDB opens a new database file with the tables of the first
// migration.
func openFilterDB(t *testing.T) *sql.DB {
	t.Helper()
	registerFunctions()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "filter.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	text, err := os.ReadFile("migrations/00001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	_, up, ok := strings.Cut(string(text), "-- +goose Up")
	up, _, ok2 := strings.Cut(up, "-- +goose Down")
	if !ok || !ok2 {
		t.Fatal("migrations/00001_init.sql: no Up section")
	}
	if _, err := db.Exec(up); err != nil {
		t.Fatal(err)
	}
	return db
}

func (fx *filterFixture) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if _, err := fx.db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// selectIDs returns the ids of the resources of type rt in d1 that cond
// selects, sorted.
func (fx *filterFixture) selectIDs(t *testing.T, rt *schema.ResourceType, cond string, args []any) []string {
	t.Helper()
	rows, err := fx.db.Query(`SELECT r.id FROM resources r WHERE r.directory_id = ? AND r.type = ? AND (`+cond+`) ORDER BY r.id`,
		append([]any{"d1", rt.Name}, args...)...)
	if err != nil {
		t.Fatalf("%s: %v", cond, err)
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", cond, err)
	}
	return ids
}

// matchIDs returns the ids of the resources of type rt in d1 that
// filter.Match selects, sorted.
func (fx *filterFixture) matchIDs(rt *schema.ResourceType, f filter.Expr) []string {
	ids := []string{}
	for id, data := range fx.data[rt.Name] {
		if filter.Match(f, data) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// rfcUserFilters are the examples of RFC 7644 §3.4.2.2 that apply to users.
var rfcUserFilters = []string{
	`userName eq "bjensen"`,
	`name.familyName co "O'Malley"`,
	`userName sw "J"`,
	`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
	`title pr`,
	`meta.lastModified gt "2011-05-13T04:42:34Z"`,
	`meta.lastModified ge "2011-05-13T04:42:34Z"`,
	`meta.lastModified lt "2011-05-13T04:42:34Z"`,
	`meta.lastModified le "2011-05-13T04:42:34Z"`,
	`title pr and userType eq "Employee"`,
	`title pr or userType eq "Intern"`,
	`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
	`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
	`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
	`userType eq "Employee" and (emails.type eq "work")`,
	`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
	`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
}

var userFilters = []string{
	// userName: the name column, folded as eq and the other operators fold.
	`userName eq "BJENSEN"`,
	`userName eq "bJensen@Example.com"`,
	`userName ne "bjensen"`,
	`userName eq "ärger"`,
	`userName eq "ÄRGER"`,
	`userName eq "ilkay"`, // same lower case as İlkay, but not equal under EqualFold
	`userName eq "İLKAY"`,
	`userName eq "jessica"`, // ſ folds with s
	`userName eq "JESSICA"`,
	`userName eq "jeſſica"`,
	`userName eq "οδυσσευς"`, // final sigma folds with Σ
	`userName eq "Οδυσσευσ"`,
	`userName eq "ǆemal"`,
	`userName eq "Ǆemal"`,
	`userName sw "ǆ"`,
	`userName eq "nul"`,
	`userName eq "nul\u0000byte"`,
	`userName co "\u0000"`,
	`userName eq ""`,
	`userName pr`,
	`not (userName pr)`,
	`userName eq null`,
	`userName sw "i"`,
	`userName sw "är"`,
	`userName sw "Ä"`,
	`userName co "%"`,
	`userName co "_"`,
	`userName co "M%_"`,
	`userName ew "@EXAMPLE.com"`,
	`userName ew ""`,
	`userName co ""`,
	`userName sw ""`,
	`userName gt "j"`,
	`userName ge "jane.doe"`,
	`userName lt "b"`,
	`userName le "bjensen"`,
	`userName lt "a"`,
	`userName gt "ä"`,
	`userName eq "sassysusans"`,
	`userName eq "SSSSSSSSSX"`, // more spellings than maxNameVariants
	`userName sw "ssss"`,
	`userName ew "x"`,
	// Other strings in attrs.
	`displayName eq "babs jensen"`,
	`displayName co "JENSEN"`,
	`displayName co "% _"`,
	`displayName eq "ärni ärger"`,
	`displayName pr`,
	`displayName ne "Babs Jensen"`,
	`nickName eq "ς"`,
	`nickName eq "S"`,
	`nickName eq "οδυσσεύς"`,
	`nickName eq "STRASSE"`,
	`title eq "ǆemal"`,
	`title eq "strasse"`,
	`title eq ""`,
	`title eq null`,
	`title ne "Tour Guide"`,
	`title co "\u0000"`,
	`title lt "n"`,
	`title ge ""`,
	`name.familyName eq "jensen"`,
	`name.givenName sw "ä"`,
	`name.givenName sw "İ"`,
	`name.givenName ew "LKAY"`,
	`name pr`,
	`not (name pr)`,
	`name.familyName co "'"`,
	`name[givenName eq "Barbara" and familyName eq "Jensen"]`,
	`name[givenName eq "barbara" and not (familyName eq "Smith")]`,
	`name[not (givenName eq "x")]`,
	`name[middleName pr or givenName sw "J"]`,
	// externalId: the column for eq, attrs for the rest.
	`externalId eq "bjensen"`,
	`externalId eq "BJENSEN"`,
	`externalId ne "bjensen"`,
	`externalId pr`,
	`externalId eq ""`,
	`externalId eq null`,
	`externalId sw "j"`,
	`externalId co ""`,
	`externalId lt "c"`,
	// id.
	`id eq "u-bjensen"`,
	`id eq "U-BJENSEN"`,
	`id sw "u-j"`,
	`id pr`,
	`id ne "u-bjensen"`,
	`id gt "u-o"`,
	// Multi-valued complex attributes and value paths.
	`emails pr`,
	`not (emails pr)`,
	`emails eq "BJENSEN@example.com"`,
	`emails.value pr`,
	`emails.type eq "work"`,
	`emails[type eq "work"] and emails[value co "@example.com"]`,
	`emails.type eq "work" and emails.value co "@example.com"`,
	`emails[primary eq true]`,
	`emails[not (primary eq true)]`,
	`emails.primary eq false`,
	`emails.primary ne true`,
	`emails ne "bjensen@example.com"`,
	`emails[value eq ""]`,
	`emails[value pr]`,
	`emails[type eq null]`,
	`emails co ""`,
	`emails.value eq null`,
	`emails[type eq "work"].value ew ".COM"`,
	`emails[type eq "work" or type eq "home"]`,
	`addresses[type eq "work" and postalCode sw "91"]`,
	`addresses.primary eq true`,
	`addresses.country eq "usa"`,
	`addresses[country eq "USA" and not (primary pr)]`,
	`phoneNumbers[type eq "mobile" and primary eq true]`,
	`ims[type eq "xmpp"]`,
	`x509Certificates.value eq "qujd"`,
	`x509Certificates sw "ZG"`,
	`x509Certificates pr`,
	`entitlements eq "admin"`,
	`roles[primary eq true and value eq "OWNER"]`,
	`profileUrl sw "https://"`,
	`profileUrl co "EXAMPLE.COM/"`,
	// Booleans.
	`active eq true`,
	`active eq false`,
	`active ne true`,
	`active pr`,
	`not (active eq false)`,
	`active eq "False"`,
	// The enterprise extension, URN-qualified or not.
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tour operations"`,
	`department co "&"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87E4-49D8CA9F808D"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value sw "2611"]`,
	`manager pr`,
	`not (urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value pr])`,
	`manager[not (value eq "x")]`,
	`manager eq "U-JSMITH"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber gt "5"`,
	`division pr`,
	`division eq ""`,
	// The custom extension: numbers, booleans, dateTimes, multi-valued primitives.
	`level gt 3`,
	`level ge 5`,
	`level eq 9007199254740993`,
	`level eq 9007199254740992`,
	`level eq 9007199254740992.0`,
	`level lt 1.5`,
	`level ne 5`,
	`level pr`,
	`level eq null`,
	`level le 0`,
	`urn:example:params:scim:schemas:extension:acme:2.0:User:level lt 0`,
	`score gt 2`,
	`score eq 2`,
	`score eq 0.1`,
	`score lt 1e21`,
	`score ge 1e20`,
	`score eq 1152921504606846976`,
	`score le -0.5`,
	`vip eq true`,
	`vip eq false`,
	`vip ne true`,
	`vip pr`,
	`hired eq "2020-01-01T00:00:00Z"`,
	`hired eq "2020-01-01T02:00:00+02:00"`,
	`hired gt "2020-01-01T00:00:00Z"`,
	`hired ge "2020-01-01T00:00:00.000000001Z"`,
	`hired le "2019-12-31T23:59:59.999999999Z"`,
	`hired lt "2020-01-01T01:00:00+01:00"`,
	`hired eq "2020-06-01T12:00:00"`,
	`hired eq "2020-06-01T12:00:00Z"`,
	`hired gt "9999-12-31T23:59:59Z"`,
	`hired pr`,
	`not (hired lt "2021-01-01T00:00:00Z")`,
	`tags eq "red"`,
	`tags co "E"`,
	`tags pr`,
	`tags eq ""`,
	`tags ne "blue"`,
	`tags gt "b"`,
	`code eq "abc"`,
	`code eq "AbC"`,
	`code sw "A"`,
	`code gt "B"`,
	`code ge "B"`,
	`code pr`,
	`badges eq 2`,
	`badges gt 2`,
	`badges ne 5`,
	`shifts gt "2021-01-01T00:00:00Z"`,
	`shifts lt "0000-01-01T00:00:00Z"`,
	`shifts eq "2021-01-01T00:00:00Z"`,
	`homepage sw "https://acme"`,
	`site.floor ge 3`,
	`site.floor eq 0`,
	`site[building eq "b1" and floor eq 3]`,
	`site[not (floor pr)]`,
	`site pr`,
	// schemas.
	`schemas eq "urn:example:params:scim:schemas:extension:acme:2.0:User"`,
	`schemas eq "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"`,
	`schemas ne "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
	`schemas co "ACME"`,
	`schemas pr`,
	`not (schemas pr)`,
	`schemas eq null`,
	`schemas sw "urn:ietf:params:scim:schemas:extension"`,
	`urn:ietf:params:scim:schemas:core:2.0:User:schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"`,
	// meta.
	`meta.lastModified eq "2011-05-13T06:42:34+02:00"`,
	`meta.lastModified gt "2011-05-13T04:42:34.000000000Z"`,
	`meta.lastModified lt "9999-12-31T23:59:59-12:00"`,
	`meta.lastModified gt "0000-01-01T00:00:00+01:00"`,
	`meta.lastModified ge "2011-05-13T04:42:33.999999999Z" and meta.lastModified le "2011-05-13T04:42:34.000000001Z"`,
	`meta.created ge "2011-01-01T00:00:00Z" and meta.created lt "2012-01-01T00:00:00Z"`,
	`meta.created pr`,
	`meta.resourceType eq "User"`,
	`meta.resourceType eq "user"`,
	`meta.version eq "W/\"2\""`,
	`meta.version ne "W/\"1\""`,
	`meta.version eq "W/\"02\""`,
	`meta.version sw "W/"`,
	`meta pr`,
	`meta[lastModified ge "2012-01-01T00:00:00Z" and version eq "W/\"1\""]`,
	// groups, computed from the memberships.
	`groups pr`,
	`not (groups pr)`,
	`groups.value eq "g-top"`,
	`groups eq "G-TOP"`,
	`groups[value eq "g-tour" and type eq "indirect"]`,
	`groups[value eq "g-tour" and type eq "direct"]`,
	`groups.type eq "indirect"`,
	`groups.type eq "DIRECT"`,
	`groups.display eq "tour guides"`,
	`groups[display sw "Cyc"]`,
	`groups.value eq "g-empty"`,
	`groups.value ne "g-top"`,
	`groups.value co "cycle"`,
	`groups.value pr`,
	`groups[not (type eq "direct")]`,
	// and, or, not and their precedence.
	`title pr or userType eq "Intern" and active eq true`,
	`(title pr or userType eq "Intern") and active eq true`,
	`not (not (active eq true))`,
	`not (userName sw "j" or userName sw "b") and not (emails pr)`,
	`userType eq "Employee" or not (userType pr)`,
	`not (title pr and active eq true) or level gt 1`,
}

var groupFilters = []string{
	`displayName eq "tour guides"`,
	`displayName sw "T"`,
	`displayName co "ädm"`,
	`displayName eq "ÄDMINS"`,
	`displayName lt "D"`,
	`displayName le "b"`,
	`displayName eq ""`,
	`displayName ge ""`,
	`not (displayName pr)`,
	`members pr`,
	`not (members pr)`,
	`members eq "u-bjensen"`,
	`members.value eq "U-BJENSEN"`,
	`members[value eq "g-nested" and type eq "group"]`,
	`members.type eq "Group"`,
	`members[type eq "User"]`,
	`members[type eq "user" and value ew "ilkay"]`,
	`members.value sw "u-j"`,
	`members ne "u-bjensen"`,
	`members.value eq null`,
	`members[value eq "u-omalley"]`,
	`members[not (type eq "User")]`,
	`meta.lastModified gt "2013-01-01T00:00:00Z"`,
	`schemas eq "urn:ietf:params:scim:schemas:core:2.0:Group"`,
	`externalId eq "grp-1"`,
	`externalId eq "adm"`,
	`id eq "g-top"`,
}

// TestWhereMatchesFilterMatch checks that where selects exactly the
// resources filter.Match selects, for every filter of a large table, on a
// real database. For members and groups, Match is given the members and
// groups the store computes on read (computed in Go by the fixture).
func TestWhereMatchesFilterMatch(t *testing.T) {
	fx := newFilterFixture(t)
	cases := []struct {
		rt      *schema.ResourceType
		filters []string
	}{
		{fx.users, rfcUserFilters},
		{fx.users, userFilters},
		{fx.groups, groupFilters},
	}
	total, selective := 0, 0
	for _, c := range cases {
		for _, src := range c.filters {
			t.Run(c.rt.Name+"/"+src, func(t *testing.T) {
				f, err := filter.Parse(src, c.rt)
				if err != nil {
					t.Fatal(err)
				}
				cond, args, err := where(f, c.rt)
				if err != nil {
					t.Fatal(err)
				}
				if n := strings.Count(cond, "?"); n != len(args) {
					t.Fatalf("%d placeholders, %d arguments in %s", n, len(args), cond)
				}
				got := fx.selectIDs(t, c.rt, cond, args)
				want := fx.matchIDs(c.rt, f)
				if !slices.Equal(got, want) {
					t.Errorf("SQL selects %v\nMatch selects %v\nSQL: %s\nargs: %q", got, want, cond, args)
				}
				total++
				if len(want) > 0 && len(want) < len(fx.data[c.rt.Name]) {
					selective++
				}
			})
		}
	}
	// A table of filters that select all or nothing would prove little.
	if total == len(rfcUserFilters)+len(userFilters)+len(groupFilters) && selective*10 < total*8 {
		t.Errorf("only %d of %d filters select some resources but not all", selective, total)
	}
	t.Logf("%d filters, %d of them selective", total, selective)
}

// TestWhereRejectsUnsupported checks that what the store cannot answer is
// a 400 invalidFilter error.
func TestWhereRejectsUnsupported(t *testing.T) {
	fx := newFilterFixture(t)
	tests := []struct {
		rt     *schema.ResourceType
		filter string
	}{
		{fx.groups, `members.display eq "Babs Jensen"`},
		{fx.groups, `members[value eq "u-jane" or display co "x"]`},
		{fx.groups, `members.$ref pr`},
		{fx.users, `groups.$ref pr`},
		{fx.users, `groups[value eq "g-top" and $ref pr]`},
		{fx.users, `meta.location sw "https://"`},
		{fx.groups, `meta[location pr]`},
		{fx.users, `password eq "t1meMa$heen"`},
		{fx.users, `password pr`},
		{fx.users, `not (password sw "t")`},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := filter.Parse(tt.filter, tt.rt)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = where(f, tt.rt)
			if !errors.Is(err, &scim.Error{Status: 400, ScimType: scim.InvalidFilter}) {
				t.Errorf("error = %v, want 400 invalidFilter", err)
			}
		})
	}
	t.Run("an unresolved filter", func(t *testing.T) {
		f, err := filter.Parse(`userName eq "bjensen"`, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = where(f, fx.users)
		if !errors.Is(err, &scim.Error{Status: 400, ScimType: scim.InvalidFilter}) {
			t.Errorf("error = %v, want 400 invalidFilter", err)
		}
	})
}

// TestWhereUsesIndexes checks with EXPLAIN QUERY PLAN that the lookups
// clients make most are answered through an index, not by a scan.
func TestWhereUsesIndexes(t *testing.T) {
	fx := newFilterFixture(t)
	tests := []struct {
		filter string
		index  string
	}{
		{`userName eq "bjensen"`, "USING INDEX resources_name"},
		{`userName eq "Jessica@example.com"`, "USING INDEX resources_name"},
		{`userName sw "bj"`, "USING INDEX resources_name"},
		{`externalId eq "bjensen"`, "USING INDEX resources_external_id"},
		{`id eq "u-bjensen"`, "USING INDEX sqlite_autoindex_resources_1"},
		{`meta.lastModified gt "2020-01-01T00:00:00Z"`, "USING INDEX resources_last_modified"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := filter.Parse(tt.filter, fx.users)
			if err != nil {
				t.Fatal(err)
			}
			cond, args, err := where(f, fx.users)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := fx.db.Query(`EXPLAIN QUERY PLAN SELECT r.id FROM resources r WHERE r.directory_id = ? AND r.type = ? AND (`+cond+`)`,
				append([]any{"d1", "User"}, args...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "\n")
			if !strings.Contains(text, "SEARCH r "+tt.index) || strings.Contains(text, "SCAN r") {
				t.Errorf("plan for %s:\n%s\nwant SEARCH r %s", cond, text, tt.index)
			}
		})
	}
}

// TestLowerVariants checks that lowerVariants finds the lower case of
// every spelling that EqualFold equates.
func TestLowerVariants(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"BJensen", []string{"bjensen", "bjenſen"}},
		{"İlkay", []string{"ilkay"}},
		{"ΣΑ", []string{"σα", "ςα"}},
		{"K", []string{"k"}},
		{"", []string{""}},
	}
	for _, tt := range tests {
		got, ok := lowerVariants(tt.in, 16)
		slices.Sort(got)
		slices.Sort(tt.want)
		if !ok || !slices.Equal(got, tt.want) {
			t.Errorf("lowerVariants(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
	if _, ok := lowerVariants("sssss", 16); ok {
		t.Error(`lowerVariants("sssss", 16) has 32 variants, want ok false`)
	}
}

// TestInstantKeyOrder checks that instantKey orders instants as time does,
// also at the edges of the years a dateTime can reach.
func TestInstantKeyOrder(t *testing.T) {
	texts := []string{
		"0000-01-01T00:00:00+23:59", "0000-01-01T00:00:00+01:00", "0000-01-01T00:00:00Z",
		"2011-05-13T04:42:33.999999999Z", "2011-05-13T06:42:34+02:00", "2011-05-13T04:42:34.000000001Z",
		"9999-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59-23:59",
	}
	for i := 1; i < len(texts); i++ {
		a, _ := schema.ParseDateTime(texts[i-1])
		b, _ := schema.ParseDateTime(texts[i])
		if ka, kb := instantKey(a), instantKey(b); strings.Compare(ka, kb) != a.Compare(b) {
			t.Errorf("instantKey(%s) = %s, instantKey(%s) = %s: wrong order", texts[i-1], ka, texts[i], kb)
		}
	}
}
