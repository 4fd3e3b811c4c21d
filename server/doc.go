// Package server is Roster's SCIM 2.0 service provider as an http.Handler:
// the Users and Groups endpoints, lists with filters, sorting and paging,
// .search, PATCH in the shapes Okta and Microsoft Entra ID send, and the
// discovery endpoints, over a store.Store.
//
//	st, err := sqlite.Open(ctx, "roster.db")
//	h := server.New(server.Config{Store: st})
//	http.ListenAndServe("localhost:8080", h)
//
// Every SCIM request carries a bearer token; the token's directory is the
// tenant the request reads and writes, and nothing else.
package server
