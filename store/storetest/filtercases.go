package storetest

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// The filter fixture: users, groups and filters on which a SQL store's
// translation of filters is held to filter.Match. RunFilters puts the
// fixture's rows in a database of the store's own (NewFilterFixture
// decodes them, Load writes them), then checks, filter by filter, that the
// store's SQL selects the ids that FilterView.Match selects.

const enterpriseURN = schema.EnterpriseUserURN

// AcmeURN is the id of AcmeSchema.
const AcmeURN = "urn:example:params:scim:schemas:extension:acme:2.0:User"

// AcmeSchema is a custom User extension with an attribute of every type.
const AcmeSchema = `{
	"id": "` + AcmeURN + `",
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

// FilterUser is a user of the filter fixture, in directory d1: as a
// client sends it, with what the store adds.
type FilterUser struct {
	ID       string
	Modified string // meta.lastModified; meta.created is a day earlier
	Version  int64
	Body     string
}

// FilterUsers are the users both stores hold; each store adds a user of
// its own (FilterDialect.User).
var FilterUsers = []FilterUser{
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
		"` + AcmeURN + `": {"tags": [""], "code": ""}}`},
	{"u-wild", "2024-03-07T00:00:00Z", 1, `{"userName": "sam%_x", "displayName": "100% _real_"}`},
	{"u-sassy", "2024-03-08T00:00:00Z", 1, `{"userName": "SassySusans"}`},
	{"u-nine-s", "2024-03-09T00:00:00Z", 1, `{"userName": "ssssssssSx", "nickName": "ſ"}`},
	{"u-bare", "2025-01-01T00:00:00Z", 1, `{"userName": "bare"}`},
	{"u-work-home", "2025-01-02T00:00:00Z", 1, `{"userName": "mixer", "userType": "Employee",
		"emails": [{"value": "a@home.net", "type": "work"}, {"value": "b@example.com", "type": "home"}]}`},
	{"u-acme1", "2020-01-01T00:00:00Z", 1, `{"userName": "acme1", "` + AcmeURN + `": {
		"level": 1, "score": 2.5, "vip": true, "hired": "2020-01-01T00:00:00Z", "tags": ["Red", "blue"], "code": "AbC",
		"badges": [1, 2, 3], "shifts": ["2021-01-01T08:00:00+08:00", "2021-01-02T08:00:00Z"],
		"homepage": "https://Acme.example.com/one", "site": {"building": "B1", "floor": 3}}}`},
	{"u-acme2", "2020-01-02T00:00:00Z", 1, `{"userName": "acme2", "` + AcmeURN + `": {
		"level": 5, "score": 2, "vip": false, "hired": "2020-01-01T01:00:00+01:00", "tags": ["GREEN"], "code": "abc",
		"badges": [5], "site": {"building": "b2"}}}`},
	{"u-acme3", "2020-01-03T00:00:00Z", 1, `{"userName": "acme3", "` + AcmeURN + `": {
		"level": 10, "score": 0.1, "hired": "2019-12-31T23:00:00.5-01:00", "tags": ["blue", "Blue"], "code": "B",
		"site": {"floor": 0}}}`},
	{"u-acme4", "2020-01-04T00:00:00Z", 1, `{"userName": "acme4", "` + AcmeURN + `": {
		"level": -3, "score": 100000000000000000000, "vip": "False", "hired": "2020-01-01T00:00:00.000000001Z"}}`},
	{"u-acme5", "2020-01-05T00:00:00Z", 1, `{"userName": "acme5", "` + AcmeURN + `": {
		"level": 9007199254740993, "score": 1152921504606846976, "hired": "2020-06-01T12:00:00", "shifts": ["0000-01-01T00:00:00+01:00"]}}`},
	{"u-acme6", "2020-01-06T00:00:00Z", 1, `{"userName": "acme6", "` + AcmeURN + `": {
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

// FilterGroup is a group of the filter fixture with its member rows.
type FilterGroup struct {
	Dir      string // "d1", or "d2", whose memberships must not leak into d1
	ID       string
	Modified string      // meta.lastModified; meta.created is a day earlier
	Body     string      // as the store reads it back
	Members  [][2]string // member id, member type
}

// FilterGroups are the groups of the filter fixture, version 1 each.
var FilterGroups = []FilterGroup{
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

// RFCUserFilters are the examples of RFC 7644 §3.4.2.2 that apply to users.
var RFCUserFilters = []string{
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

// UserFilters are filters of users that both stores must translate as
// filter.Match reads them: the folding of each operator, every attribute
// type, extensions, schemas, meta, the computed groups, and precedence.
var UserFilters = []string{
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
	`userName eq "SSSSSSSSSX"`, // 2¹⁰ lower-case spellings (s, ſ): one fold key
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

// GroupFilters are as UserFilters, for groups.
var GroupFilters = []string{
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

// UnsupportedUserFilters are filters of users that neither SQL store
// answers, which must fail as a 400 invalidFilter: on the groups a store
// computes, only value, type and display; meta.location, which no store
// holds; and password, which is never returned.
var UnsupportedUserFilters = []string{
	`groups.$ref pr`,
	`groups[value eq "g-top" and $ref pr]`,
	`meta.location sw "https://"`,
	`password eq "t1meMa$heen"`,
	`password pr`,
	`not (password sw "t")`,
}

// UnsupportedGroupFilters are as UnsupportedUserFilters, for groups: on
// the members a store computes, only value and type.
var UnsupportedGroupFilters = []string{
	`members.display eq "Babs Jensen"`,
	`members[value eq "u-jane" or display co "x"]`,
	`members.$ref pr`,
	`meta[location pr]`,
}

// FilterFixture is the filter fixture decoded, as a store is to hold it.
type FilterFixture struct {
	Users  *schema.ResourceType // with AcmeSchema as an extension
	Groups *schema.ResourceType
	// Resources are the users, in directory d1, then FilterGroups, in the
	// order a store is to create them.
	Resources []FilterResource
}

// FilterResource is a resource of the filter fixture, decoded, with what
// the store adds.
type FilterResource struct {
	Dir string // directory id: "d1" or "d2"
	ID  string
	// Resource is without id and meta: users as clients send them, groups
	// (and the user with an empty userName) as the store reads them back.
	Resource *resource.Resource
	Created  time.Time // a day before Modified
	Modified time.Time
	Version  int64
	Members  [][2]string // a group's member rows: member id, member type
}

// NewFilterFixture decodes the filter fixture: FilterUsers and the
// store's own users extra, then FilterGroups. Times are in UTC, truncated
// to precision, the finest the store keeps.
func NewFilterFixture(t testing.TB, precision time.Duration, extra ...FilterUser) *FilterFixture {
	t.Helper()
	reg := schema.NewRegistry()
	ext, err := schema.Parse([]byte(AcmeSchema))
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.AddExtension("User", ext, false); err != nil {
		t.Fatal(err)
	}
	fx := &FilterFixture{Users: reg.ResourceType("User"), Groups: reg.ResourceType("Group")}
	add := func(dir, id string, rt *schema.ResourceType, modified string, version int64, body string, members [][2]string) {
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
		m = m.UTC().Truncate(precision)
		fx.Resources = append(fx.Resources, FilterResource{Dir: dir, ID: id, Resource: r,
			Created: m.Add(-24 * time.Hour), Modified: m, Version: version, Members: members})
	}
	for _, u := range append(slices.Clip(FilterUsers), extra...) {
		add("d1", u.ID, fx.Users, u.Modified, u.Version, u.Body, nil)
	}
	for _, g := range FilterGroups {
		add(g.Dir, g.ID, fx.Groups, g.Modified, 1, g.Body, g.Members)
	}
	return fx
}

// FilterView is what filter.Match sees of directory d1 once a store holds
// a FilterFixture: type name → id → attributes.
type FilterView map[string]map[string]map[string]any

// View returns the resources of directory d1 as the store reads them back
// and filter.Match sees them: with id and meta, and the members (groups)
// or groups (users) the store computes on read, here without SQL, both in
// the order of their ids.
func (fx *FilterFixture) View() FilterView {
	// The names members display: displayName, or the naming attribute.
	display := map[string]string{}
	for _, fr := range fx.Resources {
		if fr.Dir != "d1" {
			continue
		}
		name, _ := fr.Resource.Attrs[store.NameAttr(fr.Resource.Type)].(string)
		if dn, ok := fr.Resource.Attrs["displayName"].(string); ok {
			name = dn
		}
		display[fr.ID] = name
	}

	// A group's members, and a user's groups, direct and through nested
	// groups.
	parents := map[string][]string{} // member id → groups it is a direct member of
	members := map[string][]any{}
	for _, fr := range fx.Resources {
		if fr.Dir != "d1" {
			continue
		}
		ms := slices.Clone(fr.Members)
		slices.SortFunc(ms, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
		for _, m := range ms {
			parents[m[0]] = append(parents[m[0]], fr.ID)
			v := map[string]any{"value": m[0], "type": m[1]}
			if d := display[m[0]]; d != "" {
				v["display"] = d
			}
			members[fr.ID] = append(members[fr.ID], v)
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

	view := FilterView{"User": {}, "Group": {}}
	for _, fr := range fx.Resources {
		if fr.Dir != "d1" {
			continue
		}
		r := fr.Resource.Clone()
		r.SetID(fr.ID)
		r.SetMeta(resource.Meta{Created: fr.Created, LastModified: fr.Modified, Version: store.ETag(fr.Version)})
		if r.Type.Name == "User" {
			if gs := groupsOf(fr.ID); len(gs) > 0 {
				r.Attrs["groups"] = gs
			}
		} else if ms := members[fr.ID]; len(ms) > 0 {
			r.Attrs["members"] = ms
		}
		view[r.Type.Name][fr.ID] = r.Attrs
	}
	return view
}

// Match returns the ids of the resources of type rt that filter.Match
// selects, sorted.
func (v FilterView) Match(rt *schema.ResourceType, f filter.Expr) []string {
	ids := []string{}
	for id, attrs := range v[rt.Name] {
		if filter.Match(f, attrs) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}
