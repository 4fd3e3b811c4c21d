// Package conformance holds a SCIM 2.0 service provider (RFC 7643,
// RFC 7644) to the RFCs and to what Okta and Microsoft Entra ID send:
// it talks HTTP to the server under test, reads its discovery endpoints
// first, runs checks that are data (a stable id such as
// filter.userName_eq_case_insensitive, tags, the RFC section or vendor
// document each stems from) and reports each as pass, fail, skip (with
// the reason) or warn, with the HTTP exchanges that explain a failure.
//
//	report, err := conformance.Run(ctx, conformance.Config{
//		URL:  "https://scim.example.com/scim/v2",
//		Auth: client.WithToken(token),
//	})
//	if err != nil { … } // the checks could not run: unreachable, credentials refused
//	if report.Failed() { report.WriteText(os.Stdout, conformance.TextOptions{Verbose: true}) }
//
// It is safe on a real server: it creates only users and groups of its
// own, named with a unique run prefix, changes nothing else, and deletes
// what it created when it ends, also when ctx is cancelled. With
// Config.ReadOnly it runs only the checks that change nothing.
package conformance
