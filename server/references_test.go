package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/server"
)

// members[].$ref and groups[].$ref are returned by default (/Schemas says
// so): the URL of the member or group, built from the base URL as
// meta.location is, on every read; a client's $ref is accepted and never
// stored (issue 11, item 9).
func TestMembersAndGroupsCarryTheirRef(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		base := a.base
		ann := a.create(t, "/Users", `{"userName":"ann"}`)["id"].(string)
		bob := a.create(t, "/Users", `{"userName":"bob"}`)["id"].(string)
		sub := a.create(t, "/Groups", fmt.Sprintf(`{"displayName":"Sub","members":[{"value":%q}]}`, bob))["id"].(string)
		// A client's $ref, however wrong, is accepted and not kept.
		created := a.create(t, "/Groups", fmt.Sprintf(`{"displayName":"Eng","members":[
			{"value":%q,"$ref":"https://elsewhere.example/Users/%s"},{"value":%q,"type":"Group"}]}`, ann, ann, sub))
		eng := created["id"].(string)
		want := map[string]string{ann: base + "/Users/" + ann, sub: base + "/Groups/" + sub}
		refs := func(res map[string]any, attr string) map[string]string {
			out := map[string]string{}
			list, _ := res[attr].([]any)
			for _, el := range list {
				id, _ := at(el, "value").(string)
				ref, _ := at(el, "$ref").(string)
				out[id] = ref
			}
			return out
		}
		check := func(what string, got, want map[string]string) {
			t.Helper()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: $refs by value %v, want %v", what, got, want)
			}
		}
		check("the created group", refs(created, "members"), want)
		g := a.get(t, "/Groups/"+eng)
		check("GET of the group", refs(g, "members"), want)
		if loc := at(a.get(t, "/Users/"+ann), "meta", "location"); loc != want[ann] {
			t.Errorf("ann's meta.location is %v, her member $ref %s", loc, want[ann])
		}
		_, found := a.list(t, "/Groups"+query("filter", `displayName eq "Eng"`))
		check("a list of groups", refs(found[0], "members"), want)
		lr := a.must(t, http.StatusOK, http.MethodPost, "/.search", map[string]any{"schemas": []string{scim.SearchRequestURN}, "filter": `displayName eq "Eng"`})
		check("a root .search", refs(at(lr, "Resources", 0).(map[string]any), "members"), want)

		// A user's groups, direct and through Sub, point at the groups.
		check("bob's groups", refs(a.get(t, "/Users/"+bob), "groups"), map[string]string{sub: base + "/Groups/" + sub, eng: base + "/Groups/" + eng})
		check("ann's groups", refs(a.get(t, "/Users/"+ann), "groups"), map[string]string{eng: base + "/Groups/" + eng})

		_, found = a.list(t, "/Users"+query("filter", `userName eq "bob"`, "attributes", "groups.$ref"))
		var got []string
		for _, el := range found[0]["groups"].([]any) {
			got = append(got, fmt.Sprint(el))
		}
		slices.Sort(got)
		if w := sorted("map[$ref:"+base+"/Groups/"+eng+"]", "map[$ref:"+base+"/Groups/"+sub+"]"); !slices.Equal(got, w) {
			t.Errorf("attributes=groups.$ref listed bob's groups as %v, want %v", got, w)
		}

		// A PATCH and a PUT with a client's $ref answer with the server's.
		cid := a.create(t, "/Users", `{"userName":"cid"}`)["id"].(string)
		p := a.must(t, http.StatusOK, http.MethodPatch, "/Groups/"+eng+query("attributes", "members"),
			patchOps(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q,"$ref":"../Users/%s"}]}`, cid, cid)))
		want[cid] = base + "/Users/" + cid
		check("a PATCH's answer", refs(p, "members"), want)
		put := a.must(t, http.StatusOK, http.MethodPut, "/Groups/"+eng, fmt.Sprintf(`{"displayName":"Eng","members":[{"value":%q,"$ref":"x"}]}`, ann))
		check("a PUT's answer", refs(put, "members"), map[string]string{ann: want[ann]})

		// attributes=members.$ref returns only the $refs, excluding them
		// leaves the values.
		only := a.must(t, http.StatusOK, http.MethodGet, "/Groups/"+eng+query("attributes", "members.$ref"), nil)
		if m, _ := only["members"].([]any); len(m) != 1 || !jsonEqual(m[0], map[string]any{"$ref": want[ann]}) || only["displayName"] != nil {
			t.Errorf("attributes=members.$ref answered %v", only)
		}
		without := a.get(t, "/Groups/"+eng+query("excludedAttributes", "members.$ref"))
		if m := at(without, "members", 0); !jsonEqual(m, map[string]any{"value": ann, "type": "User", "display": "ann"}) {
			t.Errorf("excludedAttributes=members.$ref answered members %v", without["members"])
		}

		// Behind a proxy, $refs are built from Config.BaseURL, as
		// meta.location is.
		const proxied = "https://scim.example.com/scim/v2"
		b := newAPI(t, server.Config{BaseURL: proxied + "/"})
		u := b.must(t, http.StatusCreated, http.MethodPost, "/Users", `{"userName":"ann"}`)
		pg := b.must(t, http.StatusCreated, http.MethodPost, "/Groups", fmt.Sprintf(`{"displayName":"Eng","members":[{"value":%q}]}`, u["id"]))
		if ref, loc := at(pg, "members", 0, "$ref"), at(u, "meta", "location"); ref != proxied+"/Users/"+u["id"].(string) || ref != loc {
			t.Errorf("behind a proxy the member's $ref is %v and the user's meta.location %v, want both %s/Users/<id>", ref, loc, proxied)
		}
	})
}
