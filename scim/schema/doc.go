// Package schema describes SCIM resources as data: attributes and their
// characteristics (RFC 7643 §2), schemas (§7), resource types (§6), and the
// core User, Group and Enterprise User schemas (§4).
//
// A Registry holds the schemas and resource types a service provider serves;
// NewRegistry returns one with the core definitions, and custom extensions
// are added at runtime from their JSON schema documents:
//
//	reg := schema.NewRegistry()
//	ext, err := schema.Parse(data) // an RFC 7643 §7 schema document
//	if err != nil { ... }
//	err = reg.AddExtension("User", ext, false)
//	users := reg.ResourceType("User")
//	ref, err := users.Resolve("urn:example:params:scim:schemas:extension:acme:2.0:User:costCenter")
//
// Attribute names are case-insensitive throughout (RFC 7643 §2.1).
package schema
