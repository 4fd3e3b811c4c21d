package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
		resp, err := a.http.Get(a.root + "/metrics")
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

// The handlers NewSplit serves apart (the admin listener's) are behind the
// same metrics and recovery from panics as the SCIM API: a handler that
// panics answers a 500, and the metrics count it under its route.
func TestSplitHandlersAreCountedAndRecovered(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var logs strings.Builder
	api, admin := server.NewSplit(server.Config{Store: st, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Handlers: map[string]http.Handler{"GET /api/v1/boom": http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })}})
	apiSrv, adminSrv := httptest.NewServer(api), httptest.NewServer(admin)
	defer apiSrv.Close()
	defer adminSrv.Close()
	for path, want := range map[string]int{"/api/v1/boom": 500, "/api/v1/none": 404, "/scim/v2/Users": 404} {
		resp, err := adminSrv.Client().Get(adminSrv.URL + path)
		if err != nil {
			t.Fatalf("GET %s on the admin listener: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s on the admin listener: %d, want %d", path, resp.StatusCode, want)
		}
	}
	if resp, err := apiSrv.Client().Get(apiSrv.URL + "/api/v1/boom"); err != nil {
		t.Errorf("GET /api/v1/boom on the SCIM listener: %v", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET /api/v1/boom on the SCIM listener: %d, want a 404", resp.StatusCode)
		}
	}
	resp, err := apiSrv.Client().Get(apiSrv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `roster_http_requests_total{method="GET",route="GET /api/v1/boom",status="500"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %s", want)
	}
	if !strings.Contains(logs.String(), "panic") {
		t.Errorf("the panic was not logged: %s", logs.String())
	}
}
