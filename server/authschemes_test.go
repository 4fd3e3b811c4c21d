package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/server"
)

// TestServiceProviderConfigListsEveryWayToAuthenticate: each scheme
// /ServiceProviderConfig lists works, and each way the server accepts is
// listed, so that an identity provider's admin (and roster discover) sees
// HTTP Basic and client credentials beside bearer tokens.
func TestServiceProviderConfigListsEveryWayToAuthenticate(t *testing.T) {
	t.Parallel()
	a := newAPI(t, server.Config{})
	c, secret, err := a.st.CreateClient(context.Background(), a.dir.ID, "entra")
	if err != nil {
		t.Fatal(err)
	}
	// How to authenticate each way; each must give 200 on /Users.
	ways := map[string]func(*http.Request){
		"oauthbearertoken": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+a.token) },
		"httpbasic":        func(r *http.Request) { r.SetBasicAuth(a.dir.Name, a.token) },
		"oauth2": func(r *http.Request) {
			status, tok := postToken(t, a, url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}, "client_secret": {secret}})
			if status != 200 {
				t.Fatalf("token endpoint: %d %v", status, tok)
			}
			r.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
		},
	}
	spc := a.must(t, 200, "GET", "/ServiceProviderConfig", nil)
	schemes, _ := spc["authenticationSchemes"].([]any)
	var listed []string
	primary := 0
	for _, s := range schemes {
		s := s.(map[string]any)
		typ, _ := s["type"].(string)
		listed = append(listed, typ)
		if s["primary"] == true {
			primary++
		}
		if name, _ := s["name"].(string); name == "" || !strings.HasPrefix(s["specUri"].(string), "https://") {
			t.Errorf("scheme %v: want a name and a specUri", s)
		}
		auth, ok := ways[typ]
		if !ok {
			t.Errorf("scheme %q is listed but this test does not know how to use it", typ)
			continue
		}
		req, _ := http.NewRequest("GET", a.base+"/Users", nil)
		auth(req)
		resp, err := a.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("scheme %q is listed, but a request authenticated that way got %d", typ, resp.StatusCode)
		}
	}
	for typ := range ways {
		if !slices.Contains(listed, typ) {
			t.Errorf("the server accepts %q, but /ServiceProviderConfig lists only %v", typ, listed)
		}
	}
	if primary != 1 {
		t.Errorf("%d schemes are primary, want one", primary)
	}
}
