// Package filter parses SCIM filters (RFC 7644 §3.4.2.2) into an AST,
// resolves them against a resource type's schemas, and evaluates them in
// memory.
//
// Stores translate the AST to SQL; PATCH uses it to select values; tests
// and the compliance checker evaluate it directly:
//
//	f, err := filter.Parse(`emails[type eq "work" and value co "@example.com"]`, users)
//	if err != nil {
//		// err is a *scim.Error: 400 invalidFilter, pointing at the problem
//	}
//	if filter.Match(f, data) { ... }
//
// ParsePath parses the path of a PATCH operation, which may end in a value
// filter and a sub-attribute: emails[type eq "work"].value.
package filter
