// Package patch builds the operations of a SCIM PATCH request (RFC 7644
// §3.5.2):
//
//	patch.Replace("active", false)
//	patch.Add("members", []map[string]string{{"value": id}})
//	patch.Remove(`members[value eq "2819c223"]`)
//
// Use filter.Has to build a path with a value filter safely:
// patch.Remove(filter.Has("members", filter.Eq("value", id)).String()).
package patch

import "github.com/rosterhq/roster/scim"

// Op is one PATCH operation.
type Op struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// Add returns an add operation; an empty path adds the attributes of
// value, an object.
func Add(path string, value any) Op { return Op{Op: "add", Path: path, Value: value} }

// Replace returns a replace operation; an empty path replaces the
// attributes of value, an object.
func Replace(path string, value any) Op { return Op{Op: "replace", Path: path, Value: value} }

// Remove returns a remove operation.
func Remove(path string) Op { return Op{Op: "remove", Path: path} }

// RemoveValue returns a remove operation with a value, which some servers
// (Entra's way of removing members) take to name what to remove.
func RemoveValue(path string, value any) Op { return Op{Op: "remove", Path: path, Value: value} }

// Request is the body of a PATCH request.
type Request struct {
	Schemas    []string `json:"schemas"`
	Operations []Op     `json:"Operations"`
}

// NewRequest returns the body of a PATCH request of ops.
func NewRequest(ops ...Op) Request {
	return Request{Schemas: []string{scim.PatchOpURN}, Operations: ops}
}
