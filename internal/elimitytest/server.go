package elimitytest

import (
	"cmp"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
)

// Token is the bearer token the server takes.
const Token = "elimity-token"

// Options are what the servers of Roster's tests differ in.
type Options struct {
	// Enterprise gives the User resource type the enterprise extension
	// (RFC 7643 §4.3).
	Enterprise bool
	// MaxResults is the largest page the server answers (default 100).
	MaxResults int
}

// Start serves a new server, with nothing stored, on a loopback port
// until the test ends, and returns its SCIM base URL (…/scim/v2) and
// the bearer token it takes.
func Start(t testing.TB, opts Options) (baseURL, token string) {
	t.Helper()
	srv := httptest.NewServer(Handler(t, opts))
	t.Cleanup(srv.Close)
	return srv.URL + "/scim/v2", Token
}

// Handler returns a new server, with nothing stored, as a handler that
// serves the SCIM API under /scim/v2 to requests bearing Token, for a
// test that puts something in front of it.
func Handler(t testing.TB, opts Options) http.Handler {
	t.Helper()
	users, groups := newStore("userName"), newStore("displayName")
	users.peer, groups.peer = groups, users
	user := scim.ResourceType{ID: optional.NewString("User"), Name: "User", Endpoint: "/Users", Schema: schema.CoreUserSchema(), Handler: users}
	if opts.Enterprise {
		user.SchemaExtensions = []scim.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}}
	}
	srv, err := scim.NewServer(&scim.ServerArgs{
		ServiceProviderConfig: &scim.ServiceProviderConfig{SupportFiltering: true, SupportPatch: true, MaxResults: cmp.Or(opts.MaxResults, 100)},
		ResourceTypes: []scim.ResourceType{
			user,
			{ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups", Schema: schema.CoreGroupSchema(), Handler: groups},
		},
	})
	if err != nil {
		t.Fatalf("elimitytest: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/", http.StripPrefix("/scim", bearer(srv)))
	return mux
}

// bearer is the authentication a team puts in front of the library,
// which has none: the bearer token, else 401 with the SCIM error schema.
func bearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+Token {
			w.Header().Set("WWW-Authenticate", "Bearer")
			w.Header().Set("Content-Type", "application/scim+json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401","detail":"a bearer token is required"}`)
			return
		}
		next.ServeHTTP(w, r)
	})
}
