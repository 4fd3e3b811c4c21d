// Package scimmytest gives a test a SCIM server Roster did not write: one
// on the npm packages scimmy and scimmy-routers (testdata/server.js),
// with users and groups in memory and no extension schema, run with
// node.
//
// Start installs the server's packages (npm ci in testdata, once: they
// are kept in testdata/node_modules until package-lock.json changes),
// starts node on a free loopback port and returns the SCIM base URL and
// the bearer token; the server stops when the test ends. Without node or
// npm, the test skips on a developer's machine and fails when CI=true,
// so that CI never passes by skipping it.
//
//	base, token := scimmytest.Start(t)
//	c, err := client.New(base, client.WithToken(token))
package scimmytest
