package reconcile_test

import (
	"context"
	"testing"

	"github.com/rosterhq/roster/client"
)

// TestSubAttributesOfOneElementAreOneElement: two mapped sub-attributes
// of one typed element (addresses[type eq "work"].locality and
// .postalCode) make one work address, added whole with both values when
// the target user has none, and changed in place when it has one; the
// sync converges, and the runs after send no write. Against the strict
// proxy and scimmy (not parallel at the top: scimmy's packages are
// installed once, before the parallel tests start it too).
func TestSubAttributesOfOneElementAreOneElement(t *testing.T) {
	targets := map[string]func(t *testing.T) (string, string){
		"strict proxy": func(t *testing.T) (string, string) {
			u, token, _ := startStrictProxy(t, 2, 0.1)
			return u, token
		},
		"scimmy": startScimmy,
	}
	for name, start := range targets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url, token := start(t)
			src := staff()
			e, count := strictEngine(t, url, token, src)
			e.Mapping.Users[`addresses[type eq "work"].locality`] = "default(l)"
			e.Mapping.Users[`addresses[type eq "work"].postalCode`] = "default(postalCode)"
			direct, err := client.New(url, client.WithToken(token))
			if err != nil {
				t.Fatal(err)
			}
			converge := func(step string, want map[string][2]string) {
				t.Helper()
				if _, res := syncOnce(t, e); len(res.Failed) > 0 {
					t.Fatalf("%s: failures %+v", step, res.Failed)
				}
				for mail, w := range want {
					u, err := direct.Users.ByUserName(ctx, mail)
					if err != nil {
						t.Fatal(err)
					}
					var work []client.Address
					for _, a := range u.Addresses {
						if a.Type == "work" {
							work = append(work, a)
						}
					}
					if len(work) != 1 || work[0].Locality != w[0] || work[0].PostalCode != w[1] {
						t.Fatalf("%s: %s has the work addresses %+v, want one in %s %s", step, mail, work, w[0], w[1])
					}
				}
				for run := 2; run <= 3; run++ {
					count.take()
					p, res := syncOnce(t, e)
					if n := count.take(); n != 0 || p.Counts.Writes() != 0 || len(res.Failed) > 0 {
						t.Fatalf("%s: run %d sent %d writes, plan %+v, failures %+v", step, run, n, p.Counts, res.Failed)
					}
				}
			}
			converge("initial load", nil)

			hire := person("u6", "katherine@example.com", "Katherine", "Johnson", true)
			hire.Attributes["l"] = []string{"Hampton"}
			hire.Attributes["postalCode"] = []string{"23666"}
			src.snap.Users = append(src.snap.Users, hire)
			src.snap.Users[0].Attributes["l"] = []string{"London"}
			src.snap.Users[0].Attributes["postalCode"] = []string{"N1"}
			p, err := e.Plan(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range p.Users {
				if ch.UserName == "ada@example.com" && (len(ch.Absent) != 1 || ch.Absent[0] != `addresses[type eq "work"]`) {
					t.Fatalf("the plan for Ada: %+v: want the work address absent", ch)
				}
			}
			converge("an address for Ada and a hire", map[string][2]string{"ada@example.com": {"London", "N1"}, "katherine@example.com": {"Hampton", "23666"}})

			src.snap.Users[0].Attributes["postalCode"] = []string{"N2"}
			converge("Ada's postal code changes", map[string][2]string{"ada@example.com": {"London", "N2"}})
		})
	}
}
