package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rosterhq/roster/server"
)

func TestMetricsCountRequestsByRouteMethodAndStatus(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		u := a.create(t, "/Users", `{"userName":"ann"}`)
		a.must(t, 200, "GET", "/Users/"+u["id"].(string), nil)
		a.mustFail(t, 404, "", "GET", "/Users/no-such-id", nil)
		resp, err := http.Get(a.root + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text := string(body)
		for _, want := range []string{
			`roster_http_requests_total{method="POST",route="POST /scim/v2/Users",status="201"} 1`,
			`roster_http_requests_total{method="GET",route="GET /scim/v2/Users/{id}",status="200"} 1`,
			`roster_http_requests_total{method="GET",route="GET /scim/v2/Users/{id}",status="404"} 1`,
			`roster_http_request_duration_seconds_bucket{method="GET",route="GET /scim/v2/Users/{id}"`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(text, u["id"].(string)) {
			t.Error("/metrics holds a resource id: ids must not become labels")
		}
	})
}
