package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/server"
)

func TestBulk(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		body := map[string]any{"schemas": []string{scim.BulkRequestURN}, "Operations": []map[string]any{
			{"method": "POST", "path": "/Users", "bulkId": "ada", "data": map[string]any{"userName": "ada"}},
			{"method": "POST", "path": "/Groups", "bulkId": "eng", "data": map[string]any{"displayName": "Eng",
				"members": []map[string]any{{"value": "bulkId:ada"}}}},
			{"method": "PATCH", "path": "/Users/bulkId:ada", "data": map[string]any{"schemas": []string{scim.PatchOpURN},
				"Operations": []map[string]any{{"op": "replace", "path": "title", "value": "Countess"}}}},
			{"method": "POST", "path": "/Users", "bulkId": "dup", "data": map[string]any{"userName": "ADA"}},
			{"method": "DELETE", "path": "/Groups/bulkId:nope"},
			{"method": "GET", "path": "/Users"},
			{"method": "POST", "path": "/Elsewhere", "bulkId": "x", "data": map[string]any{}},
			{"method": "DELETE", "path": "/Groups/bulkId:eng"},
		}}
		out := a.must(t, 200, "POST", "/Bulk", body)
		ops := out["Operations"].([]any)
		var statuses []string
		for _, o := range ops {
			statuses = append(statuses, fmt.Sprint(o.(map[string]any)["status"]))
		}
		if got := strings.Join(statuses, ","); got != "201,201,200,409,409,400,400,204" {
			t.Fatalf("statuses %s\n%v", got, out)
		}
		first := ops[0].(map[string]any)
		if loc, _ := first["location"].(string); !strings.Contains(loc, "/scim/v2/Users/") || first["bulkId"] != "ada" || first["version"] == nil {
			t.Fatalf("the first result %v", first)
		}
		// The user was created, renamed, and is in no group (the group was
		// deleted last).
		lr := a.must(t, 200, "GET", `/Users?filter=userName+eq+"ada"`, nil)
		u := lr["Resources"].([]any)[0].(map[string]any)
		if u["title"] != "Countess" || u["groups"] != nil {
			t.Fatalf("ada %v", u)
		}
		// Bad requests as a whole.
		a.mustFail(t, 400, scim.InvalidSyntax, "POST", "/Bulk", `{"schemas":`)
		a.mustFail(t, 400, scim.InvalidSyntax, "POST", "/Bulk", `{"schemas":["urn:nope"],"Operations":[]}`)
		many := make([]map[string]any, 1001)
		for i := range many {
			many[i] = map[string]any{"method": "DELETE", "path": "/Users/x"}
		}
		a.mustFail(t, 413, "", "POST", "/Bulk", map[string]any{"schemas": []string{scim.BulkRequestURN}, "Operations": many})
		// failOnErrors stops after that many failures.
		out = a.must(t, 200, "POST", "/Bulk", map[string]any{"schemas": []string{scim.BulkRequestURN}, "failOnErrors": 1,
			"Operations": []map[string]any{{"method": "DELETE", "path": "/Users/nope"}, {"method": "POST", "path": "/Users", "bulkId": "b", "data": map[string]any{"userName": "bob"}}}})
		if n := len(out["Operations"].([]any)); n != 1 {
			t.Fatalf("failOnErrors 1 ran %d operations", n)
		}
		if lr := a.must(t, 200, "GET", `/Users?filter=userName+eq+"bob"`, nil); fmt.Sprint(lr["totalResults"]) != "0" {
			t.Fatal("bob was created after the failure")
		}
		spc := a.must(t, 200, "GET", "/ServiceProviderConfig", nil)
		if b := spc["bulk"].(map[string]any); b["supported"] != true || fmt.Sprint(b["maxOperations"]) != "1000" {
			t.Fatalf("bulk in the SPC: %v", b)
		}
	})
}

// TestBulkRefusesAPathAtNoEndpoint: an operation on a path that is not
// exactly an endpoint of the registry (unknown, mis-cased, the resource
// type's name) fails with a 400 invalidPath naming the path, and changes
// nothing; a correct operation beside it still runs.
func TestBulkRefusesAPathAtNoEndpoint(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		grace := a.must(t, 201, "POST", "/Users", map[string]any{"userName": "grace"})
		ops := a.must(t, 201, "POST", "/Groups", map[string]any{"displayName": "Ops"})
		gid, gver := grace["id"].(string), grace["meta"].(map[string]any)["version"]
		oid := ops["id"].(string)
		bad := []map[string]any{
			{"method": "POST", "path": "/users", "bulkId": "a", "data": map[string]any{"userName": "ada"}},
			{"method": "POST", "path": "/USERS", "bulkId": "b", "data": map[string]any{"userName": "bob"}},
			{"method": "POST", "path": "/User", "bulkId": "c", "data": map[string]any{"userName": "cy"}},
			{"method": "POST", "path": "/Devices", "bulkId": "d", "data": map[string]any{"userName": "di"}},
			{"method": "PUT", "path": "/users/" + gid, "data": map[string]any{"userName": "grace", "title": "Admiral"}},
			{"method": "PATCH", "path": "/users/" + gid, "data": map[string]any{"schemas": []string{scim.PatchOpURN},
				"Operations": []map[string]any{{"op": "replace", "path": "title", "value": "Admiral"}}}},
			{"method": "DELETE", "path": "/groups/" + oid},
			{"method": "DELETE", "path": "/Groupss/" + oid},
		}
		body := map[string]any{"schemas": []string{scim.BulkRequestURN},
			"Operations": append(bad, map[string]any{"method": "POST", "path": "/Users", "bulkId": "ok", "data": map[string]any{"userName": "ok"}})}
		out := a.must(t, 200, "POST", "/Bulk", body)
		results := out["Operations"].([]any)
		if len(results) != len(bad)+1 {
			t.Fatalf("%d results for %d operations: %v", len(results), len(bad)+1, out)
		}
		for i, op := range bad {
			r := results[i].(map[string]any)
			resp, _ := r["response"].(map[string]any)
			detail, _ := resp["detail"].(string)
			if r["status"] != "400" || resp["scimType"] != scim.InvalidPath || !strings.Contains(detail, fmt.Sprintf("%q", op["path"])) {
				t.Errorf("%s %s: %v; want a 400 invalidPath naming the path", op["method"], op["path"], r)
			}
		}
		if r := results[0].(map[string]any); !strings.Contains(fmt.Sprint(r["response"]), "/Users?") {
			t.Errorf("a mis-cased endpoint: %v; want the detail to name /Users", r)
		}
		if r := results[len(bad)].(map[string]any); r["status"] != "201" {
			t.Errorf("the correct operation after them: %v", r)
		}
		lr := a.must(t, 200, "GET", "/Users", nil)
		if fmt.Sprint(lr["totalResults"]) != "2" {
			t.Errorf("users after the bulk request: %v; want grace and ok", lr["Resources"])
		}
		if u := a.must(t, 200, "GET", "/Users/"+gid, nil); u["title"] != nil || u["meta"].(map[string]any)["version"] != gver {
			t.Errorf("grace changed: %v", u)
		}
		a.must(t, 200, "GET", "/Groups/"+oid, nil)
	})
}
