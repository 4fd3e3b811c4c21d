package management_test

import (
	"strings"
	"testing"
)

type webhookBody struct {
	ID        string   `json:"id"`
	URL       string   `json:"url"`
	Directory string   `json:"directory"`
	Types     []string `json:"types"`
	Enabled   bool     `json:"enabled"`
	Secret    string   `json:"secret"`
}

// An app registers, lists, changes, rotates and deletes webhooks through
// the API; bad input changes nothing, and the delivery log is readable.
func TestWebhooksThroughTheAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		var d struct{ ID string }
		e.must("POST", "/api/v1/directories", e.key, `{"name":"acme"}`, 201, &d)
		var w webhookBody
		e.must("POST", "/api/v1/webhooks", e.key, `{"url":"https://93.184.215.14/roster","directory":"acme","types":["user.created"]}`, 201, &w)
		if w.ID == "" || !strings.HasPrefix(w.Secret, "whsec_") || w.Directory != d.ID || len(w.Types) != 1 || !w.Enabled {
			t.Fatalf("created %+v", w)
		}
		for _, bad := range []struct {
			body   string
			status int
			says   string
		}{
			{`{"url":"http://127.0.0.1:9000/roster"}`, 400, "private"},
			{`{"url":"http://169.254.169.254/latest"}`, 400, "private"},
			{`{"url":"ftp://93.184.215.14/roster"}`, 400, "http"},
			{`{"url":"https://93.184.215.14/roster","types":["user.exploded"]}`, 400, "user.exploded"},
			{`{"url":"https://93.184.215.14/roster","directory":"nope"}`, 404, "nope"},
			{`{"url":"https://93.184.215.14/roster","secret":"mine"}`, 400, "secret"},
		} {
			status, body := e.do("POST", "/api/v1/webhooks", e.key, bad.body)
			if status != bad.status || !strings.Contains(body, bad.says) {
				t.Errorf("POST %s: %d %s, want %d saying %q", bad.body, status, body, bad.status, bad.says)
			}
		}
		var list struct{ Data []webhookBody }
		e.must("GET", "/api/v1/webhooks", e.key, "", 200, &list)
		if len(list.Data) != 1 || list.Data[0].ID != w.ID || list.Data[0].Secret != "" {
			t.Fatalf("list after bad input: %+v (one webhook, no secret)", list.Data)
		}
		var u webhookBody
		e.must("PATCH", "/api/v1/webhooks/"+w.ID, e.key, `{"enabled":false,"types":[]}`, 200, &u)
		if u.Enabled || len(u.Types) != 0 || u.URL != w.URL {
			t.Errorf("updated %+v", u)
		}
		if status, body := e.do("PATCH", "/api/v1/webhooks/"+w.ID, e.key, `{"url":"http://10.0.0.1/"}`); status != 400 {
			t.Errorf("PATCH to a private URL: %d %s", status, body)
		}
		var r webhookBody
		e.must("POST", "/api/v1/webhooks/"+w.ID+"/rotate", e.key, "", 200, &r)
		if !strings.HasPrefix(r.Secret, "whsec_") || r.Secret == w.Secret {
			t.Errorf("rotated secret %q", r.Secret)
		}
		var log struct {
			Data        []any `json:"data"`
			DeadLetters []any `json:"dead_letters"`
		}
		e.must("GET", "/api/v1/webhooks/"+w.ID+"/deliveries", e.key, "", 200, &log)
		if log.Data == nil || log.DeadLetters == nil {
			t.Errorf("an empty delivery log: %+v, want empty lists", log)
		}
		e.must("DELETE", "/api/v1/webhooks/"+w.ID, e.key, "", 204, nil)
		e.must("GET", "/api/v1/webhooks/"+w.ID, e.key, "", 404, nil)
		e.must("GET", "/api/v1/webhooks", "rst_not-a-management-key", "", 401, nil)
	})
}
