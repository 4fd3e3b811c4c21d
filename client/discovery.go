package client

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/schema"
)

// Supported is a feature flag of a ServiceProviderConfig.
type Supported struct {
	Supported bool `json:"supported"`
}

// ServiceProviderConfig is what a server says it supports (RFC 7643 §5).
type ServiceProviderConfig struct {
	Patch Supported `json:"patch"`
	Bulk  struct {
		Supported      bool `json:"supported"`
		MaxOperations  int  `json:"maxOperations"`
		MaxPayloadSize int  `json:"maxPayloadSize"`
	} `json:"bulk"`
	Filter struct {
		Supported  bool `json:"supported"`
		MaxResults int  `json:"maxResults"`
	} `json:"filter"`
	ChangePassword Supported `json:"changePassword"`
	Sort           Supported `json:"sort"`
	ETag           Supported `json:"etag"`
	// Pagination is RFC 9865's: whether the server pages by cursor.
	Pagination struct {
		Cursor        bool   `json:"cursor"`
		Index         bool   `json:"index"`
		DefaultMethod string `json:"defaultPaginationMethod,omitempty"`
		// MaxPageSize caps a page's count, as filter.maxResults does.
		MaxPageSize   int `json:"maxPageSize,omitempty"`
		CursorTimeout int `json:"cursorTimeout,omitempty"`
	} `json:"pagination"`
	AuthenticationSchemes []struct {
		Type        string `json:"type"`
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"authenticationSchemes"`
}

// ServiceProviderConfig returns the server's configuration, read once and
// remembered. A server that has none (404, or an answer that is not one)
// is taken to support PATCH and nothing optional else.
func (c *Client) ServiceProviderConfig(ctx context.Context) (*ServiceProviderConfig, error) {
	c.mu.Lock()
	spc := c.spc
	c.mu.Unlock()
	if spc != nil {
		return spc, nil
	}
	spc = new(ServiceProviderConfig)
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/ServiceProviderConfig", idempotent: true})
	switch st := StatusOf(err); {
	case st == http.StatusNotFound || st == http.StatusMethodNotAllowed || st == http.StatusNotImplemented:
		spc.Patch.Supported = true
	case err != nil:
		return nil, err // maybe passing (a 401, a 503, the network): ask again next time
	default:
		if decode(http.MethodGet, "/ServiceProviderConfig", resp, spc) != nil {
			*spc = ServiceProviderConfig{}
			spc.Patch.Supported = true
		}
	}
	c.mu.Lock()
	c.spc = spc
	c.mu.Unlock()
	return spc, nil
}

// ResourceTypes returns the server's resource types (RFC 7643 §6), as the
// JSON it sends.
func (c *Client) ResourceTypes(ctx context.Context) ([]json.RawMessage, error) {
	return c.discoveryList(ctx, "/ResourceTypes")
}

// Schemas returns the server's schemas (RFC 7643 §7), as the JSON it
// sends.
func (c *Client) Schemas(ctx context.Context) ([]json.RawMessage, error) {
	return c.discoveryList(ctx, "/Schemas")
}

// discoveryList reads a discovery endpoint, which servers answer with a
// ListResponse or, some of them, a plain array.
func (c *Client) discoveryList(ctx context.Context, path string) ([]json.RawMessage, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: path, idempotent: true})
	if err != nil {
		return nil, err
	}
	var list []json.RawMessage
	if strings.HasPrefix(strings.TrimSpace(string(resp.body)), "[") {
		err = decode(http.MethodGet, path, resp, &list)
		return list, err
	}
	var lr scim.ListResponse[json.RawMessage]
	if err := decode(http.MethodGet, path, resp, &lr); err != nil {
		return nil, err
	}
	return lr.Resources, nil
}

// registry returns the core schemas with the extensions the server
// describes in /Schemas, so that resources decoded with it keep the
// server's extension attributes. A server without /Schemas gets the core.
func (c *Client) registry(ctx context.Context) *schema.Registry {
	reg := schema.NewRegistry()
	docs, err := c.Schemas(ctx)
	if err != nil {
		return reg
	}
	for _, doc := range docs {
		s, err := schema.Parse(doc)
		if err != nil || reg.Schema(s.ID) != nil {
			continue
		}
		for _, rt := range []string{"User", "Group"} {
			if strings.HasSuffix(s.ID, ":"+rt) {
				reg.AddExtension(rt, s, false)
			}
		}
	}
	return reg
}
