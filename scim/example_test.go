package scim_test

import (
	"errors"
	"fmt"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

// Decode a user as a client sends it, filter it, patch it the way Entra ID
// does, and encode it back.
func Example() {
	reg := schema.NewRegistry()
	users := reg.ResourceType("User")

	u, err := resource.Decode(users, []byte(`{"userName":"bjensen","active":"False"}`), resource.Options{})
	if err != nil {
		panic(err)
	}
	u.SetID("2819c223")

	f, err := filter.Parse(`userName eq "BJENSEN" and active eq false`, users)
	if err != nil {
		panic(err)
	}
	fmt.Println(filter.Match(f, u.Attrs)) // userName is not caseExact

	req, err := patch.Parse(users, []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","value":{"active":true,"name.givenName":"Barbara"}}]}`), resource.Options{})
	if err != nil {
		panic(err)
	}
	if err := req.Apply(u); err != nil {
		panic(err)
	}
	fmt.Println(string(u.AppendJSON(nil, nil)))
	// Output:
	// true
	// {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"2819c223","userName":"bjensen","name":{"givenName":"Barbara"},"active":true}
}

// Every mistake of a client is a *scim.Error with the status and scimType
// to answer with.
func ExampleError() {
	users := schema.NewRegistry().ResourceType("User")
	_, err := filter.Parse(`userName eq`, users)

	var serr *scim.Error
	if errors.As(err, &serr) {
		fmt.Println(serr.Status, serr.ScimType)
		body, _ := serr.MarshalJSON()
		fmt.Println(string(body))
	}
	// Output:
	// 400 invalidFilter
	// {"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"scimType":"invalidFilter","detail":"invalid filter at position 12: expected a value, found end of filter","status":"400"}
}
