// Package source defines what the sync engine (package reconcile) reads
// from a directory: the users and groups of a source, each with a stable
// id, behind one small interface, Source. Its subpackages implement it:
// file (CSV or JSON files), ldap (LDAP or Active Directory) and scimserver
// (another SCIM server).
//
// A source of a fixed directory, as a test might write one:
//
//	type fixed struct{ snap source.Snapshot }
//
//	func (f fixed) Read(context.Context) (*source.Snapshot, error) { return &f.snap, nil }
package source
