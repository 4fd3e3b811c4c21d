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

// authenticationSchemes are the ways a client may authenticate, all of
// which the server accepts: identity providers' admins and roster
// discover read them to choose one.
var authenticationSchemes = []map[string]any{
	{
		"type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true,
		"description": "A bearer token of the directory: one roster token create printed (opaque, or a JWT with --jwt), or an access token of the token endpoint",
		"specUri":     "https://www.rfc-editor.org/rfc/rfc6750",
	},
	{
		"type": "oauth2", "name": "OAuth 2.0 Client Credentials",
		"description": "An id and secret from roster client create, exchanged at POST /oauth/token for a one-hour bearer token",
		"specUri":     "https://www.rfc-editor.org/rfc/rfc6749#section-4.4",
	},
	{
		"type": "httpbasic", "name": "HTTP Basic",
		"description": "The directory's name (or id) as the user name and one of its tokens as the password",
		"specUri":     "https://www.rfc-editor.org/rfc/rfc7617",
	},
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
		"authenticationSchemes": authenticationSchemes,
		"meta":                  map[string]any{"resourceType": "ServiceProviderConfig", "location": s.baseURL(r) + "/ServiceProviderConfig"},
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
