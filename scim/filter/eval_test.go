package filter

import (
	"testing"

	"github.com/rosterhq/roster/scim/schema"
)

const (
	bjensenID = "2819c223-7f76-453a-919d-413861904646"
	managerID = "26118915-6090-4610-87e4-49d8ca9f808d"
)

// bjensen returns Barbara Jensen of RFC 7643 §8.2 in the form package
// resource holds resources: canonical names, []any lists, map[string]any
// complex values, the Enterprise User extension under its URN, dateTimes
// as strings, numbers as int64 or float64. It is a fresh copy each time.
func bjensen() map[string]any {
	return map[string]any{
		"id":         bjensenID,
		"externalId": "BJensen",
		"userName":   "bjensen@example.com",
		"name": map[string]any{
			"formatted":  "Ms. Barbara J Jensen, III",
			"familyName": "Jensen",
			"givenName":  "Barbara",
			"middleName": "Jane",
		},
		"displayName":       "Babs Jensen",
		"title":             "Tour Guide",
		"userType":          "Employee",
		"preferredLanguage": "",
		"locale":            "en-US",
		"active":            true,
		"emails": []any{
			map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true},
			map[string]any{"value": "babs@jensen.org", "type": "home"},
		},
		"ims": []any{
			map[string]any{"value": "someaimhandle", "type": "aim"},
		},
		"addresses": []any{
			map[string]any{
				"type":          "work",
				"streetAddress": "100 Universal City Plaza",
				"locality":      "Hollywood",
				"region":        "CA",
				"postalCode":    "91608",
				"country":       "USA",
				"primary":       true,
			},
		},
		"groups": []any{},
		// Not in the schema: read by unresolved filters only.
		"loginCount": int64(42),
		"score":      4.5,
		"meta": map[string]any{
			"resourceType": "User",
			"created":      "2010-01-23T05:56:22+01:00", // 04:56:22Z
			"lastModified": "2011-05-13T04:42:34Z",
			"version":      `W/"3694e05e9dff591"`,
			"location":     "https://example.com/v2/Users/" + bjensenID,
		},
		schema.EnterpriseUserURN: map[string]any{
			"employeeNumber": "701984",
			"costCenter":     "4130",
			"organization":   "Universal Studios",
			"division":       "Theme Park",
			"department":     "Tour Operations",
			"manager": map[string]any{
				"value":       managerID,
				"$ref":        "../Users/" + managerID,
				"displayName": "John Smith",
			},
		},
	}
}

var matchTests = []struct {
	name   string
	filter string
	rt     *schema.ResourceType // nil: an unresolved filter
	want   bool
}{
	// Strings: caseExact false by default.
	{"userName eq ignores case", `userName eq "BJensen@Example.COM"`, users, true},
	{"userName eq a different name does not match", `userName eq "jsmith@example.com"`, users, false},
	{"id is caseExact, so the same id matches", `id eq "2819c223-7f76-453a-919d-413861904646"`, users, true},
	{"id is caseExact, so the id in upper case does not match", `id eq "2819C223-7F76-453A-919D-413861904646"`, users, false},
	{"externalId is caseExact, so the same value matches", `externalId eq "BJensen"`, users, true},
	{"externalId is caseExact, so a value differing in case does not match", `externalId eq "bjensen"`, users, false},
	{"co on a caseExact attribute respects case", `externalId co "jen"`, users, false},
	{"co on a caseExact attribute finds the exact substring", `externalId co "Jen"`, users, true},
	{"co finds a substring in any case", `name.familyName co "ENS"`, users, true},
	{"co does not find a missing substring", `name.familyName co "smith"`, users, false},
	{"sw matches a prefix in any case", `userName sw "BJEN"`, users, true},
	{"sw does not match a suffix", `userName sw "example.com"`, users, false},
	{"ew matches a suffix in any case", `userName ew "@EXAMPLE.com"`, users, true},
	{"ew does not match a prefix", `userName ew "bjensen"`, users, false},
	{"sw with the whole value matches", `title sw "tour guide"`, users, true},

	// Ordering.
	{"gt on strings is lexicographic", `userName gt "a"`, users, true},
	{"lt on strings is lexicographic", `userName lt "a"`, users, false},
	{"ge on strings ignores case for equal values", `displayName ge "BABS JENSEN"`, users, true},
	{"le on strings ignores case for equal values", `displayName le "babs jensen"`, users, true},
	{"gt on strings ignores case", `displayName gt "BABS"`, users, true},
	{"gt on a dateTime compares instants", `meta.lastModified gt "2011-05-13T04:42:33Z"`, users, true},
	{"gt on a dateTime is false for the same instant", `meta.lastModified gt "2011-05-13T04:42:34Z"`, users, false},
	{"ge on a dateTime is true for the same instant", `meta.lastModified ge "2011-05-13T04:42:34Z"`, users, true},
	{"eq on a dateTime matches the same instant in another zone", `meta.lastModified eq "2011-05-13T06:42:34+02:00"`, users, true},
	{"gt on a dateTime is chronological, not lexicographic", `meta.lastModified gt "2011-05-13T05:00:00+02:00"`, users, true},
	{"lt on a dateTime stored with an offset compares instants", `meta.created lt "2010-01-23T04:56:23Z"`, users, true},
	{"gt on a dateTime stored with an offset compares instants", `meta.created gt "2010-01-23T00:56:21-04:00"`, users, true},
	{"le on a dateTime before the value does not match", `meta.created le "2010-01-23T04:56:21Z"`, users, false},
	{"an unresolved dateTime compares as a string", `meta.lastModified gt "2011-05-13T05:00:00+02:00"`, nil, false},

	// pr.
	{"pr matches a non-empty string", `title pr`, users, true},
	{"pr does not match an empty string", `preferredLanguage pr`, users, false},
	{"pr does not match an empty list", `groups pr`, users, false},
	{"pr does not match a missing attribute", `nickName pr`, users, false},
	{"pr matches a complex value", `name pr`, users, true},
	{"pr matches a boolean", `active pr`, users, true},
	{"pr on a sub-attribute of a multi-valued attribute matches any value", `emails.primary pr`, users, true},
	{"pr on a sub-attribute no value has does not match", `emails.display pr`, users, false},
	{"pr on an extension attribute", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter pr`, users, true},

	// ne is the negation of eq.
	{"ne on a missing attribute matches", `nickName ne "Babs"`, users, true},
	{"ne on a different value matches", `userType ne "Intern"`, users, true},
	{"ne on the same value does not match", `userType ne "employee"`, users, false},
	{"ne on a multi-valued attribute does not match when any value is equal", `emails.type ne "home"`, users, false},
	{"ne on a multi-valued attribute matches when no value is equal", `emails.type ne "other"`, users, true},
	{"ne on a caseExact attribute differing in case matches", `externalId ne "bjensen"`, users, true},

	// Multi-valued attributes match when any value does.
	{"eq on a multi-valued sub-attribute matches any value", `emails.type eq "home"`, users, true},
	{"ew on a multi-valued sub-attribute matches any value", `emails.value ew "@JENSEN.ORG"`, users, true},
	{"eq on a multi-valued sub-attribute no value has does not match", `emails.value eq "nobody@example.com"`, users, false},
	{"co on a multi-valued complex attribute looks at its values", `emails co "jensen.org"`, users, true},
	{"co on a multi-valued complex attribute with no such value", `emails co "example.net"`, users, false},
	{"the RFC's emails example matches", `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`, users, true},
	{"the RFC's negated emails example does not match an employee", `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`, users, false},
	{"eq on schemas matches one of the URNs", `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, users, true},

	// Value paths.
	{"a value path matches when one value matches all of its filter", `emails[type eq "work" and value co "@example.com"]`, users, true},
	{"a value path does not mix conditions across values", `emails[type eq "home" and value co "@example.com"]`, users, false},
	{"the same conditions without a value path do mix values", `emails.type eq "home" and emails.value co "@example.com"`, users, true},
	{"a value path with or matches either condition", `emails[type eq "other" or primary eq true]`, users, true},
	{"a value path with not matches a value the condition excludes", `emails[not (type eq "work")]`, users, true},
	{"a value path with no matching value does not match", `ims[type eq "xmpp"]`, users, false},
	{"the RFC's emails or ims example matches the work email", `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`, users, true},
	{"Entra's value path form matches the selected value", `emails[type eq "work"].value eq "BJENSEN@example.com"`, users, true},
	{"Entra's value path form does not match another value's", `emails[type eq "work"].value eq "babs@jensen.org"`, users, false},
	{"a value path on a single-valued complex attribute", `name[givenName eq "barbara" and familyName sw "J"]`, users, true},
	{"a value path on an extension attribute", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[displayName eq "john smith"]`, users, true},
	{"a value path on an attribute with no values", `groups[value pr]`, users, false},

	// not, and, or.
	{"not of a false expression matches", `not (userType eq "Intern")`, users, true},
	{"not of a true expression does not match", `not (title pr)`, users, false},
	{"and needs both sides", `title pr and userType eq "Intern"`, users, false},
	{"or needs one side", `title pr or userType eq "Intern"`, users, true},

	// null.
	{"eq null matches a missing attribute", `nickName eq null`, users, true},
	{"eq null matches an empty string", `preferredLanguage eq null`, users, true},
	{"eq null matches an empty list", `groups.value eq null`, users, true},
	{"eq null does not match a value", `title eq null`, users, false},
	{"ne null matches a value", `title ne null`, users, true},
	{"ne null does not match a missing attribute", `nickName ne null`, users, false},

	// Booleans.
	{"eq true matches an active user", `active eq true`, users, true},
	{"eq with Entra's string False does not match an active user", `active eq "False"`, users, false},
	{"ne false matches an active user", `active ne false`, users, true},
	{"a boolean sub-attribute in a value path", `emails[primary eq true].value pr`, users, true},

	// The Enterprise User extension.
	{"manager.value with the extension URN matches", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, users, true},
	{"manager.value without the URN is found in the extension", `manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, users, true},
	{"manager compared directly means manager.value", `manager eq "26118915-6090-4610-87e4-49d8ca9f808d"`, users, true},
	{"a different manager does not match", `manager.value eq "00000000-0000-0000-0000-000000000000"`, users, false},
	{"an extension string ignores case", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tour operations"`, users, true},
	{"an unqualified extension attribute matches", `employeeNumber sw "70"`, users, true},
	{"a common attribute qualified by the core URN matches", `urn:ietf:params:scim:schemas:core:2.0:User:meta.resourceType eq "User"`, users, true},

	// Unresolved filters: names and strings compared case-insensitively.
	{"an unresolved attribute name ignores case", `USERNAME eq "bjensen@example.com"`, nil, true},
	{"an unresolved string comparison ignores case", `userName eq "BJENSEN@EXAMPLE.COM"`, nil, true},
	{"an unresolved comparison ignores case even for a caseExact attribute", `externalId eq "bjensen"`, nil, true},
	{"an unresolved sub-attribute name ignores case", `NAME.FAMILYNAME eq "jensen"`, nil, true},
	{"an unresolved value path ignores case", `EMAILS[TYPE eq "WORK" and VALUE sw "bjensen"]`, nil, true},
	{"an unresolved multi-valued sub-attribute matches any value", `emails.value co "JENSEN.ORG"`, nil, true},
	{"an unresolved extension attribute is found under its URN", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:MANAGER.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, nil, true},
	{"an unresolved core URN prefix is ignored", `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "b"`, nil, true},
	{"an unresolved unknown attribute is missing", `foo eq "x"`, nil, false},
	{"an unresolved ne on an unknown attribute matches", `foo ne "x"`, nil, true},
	{"an unresolved boolean literal matches a boolean", `active eq TRUE`, nil, true},
	{"an unresolved string does not match a boolean", `active eq "true"`, nil, false},

	// Numbers, compared across int64 and float64.
	{"an integer eq an int64", `loginCount eq 42`, nil, true},
	{"a decimal eq an int64", `loginCount eq 42.0`, nil, true},
	{"an integer gt an int64", `loginCount gt 41`, nil, true},
	{"an integer lt an int64", `loginCount lt 42`, nil, false},
	{"an integer le a float64", `score le 5`, nil, true},
	{"an integer ge a float64", `score ge 5`, nil, false},
	{"a decimal gt a float64", `score gt 4.49`, nil, true},
	{"a decimal eq a float64", `score eq 4.5`, nil, true},
	{"a number does not match a string", `userName eq 1`, nil, false},
	{"a string does not match a number", `loginCount eq "42"`, nil, false},
}

func TestMatch(t *testing.T) {
	for _, tt := range matchTests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustParse(t, tt.filter, tt.rt)
			if got := Match(e, bjensen()); got != tt.want {
				t.Errorf("Match(%s) against %s = %v, want %v", e, rtName(tt.rt), got, tt.want)
			}
		})
	}
}

var emptyDataTests = []struct {
	filter string
	want   bool
}{
	{`userName eq "x"`, false},
	{`userName ne "x"`, true},
	{`userName pr`, false},
	{`userName eq null`, true},
	{`emails[type eq "work"]`, false},
	{`not (emails[type eq "work"])`, true},
	{`manager.value eq "x"`, false},
}

func TestMatchOnEmptyOrMissingData(t *testing.T) {
	for _, tt := range emptyDataTests {
		t.Run(tt.filter, func(t *testing.T) {
			e := mustParse(t, tt.filter, users)
			for _, data := range []map[string]any{nil, {}} {
				if got := Match(e, data); got != tt.want {
					t.Errorf("Match(%s, %#v) = %v, want %v", e, data, got, tt.want)
				}
			}
		})
	}
}

var wrongShapeFilters = []string{
	`userName eq "7"`,
	`emails.value eq "bjensen@example.com"`,
	`emails[type eq "work" and value eq "true"]`,
	`name.givenName eq "Barbara"`,
	`meta.lastModified lt "2030-01-01T00:00:00Z"`,
	`active eq true`,
	`manager.value pr`,
}

func TestMatchIgnoresValuesOfTheWrongShape(t *testing.T) {
	// Data that does not follow the schema must not match, nor panic.
	data := map[string]any{
		"userName":               int64(7),
		"emails":                 []any{"bjensen@example.com", nil, map[string]any{"type": "work", "value": true}},
		"name":                   "Barbara Jensen",
		"meta":                   map[string]any{"lastModified": "yesterday"},
		"active":                 "true",
		schema.EnterpriseUserURN: "not an object",
	}
	for _, s := range wrongShapeFilters {
		t.Run(s, func(t *testing.T) {
			if Match(mustParse(t, s, users), data) {
				t.Errorf("Match(%s) = true on data of the wrong shape", s)
			}
		})
	}
}

// bjensenValue returns a complex value of a fresh bjensen: the email at
// index i, or the name when i is -1.
func bjensenValue(i int) map[string]any {
	user := bjensen()
	if i < 0 {
		return user["name"].(map[string]any)
	}
	return user["emails"].([]any)[i].(map[string]any)
}

const (
	workEmail = 0
	homeEmail = 1
	nameValue = -1
)

var matchValueTests = []struct {
	name  string
	path  string
	rt    *schema.ResourceType
	value map[string]any
	want  bool
}{
	{"the work filter selects the work email", `emails[type eq "work"]`, users, bjensenValue(workEmail), true},
	{"the work filter skips the home email", `emails[type eq "work"]`, users, bjensenValue(homeEmail), false},
	{"a filter on two sub-attributes selects the value having both", `emails[type eq "home" and value ew "jensen.org"]`, users, bjensenValue(homeEmail), true},
	{"a filter on two sub-attributes skips a value having one", `emails[type eq "work" and value ew "jensen.org"]`, users, bjensenValue(workEmail), false},
	{"a filter with not selects the other values", `emails[not (primary eq true)]`, users, bjensenValue(homeEmail), true},
	{"a filter on a missing sub-attribute with ne selects the value", `emails[display ne "Work"]`, users, bjensenValue(workEmail), true},
	{"a filter on the single-valued name selects it", `name[givenName eq "BARBARA"]`, users, bjensenValue(nameValue), true},
	{"a filter with a sub-attribute after it still selects by the filter", `emails[type eq "home"].value`, users, bjensenValue(homeEmail), true},
	{"an unresolved filter ignores the case of names and strings", `emails[TYPE eq "WORK"]`, nil, bjensenValue(workEmail), true},
	{"an empty value matches nothing but ne", `emails[type eq "work"]`, users, map[string]any{}, false},
	{"a nil value matches nothing but ne", `emails[type eq "work"]`, users, nil, false},
	{"ne on an empty value matches", `emails[type ne "work"]`, users, map[string]any{}, true},
}

func TestMatchValueSelectsOneValue(t *testing.T) {
	for _, tt := range matchValueTests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePath(tt.path, tt.rt)
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", tt.path, err)
			}
			if p.Filter == nil {
				t.Fatalf("ParsePath(%q) has no filter", tt.path)
			}
			if got := MatchValue(p.Filter, tt.value); got != tt.want {
				t.Errorf("MatchValue(%s, %v) = %v, want %v", p.Filter, tt.value, got, tt.want)
			}
		})
	}
}

var emailValuePaths = []string{
	`emails[type eq "work"]`,
	`emails[type eq "home" and value co "example.com"]`,
	`emails[value ew ".org" or primary eq true]`,
	`emails[not (type pr)]`,
}

func TestMatchValueAgreesWithMatchOnTheValuePath(t *testing.T) {
	// Match on emails[f] is true exactly when MatchValue(f) selects some
	// email.
	user := bjensen()
	for _, s := range emailValuePaths {
		t.Run(s, func(t *testing.T) {
			vp := mustParse(t, s, users).(*ValuePath)
			selected := false
			for _, v := range user["emails"].([]any) {
				selected = selected || MatchValue(vp.Filter, v.(map[string]any))
			}
			if got := Match(vp, user); got != selected {
				t.Errorf("Match = %v but MatchValue selects a value: %v", got, selected)
			}
		})
	}
}

var presentTests = []struct {
	name  string
	value any
	want  bool
}{
	{"nil is absent", nil, false},
	{"an empty string is absent", "", false},
	{"a string is present", "x", true},
	{"false is present", false, true},
	{"zero is present", int64(0), true},
	{"an empty list is absent", []any{}, false},
	{"a list of empty values is absent", []any{"", nil, map[string]any{}}, false},
	{"a list with one value is present", []any{"", "x"}, true},
	{"an empty object is absent", map[string]any{}, false},
	{"an object of empty values is absent", map[string]any{"value": "", "display": nil}, false},
	{"an object with one value is present", map[string]any{"value": "", "primary": false}, true},
}

func TestPresent(t *testing.T) {
	for _, tt := range presentTests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Present(tt.value); got != tt.want {
				t.Errorf("Present(%#v) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestSchemasFollowFromTheTypeAndTheExtensionsPresent(t *testing.T) {
	users := schema.NewRegistry().ResourceType("User")
	withoutExtension := map[string]any{"userName": "ann"}
	withExtension := map[string]any{"userName": "bob", schema.EnterpriseUserURN: map[string]any{"department": "R&D"}}
	cases := []struct {
		filter string
		data   map[string]any
		want   bool
	}{
		{`schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"`, withoutExtension, true},
		{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, withoutExtension, false},
		{`schemas eq "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER"`, withExtension, true},
		{`schemas ne "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, withoutExtension, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"`, withExtension, true},
	}
	for _, tc := range cases {
		f, err := Parse(tc.filter, users)
		if err != nil {
			t.Fatalf("Parse(%s): %v", tc.filter, err)
		}
		if got := Match(f, tc.data); got != tc.want {
			t.Errorf("Match(%s, %v) = %v, want %v", tc.filter, tc.data, got, tc.want)
		}
	}
}
