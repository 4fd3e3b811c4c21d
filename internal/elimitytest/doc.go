// Package elimitytest gives a test a SCIM server on
// github.com/elimity-com/scim with a small in-memory store, whose PATCH
// application is ours, as the library leaves it to the app.
//
// It is the server a team building on that library would write: users
// and groups by id in creation order, userName (and a group's
// displayName) unique ignoring case, filters by the library's
// validator, and a bearer token in front, which the library has none of.
// PATCH follows RFC 7644 §3.5.2 strictly where the RFC is clear (a
// replace or remove through a value filter that matches nothing is 400
// noTarget) and takes what Microsoft Entra ID sends where it is not
// (dotted and URN-qualified keys in a replace without a path, an add
// through an eq filter that matches nothing makes the element).
// Roster's sync engine and its conformance checker are both tested
// against it:
//
//	base, token := elimitytest.Start(t, elimitytest.Options{Enterprise: true})
//	c, err := client.New(base, client.WithToken(token))
package elimitytest
