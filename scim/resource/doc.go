// Package resource holds SCIM resources as validated attribute trees:
// Decode turns a request body into a Resource checked against its
// resource type's schemas, Encode writes one back honouring "returned" and
// a Projection (attributes / excludedAttributes), and Compare orders
// resources for sortBy.
//
// A Resource keeps its attributes in a map: core and common attributes
// under their canonical names, each extension's attributes in an object
// under the extension's URN. Complex values are map[string]any keyed by
// canonical sub-attribute names, multi-valued ones []any, and primitive
// values string (also for dateTime, binary and reference, kept as sent),
// bool, int64 (integer) or float64 (decimal). Unassigned attributes are
// absent, never null or empty.
package resource
