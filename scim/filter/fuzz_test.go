package filter

import (
	"errors"
	"net/http"
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/schema"
)

// seedInputs returns every filter and path the other tests use, so that
// both fuzzers start from them (a path is an interesting filter input and
// the other way round).
func seedInputs() []string {
	var seeds []string
	seeds = append(seeds, rfcFilterExamples...)
	seeds = append(seeds, numberLiterals...)
	seeds = append(seeds, wrongShapeFilters...)
	seeds = append(seeds, emailValuePaths...)
	for _, tt := range parseTreeTests {
		seeds = append(seeds, tt.filter)
	}
	for _, tt := range stringParenTests {
		seeds = append(seeds, tt.filter)
	}
	for _, tt := range resolveTests {
		seeds = append(seeds, tt.filter)
	}
	for _, tt := range literalTests {
		seeds = append(seeds, tt.filter)
	}
	for _, tt := range badFilterTests {
		seeds = append(seeds, tt.filter)
	}
	for _, tt := range matchTests {
		seeds = append(seeds, tt.filter)
	}
	for _, tt := range emptyDataTests {
		seeds = append(seeds, tt.filter)
	}
	for _, tt := range matchValueTests {
		seeds = append(seeds, tt.path)
	}
	for _, tt := range rfcPatchPathExamples {
		seeds = append(seeds, tt.path)
	}
	for _, tt := range parsePathTests {
		seeds = append(seeds, tt.path)
	}
	for _, tt := range badPathTests {
		seeds = append(seeds, tt.path)
	}
	return seeds
}

// fuzzUser is the data the fuzzers evaluate filters against. Match and
// MatchValue only read it, and one fuzz worker runs one input at a time.
var fuzzUser = bjensen()

// checkError fails unless err is a 400 *scim.Error of the given scimType.
func checkError(t *testing.T, input string, err error, scimType string) {
	t.Helper()
	var serr *scim.Error
	if !errors.As(err, &serr) {
		t.Fatalf("%q: error %v (%T) is not a *scim.Error", input, err, err)
	}
	if serr.Status != http.StatusBadRequest || serr.ScimType != scimType {
		t.Fatalf("%q: error is %d %s, want 400 %s: %v", input, serr.Status, serr.ScimType, scimType, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range seedInputs() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		syntaxOK := false
		for _, rt := range []*schema.ResourceType{nil, users} {
			e, err := Parse(s, rt)
			if err != nil {
				if e != nil {
					t.Fatalf("Parse(%q) against %s returned %s along with %v", s, rtName(rt), e, err)
				}
				checkError(t, s, err, scim.InvalidFilter)
				continue
			}
			if rt == nil {
				syntaxOK = true
			} else if !syntaxOK {
				t.Fatalf("Parse(%q) succeeds against %s but not without a resource type", s, rtName(rt))
			}
			str := e.String()
			again, err := Parse(str, rt)
			if err != nil {
				t.Fatalf("Parse(%q) against %s = %q, which does not parse again: %v", s, rtName(rt), str, err)
			}
			if got := again.String(); got != str {
				t.Fatalf("Parse(%q) against %s: String() is not stable:\n first: %s\nsecond: %s", s, rtName(rt), str, got)
			}
			if rt != nil {
				// A resolved filter prints valid syntax on its own.
				if _, err := Parse(str, nil); err != nil {
					t.Fatalf("resolved String() %q does not parse without a resource type: %v", str, err)
				}
			}
			// Evaluation must not panic either, whatever the filter.
			Match(e, fuzzUser)
			Match(e, nil)
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range seedInputs() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		syntaxOK := false
		for _, rt := range []*schema.ResourceType{nil, users, groups} {
			p, err := ParsePath(s, rt)
			if err != nil {
				if p != nil {
					t.Fatalf("ParsePath(%q) against %s returned %s along with %v", s, rtName(rt), p, err)
				}
				checkError(t, s, err, scim.InvalidPath)
				continue
			}
			if rt == nil {
				syntaxOK = true
			} else if !syntaxOK {
				t.Fatalf("ParsePath(%q) succeeds against %s but not without a resource type", s, rtName(rt))
			}
			str := p.String()
			again, err := ParsePath(str, rt)
			if err != nil {
				t.Fatalf("ParsePath(%q) against %s = %q, which does not parse again: %v", s, rtName(rt), str, err)
			}
			if got := again.String(); got != str {
				t.Fatalf("ParsePath(%q) against %s: String() is not stable:\n first: %s\nsecond: %s", s, rtName(rt), str, got)
			}
			if rt != nil {
				// A resolved path prints valid syntax on its own.
				if _, err := ParsePath(str, nil); err != nil {
					t.Fatalf("resolved String() %q does not parse without a resource type: %v", str, err)
				}
			}
			if p.Filter != nil {
				for _, v := range fuzzUser["emails"].([]any) {
					MatchValue(p.Filter, v.(map[string]any))
				}
				MatchValue(p.Filter, nil)
			}
		}
	})
}
