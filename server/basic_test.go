package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rosterhq/roster/server"
)

func TestHTTPBasicTakesTheDirectoryNameAndAToken(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		a.create(t, "/Users", `{"userName":"ann"}`)
		get := func(user, pass string) int {
			req, _ := http.NewRequest("GET", a.base+"/Users", nil)
			req.SetBasicAuth(user, pass)
			resp, err := a.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		acme := a.dir.Name
		if got := get(acme, a.token); got != 200 {
			t.Fatalf("Basic %s:<token> = %d, want 200", acme, got)
		}
		if got := get(strings.ToUpper(acme), a.token); got != 200 {
			t.Fatalf("Basic %s:<token> = %d, want 200 (directory names ignore case)", strings.ToUpper(acme), got)
		}
		if got := get(a.dir.ID, a.token); got != 200 {
			t.Fatalf("Basic <directory id>:<token> = %d, want 200", got)
		}
		b := a.tenant(t, "globex")
		for _, c := range [][2]string{{b.dir.Name, a.token}, {acme, b.token}, {acme, "wrong"}, {acme, ""}} {
			if got := get(c[0], c[1]); got != 401 {
				t.Errorf("Basic %s:%q = %d, want 401", c[0], c[1], got)
			}
		}
	})
}
