// Package console is Roster's web console: an http.Handler, served by
// roster serve at /ui, where admins see and manage directories, their
// SCIM tokens and OAuth clients, users, groups, sync runs, the SCIM
// request log and a live feed of events.
//
// Pages are html/template files embedded in the binary, with one small
// script of its own (no library, no build step, no CDN), so that the
// console works offline. Admins log in with a password hashed with
// argon2id; the first one sets it through a one-time link that roster
// serve prints on an empty database, or that roster admin create prints.
// Sessions are cookies (HttpOnly, SameSite=Strict, Secure under TLS) whose
// SHA-256 the store keeps; every form carries a CSRF token derived from
// the session; every answer has a strict Content-Security-Policy.
//
// The request log is written off the request path: RequestLogger takes
// each SCIM request from server.Config.RequestLog into a queue that a
// goroutine writes to the store in batches, dropping (and counting) what
// does not fit rather than making SCIM wait.
//
//	reqLog := console.NewRequestLogger(st, console.RequestLoggerConfig{})
//	go reqLog.Run(ctx)
//	ui := console.New(console.Config{Store: st})
//	h := server.New(server.Config{Store: st, RequestLog: reqLog,
//		Handlers: map[string]http.Handler{console.BasePath + "/": ui}})
package console
