// Package bulk holds the rule of bulkId references in a SCIM bulk request
// (RFC 7644 §3.7.2), for the server that resolves them and the client that
// sends them alike: an operation that creates a resource names it with a
// bulkId, and a later operation refers to it as "bulkId:" and that bulkId,
// either as a whole string value anywhere in its data or as a segment of
// its path ("/Groups/bulkId:eng"). Object keys are never references.
//
// It works on the values encoding/json decodes into any (map[string]any,
// []any, string and the rest), and does no I/O:
//
//	var data any
//	json.Unmarshal(op.Data, &data)
//	data, err := bulk.Resolve(data, func(bulkID string) (string, bool) {
//		id, ok := created[bulkID]
//		return id, ok
//	})
package bulk
