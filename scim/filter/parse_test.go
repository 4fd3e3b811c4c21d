package filter

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/schema"
)

// rfcFilterExamples are the filter examples of RFC 7644 §3.4.2.2, in the
// order the RFC gives them, followed by the URN-qualified sub-attribute
// form of the second one.
var rfcFilterExamples = []string{
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
	`urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Malley"`,
}

// The resource types of a real registry: User, with the Enterprise User
// extension, and Group. Resource types are immutable, so tests share them.
var (
	registry = schema.NewRegistry()
	users    = registry.ResourceType("User")
	groups   = registry.ResourceType("Group")
)

func TestTheRegistryHasUserAndGroup(t *testing.T) {
	if users == nil || groups == nil {
		t.Fatalf("schema.NewRegistry() resource types: User %v, Group %v", users, groups)
	}
	if users.Extension(schema.EnterpriseUserURN) == nil {
		t.Fatalf("the User resource type has no Enterprise User extension")
	}
}

// rtName names a resource type in test and failure messages.
func rtName(rt *schema.ResourceType) string {
	if rt == nil {
		return "no resource type"
	}
	return rt.Name
}

func mustParse(tb testing.TB, s string, rt *schema.ResourceType) Expr {
	tb.Helper()
	e, err := Parse(s, rt)
	if err != nil {
		tb.Fatalf("Parse(%q) against %s: %v", s, rtName(rt), err)
	}
	if e == nil {
		tb.Fatalf("Parse(%q) against %s returned a nil expression and no error", s, rtName(rt))
	}
	return e
}

// assertRoundTrip checks that e.String() parses again, against the same
// resource type, to an expression with the same String().
func assertRoundTrip(tb testing.TB, e Expr, rt *schema.ResourceType) {
	tb.Helper()
	s := e.String()
	again, err := Parse(s, rt)
	if err != nil {
		tb.Fatalf("String() = %q does not parse again against %s: %v", s, rtName(rt), err)
	}
	if got := again.String(); got != s {
		tb.Fatalf("round trip changed the filter:\n first: %s\nsecond: %s", s, got)
	}
}

// dump renders the shape of an expression tree, so that tests can check
// grouping and precedence, which String() hides.
func dump(e Expr) string {
	switch e := e.(type) {
	case *And:
		return "And[" + dump(e.Left) + ", " + dump(e.Right) + "]"
	case *Or:
		return "Or[" + dump(e.Left) + ", " + dump(e.Right) + "]"
	case *Not:
		return "Not[" + dump(e.X) + "]"
	case *ValuePath:
		return "ValuePath{" + e.Attr.String() + ": " + dump(e.Filter) + "}"
	case *Compare:
		if e.Op == Pr {
			return "(" + e.Attr.String() + " pr)"
		}
		return "(" + e.Attr.String() + " " + string(e.Op) + " " + literal(e.Value) + ")"
	case nil:
		return "<nil>"
	}
	return "<unknown>"
}

// assertSCIMError checks that err is a 400 *scim.Error with the given
// scimType whose detail contains want, and returns it.
func assertSCIMError(tb testing.TB, err error, scimType, want string) *scim.Error {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want a 400 %s error mentioning %q", scimType, want)
	}
	var serr *scim.Error
	if !errors.As(err, &serr) {
		tb.Fatalf("error %v (%T) is not a *scim.Error", err, err)
	}
	if serr.Status != http.StatusBadRequest {
		tb.Errorf("Status = %d, want %d", serr.Status, http.StatusBadRequest)
	}
	if serr.ScimType != scimType {
		tb.Errorf("ScimType = %q, want %q", serr.ScimType, scimType)
	}
	if !strings.Contains(serr.Detail, want) {
		tb.Errorf("Detail = %q, want it to mention %q", serr.Detail, want)
	}
	return serr
}

func TestParseAcceptsEveryFilterExampleOfRFC7644(t *testing.T) {
	for _, s := range rfcFilterExamples {
		t.Run(s, func(t *testing.T) {
			for _, rt := range []*schema.ResourceType{nil, users} {
				e := mustParse(t, s, rt)
				assertRoundTrip(t, e, rt)
			}
		})
	}
}

var parseTreeTests = []struct {
	name   string
	filter string
	rt     *schema.ResourceType
	want   string
}{
	{
		name:   "and binds tighter than or",
		filter: `userName eq "a" or title eq "b" and displayName eq "c"`,
		rt:     users,
		want:   `Or[(userName eq "a"), And[(title eq "b"), (displayName eq "c")]]`,
	},
	{
		name:   "and binds tighter than or on either side",
		filter: `userName eq "a" and title eq "b" or displayName eq "c" and nickName eq "d"`,
		rt:     users,
		want:   `Or[And[(userName eq "a"), (title eq "b")], And[(displayName eq "c"), (nickName eq "d")]]`,
	},
	{
		name:   "parentheses override precedence",
		filter: `(userName eq "a" or title eq "b") and displayName eq "c"`,
		rt:     users,
		want:   `And[Or[(userName eq "a"), (title eq "b")], (displayName eq "c")]`,
	},
	{
		name:   "and and or associate to the left",
		filter: `title pr or nickName pr or userType pr`,
		rt:     users,
		want:   `Or[Or[(title pr), (nickName pr)], (userType pr)]`,
	},
	{
		name:   "not applies to the parenthesised group only",
		filter: `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		rt:     users,
		want:   `And[(userType ne "Employee"), Not[Or[(emails.value co "example.com"), (emails.value co "example.org")]]]`,
	},
	{
		name:   "operators and keywords are case-insensitive",
		filter: `userName EQ "x" AND active Eq TRUE`,
		rt:     users,
		want:   `And[(userName eq "x"), (active eq true)]`,
	},
	{
		name:   "or, not, pr and null are case-insensitive too",
		filter: `NOT (title PR) Or nickName eQ NULL`,
		rt:     users,
		want:   `Or[Not[(title pr)], (nickName eq null)]`,
	},
	{
		name:   "attribute names are respelled in the schema's case",
		filter: `USERNAME eq "x" and NAME.FAMILYNAME sw "J" and EMAILS[TYPE eq "work"]`,
		rt:     users,
		want:   `And[And[(userName eq "x"), (name.familyName sw "J")], ValuePath{emails: (type eq "work")}]`,
	},
	{
		name:   "attribute names keep their spelling without a resource type",
		filter: `USERNAME eq "x"`,
		want:   `(USERNAME eq "x")`,
	},
	{
		name:   "a value path holds its own logical expression",
		filter: `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		rt:     users,
		want:   `Or[ValuePath{emails: And[(type eq "work"), (value co "@example.com")]}, ValuePath{ims: And[(type eq "xmpp"), (value co "@foo.com")]}]`,
	},
	{
		name:   "Entra's value path with a sub-attribute comparison joins the filter with and",
		filter: `emails[type eq "work"].value eq "a@x.com"`,
		rt:     users,
		want:   `ValuePath{emails: And[(type eq "work"), (value eq "a@x.com")]}`,
	},
	{
		name:   "Entra's form keeps an or filter grouped",
		filter: `emails[type eq "work" or type eq "home"].value eq "a@x.com"`,
		rt:     users,
		want:   `ValuePath{emails: And[Or[(type eq "work"), (type eq "home")], (value eq "a@x.com")]}`,
	},
	{
		name:   "a complex attribute compared without a sub-attribute means its value",
		filter: `emails co "x"`,
		rt:     users,
		want:   `(emails.value co "x")`,
	},
	{
		name:   "a complex attribute keeps pr on itself",
		filter: `name pr`,
		rt:     users,
		want:   `(name pr)`,
	},
	{
		name:   "whitespace between tokens is optional around brackets and quotes",
		filter: "emails[type eq\"work\"]\tand\n(title pr)",
		rt:     users,
		want:   `And[ValuePath{emails: (type eq "work")}, (title pr)]`,
	},
}

func TestParseBuildsTheExpectedTree(t *testing.T) {
	for _, tt := range parseTreeTests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustParse(t, tt.filter, tt.rt)
			if got := dump(e); got != tt.want {
				t.Errorf("Parse(%q) tree:\n got: %s\nwant: %s", tt.filter, got, tt.want)
			}
			assertRoundTrip(t, e, tt.rt)
		})
	}
}

var stringParenTests = []struct{ filter, want string }{
	{`((userName eq "a"))`, `userName eq "a"`},
	{`(userName eq "a" or title pr) and nickName pr`, `(userName eq "a" or title pr) and nickName pr`},
	{`userName eq "a" or (title pr and nickName pr)`, `userName eq "a" or title pr and nickName pr`},
	{`not(title pr)`, `not (title pr)`},
	{`emails[type eq "work"].value eq "a@x.com"`, `emails[type eq "work" and value eq "a@x.com"]`},
	{`title eq "say \"hi\"\\\u0001"`, `title eq "say \"hi\"\\\u0001"`},
}

func TestStringIsCanonicalAndParenthesisesOnlyWhereNeeded(t *testing.T) {
	for _, tt := range stringParenTests {
		t.Run(tt.filter, func(t *testing.T) {
			e := mustParse(t, tt.filter, users)
			if got := e.String(); got != tt.want {
				t.Errorf("String() = %s, want %s", got, tt.want)
			}
			assertRoundTrip(t, e, users)
		})
	}
}

var resolveTests = []struct {
	name      string
	filter    string
	rt        *schema.ResourceType
	wantPath  AttrPath // URN, Name and Sub; Ref is checked through the fields below
	wantExt   string
	wantAttr  string
	wantSub   string // "" when Ref.Sub must be nil
	wantValue any
}{
	{
		name:     "a core attribute has no extension",
		filter:   `userName eq "bjensen"`,
		rt:       users,
		wantPath: AttrPath{Name: "userName"},
		wantAttr: "userName", wantValue: "bjensen",
	},
	{
		name:     "a URN-qualified core attribute keeps the canonical URN",
		filter:   `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
		rt:       users,
		wantPath: AttrPath{URN: schema.UserURN, Name: "userName"},
		wantAttr: "userName", wantValue: "J",
	},
	{
		name:     "a URN in another case is respelled canonically",
		filter:   `URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:USERNAME sw "J"`,
		rt:       users,
		wantPath: AttrPath{URN: schema.UserURN, Name: "userName"},
		wantAttr: "userName", wantValue: "J",
	},
	{
		name:     "a URN-qualified core sub-attribute resolves to the sub-attribute",
		filter:   `urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Malley"`,
		rt:       users,
		wantPath: AttrPath{URN: schema.UserURN, Name: "name", Sub: "familyName"},
		wantAttr: "name", wantSub: "familyName", wantValue: "O'Malley",
	},
	{
		name:     "a common attribute resolves under the core URN",
		filter:   `urn:ietf:params:scim:schemas:core:2.0:User:meta.resourceType eq "User"`,
		rt:       users,
		wantPath: AttrPath{URN: schema.UserURN, Name: "meta", Sub: "resourceType"},
		wantAttr: "meta", wantSub: "resourceType", wantValue: "User",
	},
	{
		name:     "a URN-qualified enterprise attribute sets the extension",
		filter:   `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915"`,
		rt:       users,
		wantPath: AttrPath{URN: schema.EnterpriseUserURN, Name: "manager", Sub: "value"},
		wantExt:  schema.EnterpriseUserURN, wantAttr: "manager", wantSub: "value", wantValue: "26118915",
	},
	{
		name:     "an unqualified enterprise attribute is found in the extension",
		filter:   `employeeNumber eq "701984"`,
		rt:       users,
		wantPath: AttrPath{Name: "employeeNumber"},
		wantExt:  schema.EnterpriseUserURN, wantAttr: "employeeNumber", wantValue: "701984",
	},
	{
		name:     "emails co resolves to emails.value",
		filter:   `emails co "example.com"`,
		rt:       users,
		wantPath: AttrPath{Name: "emails", Sub: "value"},
		wantAttr: "emails", wantSub: "value", wantValue: "example.com",
	},
	{
		name:     "the enterprise manager compared directly resolves to manager.value",
		filter:   `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26118915"`,
		rt:       users,
		wantPath: AttrPath{URN: schema.EnterpriseUserURN, Name: "manager", Sub: "value"},
		wantExt:  schema.EnterpriseUserURN, wantAttr: "manager", wantSub: "value", wantValue: "26118915",
	},
	{
		name:     "a Group member resolves against the Group type",
		filter:   `members.value eq "2819c223-7f76-453a-919d-413861904646"`,
		rt:       groups,
		wantPath: AttrPath{Name: "members", Sub: "value"},
		wantAttr: "members", wantSub: "value", wantValue: "2819c223-7f76-453a-919d-413861904646",
	},
	{
		name:     "the schemas attribute of every resource resolves",
		filter:   `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
		rt:       users,
		wantPath: AttrPath{Name: "schemas"},
		wantAttr: "schemas", wantValue: schema.EnterpriseUserURN,
	},
	{
		name:     "the schemas attribute qualified by the core URN resolves",
		filter:   `urn:ietf:params:scim:schemas:core:2.0:user:SCHEMAS eq "urn:ietf:params:scim:schemas:core:2.0:User"`,
		rt:       users,
		wantPath: AttrPath{URN: schema.UserURN, Name: "schemas"},
		wantAttr: "schemas", wantValue: schema.UserURN,
	},
}

func TestParseResolvesAttributePaths(t *testing.T) {
	for _, tt := range resolveTests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustParse(t, tt.filter, tt.rt)
			c, ok := e.(*Compare)
			if !ok {
				t.Fatalf("Parse(%q) = %s, want a *Compare", tt.filter, dump(e))
			}
			got := c.Attr
			if got.URN != tt.wantPath.URN || got.Name != tt.wantPath.Name || got.Sub != tt.wantPath.Sub {
				t.Errorf("path = {URN: %q, Name: %q, Sub: %q}, want {URN: %q, Name: %q, Sub: %q}",
					got.URN, got.Name, got.Sub, tt.wantPath.URN, tt.wantPath.Name, tt.wantPath.Sub)
			}
			if !got.Resolved() {
				t.Fatalf("path %s is not resolved", got)
			}
			if got.Ref.Extension != tt.wantExt {
				t.Errorf("Ref.Extension = %q, want %q", got.Ref.Extension, tt.wantExt)
			}
			if got.Ref.Attr.Name != tt.wantAttr {
				t.Errorf("Ref.Attr = %s, want %s", got.Ref.Attr.Name, tt.wantAttr)
			}
			switch {
			case tt.wantSub == "" && got.Ref.Sub != nil:
				t.Errorf("Ref.Sub = %s, want nil", got.Ref.Sub.Name)
			case tt.wantSub != "" && (got.Ref.Sub == nil || got.Ref.Sub.Name != tt.wantSub):
				t.Errorf("Ref.Sub = %v, want %s", got.Ref.Sub, tt.wantSub)
			}
			if c.Value != tt.wantValue {
				t.Errorf("Value = %#v, want %#v", c.Value, tt.wantValue)
			}
			assertRoundTrip(t, e, tt.rt)
		})
	}
}

func TestParseResolvesValuePathSubAttributesAgainstTheirParent(t *testing.T) {
	e := mustParse(t, `emails[type eq "work" and VALUE co "@example.com"]`, users)
	vp, ok := e.(*ValuePath)
	if !ok {
		t.Fatalf("got %s, want a *ValuePath", dump(e))
	}
	if vp.Attr.Ref.Attr == nil || vp.Attr.Ref.Attr.Name != "emails" || vp.Attr.Ref.Sub != nil {
		t.Fatalf("value path attribute = %+v, want emails with no sub-attribute", vp.Attr.Ref)
	}
	and, ok := vp.Filter.(*And)
	if !ok {
		t.Fatalf("value path filter = %s, want And", dump(vp.Filter))
	}
	for _, side := range []struct {
		e    Expr
		name string
	}{{and.Left, "type"}, {and.Right, "value"}} {
		c := side.e.(*Compare)
		if c.Attr.Name != side.name || c.Attr.URN != "" || c.Attr.Sub != "" {
			t.Errorf("inner path = %q, want the bare sub-attribute name %q", c.Attr, side.name)
		}
		if c.Attr.Ref.Attr != vp.Attr.Ref.Attr {
			t.Errorf("inner Ref.Attr = %v, want the enclosing emails attribute", c.Attr.Ref.Attr)
		}
		if c.Attr.Ref.Sub == nil || c.Attr.Ref.Sub.Name != side.name {
			t.Errorf("inner Ref.Sub = %v, want %s", c.Attr.Ref.Sub, side.name)
		}
	}
}

func TestParseEntraValuePathFilterBecomesAnAnd(t *testing.T) {
	for _, rt := range []*schema.ResourceType{nil, users} {
		t.Run(rtName(rt), func(t *testing.T) {
			e := mustParse(t, `emails[type eq "work"].value eq "a@x.com"`, rt)
			vp, ok := e.(*ValuePath)
			if !ok {
				t.Fatalf("got %s, want a *ValuePath", dump(e))
			}
			if vp.Attr.Name != "emails" || vp.Attr.Sub != "" {
				t.Errorf("value path attribute = %q, want emails", vp.Attr)
			}
			and, ok := vp.Filter.(*And)
			if !ok {
				t.Fatalf("filter = %s, want And(type eq work, value eq a@x.com)", dump(vp.Filter))
			}
			left, lok := and.Left.(*Compare)
			right, rok := and.Right.(*Compare)
			if !lok || !rok ||
				left.Attr.Name != "type" || left.Op != Eq || left.Value != "work" ||
				right.Attr.Name != "value" || right.Op != Eq || right.Value != "a@x.com" {
				t.Errorf("filter = %s, want And(type eq work, value eq a@x.com)", dump(vp.Filter))
			}
			if rt != nil && (right.Attr.Ref.Sub == nil || right.Attr.Ref.Sub.Name != "value") {
				t.Errorf("value comparison is not resolved to emails.value: %+v", right.Attr.Ref)
			}
		})
	}
}

// lastModified is the instant of the RFC's meta.lastModified examples.
var lastModified = time.Date(2011, 5, 13, 4, 42, 34, 0, time.UTC)

var literalTests = []struct {
	name   string
	filter string
	rt     *schema.ResourceType
	want   any
}{
	{"a dateTime literal becomes a time.Time", `meta.lastModified gt "2011-05-13T04:42:34Z"`, users, lastModified},
	{"a dateTime literal with an offset is the same instant", `meta.lastModified gt "2011-05-13T06:42:34+02:00"`, users, lastModified},
	{"a dateTime literal without a zone is UTC", `meta.created lt "2011-05-13T04:42:34"`, users, lastModified},
	{"a dateTime literal keeps fractional seconds", `meta.created ge "2011-05-13T04:42:34.5Z"`, users, lastModified.Add(500 * time.Millisecond)},
	{"a dateTime stays a string without a resource type", `meta.lastModified gt "2011-05-13T04:42:34Z"`, nil, "2011-05-13T04:42:34Z"},
	{"a string False compared with a boolean becomes false", `active eq "False"`, users, false},
	{"a string TRUE compared with a boolean becomes true", `active eq "TRUE"`, users, true},
	{"a boolean literal stays a boolean", `active eq false`, users, false},
	{"a string boolean stays a string without a resource type", `active eq "False"`, nil, "False"},
	{"a quoted number stays a string", `title eq "42"`, users, "42"},
	{"null is nil", `title eq null`, users, nil},
	{"an integer literal is an int64", `loginCount eq 42`, nil, int64(42)},
	{"a negative integer literal is an int64", `loginCount gt -7`, nil, int64(-7)},
	{"a decimal literal is a float64", `score ge 4.5`, nil, 4.5},
	{"a decimal literal without a fraction is a float64", `score ge 1.0`, nil, 1.0},
	{"an exponent makes a float64", `score lt 1e3`, nil, 1000.0},
	{"an integer too big for int64 becomes a float64", `score lt 9223372036854775808`, nil, 9223372036854775808.0},
}

func TestParseConvertsLiteralsToTheAttributeType(t *testing.T) {
	for _, tt := range literalTests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustParse(t, tt.filter, tt.rt)
			c, ok := e.(*Compare)
			if !ok {
				t.Fatalf("got %s, want a *Compare", dump(e))
			}
			if want, ok := tt.want.(time.Time); ok {
				got, ok := c.Value.(time.Time)
				if !ok || !got.Equal(want) {
					t.Fatalf("Value = %#v, want the time %s", c.Value, want.Format(time.RFC3339Nano))
				}
			} else if c.Value != tt.want {
				t.Fatalf("Value = %#v (%T), want %#v (%T)", c.Value, c.Value, tt.want, tt.want)
			}
			assertRoundTrip(t, e, tt.rt)
		})
	}
}

var numberLiterals = []string{
	`score eq 1.0`,
	`score eq -0.0`,
	`score eq 1e20`,
	`score eq 2.5`,
	`score eq -3`,
	`score eq 9223372036854775807`,
	`score eq 9223372036854775808`,
}

func TestStringPreservesTheLiteralType(t *testing.T) {
	// String promises that parsing it again yields an equal expression, so a
	// decimal literal must not come back as an integer, nor -0.0 as 0.
	for _, s := range numberLiterals {
		t.Run(s, func(t *testing.T) {
			first := mustParse(t, s, nil).(*Compare)
			again := mustParse(t, first.String(), nil).(*Compare)
			if reflect.TypeOf(again.Value) != reflect.TypeOf(first.Value) || again.Value != first.Value {
				t.Errorf("%q parsed to %#v; its String() %q parses to %#v", s, first.Value, first.String(), again.Value)
			}
			assertRoundTrip(t, first, nil)
		})
	}
}

var badFilterTests = []struct {
	name    string
	filter  string
	rt      *schema.ResourceType
	want    string // substring of the detail
	unknown bool   // the error must wrap schema.ErrUnknownAttribute
}{
	{name: "an empty filter", filter: ``, want: "position 1: expected an attribute expression, found end of filter"},
	{name: "blank space only", filter: "  \t", want: "position 4: expected an attribute expression"},
	{name: "an attribute without an operator", filter: `userName`, want: "position 9: expected an operator after userName"},
	{name: "an operator without a value", filter: `userName eq`, want: "position 12: expected a value, found end of filter"},
	{name: "an unknown operator", filter: `userName xx "a"`, want: `position 10: unknown operator "xx"`},
	{name: "an unclosed parenthesis", filter: `(userName eq "a"`, want: `position 17: expected ")", found end of filter`},
	{name: "an unopened parenthesis", filter: `userName eq "a")`, want: `position 16: unexpected ")"`},
	{name: "an unclosed bracket", filter: `emails[type eq "work"`, want: `position 22: expected "]", found end of filter`},
	{name: "an empty bracket", filter: `emails[]`, want: `position 8: expected an attribute expression, found "]"`},
	{name: "nested brackets", filter: `emails[type[value eq "x"]]`, want: "position 12: value filters cannot be nested"},
	{name: "two value filters in a row", filter: `emails[value eq "a"][type eq "b"]`, want: `position 21: unexpected "["`},
	{name: "an unterminated string", filter: `userName eq "abc`, want: "position 13: unterminated string literal"},
	{name: "a string ending in a backslash", filter: `userName eq "abc\`, want: "position 13: unterminated string literal"},
	{name: "a bad escape", filter: `userName eq "a\qb"`, want: "position 13: malformed string literal"},
	{name: "a string one byte over the limit", filter: `userName eq "` + strings.Repeat("x", MaxStringBytes+1) + `"`, want: "position 13: a string longer than 4096 bytes"},
	{name: "a string over the limit once its escapes are decoded", filter: `userName eq "` + strings.Repeat(`\u00e9`, MaxStringBytes/2+1) + `"`, want: "position 13: a string longer than 4096 bytes"},
	{name: "a string of a megabyte", filter: `userName eq "` + strings.Repeat("x", 1<<20) + `" or title pr`, want: "position 13: a string longer than 4096 bytes"},
	{name: "a long string where an attribute belongs", filter: `"` + strings.Repeat("x", 1<<20) + `" eq "x"`, want: "position 1: expected an attribute expression, found a string longer than 4096 bytes"},
	{name: "a raw control character in a string", filter: "userName eq \"a\tb\"", want: "position 13: malformed string literal"},
	{name: "a bare word as a value", filter: `userName eq nul`, want: `position 13: expected a value (a quoted string, number, true, false or null), found "nul"`},
	{name: "a malformed number", filter: `userName eq 01`, rt: nil, want: `position 13: malformed number "01"`},
	{name: "a number out of range", filter: `score eq 1e999`, rt: nil, want: `position 10: number out of range "1e999"`},
	{name: "a number where an attribute belongs", filter: `1 eq 1`, want: `position 1: expected an attribute expression, found "1"`},
	{name: "a dangling and", filter: `userName eq "a" and`, want: "position 20: expected an attribute expression, found end of filter"},
	{name: "a dangling or", filter: `userName eq "a" or`, want: "position 19: expected an attribute expression, found end of filter"},
	{name: "two expressions without a logical operator", filter: `userName eq "a" userName eq "b"`, want: `position 17: unexpected "userName"`},
	{name: "seventy nested parentheses", filter: strings.Repeat("(", 70) + `userName eq "x"` + strings.Repeat(")", 70), want: "position 65: nested more than 64 levels deep"},
	{name: "seventy nested nots", filter: strings.Repeat("not (", 70) + `title pr` + strings.Repeat(")", 70), want: "nested more than 64 levels deep"},
	{name: "not without parentheses", filter: `not userName eq "x"`, want: `position 1: expected "(" after not, found "userName"`},
	{name: "a value filter on a sub-attribute", filter: `emails.value[type eq "x"]`, want: `position 1: a value filter applies to an attribute, not to the sub-attribute "emails.value"`},
	{name: "a URN inside a value filter", filter: `emails[urn:ietf:params:scim:schemas:core:2.0:User:type eq "x"]`, want: "position 8: \"urn:ietf:params:scim:schemas:core:2.0:User:type\" inside emails[...] must be a sub-attribute name"},
	{name: "a dotted path inside a value filter", filter: `emails[type.x eq "x"]`, want: `position 8: "type.x" inside emails[...] must be a sub-attribute name`},
	{name: "Entra's form without an operator", filter: `emails[type eq "work"].value`, want: "position 29: expected an operator after value, found end of filter"},
	{name: "Entra's form with a bad sub-attribute", filter: `emails[type eq "work"].1 eq 2`, want: `position 23: invalid sub-attribute name "1"`},
	{name: "a URN without an attribute", filter: `urn:ietf:params:scim:schemas:core:2.0:User: eq "x"`, want: `position 1: "urn:ietf:params:scim:schemas:core:2.0:User:" names a schema, not an attribute`},
	{name: "an invalid attribute name", filter: `user_name! eq "x"`, want: `position 1: invalid attribute path "user_name!"`},
	{name: "a path with two dots", filter: `name.familyName.x eq "x"`, want: `position 1: invalid attribute path "name.familyName.x"`},
	{name: "an unknown attribute", filter: `foo eq "x"`, rt: users, want: `unknown attribute "foo"`, unknown: true},
	{name: "an unknown sub-attribute", filter: `name.foo eq "x"`, rt: users, want: `unknown attribute "name.foo"`, unknown: true},
	{name: "an unknown sub-attribute in a value filter", filter: `emails[foo eq "x"]`, rt: users, want: `emails has no sub-attribute "foo"`, unknown: true},
	{name: "an unknown schema URN", filter: `urn:example:unknown:1.0:foo eq "x"`, rt: users, want: `unknown schema in "urn:example:unknown:1.0:foo"`, unknown: true},
	{name: "a core attribute qualified by the extension URN", filter: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName eq "x"`, rt: users, want: `unknown attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName"`, unknown: true},
	{name: "schemas qualified by an extension URN", filter: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:schemas eq "x"`, rt: users, want: `unknown attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:schemas"`, unknown: true},
	{name: "a sub-attribute of schemas", filter: `schemas.value eq "x"`, rt: users, want: `unknown attribute "schemas"`, unknown: true},
	{name: "schemas inside a value filter", filter: `emails[schemas eq "x"]`, rt: users, want: `emails has no sub-attribute "schemas"`, unknown: true},
	{name: "a value filter on schemas", filter: `schemas[value eq "x"]`, rt: users, want: `unknown attribute "schemas"`, unknown: true},
	{name: "a User attribute in a Group filter", filter: `userName eq "x"`, rt: groups, want: `unknown attribute "userName"`, unknown: true},
	{name: "a sub-attribute of a simple attribute", filter: `userName.x eq "a"`, rt: users, want: `attribute "userName" has no sub-attributes`},
	{name: "a string compared with a boolean", filter: `userName gt true`, rt: users, want: "userName is a string attribute; compare it with a quoted string, not true"},
	{name: "a string compared with a number", filter: `userName eq 1`, rt: users, want: "userName is a string attribute; compare it with a quoted string, not 1"},
	{name: "an ordering operator on a boolean", filter: `active gt true`, rt: users, want: "active is boolean; only eq, ne and pr apply"},
	{name: "a boolean compared with a word in quotes", filter: `active eq "yes"`, rt: users, want: `active is boolean; compare it with true or false, not "yes"`},
	{name: "a dateTime compared with a non-date", filter: `meta.created eq "not a date"`, rt: users, want: `meta.created is a dateTime and "not a date" is not one`},
	{name: "a dateTime compared with a number", filter: `meta.created gt 2011`, rt: users, want: "meta.created is a dateTime; compare it with a quoted date"},
	{name: "contains on a dateTime", filter: `meta.lastModified co "2011"`, rt: users, want: "meta.lastModified is a dateTime; co, sw and ew apply only to strings"},
	{name: "an ordering operator on a binary", filter: `x509Certificates.value gt "AAAA"`, rt: users, want: "x509Certificates.value is binary"},
	{name: "contains null", filter: `title co null`, rt: users, want: "title co null: null can only be compared with eq or ne"},
	{name: "a complex attribute without a value sub-attribute", filter: `name eq "x"`, rt: users, want: "name is complex and has no value sub-attribute"},
	{name: "a value filter on a simple attribute", filter: `title[value eq "x"]`, rt: users, want: "title is not a complex attribute, so it cannot take a [filter]"},
}

func TestParseRejectsBadFilters(t *testing.T) {
	for _, tt := range badFilterTests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.filter, tt.rt)
			if err == nil {
				t.Fatalf("Parse(%q) against %s = %s, want an error", tt.filter, rtName(tt.rt), e)
			}
			if e != nil {
				t.Errorf("Parse(%q) returned an expression %s along with its error", tt.filter, e)
			}
			assertSCIMError(t, err, scim.InvalidFilter, tt.want)
			if got := errors.Is(err, schema.ErrUnknownAttribute); got != tt.unknown {
				t.Errorf("errors.Is(err, schema.ErrUnknownAttribute) = %v, want %v (err: %v)", got, tt.unknown, err)
			}
			if !errors.Is(err, &scim.Error{Status: http.StatusBadRequest, ScimType: scim.InvalidFilter}) {
				t.Errorf("errors.Is(err, 400 invalidFilter) = false for %v", err)
			}
		})
	}
}

func TestParseAcceptsStringsUpToTheLimit(t *testing.T) {
	for _, s := range []string{
		strings.Repeat("x", MaxStringBytes),
		strings.Repeat(`\u00e9`, MaxStringBytes/2), // é: two bytes each
		strings.Repeat("é", MaxStringBytes/2),
	} {
		e := mustParse(t, `userName eq "`+s+`"`, users)
		if v := e.(*Compare).Value.(string); len(v) != MaxStringBytes {
			t.Errorf("a literal of %d bytes decoded to %d", MaxStringBytes, len(v))
		}
	}
}

func TestParseAcceptsDeepButBoundedNesting(t *testing.T) {
	s := strings.Repeat("(", 63) + `userName eq "x"` + strings.Repeat(")", 63)
	e := mustParse(t, s, users)
	if got, want := e.String(), `userName eq "x"`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestParseHandlesLongFlatChainsUpToTheComparisonLimit(t *testing.T) {
	// and/or chains are not nesting: a chain of MaxComparisons must parse,
	// resolve and print without hitting the depth limit; one more is a
	// 400, so that a store never gets a statement too big for it.
	terms := make([]string, MaxComparisons+1)
	for i := range terms {
		terms[i] = `userName eq "u` + strings.Repeat("x", i%7) + `"`
	}
	for _, sep := range []string{" and ", " or "} {
		e := mustParse(t, strings.Join(terms[:MaxComparisons], sep), users)
		assertRoundTrip(t, e, users)
		_, err := Parse(strings.Join(terms, sep), users)
		var serr *scim.Error
		if !errors.As(err, &serr) || serr.ScimType != scim.InvalidFilter || !strings.Contains(serr.Detail, "comparisons") {
			t.Fatalf("a chain of %d comparisons: got %v, want 400 invalidFilter", MaxComparisons+1, err)
		}
	}
}

func TestParseRejectsURNsThatAreNotOneOfTheTypesSchemas(t *testing.T) {
	users := schema.NewRegistry().ResourceType("User")
	for _, f := range []string{
		`urn:userName eq "a"`,
		`urn:ietf:params:scim:schemas:core:2.0:User:bogus:userName eq "a"`,
		`urn:ietf:params:scim:schemas:core:2.0:userName eq "a"`,
	} {
		if _, err := Parse(f, users); err == nil {
			t.Errorf("Parse(%s) succeeded, want invalidFilter", f)
		}
	}
}
