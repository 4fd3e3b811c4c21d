package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store/sqlite"
)

// BenchmarkHTTP measures requests over loopback HTTP against a directory
// of 100,000 users and a group holding all of them, reporting the median
// latency (p50-ns) beside the mean.
func BenchmarkHTTP(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	dir, err := st.CreateDirectory(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	_, token, err := st.CreateToken(ctx, dir.ID, "bench", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	reg := schema.NewRegistry()
	ut, gt := reg.ResourceType("User"), reg.ResourceType("Group")
	ids := make([]string, n)
	members := make([]any, n)
	for i := range n {
		r, err := resource.Decode(ut, fmt.Appendf(nil, `{"userName":"user%07d@example.com","name":{"givenName":"U","familyName":"%d"},"active":true}`, i, i), resource.Options{})
		if err != nil {
			b.Fatal(err)
		}
		u, err := st.Create(ctx, dir.ID, r)
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = u.ID()
		members[i] = map[string]any{"value": u.ID()}
	}
	group := func(name string, m []any) string {
		g := resource.New(gt)
		g.Attrs["displayName"] = name
		g.Attrs["members"] = m
		created, err := st.Create(ctx, dir.ID, g)
		if err != nil {
			b.Fatal(err)
		}
		return created.ID()
	}
	big, small := group("everyone", members[1:]), group("ten", members[1:11])
	outsider := ids[0]

	ts := httptest.NewServer(server.New(server.Config{Store: st, PasswordIterations: 1000, RateLimit: -1}))
	defer ts.Close()
	client := ts.Client()
	do := func(b *testing.B, method, path, body string, want int) {
		req, _ := http.NewRequest(method, ts.URL+path, bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			b.Fatalf("%s %s: %d, want %d", method, path, resp.StatusCode, want)
		}
	}
	measure := func(b *testing.B, f func(i int)) {
		lat := make([]time.Duration, 0, b.N)
		i := 0
		for b.Loop() {
			start := time.Now()
			f(i)
			lat = append(lat, time.Since(start))
			i++
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	}
	patchBody := func(op string) string {
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + op + `]}`
	}

	b.Run("GET user by id", func(b *testing.B) {
		measure(b, func(i int) { do(b, "GET", "/scim/v2/Users/"+ids[(i*7919)%n], "", 200) })
	})
	b.Run("GET users filter userName eq", func(b *testing.B) {
		measure(b, func(i int) {
			f := url.QueryEscape(fmt.Sprintf(`userName eq "USER%07d@example.com"`, (i*7919)%n))
			do(b, "GET", "/scim/v2/Users?filter="+f, "", 200)
		})
	})
	b.Run("POST user", func(b *testing.B) {
		measure(b, func(i int) {
			do(b, "POST", "/scim/v2/Users", fmt.Sprintf(`{"userName":"new%d-%d@example.com","active":true}`, b.N, i), 201)
		})
	})
	for _, g := range []struct{ name, id string }{{"10 members", small}, {"100k members", big}} {
		b.Run("PATCH add or remove one member of "+g.name, func(b *testing.B) {
			add := patchBody(`{"op":"add","path":"members","value":[{"value":"` + outsider + `"}]}`)
			remove := patchBody(`{"op":"remove","path":"members[value eq \"` + outsider + `\"]"}`)
			measure(b, func(i int) {
				if i%2 == 0 {
					do(b, "PATCH", "/scim/v2/Groups/"+g.id, add, 204)
				} else {
					do(b, "PATCH", "/scim/v2/Groups/"+g.id, remove, 204)
				}
			})
		})
		b.Run("GET group excludedAttributes=members of "+g.name, func(b *testing.B) {
			measure(b, func(int) { do(b, "GET", "/scim/v2/Groups/"+g.id+"?excludedAttributes=members", "", 200) })
		})
	}
}
