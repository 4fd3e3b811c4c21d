package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/client"
)

func newDiscoverCommand(env getenv) *cobra.Command {
	// Servers often serve discovery without authentication.
	r := remote{env: env, anonymous: true}
	cmd := &cobra.Command{
		Use:   "discover",
		Short: "Show what a SCIM server supports: its configuration, resource types and schemas",
		Long: `Show what a SCIM 2.0 server supports: its ServiceProviderConfig (PATCH,
bulk, filters, sorting, ETags, pagination, authentication), its resource
types and its schemas (RFC 7643 §5–7).

With -o json it prints one JSON object with serviceProviderConfig,
resourceTypes and schemas, the last two as the server sent them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return r.run(cmd, func(ctx context.Context, c *client.Client, out *printer) error {
				spc, err := c.ServiceProviderConfig(ctx)
				if err != nil {
					return err
				}
				types, err := c.ResourceTypes(ctx)
				if err != nil {
					return err
				}
				schemas, err := c.Schemas(ctx)
				if err != nil {
					return err
				}
				if out.json {
					enc := json.NewEncoder(out.w)
					enc.SetEscapeHTML(false)
					return enc.Encode(struct {
						ServiceProviderConfig *client.ServiceProviderConfig `json:"serviceProviderConfig"`
						ResourceTypes         []json.RawMessage             `json:"resourceTypes"`
						Schemas               []json.RawMessage             `json:"schemas"`
					}{spc, types, schemas})
				}
				return printDiscovery(out.w, spc, types, schemas)
			})
		},
	}
	r.addFlags(cmd)
	return cmd
}

// printDiscovery writes a server's configuration, resource types and
// schemas as three tables.
func printDiscovery(w io.Writer, spc *client.ServiceProviderConfig, types, schemas []json.RawMessage) error {
	tw := newTable(w, "FEATURE", "SUPPORTED")
	filter := strconv.FormatBool(spc.Filter.Supported)
	if spc.Filter.MaxResults > 0 {
		filter += fmt.Sprintf(" (maxResults %d)", spc.Filter.MaxResults)
	}
	bulk := strconv.FormatBool(spc.Bulk.Supported)
	if spc.Bulk.Supported {
		bulk += fmt.Sprintf(" (maxOperations %d, maxPayloadSize %d)", spc.Bulk.MaxOperations, spc.Bulk.MaxPayloadSize)
	}
	var paging []string
	if spc.Pagination.Cursor {
		paging = append(paging, "cursor")
	}
	if spc.Pagination.Index {
		paging = append(paging, "index")
	}
	var auth []string
	for _, a := range spc.AuthenticationSchemes {
		auth = append(auth, cmp.Or(a.Name, a.Type))
	}
	for _, row := range [][]string{
		{"patch", strconv.FormatBool(spc.Patch.Supported)},
		{"bulk", bulk},
		{"filter", filter},
		{"sort", strconv.FormatBool(spc.Sort.Supported)},
		{"etag", strconv.FormatBool(spc.ETag.Supported)},
		{"changePassword", strconv.FormatBool(spc.ChangePassword.Supported)},
		{"pagination", strings.Join(paging, ", ")},
		{"authentication", strings.Join(auth, ", ")},
	} {
		writeRow(tw, row...)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw = newTable(w, "RESOURCE TYPE", "ENDPOINT", "SCHEMA", "EXTENSIONS")
	for _, raw := range types {
		var rt struct {
			Name, Endpoint, Schema string
			SchemaExtensions       []struct {
				Schema   string
				Required bool
			}
		}
		if err := json.Unmarshal(raw, &rt); err != nil {
			return fmt.Errorf("a resource type: %w", err)
		}
		var exts []string
		for _, e := range rt.SchemaExtensions {
			if e.Required {
				e.Schema += " (required)"
			}
			exts = append(exts, e.Schema)
		}
		writeRow(tw, rt.Name, rt.Endpoint, rt.Schema, strings.Join(exts, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw = newTable(w, "SCHEMA", "NAME", "ATTRIBUTES")
	for _, raw := range schemas {
		var s struct {
			ID, Name   string
			Attributes []json.RawMessage
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("a schema: %w", err)
		}
		writeRow(tw, s.ID, s.Name, strconv.Itoa(len(s.Attributes)))
	}
	return tw.Flush()
}
