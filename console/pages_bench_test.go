package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

// BenchmarkPages measures the console's pages over a directory of
// 100,000 users ($ROSTER_BENCH_CONSOLE_USERS) and a group of all of them
// on SQLite, through loopback HTTP with a logged-in session, reporting
// the median (p50-ns) beside the mean.
func BenchmarkPages(b *testing.B) {
	n := 100_000
	if s := os.Getenv("ROSTER_BENCH_CONSOLE_USERS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	e := newEnv(b, console.Config{}, false)
	d := e.createDirectory(b, "bench")
	reg := schema.NewRegistry()
	members := make([]any, n)
	var someone string
	for i := range n {
		r, err := resource.Decode(reg.ResourceType("User"), fmt.Appendf(nil, `{"userName":"user%07d@example.com","name":{"givenName":"U","familyName":"%d"},`+
			`"emails":[{"value":"user%07d@example.com","primary":true}],"active":%v}`, i, i, i, i%10 != 0), resource.Options{})
		if err != nil {
			b.Fatal(err)
		}
		u, err := e.st.Create(ctx, d.ID, r)
		if err != nil {
			b.Fatal(err)
		}
		members[i] = map[string]any{"value": u.ID()}
		if i == n/2 {
			someone = u.ID()
		}
	}
	g := resource.New(reg.ResourceType("Group"))
	g.Attrs["displayName"] = "everyone"
	g.Attrs["members"] = members
	group, err := e.st.Create(ctx, d.ID, g)
	if err != nil {
		b.Fatal(err)
	}
	br := e.login(b, http.DefaultClient)
	dir := "/ui/directories/" + d.ID
	for _, p := range []struct{ name, path string }{
		{"directories", "/ui/"},
		{"directory", dir},
		{"users", dir + "/users"},
		{"users page 1000", dir + "/users?page=1000"},
		{"users search", dir + "/users?q=" + url.QueryEscape(fmt.Sprintf("user%07d", n/3))},
		{"users search inside names", dir + "/users?full=1&q=" + url.QueryEscape(fmt.Sprintf("user%07d", n/3))},
		{"inactive users", dir + "/users?active=false"},
		{"user", dir + "/users/" + someone},
		{"groups", dir + "/groups"},
		{"group of all", dir + "/groups/" + group.ID()},
		{"requests", "/ui/requests"},
	} {
		b.Run(p.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				br.get(p.path).must(b, 200)
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
		})
	}
}
