package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/server"
)

// Inputs a review of the server found to cost too much or to answer wrong.

func TestHugeFiltersAreClientErrors(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		var terms []string
		for i := range 999 {
			terms = append(terms, fmt.Sprintf(`userName eq "u%d"`, i))
		}
		a.mustFail(t, 400, scim.InvalidFilter, "GET", "/Users"+query("filter", strings.Join(terms, " or ")), nil)
		a.mustFail(t, 400, scim.InvalidFilter, "POST", "/Users/.search", map[string]any{
			"schemas": []string{scim.SearchRequestURN}, "filter": strings.Join(terms, " and ")})
		// Names with many case-folding spellings (s, ſ) within the limit are answered.
		terms = terms[:0]
		for i := range 150 {
			terms = append(terms, fmt.Sprintf(`userName eq "ssssssss%d"`, i))
		}
		if total, _ := a.list(t, "/Users"+query("filter", strings.Join(terms, " or "))); total != 0 {
			t.Fatalf("total = %d, want 0", total)
		}
	})
}

func TestAPatchSetsThePasswordAtMostOnce(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		u := a.create(t, "/Users", `{"userName":"ann"}`)
		id := u["id"].(string)
		a.mustFail(t, 400, scim.InvalidValue, "PATCH", "/Users/"+id, patchOps(
			`{"op":"replace","path":"password","value":"one"}`, `{"op":"replace","path":"password","value":"two"}`))
		a.mustFail(t, 404, "", "PATCH", "/Users/no-such-id", patchOps(`{"op":"replace","path":"password","value":"x"}`))
		a.must(t, 200, "PATCH", "/Users/"+id, patchOps(`{"op":"replace","path":"password","value":"one"}`))
	})
}

func TestAGroupPatchWithUnknownAttributesDoesNotReturnTheMembers(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		u := a.create(t, "/Users", `{"userName":"ann"}`)
		g := a.create(t, "/Groups", fmt.Sprintf(`{"displayName":"Eng","members":[{"value":%q}]}`, u["id"]))
		res := a.must(t, 200, "PATCH", "/Groups/"+g["id"].(string)+"?attributes=bogus", patchOps(`{"op":"replace","path":"displayName","value":"Engineering"}`))
		if _, ok := res["members"]; ok {
			t.Fatalf("attributes=bogus returned the members: %v", res)
		}
		if res["id"] != g["id"] {
			t.Fatalf("the response lacks the group's id: %v", res)
		}
	})
}

func TestAGroupCannotBeAMemberOfItself(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		g := a.create(t, "/Groups", `{"displayName":"Eng"}`)
		id := g["id"].(string)
		a.mustFail(t, 400, scim.InvalidValue, "PATCH", "/Groups/"+id, patchOps(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q,"type":"Group"}]}`, id)))
	})
}

func TestRequiredNamesMustNotBeEmpty(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		a.mustFail(t, 400, scim.InvalidValue, "POST", "/Users", `{"userName":""}`)
		a.mustFail(t, 400, scim.InvalidValue, "POST", "/Groups", `{"displayName":""}`)
		u := a.create(t, "/Users", `{"userName":"ann"}`)
		a.mustFail(t, 400, scim.InvalidValue, "PATCH", "/Users/"+u["id"].(string), patchOps(`{"op":"replace","path":"userName","value":""}`))
	})
}

func TestTheConfiguredBaseURLIsUsedForLocations(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{BaseURL: "https://scim.example.com/scim/v2/"})
		r := a.do(t, "POST", "/Users", `{"userName":"ann"}`)
		res := r.must(t, http.StatusCreated)
		want := "https://scim.example.com/scim/v2/Users/" + res["id"].(string)
		if got := r.Header.Get("Location"); got != want {
			t.Fatalf("Location = %q, want %q", got, want)
		}
	})
}

// Sorting by an attribute that is never returned would tell who has one:
// users with a password sort first. Like a filter on it, it is refused.
func TestSortingByANeverReturnedAttributeIsRefused(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		a.create(t, "/Users", `{"userName":"ann","password":"Secret-1"}`)
		a.create(t, "/Users", `{"userName":"bob"}`)
		for _, sortBy := range []string{"password", "PASSWORD", userURN + ":password"} {
			e := a.mustFail(t, http.StatusBadRequest, scim.InvalidValue, "GET", "/Users"+query("sortBy", sortBy), nil)
			if d, _ := e["detail"].(string); !strings.Contains(d, "never returned") {
				t.Errorf("sortBy=%s: detail %q should say the attribute is never returned", sortBy, d)
			}
			a.mustFail(t, http.StatusBadRequest, scim.InvalidValue, "POST", "/Users/.search", map[string]any{
				"schemas": []string{scim.SearchRequestURN}, "sortBy": sortBy})
		}
		// The filter on it is refused as before, and sorting by what is
		// returned still works.
		a.mustFail(t, http.StatusBadRequest, scim.InvalidFilter, "GET", "/Users"+query("filter", "password pr"), nil)
		if total, _ := a.list(t, "/Users"+query("sortBy", "userName")); total != 2 {
			t.Fatalf("sortBy=userName: total %d, want 2", total)
		}
	})
}
