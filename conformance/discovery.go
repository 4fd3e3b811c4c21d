package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// discover reads /ServiceProviderConfig and /ResourceTypes, and lists
// one user to learn whether the server answers and takes the credentials.
// The features are what the server advertises; a server whose
// configuration cannot be read is taken to support filters and PATCH
// (which Okta and Entra need) and nothing optional else, and to have
// groups unless its resource types say otherwise.
func (r *runner) discover(ctx context.Context) error {
	probe := func(path string) (*Response, error) {
		resp, err := r.send(ctx, req{method: http.MethodGet, path: path})
		if err != nil {
			return nil, fmt.Errorf("%w: GET %s%s: %w", ErrCannotRun, r.base, path, err)
		}
		return resp, nil
	}
	resp, err := probe(query("/Users", "startIndex", "1", "count", "1"))
	if err != nil {
		return err
	}
	if resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden {
		return fmt.Errorf("%w: the server refused the credentials: GET /Users answered %s", ErrCannotRun, resp)
	}
	if err := isUserList(resp); err != nil {
		return fmt.Errorf("%w: %s is not a SCIM base URL (GET %s/Users: %w)", ErrCannotRun, r.base, r.base, err)
	}
	r.features = map[Feature]bool{FeatureFilter: true, FeaturePatch: true, FeatureGroups: true}
	if resp, err = probe("/ServiceProviderConfig"); err != nil {
		return err
	}
	if resp.Status != http.StatusOK || json.Unmarshal(resp.Body, &r.spc) != nil {
		r.notes = append(r.notes, "GET /ServiceProviderConfig answered "+resp.String()+
			": the server is taken to support filters and PATCH, and nothing optional else")
	} else {
		r.features[FeaturePatch] = r.spc.Patch.Supported
		r.features[FeatureFilter] = r.spc.Filter.Supported
		r.features[FeatureBulk] = r.spc.Bulk.Supported
		r.features[FeatureSort] = r.spc.Sort.Supported
		r.features[FeatureETag] = r.spc.ETag.Supported
		r.features[FeatureCursor] = r.spc.Pagination.Cursor
	}
	if resp, err = probe("/ResourceTypes"); err != nil {
		return err
	}
	types, err := resourcesOf(resp)
	if err != nil {
		r.notes = append(r.notes, err.Error()+": the server is taken to have groups")
		return nil
	}
	r.features[FeatureGroups] = false
	for _, rt := range types {
		var t struct{ Name, Endpoint, Schema string }
		if json.Unmarshal(rt, &t) != nil {
			continue
		}
		if t.Schema == groupURN || strings.EqualFold(t.Name, "Group") {
			r.features[FeatureGroups] = true
		}
	}
	return nil
}

// isUserList says why the answer to GET /Users is not what a SCIM server
// answers there: not found, redirected, or a 2xx that is not a
// ListResponse (a web page, another API). A server that lists users
// and fails otherwise (a 500, a 400) is left to the checks to explain.
func isUserList(resp *Response) error {
	switch {
	case resp.Status == http.StatusNotFound:
		return fmt.Errorf("answered %s", resp)
	case resp.Status >= 300 && resp.Status < 400:
		return fmt.Errorf("answered %d, a redirect to %q", resp.Status, resp.Header.Get("Location"))
	case resp.Status >= 300:
		return nil
	}
	m := resp.objectOrNil()
	if _, total := m["totalResults"]; m == nil || !hasString(m["schemas"], listURN) && !total {
		return fmt.Errorf("answered %s, not a ListResponse (RFC 7644 §3.4.2)", resp)
	}
	return nil
}

// resourcesOf returns the resources of a discovery answer: a ListResponse
// or, as some servers send, a bare array.
func resourcesOf(resp *Response) ([]json.RawMessage, error) {
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("%s %s answered %s", resp.Method, resp.Path, resp)
	}
	var arr []json.RawMessage
	if json.Unmarshal(resp.Body, &arr) == nil {
		return arr, nil
	}
	var lr struct{ Resources []json.RawMessage }
	if err := json.Unmarshal(resp.Body, &lr); err != nil {
		return nil, fmt.Errorf("%s %s: not a ListResponse: %w", resp.Method, resp.Path, err)
	}
	if lr.Resources == nil {
		return nil, errors.New(resp.Method + " " + resp.Path + ": a ListResponse without Resources")
	}
	return lr.Resources, nil
}

func discoveryChecks() []Check {
	return []Check{
		{
			ID: "discovery.service_provider_config", Tags: []string{"discovery", "entra"}, Ref: "RFC 7643 §5, RFC 7644 §4",
			Title: "GET /ServiceProviderConfig answers the configuration: patch, bulk, filter, changePassword, sort, etag, authenticationSchemes",
			Run: func(t *T) {
				resp := t.get("/ServiceProviderConfig")
				t.wantStatus(resp, "read the configuration", http.StatusOK)
				m := resp.object(t)
				if !hasString(m["schemas"], spcURN) {
					t.Failf("the configuration's schemas lack %s: %s", spcURN, resp)
				}
				for _, name := range []string{"patch", "bulk", "filter", "changePassword", "sort", "etag"} {
					o, ok := m[name].(map[string]any)
					if !ok {
						t.Failf("the configuration has no %s object (RFC 7643 §5, REQUIRED): %s", name, resp)
					}
					if _, ok := o["supported"].(bool); !ok {
						t.Failf("the configuration's %s.supported is %#v, not a boolean", name, o["supported"])
					}
				}
				if _, ok := m["authenticationSchemes"].([]any); !ok {
					t.Failf("the configuration has no authenticationSchemes array (RFC 7643 §5, REQUIRED)")
				}
				if b, _ := m["bulk"].(map[string]any); b["supported"] == true {
					if _, ok := integer(b["maxOperations"]); !ok {
						t.Failf("bulk is supported but bulk.maxOperations is %#v, not an integer", b["maxOperations"])
					}
				}
				t.wantSCIMJSON(resp)
			},
		},
		{
			ID: "discovery.resource_types", Tags: []string{"discovery", "entra"}, Ref: "RFC 7643 §6, RFC 7644 §4",
			Title: "GET /ResourceTypes lists User (endpoint /Users, the core User schema) and Group",
			Run: func(t *T) {
				resp := t.get("/ResourceTypes")
				types, err := resourcesOf(resp)
				if err != nil {
					t.Failf("%v", err)
				}
				if json.Valid(resp.Body) && strings.HasPrefix(strings.TrimSpace(string(resp.Body)), "[") {
					t.Warnf("/ResourceTypes answered a bare array, where RFC 7644 §4 has a ListResponse")
				}
				found := map[string]bool{}
				for _, raw := range types {
					var rt struct{ Name, Endpoint, Schema string }
					if err := json.Unmarshal(raw, &rt); err != nil {
						t.Failf("a resource type is not an object: %s", raw)
					}
					if rt.Schema == userURN {
						found["User"] = true
						if rt.Endpoint != "/Users" {
							t.Warnf("the User resource type's endpoint is %q, where clients expect /Users", rt.Endpoint)
						}
					}
					if rt.Schema == groupURN {
						found["Group"] = true
					}
				}
				if !found["User"] {
					t.Failf("no resource type has the schema %s: %s", userURN, resp)
				}
				if !found["Group"] {
					t.Warnf("no Group resource type: the group checks are skipped")
				}
			},
		},
		{
			ID: "discovery.schemas", Tags: []string{"discovery", "entra"}, Ref: "RFC 7643 §7, RFC 7644 §4",
			Title: "GET /Schemas describes the User schema, with userName case-insensitive and unique",
			Run: func(t *T) {
				resp := t.get("/Schemas")
				schemas, err := resourcesOf(resp)
				if err != nil {
					t.Failf("%v", err)
				}
				for _, raw := range schemas {
					var s struct {
						ID         string
						Attributes []struct {
							Name       string
							CaseExact  *bool
							Uniqueness string
						}
					}
					if json.Unmarshal(raw, &s) != nil || s.ID != userURN {
						continue
					}
					for _, a := range s.Attributes {
						if a.Name != "userName" {
							continue
						}
						if a.CaseExact != nil && *a.CaseExact {
							t.Warnf("the schema says userName is caseExact, where RFC 7643 §4.1.1 has it case-insensitive")
						}
						if a.Uniqueness != "" && a.Uniqueness != "server" && a.Uniqueness != "global" {
							t.Warnf("the schema gives userName uniqueness %q, where RFC 7643 §4.1.1 has \"server\"", a.Uniqueness)
						}
						return
					}
					t.Failf("the User schema has no userName attribute")
				}
				t.Failf("/Schemas has no schema with id %s: %s", userURN, resp)
			},
		},
	}
}
