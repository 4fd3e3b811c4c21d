package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDiscoverShowsWhatTheServerSupports(t *testing.T) {
	t.Parallel()
	srv := newRoster(t)
	out := must(t, append([]string{"discover"}, srv...)...)
	for _, want := range []string{
		"patch           true",
		"filter          true (maxResults",
		"pagination      cursor, index",
		"/Users", "/Groups",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
		"EnterpriseUser",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("discover does not show %q:\n%s", want, out)
		}
	}

	out = must(t, append([]string{"discover", "-o", "json"}, srv...)...)
	var d struct {
		ServiceProviderConfig struct {
			Patch struct{ Supported bool }
		}
		ResourceTypes []struct{ Endpoint string }
		Schemas       []struct{ ID string }
	}
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("discover -o json printed %d lines, want one", strings.Count(out, "\n"))
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if !d.ServiceProviderConfig.Patch.Supported || len(d.ResourceTypes) != 2 || len(d.Schemas) != 3 {
		t.Fatalf("discover -o json: %+v", d)
	}
}
