// Package patch parses and applies SCIM PATCH requests (RFC 7644 §3.5.2).
//
// Parse checks a request body against the resource type and normalizes it:
// every operation gets a resolved path (a path-less add or replace becomes
// one operation per attribute its value names) and a value already checked
// against the schema. A store can therefore act on some operations itself,
// such as member changes on a membership table, without loading the
// resource. Apply runs the operations on a resource, all of them or, on
// any error, none:
//
//	req, err := patch.Parse(users, body, resource.Options{})
//	if err != nil { ... } // *scim.Error: 400 invalidSyntax, invalidPath, ...
//	if err := req.Apply(u); err != nil { ... } // u is unchanged
//
// Besides the RFC, Parse and Apply accept what real clients send: op names
// in any case and booleans as strings (Microsoft Entra ID), path-less
// operations whose value holds dotted or URN-qualified attribute names, a
// replace or add through a value filter that matches nothing adding the
// value the filter describes, a sub-attribute of a multi-valued attribute
// without a filter (emails.value) naming it in every value, as RFC 7644
// §3.5.2.3 allows, "remove" of members with a value list, and
// readOnly attributes such as id inside a path-less value (Okta group
// push), which are ignored.
package patch
