// Package scim is the protocol core of Roster: the parts of SCIM 2.0
// (RFC 7643 and RFC 7644) that every other package speaks, with no I/O.
//
// The root package holds what all of them share: the SCIM error type
// (RFC 7644 §3.12), the message schema URNs and the ListResponse envelope.
// The subpackages hold the rest:
//
//   - schema: attribute characteristics, the core User, Group and Enterprise
//     User schemas, resource types and a registry for custom extensions.
//   - resource: decoding request bodies into validated resources, encoding
//     them back honouring "returned", projection and sorting.
//   - filter: the filter grammar of RFC 7644 §3.4.2.2 parsed into an AST that
//     stores translate to SQL and that an evaluator can run in memory.
//   - patch: PATCH requests (RFC 7644 §3.5.2), including the shapes that
//     Okta and Microsoft Entra ID really send.
//   - bulk: bulkId references in bulk requests (RFC 7644 §3.7.2), resolved
//     the same way by the server and the client.
//
// Every error these packages return for a client's mistake is a *Error
// carrying the HTTP status and scimType the server should answer with:
//
//	var serr *scim.Error
//	if errors.As(err, &serr) {
//		w.WriteHeader(serr.Status)
//		json.NewEncoder(w).Encode(serr)
//	}
package scim

// Message schema URNs (RFC 7644 §8.2).
const (
	ListResponseURN  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SearchRequestURN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	PatchOpURN       = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	BulkRequestURN   = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	BulkResponseURN  = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	ErrorURN         = "urn:ietf:params:scim:api:messages:2.0:Error"
)
