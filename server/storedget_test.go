package server_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"

	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
)

// decodingStore hides its store's StoredGetter, so that every GET
// decodes the resource and encodes it again.
type decodingStore struct{ store.Store }

// TestGetFromStoredAnswersAsDecoding holds a GET (of one resource or a
// list) written from the stored JSON to the same answer, byte for byte, as one decoded and encoded
// again: for users with every kind of attribute, a user in a group, a
// group, under several projections, on both stores (PostgreSQL gives its
// JSON back in an order and spacing of its own). What the store computes
// (members, groups) is written by the encoder and spliced in.
func TestGetFromStoredAnswersAsDecoding(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		slow := httptest.NewServer(server.New(server.Config{Store: decodingStore{a.st}, PasswordIterations: 1000, RateLimit: -1, AuthFailureLimit: -1}))
		t.Cleanup(slow.Close)
		b := *a
		b.root, b.base = slow.URL, slow.URL+"/scim/v2"

		full := a.create(t, "/Users", `{
			"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
			"externalId": "ext-1", "userName": "Barbara.Jensen@example.com", "password": "t1meMa$heen1",
			"name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara", "honorificSuffix": "III"},
			"displayName": "Babs <Jensen> & \"co\"\u2028–é😀", "nickName": "Babs\\n", "active": true, "title": "Tour Guide",
			"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
			"addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "region": "CA", "postalCode": "91608", "country": "USA", "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA", "primary": true}],
			"phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
			"roles": [{"value": "admin", "primary": false}],
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "costCenter": "4130", "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}
		}`)
		plain := a.create(t, "/Users", `{"userName":"plain"}`)
		member := a.create(t, "/Users", `{"userName":"member","active":false}`)
		group := a.create(t, "/Groups", `{"displayName":"Tour Guides","externalId":"g1","members":[{"value":"`+member["id"].(string)+`"}]}`)

		sg, ok := a.st.(store.StoredReader)
		if !ok {
			t.Fatal("the store reads no stored resources")
		}
		reg := schema.NewRegistry()
		for _, r := range []struct{ typ, id string }{{"User", full["id"].(string)}, {"User", plain["id"].(string)}, {"User", member["id"].(string)}, {"Group", group["id"].(string)}} {
			st, err := sg.GetStored(context.Background(), a.dir.ID, reg.ResourceType(r.typ), r.id, true)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := st.AppendJSON(nil, nil, "https://example.com/x"); !ok {
				t.Errorf("%s %s as stored (%s) is not written from its stored JSON", r.typ, r.id, st.Attrs)
			}
		}

		for _, path := range []string{
			"/Users/" + full["id"].(string),
			"/Users/" + full["id"].(string) + "?excludedAttributes=groups",
			"/Users/" + full["id"].(string) + "?attributes=userName,emails,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
			"/Users/" + full["id"].(string) + "?attributes=name.givenName",
			"/Users/" + full["id"].(string) + "?excludedAttributes=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
			"/Users/" + plain["id"].(string),
			"/Users/" + member["id"].(string),
			"/Users/" + member["id"].(string) + "?excludedAttributes=groups",
			"/Groups/" + group["id"].(string),
			"/Groups/" + group["id"].(string) + "?excludedAttributes=members",
			"/Groups/" + group["id"].(string) + "?attributes=displayName",
			"/Users/" + group["id"].(string),
			"/Users/2819c223-7f76-453a-919d-000000000000",
			"/Users?sortBy=userName",
			"/Users?filter=userName%20eq%20%22plain%22",
			"/Users?filter=userName%20eq%20%22member%22&excludedAttributes=groups",
			"/Users?attributes=name.givenName,userName&sortBy=userName",
			"/Users?count=2&startIndex=2&sortBy=userName",
			"/Users?count=0",
			"/Groups",
			"/Groups?excludedAttributes=members",
			"/Groups?filter=displayName%20eq%20%22nobody%22",
		} {
			fast, want := a.do(t, "GET", path, nil), b.do(t, "GET", path, nil)
			got := bytes.ReplaceAll(fast.Body, []byte(a.root), []byte(b.root))
			if fast.Status != want.Status || !bytes.Equal(got, want.Body) || fast.Header.Get("ETag") != want.Header.Get("ETag") {
				t.Errorf("GET %s:\n got %d %s %s\nwant %d %s %s", path, fast.Status, fast.Header.Get("ETag"), got, want.Status, want.Header.Get("ETag"), want.Body)
			}
			if etag := fast.Header.Get("ETag"); etag != "" {
				if r := a.do(t, "GET", path, nil, "If-None-Match", etag); r.Status != 304 || r.Header.Get("ETag") != etag {
					t.Errorf("GET %s with If-None-Match %s: %d %q", path, etag, r.Status, r.Header.Get("ETag"))
				}
			}
		}
	})
}
