package reconcile_test

import (
	"testing"

	"github.com/rosterhq/roster/internal/elimitytest"
)

// startElimity starts a SCIM server built on github.com/elimity-com/scim
// (internal/elimitytest) with no extension schema and pages of at most
// 50, and returns its base URL and bearer token. Its PATCH is strict: a
// replace or remove through a filter that matches nothing is 400
// noTarget, and the library refuses a path its schema lacks (400
// invalidPath).
func startElimity(t testing.TB) (baseURL, token string) {
	t.Helper()
	return elimitytest.Start(t, elimitytest.Options{MaxResults: 50})
}
