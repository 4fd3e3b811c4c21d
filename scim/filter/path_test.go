package filter

import (
	"errors"
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/schema"
)

// rfcPatchPathExamples are the PATCH paths of RFC 7644 §3.5.2 (figure 8)
// and of the operation examples of §3.5.2.1–3, with the resource type
// each applies to.
var rfcPatchPathExamples = []struct {
	path string
	rt   string
}{
	{`members`, "Group"},
	{`name.familyName`, "User"},
	{`addresses[type eq "work"]`, "User"},
	{`members[value eq "2819c223-7f76-453a-919d-413861904646"]`, "Group"},
	// figure 8's last example names members.displayName, which RFC 7643
	// does not define (members has display); see
	// TestParsePathRejectsTheRFCsMembersDisplayName.
	{`members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName`, "Group"},
	{`emails`, "User"},
	{`emails[type eq "work" and value ew "example.com"]`, "User"},
	{`addresses[type eq "work"].streetAddress`, "User"},
}

func mustParsePath(tb testing.TB, s string, rt *schema.ResourceType) *Path {
	tb.Helper()
	p, err := ParsePath(s, rt)
	if err != nil {
		tb.Fatalf("ParsePath(%q) against %s: %v", s, rtName(rt), err)
	}
	if p == nil {
		tb.Fatalf("ParsePath(%q) against %s returned nil and no error", s, rtName(rt))
	}
	return p
}

// assertPathRoundTrip checks that p.String() parses again to a path with the
// same String().
func assertPathRoundTrip(tb testing.TB, p *Path, rt *schema.ResourceType) {
	tb.Helper()
	s := p.String()
	again, err := ParsePath(s, rt)
	if err != nil {
		tb.Fatalf("String() = %q does not parse again against %s: %v", s, rtName(rt), err)
	}
	if got := again.String(); got != s {
		tb.Fatalf("round trip changed the path:\n first: %s\nsecond: %s", s, got)
	}
}

func TestParsePathAcceptsTheRFCExamples(t *testing.T) {
	for _, ex := range rfcPatchPathExamples {
		t.Run(ex.path, func(t *testing.T) {
			p := mustParsePath(t, ex.path, nil)
			if got := p.String(); got != ex.path {
				t.Errorf("String() = %q, want %q", got, ex.path)
			}
			assertPathRoundTrip(t, p, nil)
			if ex.path == `members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName` {
				return
			}
			rt := registry.ResourceType(ex.rt)
			p = mustParsePath(t, ex.path, rt)
			if got := p.String(); got != ex.path {
				t.Errorf("resolved String() = %q, want %q", got, ex.path)
			}
			assertPathRoundTrip(t, p, rt)
		})
	}
}

func TestParsePathRejectsTheRFCsMembersDisplayName(t *testing.T) {
	// RFC 7644 figure 8 writes members[...].displayName, but the Group
	// schema of RFC 7643 gives members a "display" sub-attribute and no
	// "displayName": resolved, the path names an unknown attribute.
	_, err := ParsePath(`members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName`, groups)
	assertSCIMError(t, err, scim.InvalidPath, `unknown attribute "members.displayName"`)
	if !errors.Is(err, schema.ErrUnknownAttribute) {
		t.Errorf("error %v does not wrap schema.ErrUnknownAttribute", err)
	}
	p := mustParsePath(t, `members[value eq "2819c223-7f76-453a-919d-413861904646"].display`, groups)
	if p.Attr.Ref.Sub == nil || p.Attr.Ref.Sub.Name != "display" {
		t.Errorf("members[...].display resolves to %+v, want members.display", p.Attr.Ref)
	}
}

var parsePathTests = []struct {
	name       string
	path       string
	rt         *schema.ResourceType
	wantString string
	wantURN    string
	wantName   string
	wantSub    string
	wantExt    string // Ref.Extension
	wantAttr   string // Ref.Attr.Name; "" when Ref.Attr must be nil
	wantFilter string // dump of Filter; "" when Filter must be nil
}{
	{
		name: "a simple attribute", path: `title`, rt: users,
		wantString: `title`, wantName: "title", wantAttr: "title",
	},
	{
		name: "a sub-attribute", path: `name.givenName`, rt: users,
		wantString: `name.givenName`, wantName: "name", wantSub: "givenName", wantAttr: "name",
	},
	{
		name: "names in another case are respelled", path: `NAME.GIVENNAME`, rt: users,
		wantString: `name.givenName`, wantName: "name", wantSub: "givenName", wantAttr: "name",
	},
	{
		name: "names keep their case without a resource type", path: `NAME.GIVENNAME`,
		wantString: `NAME.GIVENNAME`, wantName: "NAME", wantSub: "GIVENNAME",
	},
	{
		name: "a multi-valued attribute with a value filter", path: `members[value eq "2819c223-7f76-453a-919d-413861904646"]`, rt: groups,
		wantString: `members[value eq "2819c223-7f76-453a-919d-413861904646"]`, wantName: "members", wantAttr: "members",
		wantFilter: `(value eq "2819c223-7f76-453a-919d-413861904646")`,
	},
	{
		name: "a value filter followed by a sub-attribute", path: `emails[type eq "work"].value`, rt: users,
		wantString: `emails[type eq "work"].value`, wantName: "emails", wantSub: "value", wantAttr: "emails",
		wantFilter: `(type eq "work")`,
	},
	{
		name: "a value filter and sub-attribute in another case", path: `EMAILS[TYPE EQ "work"].VALUE`, rt: users,
		wantString: `emails[type eq "work"].value`, wantName: "emails", wantSub: "value", wantAttr: "emails",
		wantFilter: `(type eq "work")`,
	},
	{
		name: "an address's street", path: `addresses[type eq "work"].streetAddress`, rt: users,
		wantString: `addresses[type eq "work"].streetAddress`, wantName: "addresses", wantSub: "streetAddress", wantAttr: "addresses",
		wantFilter: `(type eq "work")`,
	},
	{
		name: "a value filter with and", path: `emails[type eq "work" and value ew "example.com"]`, rt: users,
		wantString: `emails[type eq "work" and value ew "example.com"]`, wantName: "emails", wantAttr: "emails",
		wantFilter: `And[(type eq "work"), (value ew "example.com")]`,
	},
	{
		name: "a value filter on a single-valued complex attribute", path: `name[givenName pr]`, rt: users,
		wantString: `name[givenName pr]`, wantName: "name", wantAttr: "name",
		wantFilter: `(givenName pr)`,
	},
	{
		name: "an enterprise attribute", path: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`, rt: users,
		wantString: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`,
		wantURN:    schema.EnterpriseUserURN, wantName: "manager", wantExt: schema.EnterpriseUserURN, wantAttr: "manager",
	},
	{
		name: "an enterprise sub-attribute", path: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`, rt: users,
		wantString: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`,
		wantURN:    schema.EnterpriseUserURN, wantName: "manager", wantSub: "value", wantExt: schema.EnterpriseUserURN, wantAttr: "manager",
	},
	{
		name: "an unqualified enterprise attribute", path: `employeeNumber`, rt: users,
		wantString: `employeeNumber`, wantName: "employeeNumber", wantExt: schema.EnterpriseUserURN, wantAttr: "employeeNumber",
	},
	{
		name: "a bare extension URN names the whole extension", path: schema.EnterpriseUserURN, rt: users,
		wantString: schema.EnterpriseUserURN, wantURN: schema.EnterpriseUserURN, wantExt: schema.EnterpriseUserURN,
	},
	{
		name: "a bare extension URN in another case", path: `URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER`, rt: users,
		wantString: schema.EnterpriseUserURN, wantURN: schema.EnterpriseUserURN, wantExt: schema.EnterpriseUserURN,
	},
	{
		name: "a URN-qualified core attribute", path: `urn:ietf:params:scim:schemas:core:2.0:User:userName`, rt: users,
		wantString: `urn:ietf:params:scim:schemas:core:2.0:User:userName`, wantURN: schema.UserURN, wantName: "userName", wantAttr: "userName",
	},
	{
		name: "a common attribute", path: `meta.lastModified`, rt: users,
		wantString: `meta.lastModified`, wantName: "meta", wantSub: "lastModified", wantAttr: "meta",
	},
	{
		name: "surrounding blanks are ignored", path: " title\t", rt: users,
		wantString: `title`, wantName: "title", wantAttr: "title",
	},
}

func TestParsePath(t *testing.T) {
	for _, tt := range parsePathTests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParsePath(t, tt.path, tt.rt)
			if got := p.String(); got != tt.wantString {
				t.Errorf("String() = %q, want %q", got, tt.wantString)
			}
			a := p.Attr
			if a.URN != tt.wantURN || a.Name != tt.wantName || a.Sub != tt.wantSub {
				t.Errorf("Attr = {URN: %q, Name: %q, Sub: %q}, want {URN: %q, Name: %q, Sub: %q}",
					a.URN, a.Name, a.Sub, tt.wantURN, tt.wantName, tt.wantSub)
			}
			if tt.rt != nil {
				if a.Ref.Extension != tt.wantExt {
					t.Errorf("Ref.Extension = %q, want %q", a.Ref.Extension, tt.wantExt)
				}
				switch {
				case tt.wantAttr == "" && a.Ref.Attr != nil:
					t.Errorf("Ref.Attr = %s, want nil", a.Ref.Attr.Name)
				case tt.wantAttr != "" && (a.Ref.Attr == nil || a.Ref.Attr.Name != tt.wantAttr):
					t.Errorf("Ref.Attr = %v, want %s", a.Ref.Attr, tt.wantAttr)
				}
				switch {
				case tt.wantSub == "" && a.Ref.Sub != nil:
					t.Errorf("Ref.Sub = %s, want nil", a.Ref.Sub.Name)
				case tt.wantSub != "" && (a.Ref.Sub == nil || a.Ref.Sub.Name != tt.wantSub):
					t.Errorf("Ref.Sub = %v, want %s", a.Ref.Sub, tt.wantSub)
				}
			} else if a.Resolved() {
				t.Errorf("path parsed without a resource type is resolved: %+v", a.Ref)
			}
			switch {
			case tt.wantFilter == "" && p.Filter != nil:
				t.Errorf("Filter = %s, want none", dump(p.Filter))
			case tt.wantFilter != "" && p.Filter == nil:
				t.Errorf("Filter = nil, want %s", tt.wantFilter)
			case tt.wantFilter != "" && dump(p.Filter) != tt.wantFilter:
				t.Errorf("Filter = %s, want %s", dump(p.Filter), tt.wantFilter)
			}
			assertPathRoundTrip(t, p, tt.rt)
		})
	}
}

func TestParsePathResolvesItsFilterAgainstTheAttribute(t *testing.T) {
	p := mustParsePath(t, `emails[type eq "work" and primary eq "True"].value`, users)
	and, ok := p.Filter.(*And)
	if !ok {
		t.Fatalf("Filter = %s, want And", dump(p.Filter))
	}
	for _, e := range []Expr{and.Left, and.Right} {
		c := e.(*Compare)
		if c.Attr.Ref.Attr != p.Attr.Ref.Attr {
			t.Errorf("%s: Ref.Attr = %v, want the emails attribute of the path", c, c.Attr.Ref.Attr)
		}
		if c.Attr.Ref.Sub == nil || c.Attr.Ref.Sub.Name != c.Attr.Name {
			t.Errorf("%s: Ref.Sub = %v, want %s", c, c.Attr.Ref.Sub, c.Attr.Name)
		}
	}
	if v := and.Right.(*Compare).Value; v != true {
		t.Errorf(`primary eq "True" has value %#v, want the boolean true`, v)
	}
	if p.Attr.Ref.Sub == nil || p.Attr.Ref.Sub.Name != "value" {
		t.Errorf("path Ref.Sub = %v, want value", p.Attr.Ref.Sub)
	}
}

var badPathTests = []struct {
	name    string
	path    string
	rt      *schema.ResourceType
	want    string
	unknown bool
}{
	{name: "an empty path", path: ``, want: `invalid path "": at position 1: expected an attribute path, found end of filter`},
	{name: "an unclosed bracket", path: `emails[`, want: `invalid path "emails[": at position 8: expected an attribute expression, found end of filter`},
	{name: "an unclosed filter", path: `emails[type eq "work"`, want: `at position 22: expected "]", found end of filter`},
	{name: "a filter on a sub-attribute", path: `name.givenName[type eq "x"]`, want: `at position 1: a value filter applies to an attribute, not to the sub-attribute "name.givenName"`},
	{name: "a stray closing bracket", path: `userName]`, want: `invalid path "userName]": at position 9: unexpected "]"`},
	{name: "a filter instead of a path", path: `userName eq "x"`, want: `at position 10: unexpected "eq"`},
	{name: "a logical operator after the filter", path: `emails[type eq "work"] and`, want: `at position 24: unexpected "and"`},
	{name: "an empty sub-attribute after the filter", path: `emails[type eq "work"].`, want: `at position 23: invalid sub-attribute name ""`},
	{name: "two sub-attributes after the filter", path: `emails[type eq "work"].value.display`, want: `at position 23: invalid sub-attribute name "value.display"`},
	{name: "a sub-attribute without a dot", path: `emails[type eq "work"]value`, want: `at position 23: unexpected "value"`},
	{name: "a nested filter", path: `emails[type[value eq "x"]]`, want: "at position 12: value filters cannot be nested"},
	{name: "a bad literal in the filter", path: `emails[type eq work]`, want: `at position 16: expected a value (a quoted string, number, true, false or null), found "work"`},
	{name: "a quoted string as a path", path: `"title"`, want: `at position 1: expected an attribute path, found "\"title\""`},
	{name: "a number as a path", path: `42`, want: `at position 1: expected an attribute path, found "42"`},
	{name: "an invalid name", path: `ti$tle`, want: `at position 1: invalid attribute path "ti$tle"`},
	{name: "an extension URN with a trailing colon", path: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:`, rt: users, want: `at position 1: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:" names a schema, not an attribute`},
	{name: "an unknown attribute", path: `foo`, rt: users, want: `invalid path "foo": unknown attribute "foo"`, unknown: true},
	{name: "an unknown sub-attribute", path: `name.foo`, rt: users, want: `unknown attribute "name.foo"`, unknown: true},
	{name: "an unknown sub-attribute after the filter", path: `emails[type eq "work"].foo`, rt: users, want: `unknown attribute "emails.foo"`, unknown: true},
	{name: "an unknown sub-attribute in the filter", path: `emails[foo eq "x"]`, rt: users, want: `emails has no sub-attribute "foo"`, unknown: false}, // a bad filter is an error even where unknown targets are ignored
	{name: "an unknown schema", path: `urn:example:unknown:1.0:foo`, rt: users, want: `unknown schema in "urn:example:unknown:1.0:foo"`, unknown: true},
	{name: "an attribute of an unknown extension", path: `urn:example:unknown:v1:foo`, rt: users, want: `unknown schema in "urn:example:unknown:v1:foo"`, unknown: true},
	{name: "a User attribute on a Group", path: `userName`, rt: groups, want: `unknown attribute "userName"`, unknown: true},
	{name: "a filter on a simple attribute", path: `title[value eq "x"]`, rt: users, want: "title is not a complex attribute, so it cannot take a [filter]"},
	{name: "a type mismatch in the filter", path: `emails[primary eq "yes"]`, rt: users, want: `primary is boolean; compare it with true or false, not "yes"`},
}

func TestParsePathRejectsBadPaths(t *testing.T) {
	for _, tt := range badPathTests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePath(tt.path, tt.rt)
			if err == nil {
				t.Fatalf("ParsePath(%q) against %s = %s, want an error", tt.path, rtName(tt.rt), p)
			}
			if p != nil {
				t.Errorf("ParsePath(%q) returned a path %s along with its error", tt.path, p)
			}
			serr := assertSCIMError(t, err, scim.InvalidPath, tt.want)
			if got := errors.Is(err, schema.ErrUnknownAttribute); got != tt.unknown {
				t.Errorf("errors.Is(err, schema.ErrUnknownAttribute) = %v, want %v (err: %v)", got, tt.unknown, err)
			}
			if !errors.Is(err, &scim.Error{Status: 400, ScimType: scim.InvalidPath}) {
				t.Errorf("errors.Is(err, 400 invalidPath) = false for %v", err)
			}
			if want := "invalid path " + quote(tt.path); len(serr.Detail) < len(want) || serr.Detail[:len(want)] != want {
				t.Errorf("Detail = %q, want it to start with %q", serr.Detail, want)
			}
		})
	}
}
