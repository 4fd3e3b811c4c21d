package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// The fixture and the filters are those of store/sqlite's filter tests,
// so that both stores are held to filter.Match on the same cases; the
// differences are marked.

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
	// The SQLite fixture's "u-nul" has a NUL in its userName, which
	// PostgreSQL cannot hold (the store rejects it); the filters with NUL
	// literals stay, to show they select nothing and fail nothing.
	{"u-astral", "2024-03-06T00:00:00.123456789Z", 1, `{"userName": "zz\udbff\udfff", "title": "\ud801\udc00dam",
		"nickName": "\ufffd", "emails": [{"value": "Astral@Example.com", "type": "work"}], "` + acmeURN + `": {"code": "Ωé"}}`},
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
	conn   *pgx.Conn
	users  *schema.ResourceType
	groups *schema.ResourceType
	data   map[string]map[string]map[string]any // type name → id → attributes
	order  map[string][]string                  // type name → ids of d1 in creation order
}

func newFilterFixture(t testing.TB) *filterFixture {
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
		conn:   openFilterDB(t),
		users:  reg.ResourceType("User"),
		groups: reg.ResourceType("Group"),
		data:   map[string]map[string]map[string]any{"User": {}, "Group": {}},
		order:  map[string][]string{},
	}
	for _, dir := range []string{"d1", "d2"} {
		fx.exec(t, `INSERT INTO directories (id, name, name_key, created) VALUES ($1, $1, $1, now())`, dir)
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
		// The store keeps microseconds (unlike SQLite's store, which keeps
		// nanoseconds), and so does filter.Match's view of the resource.
		m = m.UTC().Truncate(time.Microsecond)
		c := m.Add(-24 * time.Hour)
		// The columns as the store writes them.
		row, _, err := split(r)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		fx.exec(t, `INSERT INTO resources
			(directory_id, type, id, name, name_key, fold_key, external_id, email_keys, created, last_modified, version, attrs)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			dir, rt.Name, id, row.name, strings.ToLower(row.name), store.FoldKey(row.name), nullString(r.ExternalID()),
			row.emailKeys, c, m, version, row.attrs)
		if dir == "d1" {
			d1[id] = stored{r, c, m, version}
			fx.order[rt.Name] = append(fx.order[rt.Name], id)
			name := row.name
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
			fx.exec(t, `INSERT INTO members (directory_id, group_id, member_id, member_type) VALUES ($1, $2, $3, $4)`,
				g.dir, g.id, m[0], m[1])
		}
	}

	// What the store computes on read, computed here without SQL: a
	// group's members, and a user's groups, direct and through nested
	// groups, both in the order of their ids, as the store returns them.
	parents := map[string][]string{} // member id → groups it is a direct member of
	members := map[string][]any{}
	for _, g := range fixtureGroups {
		if g.dir != "d1" {
			continue
		}
		ms := slices.Clone(g.members)
		slices.SortFunc(ms, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
		for _, m := range ms {
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

// openFilterDB connects to a new database with the tables of the first
// migration and the store's SQL functions.
func openFilterDB(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	text, err := os.ReadFile("migrations/00001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	_, up, ok := strings.Cut(string(text), "-- +goose Up")
	up, _, ok2 := strings.Cut(up, "-- +goose Down")
	if !ok || !ok2 {
		t.Fatal("migrations/00001_init.sql: no Up section")
	}
	if _, err := conn.Exec(ctx, up); err != nil {
		t.Fatal(err)
	}
	// As the store runs them: one Exec, which pgx sends by the simple
	// protocol since it has no arguments.
	if _, err := conn.Exec(ctx, functionsSQL()); err != nil {
		t.Fatal(err)
	}
	return conn
}

func (fx *filterFixture) exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if _, err := fx.conn.Exec(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// selectIDs returns the ids of the resources of type rt in d1 that cond
// selects, sorted.
func (fx *filterFixture) selectIDs(t *testing.T, rt *schema.ResourceType, cond string, args []any) []string {
	t.Helper()
	ids, err := queryStrings(fx.conn, `SELECT r.id FROM resources r WHERE r.directory_id = $1 AND r.type = $2 AND (`+cond+`) ORDER BY r.id`, args...)
	if err != nil {
		t.Fatalf("%s: %v", cond, err)
	}
	return ids
}

// queryStrings returns the first column of the rows of a query.
func queryStrings(conn *pgx.Conn, query string, args ...any) ([]string, error) {
	rows, err := conn.Query(context.Background(), query, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if out == nil {
		out = []string{}
	}
	return out, err
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

// postgresUserFilters are cases for what PostgreSQL does differently:
// literals it cannot take as text (NUL), times it keeps in microseconds,
// characters outside the Basic Multilingual Plane, and lookups that add
// conditions for the indexes.
var postgresUserFilters = []string{
	`userName lt "nul\u0000"`,
	`userName gt "jane.doe\u0000"`,
	`userName ge "jane.doe\u0000x"`,
	`userName sw "nul\u0000"`,
	`userName ew "\u0000"`,
	`title lt "tour guide\u0000"`,
	`title le "Tour Guide\u0000"`,
	`title gt "Tour Guide\u0000"`,
	`title ne "x\u0000"`,
	`code lt "B\u0000"`,
	`code gt "AbC\u0000"`,
	`code ge "\u0000"`,
	`code sw "Ab\u0000"`,
	`code co "\u0000"`,
	`code eq "AbC\u0000"`,
	`emails.value eq "\u0000"`,
	`emails[value eq "a\u0000" or type eq "home"]`,
	`externalId eq "bjensen\u0000"`,
	`id eq "u-bjensen\u0000"`,
	`id lt "u-bjensen\u0000"`,
	`meta.version eq "W/\"1\u0000\""`,
	`userName sw "zz\udbff\udfff"`,
	`userName sw "zz"`,
	`userName sw "z"`,
	`userName gt "zz"`,
	`userName lt "zz\udbff\udfff"`,
	`title eq "\ud801\udc28DAM"`,
	`title co "\ud801\udc28"`,
	`title gt "\ud801\udc27"`,
	`nickName eq "\ufffd"`,
	`nickName co "\ufffd"`,
	`emails.value eq "astral@example.COM"`,
	`emails.value eq "JESSICA@example.com"`,
	`emails[value eq "jessica@example.com"]`,
	`emails[type eq "work" and value eq "bjensen@example.com"]`,
	`emails[type eq "home" and value eq "bjensen@example.com"]`,
	`emails[value eq "a@home.net" or value eq "jane@example.com"]`,
	`emails[value eq "x" or type eq "home"]`,
	`not (emails.value eq "john@example.org")`,
	`emails[not (value eq "john@example.org")]`,
	`meta.lastModified eq "2024-03-06T00:00:00.123456Z"`,
	`meta.lastModified eq "2024-03-06T00:00:00.123456789Z"`,
	`meta.lastModified gt "2024-03-06T00:00:00.1234565Z"`,
	`meta.lastModified ge "2024-03-06T00:00:00.1234565Z"`,
	`meta.lastModified lt "2024-03-06T00:00:00.1234565Z"`,
	`meta.lastModified le "2024-03-06T00:00:00.1234565Z"`,
	`meta.lastModified ge "2024-03-06T00:00:00.123456Z"`,
	`meta.lastModified lt "2024-03-06T00:00:00.123457Z"`,
	`meta.lastModified gt "2011-05-13T04:42:33.9999991Z"`,
	`meta.created lt "0000-01-01T00:00:00+24:60"`,
	`meta.created gt "9999-12-31T23:59:59-24:60"`,
	`hired gt "2020-01-01T00:00:00,5-00:00"`,
	`hired eq "2020-01-01T1:00:00+01:00"`,
	`hired lt "2019-12-31T23:59:59.9999999999+24:00"`,
	`shifts ge "2021-01-01T00:00:00Z" and shifts lt "2021-01-02T00:00:00Z"`,
	`meta.version gt "W/\"10\""`,
	`meta.version lt "w/\"2\""`,
	`score lt 0`,
	`score gt 100000000000000000000`,
	`level gt 9007199254740992`,
	`level ge 9007199254740992.5`,
}

// postgresGroupFilters are as postgresUserFilters, for groups.
var postgresGroupFilters = []string{
	`members.value eq "x\u0000"`,
	`members.value lt "g\u0000"`,
	`members[type eq "User" and value gt "u-j"]`,
	`displayName eq "nested"`,
	`displayName eq "Tour Guides" or displayName eq "ädmins"`,
	`displayName sw "Cycle "`,
	`displayName gt "Cycle A"`,
	`externalId ne "grp-1"`,
	`meta.created lt "2014-01-01T00:00:00Z"`,
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
		{fx.users, postgresUserFilters},
		{fx.groups, groupFilters},
		{fx.groups, postgresGroupFilters},
	}
	total, selective := 0, 0
	for _, c := range cases {
		for _, src := range c.filters {
			t.Run(c.rt.Name+"/"+src, func(t *testing.T) {
				f, err := filter.Parse(src, c.rt)
				if err != nil {
					t.Fatal(err)
				}
				base := []any{"d1", c.rt.Name}
				cond, args, err := where(f, c.rt, base)
				if err != nil {
					t.Fatal(err)
				}
				checkPlaceholders(t, cond, len(base), args)
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
	// Literals that are not valid UTF-8, which filter.Parse never makes
	// but a filter built in Go can hold: a caseExact comparison is of
	// bytes, another maps the invalid bytes to U+FFFD, as Go does.
	invalid := []struct {
		filter string // with the literal "X"
		lit    string
	}{
		{`code co "X"`, "\xa9"}, {`code sw "X"`, "\xce"}, {`code ew "X"`, "\xa9"}, {`code gt "X"`, "\xce"},
		{`code lt "X"`, "\xce\xa9\xc3"}, {`code eq "X"`, "\xce\xa9\xc3"}, {`code ne "X"`, "\xff"},
		{`nickName co "X"`, "\xff"}, {`nickName eq "X"`, "\xff"}, {`nickName gt "X"`, "\xef\xbf"}, {`title sw "X"`, "\xf0"},
		{`userName eq "X"`, "zz\xf4"}, {`userName sw "X"`, "zz\xf4"}, {`emails.value eq "X"`, "\xff"},
	}
	selecting := 0
	for _, c := range invalid {
		t.Run("User/"+strings.Replace(c.filter, "X", fmt.Sprintf("%+q", c.lit), 1), func(t *testing.T) {
			f, err := filter.Parse(c.filter, fx.users)
			if err != nil {
				t.Fatal(err)
			}
			cmp := f.(*filter.Compare)
			cmp.Value = c.lit
			cond, args, err := where(f, fx.users, []any{"d1", "User"})
			if err != nil {
				t.Fatal(err)
			}
			got, want := fx.selectIDs(t, fx.users, cond, args), fx.matchIDs(fx.users, f)
			if !slices.Equal(got, want) {
				t.Errorf("SQL selects %v\nMatch selects %v\nSQL: %s\nargs: %q", got, want, cond, args)
			}
			if len(want) > 0 {
				selecting++
			}
		})
	}
	if selecting < 5 {
		t.Errorf("only %d filters with invalid UTF-8 select something", selecting)
	}

	// A table of filters that select all or nothing would prove little.
	all := len(rfcUserFilters) + len(userFilters) + len(postgresUserFilters) + len(groupFilters) + len(postgresGroupFilters)
	if total == all && selective*10 < total*7 {
		t.Errorf("only %d of %d filters select some resources but not all", selective, total)
	}
	t.Logf("%d filters, %d of them selective", total, selective)
}

var placeholder = regexp.MustCompile(`\$([0-9]+)`)

// checkPlaceholders checks that cond numbers its placeholders after the
// n arguments the caller had, uses each of its own, and that args kept
// the caller's.
func checkPlaceholders(t *testing.T, cond string, n int, args []any) {
	t.Helper()
	used := map[int]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(cond, -1) {
		i, _ := strconv.Atoi(m[1])
		used[i] = true
	}
	for i := 1; i <= max(len(args), len(used)); i++ {
		if want := i > n && i <= len(args); used[i] != want {
			t.Fatalf("placeholder $%d used: %v, want %v (%d arguments before, %d after) in %s", i, used[i], want, n, len(args), cond)
		}
	}
	if args[0] != "d1" {
		t.Fatalf("where changed the caller's arguments: %q", args)
	}
}

// TestWhereRejectsUnsupported checks that what the store cannot answer is
// a 400 invalidFilter error.
func TestWhereRejectsUnsupported(t *testing.T) {
	reg := schema.NewRegistry()
	users, groups := reg.ResourceType("User"), reg.ResourceType("Group")
	tests := []struct {
		rt     *schema.ResourceType
		filter string
	}{
		{groups, `members.display eq "Babs Jensen"`},
		{groups, `members[value eq "u-jane" or display co "x"]`},
		{groups, `members.$ref pr`},
		{users, `groups.$ref pr`},
		{users, `groups[value eq "g-top" and $ref pr]`},
		{users, `meta.location sw "https://"`},
		{groups, `meta[location pr]`},
		{users, `password eq "t1meMa$heen"`},
		{users, `password pr`},
		{users, `not (password sw "t")`},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := filter.Parse(tt.filter, tt.rt)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = where(f, tt.rt, []any{"d1", tt.rt.Name})
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
		_, _, err = where(f, users, nil)
		if !errors.Is(err, &scim.Error{Status: 400, ScimType: scim.InvalidFilter}) {
			t.Errorf("error = %v, want 400 invalidFilter", err)
		}
	})
}

// TestOrderByMatchesCompare checks that orderBy sorts the fixture as
// resource.Compare does, creation order breaking ties, and descending
// order is the exact reverse.
func TestOrderByMatchesCompare(t *testing.T) {
	fx := newFilterFixture(t)
	cases := []struct {
		rt    *schema.ResourceType
		paths []string
	}{
		{fx.users, []string{"userName", "displayName", "title", "nickName", "name.givenName", "name", "emails", "emails.type",
			"emails.primary", "phoneNumbers.value", "addresses.postalCode", "ims", "x509Certificates", "profileUrl", "active",
			"externalId", "id", "meta.created", "meta.lastModified", "meta.version", "meta.resourceType", "meta.location",
			"level", "score", "vip", "hired", "tags", "code", "badges", "shifts", "homepage", "site.floor", "site.building",
			"manager", "manager.value", "department", "groups", "groups.display", "groups.type", "roles.value"}},
		{fx.groups, []string{"displayName", "externalId", "members", "members.type", "meta.lastModified", "id"}},
	}
	for _, c := range cases {
		for _, path := range c.paths {
			t.Run(c.rt.Name+"/"+path, func(t *testing.T) {
				ref, err := c.rt.Resolve(path)
				if err != nil {
					t.Fatal(err)
				}
				want := slices.Clone(fx.order[c.rt.Name])
				sort.SliceStable(want, func(i, j int) bool {
					a := &resource.Resource{Type: c.rt, Attrs: fx.data[c.rt.Name][want[i]]}
					b := &resource.Resource{Type: c.rt, Attrs: fx.data[c.rt.Name][want[j]]}
					return resource.Compare(a, b, ref) < 0
				})
				for _, desc := range []bool{false, true} {
					q := store.Query{Type: c.rt, SortBy: ref, Descending: desc}
					got, err := queryStrings(fx.conn, `SELECT r.id FROM resources r WHERE r.directory_id = 'd1' AND r.type = $1 ORDER BY `+orderBy(q), c.rt.Name)
					if err != nil {
						t.Fatalf("ORDER BY %s: %v", orderBy(q), err)
					}
					if desc {
						slices.Reverse(got)
					}
					if !slices.Equal(got, want) {
						t.Errorf("descending %v: ORDER BY %s\nsorts %v\nwant  %v", desc, orderBy(q), got, want)
					}
				}
			})
		}
	}
}

// TestFunctionsMatchGo checks scim_lower and scim_fold against
// strings.ToLower and store.FoldKey for every rune PostgreSQL can hold,
// and for strings that mix them.
func TestFunctionsMatchGo(t *testing.T) {
	conn := openFilterDB(t)
	check := func(t *testing.T, in []string) {
		t.Helper()
		var lower, fold []string
		err := conn.QueryRow(context.Background(), `SELECT array_agg(scim_lower(x) ORDER BY i), array_agg(scim_fold(x) ORDER BY i)
			FROM unnest($1::text[]) WITH ORDINALITY AS u(x, i)`, in).Scan(&lower, &fold)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range in {
			if want := strings.ToLower(s); lower[i] != want {
				t.Errorf("scim_lower(%q) = %q, want %q", s, lower[i], want)
			}
			if want := store.FoldKey(s); fold[i] != want {
				t.Errorf("scim_fold(%q) = %q, want %q", s, fold[i], want)
			}
			if t.Failed() {
				t.FailNow() // one text is enough to see what differs
			}
		}
	}
	var runes []rune
	for r := rune(1); r <= unicode.MaxRune; r++ {
		if r < 0xD800 || r > 0xDFFF {
			runes = append(runes, r)
		}
	}
	t.Run("every rune", func(t *testing.T) {
		// In runs of 64, so that each is mapped as one of a text's runes
		// (the first runs, ASCII alone, as a text of ASCII).
		var in []string
		for run := range slices.Chunk(runes, 64) {
			in = append(in, string(run))
		}
		check(t, in)
	})
	t.Run("without backslashes", func(t *testing.T) {
		if strings.Contains(functionsSQL(), `\`) {
			t.Error("functionsSQL has a backslash, which standard_conforming_strings=off would read as an escape")
		}
	})
	t.Run("strings", func(t *testing.T) {
		in := []string{"", "ABC xyz", "İlkay", "Jeſſica", "ΟΔΥΣΣΕΥΣ", "Straße", "ǅemal ǄEMAL", "Kelvin K", "\U00010400dam",
			"ÄRNI ÄRGER", "ΣΑΣ", "ﬃ", "\ufffd"}
		// Random strings of runes that case maps change, runes they
		// produce, and ASCII.
		var cased []rune
		for _, r := range runes {
			if unicode.ToLower(r) != r || unicode.SimpleFold(r) != r {
				cased = append(cased, r)
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for range 5000 {
			var b strings.Builder
			for range rng.IntN(12) {
				switch rng.IntN(3) {
				case 0:
					b.WriteRune(cased[rng.IntN(len(cased))])
				case 1:
					b.WriteByte(byte(' ' + rng.IntN(95)))
				default:
					b.WriteRune(runes[rng.IntN(len(runes))])
				}
			}
			in = append(in, b.String())
		}
		check(t, in)
	})
	t.Run("NULL", func(t *testing.T) {
		var lower, fold *string
		var instant *string
		if err := conn.QueryRow(context.Background(), `SELECT scim_lower(NULL), scim_fold(NULL), scim_instant(NULL)::text`).Scan(&lower, &fold, &instant); err != nil {
			t.Fatal(err)
		}
		if lower != nil || fold != nil || instant != nil {
			t.Errorf("the functions of NULL are %v, %v, %v, want NULL", lower, fold, instant)
		}
	})
}

// TestInstantMatchesParseDateTime checks scim_instant against
// schema.ParseDateTime and instantKey, for texts at the edges of what it
// accepts and for random texts near them.
func TestInstantMatchesParseDateTime(t *testing.T) {
	conn := openFilterDB(t)
	in := []string{
		"2011-05-13T04:42:34Z", "2011-05-13T04:42:34.5Z", "2011-05-13T04:42:34,5Z", "2011-05-13T04:42:34.123456789Z",
		"2011-05-13T04:42:34.1234567891Z", "2011-05-13T04:42:34.000000000000000000000000001Z", "2011-05-13T04:42:34",
		"2011-05-13T04:42:34.5", "2011-05-13T4:42:34Z", "2011-05-13T4:42:34", "2011-05-13T04:42:34+02:00",
		"2011-05-13T04:42:34-02:30", "2011-05-13T04:42:34+24:00", "2011-05-13T04:42:34+23:60", "2011-05-13T04:42:34+24:60",
		"2011-05-13T04:42:34-24:60", "2011-05-13T04:42:34+25:00", "2011-05-13T04:42:34+24:61", "2011-05-13T04:42:34-00:00",
		"0000-01-01T00:00:00Z", "0000-01-01T00:00:00+24:60", "0000-02-29T00:00:00Z", "0000-03-01T00:00:00-01:00",
		"9999-12-31T23:59:59.999999999-24:60", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999999Z",
		"1900-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "2001-02-29T00:00:00Z", "2024-02-29T00:00:00Z", "2024-02-30T00:00:00Z",
		"2024-04-31T00:00:00Z", "2024-04-30T00:00:00Z", "2024-12-31T00:00:00Z", "2024-13-01T00:00:00Z", "2024-00-01T00:00:00Z",
		"2024-01-00T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z", "2024-01-01T23:59:60Z", "2024-01-01T23:59:59Z",
		"2024-01-01t00:00:00Z", "2024-01-01T00:00:00z", "2024-01-01 00:00:00Z", "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00,Z",
		"2024-01-01T00:00:00+0100", "2024-01-01T00:00:00+01:00:00", "2024-01-01T00:00:00+1:00", "2024-01-01T00:00:00Z ",
		" 2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z\n", "2024-1-01T00:00:00Z", "2024-01-1T00:00:00Z", "+024-01-01T00:00:00Z",
		"10000-01-01T00:00:00Z", "2024-01-01T:00:00Z", "2024-01-01T001:00:00Z", "2024-01-01T00:00", "2024-01-01",
		"２024-01-01T00:00:00Z", "2024-01-01T00:00:00.٣Z", "", "x", "2024-01-01T00:00:00.5+01:00Z",
	}
	// Random texts: valid ones with a character replaced, dropped or
	// doubled.
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "0123456789-+:.,TZ x"
	for range 20000 {
		tm := time.Unix(rng.Int64N(253402300800+62167219200)-62167219200, rng.Int64N(1e9)).UTC()
		s := tm.Format("2006-01-02T15:04:05.999999999")
		switch rng.IntN(3) {
		case 0:
			s += "Z"
		case 1:
			s += fmt.Sprintf("%c%02d:%02d", "+-"[rng.IntN(2)], rng.IntN(26), rng.IntN(62))
		}
		if rng.IntN(2) == 0 {
			i := rng.IntN(len(s))
			switch rng.IntN(3) {
			case 0:
				s = s[:i] + string(alphabet[rng.IntN(len(alphabet))]) + s[i+1:]
			case 1:
				s = s[:i] + s[i+1:]
			default:
				s = s[:i] + s[i:i+1] + s[i:]
			}
		}
		in = append(in, s)
	}
	var got []*string
	err := conn.QueryRow(context.Background(), `SELECT array_agg(scim_instant(x)::text ORDER BY i)
		FROM unnest($1::text[]) WITH ORDINALITY AS u(x, i)`, in).Scan(&got)
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for i, s := range in {
		want := "NULL"
		if tm, err := schema.ParseDateTime(s); err == nil {
			k := instantKey(tm)
			want = k.Int.String()
			accepted++
		}
		g := "NULL"
		if got[i] != nil {
			g = *got[i]
		}
		if g != want {
			t.Errorf("scim_instant(%q) = %s, want %s", s, g, want)
		}
	}
	t.Logf("%d texts, %d of them dateTimes", len(in), accepted)
}

// TestInstantKeyOrder checks that instantKey orders instants as time does,
// also at the edges of the years a dateTime can reach.
func TestInstantKeyOrder(t *testing.T) {
	texts := []string{
		"0000-01-01T00:00:00+24:60", "0000-01-01T00:00:00+23:59", "0000-01-01T00:00:00+01:00", "0000-01-01T00:00:00Z",
		"1969-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000001Z",
		"2011-05-13T04:42:33.999999999Z", "2011-05-13T06:42:34+02:00", "2011-05-13T04:42:34.000000001Z",
		"9999-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59-24:60",
	}
	for i := 1; i < len(texts); i++ {
		a, err1 := schema.ParseDateTime(texts[i-1])
		b, err2 := schema.ParseDateTime(texts[i])
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if ka, kb := instantKey(a), instantKey(b); ka.Int.Cmp(kb.Int) != a.Compare(b) {
			t.Errorf("instantKey(%s) = %s, instantKey(%s) = %s: wrong order", texts[i-1], ka.Int, texts[i], kb.Int)
		}
	}
}

// TestPrefixEnd checks that prefixEnd bounds the strings with a prefix.
func TestPrefixEnd(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"abc", "abd", true},
		{"a\u00ff", "a\u0100", true},
		{"a\ud7ff", "a\ue000", true},
		{"ab\U0010FFFF", "ac", true},
		{"\U0010FFFF\U0010FFFF", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := prefixEnd(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && (!utf8.ValidString(got) || got <= tt.in || strings.HasPrefix(got, tt.in)) {
			t.Errorf("prefixEnd(%q) = %q does not bound the strings starting with it", tt.in, got)
		}
	}
}

// TestWhereUsesIndexes checks with EXPLAIN that the lookups clients make
// most are answered through an index, not by reading the directory, both
// for the count and for a page in creation order. It logs the plans.
func TestWhereUsesIndexes(t *testing.T) {
	conn := openFilterDB(t)
	ctx := context.Background()
	// Two directories of 5,000 users and 1,000 groups each; user i has a
	// work and a home email, and was last modified i hours after 2020.
	for _, q := range []string{
		`INSERT INTO directories (id, name, name_key, created) VALUES ('d1', 'd1', 'd1', now()), ('d2', 'd2', 'd2', now())`,
		`INSERT INTO resources (directory_id, type, id, name, name_key, fold_key, external_id, email_keys, created, last_modified, version, attrs)
		SELECT d, 'User', d || '-u' || i, 'User' || i || '@Example.com', 'user' || i || '@example.com', 'user' || i || '@example.com',
			'ext-' || i, ARRAY['user' || i || '@example.com', 'u' || i || '@home.example.org'],
			'2020-01-01T00:00:00Z'::timestamptz + i * interval '1 hour', '2020-01-01T00:00:00Z'::timestamptz + i * interval '1 hour', 1,
			jsonb_build_object('userName', 'User' || i || '@Example.com', 'externalId', 'ext-' || i, 'active', true,
				'emails', jsonb_build_array(jsonb_build_object('value', 'user' || i || '@example.com', 'type', 'work', 'primary', true),
					jsonb_build_object('value', 'u' || i || '@home.example.org', 'type', 'home')))
		FROM generate_series(1, 5000) AS i, unnest(ARRAY['d1', 'd2']) AS d`,
		`INSERT INTO resources (directory_id, type, id, name, name_key, fold_key, external_id, email_keys, created, last_modified, version, attrs)
		SELECT d, 'Group', d || '-g' || i, 'Group ' || i, 'group ' || i, 'group ' || i, NULL, NULL, now(), now(), 1,
			jsonb_build_object('displayName', 'Group ' || i)
		FROM generate_series(1, 1000) AS i, unnest(ARRAY['d1', 'd2']) AS d`,
		`ANALYZE`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	reg := schema.NewRegistry()
	users, groups := reg.ResourceType("User"), reg.ResourceType("Group")
	tests := []struct {
		rt     *schema.ResourceType
		filter string
		index  string
	}{
		{users, `userName eq "user17@example.com"`, "resources_fold_key"},
		{users, `userName eq "USER17@EXAMPLE.COM"`, "resources_fold_key"},
		{users, `userName sw "user17"`, "resources_name_key"},
		{users, `externalId eq "ext-17"`, "resources_external_id"},
		{users, `id eq "d1-u17"`, "resources_directory_id_id_key"},
		{users, `emails.value eq "U17@home.example.org"`, "resources_email_keys"},
		{users, `emails eq "user17@example.com"`, "resources_email_keys"},
		{users, `emails[type eq "work" and value eq "user17@example.com"]`, "resources_email_keys"},
		{users, `meta.lastModified gt "2020-07-25T00:00:00Z"`, "resources_last_modified"},
		{users, `meta.lastModified ge "2020-03-01T00:00:00Z" and meta.lastModified lt "2020-03-02T00:00:00.0000005Z"`, "resources_last_modified"},
		{users, `meta.lastModified lt "2020-01-03T00:00:00Z"`, "resources_last_modified"},
		{groups, `displayName eq "group 17"`, "resources_fold_key"},
	}
	for _, tt := range tests {
		t.Run(tt.rt.Name+"/"+tt.filter, func(t *testing.T) {
			f, err := filter.Parse(tt.filter, tt.rt)
			if err != nil {
				t.Fatal(err)
			}
			q := store.Query{Type: tt.rt, Filter: f, Count: 100}
			cond, args, err := where(f, tt.rt, []any{"d1", tt.rt.Name})
			if err != nil {
				t.Fatal(err)
			}
			cond = "r.directory_id = $1 AND r.type = $2 AND (" + cond + ")"
			var ids []string
			if ids, err = queryStrings(conn, `SELECT r.id FROM resources r WHERE `+cond, args...); err != nil || len(ids) == 0 {
				t.Fatalf("%s selects %q, %v; want some users", cond, ids, err)
			}
			n := len(args)
			page := `SELECT r.seq, ` + resourceColumns + ` FROM resources r WHERE ` + cond + ` ORDER BY ` + orderBy(q) +
				` LIMIT $` + strconv.Itoa(n+1) + ` OFFSET $` + strconv.Itoa(n+2)
			for _, query := range []struct {
				name, sql string
				args      []any
			}{
				{"count", `SELECT count(*) FROM resources r WHERE ` + cond, args},
				{"page", page, append(slices.Clip(args), 100, 0)},
			} {
				lines, err := queryStrings(conn, "EXPLAIN "+query.sql, query.args...)
				if err != nil {
					t.Fatal(err)
				}
				plan := strings.Join(lines, "\n")
				t.Logf("%s (%d rows), %s:\n%s", tt.filter, len(ids), query.name, plan)
				if !strings.Contains(plan, tt.index) || strings.Contains(plan, "Seq Scan on resources") ||
					strings.Contains(plan, "resources_seq") || strings.Contains(plan, "resources_pkey") {
					t.Errorf("%s: the plan does not use %s alone", query.name, tt.index)
				}
			}
		})
	}
}
