package server

import (
	"net/http"
	"strings"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/schema"
)

// baseURL is the absolute URL of the SCIM API: the configured one, or the
// one the client reached.
func (s *server) baseURL(r *http.Request) string {
	if s.BaseURL != "" {
		return strings.TrimSuffix(s.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + BasePath
}

// serviceProviderConfig says truthfully what this server supports
// (RFC 7643 §5, with the pagination block of RFC 9865).
func (s *server) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	type supported struct {
		Supported bool `json:"supported"`
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{schema.ServiceProviderConfigURN},
		"documentationUri": "https://github.com/rosterhq/roster",
		"patch":            supported{true},
		"bulk":             map[string]any{"supported": true, "maxOperations": maxBulkOperations, "maxPayloadSize": s.MaxBodyBytes},
		"filter":           map[string]any{"supported": true, "maxResults": s.MaxResults},
		"changePassword":   supported{true},
		"sort":             supported{true},
		"etag":             supported{true},
		"pagination": map[string]any{
			"cursor": true, "index": true, "defaultPaginationMethod": "index",
			"defaultPageSize": s.DefaultCount, "maxPageSize": s.MaxResults,
			"cursorTimeout": int(s.cursors.timeout.Seconds()),
		},
		// Every scheme authenticate takes: a bearer token (a long-lived
		// one, or an access token from /oauth/token), and HTTP Basic with
		// the directory's name and a token, which Okta can send.
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true,
			"description": "Authentication with a bearer token issued by roster token create, or an access token from POST /oauth/token (OAuth 2.0 client credentials)",
			"specUri":     "https://www.rfc-editor.org/info/rfc6750",
		}, {
			"type": "httpbasic", "name": "HTTP Basic",
			"description": "Authentication with HTTP Basic: the directory's name (or id) as the user name and one of its tokens as the password",
			"specUri":     "https://www.rfc-editor.org/info/rfc7617",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": s.baseURL(r) + "/ServiceProviderConfig"},
	})
}

func (s *server) resourceTypes(w http.ResponseWriter, r *http.Request) {
	var docs []any
	for _, rt := range s.Registry.ResourceTypes() {
		docs = append(docs, rt.Document(s.baseURL(r)))
	}
	writeJSON(w, http.StatusOK, scim.NewListResponse(len(docs), docs))
}

func (s *server) resourceType(w http.ResponseWriter, r *http.Request) {
	rt := s.Registry.ResourceType(r.PathValue("id"))
	if rt == nil {
		writeError(w, scim.Errorf(http.StatusNotFound, "", "no resource type %q", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, rt.Document(s.baseURL(r)))
}

func (s *server) schemas(w http.ResponseWriter, r *http.Request) {
	var docs []any
	for _, sc := range s.Registry.Schemas() {
		docs = append(docs, sc.Document(s.baseURL(r)))
	}
	writeJSON(w, http.StatusOK, scim.NewListResponse(len(docs), docs))
}

func (s *server) schema(w http.ResponseWriter, r *http.Request) {
	sc := s.Registry.Schema(strings.TrimSpace(r.PathValue("id")))
	if sc == nil {
		writeError(w, scim.Errorf(http.StatusNotFound, "", "no schema %q", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, sc.Document(s.baseURL(r)))
}
