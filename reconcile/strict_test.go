package reconcile_test

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/reconcile/source"
)

// strictTarget is a SCIM target Roster did not write, for the tests of
// this file.
type strictTarget struct {
	name  string
	start func(t *testing.T) (baseURL, token string)
	// afterScript, if set, checks the target after the change script.
	afterScript func(t *testing.T)
}

func strictTargets() []strictTarget {
	var proxy *strictProxy
	return []strictTarget{
		{name: "scimmy", start: startScimmy},
		{name: "elimity", start: func(t *testing.T) (string, string) { return startElimity(t) }},
		{name: "strict proxy", start: func(t *testing.T) (string, string) {
			u, token, p := startStrictProxy(t, 2, 0.1)
			proxy = p
			return u, token
		}, afterScript: func(t *testing.T) {
			// The script ran into every fault the proxy has, and the
			// engine never sent a replace through a filter that matched
			// nothing.
			if proxy.count("fault") == 0 || proxy.count("tooMany") == 0 || proxy.count("noTarget") != 0 {
				t.Errorf("the proxy refused %v: want faults and PATCHes of too many operations, no noTarget", proxy.refused)
			}
		}},
	}
}

// scriptMapping is the mapping the change script syncs with: no
// extension, a typed phone number that comes and goes.
func scriptMapping() reconcile.Mapping {
	return reconcile.Mapping{Users: map[string]string{
		"userName":                           "lower(mail)",
		"name.givenName":                     "givenName",
		"name.familyName":                    "sn",
		"displayName":                        `join(" ", givenName, sn)`,
		`emails[type eq "work"].value`:       "lower(mail)",
		`phoneNumbers[type eq "work"].value`: "default(phone)",
	}}
}

// staff returns the change script's starting directory: five people in
// four teams, Platform nested in Engineering.
func staff() *memSource {
	p := func(id, mail, given, sn, phone string) source.User {
		u := person(id, mail, given, sn, true)
		if phone != "" {
			u.Attributes["phone"] = []string{phone}
		}
		return u
	}
	return &memSource{snap: source.Snapshot{
		Users: []source.User{
			p("u1", "ada@example.com", "Ada", "Lovelace", ""),
			p("u2", "alan@example.com", "Alan", "Turing", ""),
			p("u3", "grace@example.com", "Grace", "Hopper", "+1 555 0103"),
			p("u4", "linus@example.com", "Linus", "Torvalds", ""),
			p("u5", "margaret@example.com", "Margaret", "Hamilton", "+1 555 0105"),
		},
		Groups: []source.Group{
			{ID: "eng", Name: "Engineering", Members: []string{"u1", "u2"}},
			{ID: "platform", Name: "Platform", Members: []string{"u3"}, Parent: "eng"},
			{ID: "support", Name: "Support", Members: []string{"u4", "u5"}},
			{ID: "sales", Name: "Sales", Members: []string{"u5"}},
		},
	}}
}

// strictEngine returns an engine syncing src into a target through a
// client that counts its writes and retries quickly.
func strictEngine(t *testing.T, baseURL, token string, src source.Source) (*reconcile.Engine, *counter) {
	t.Helper()
	count := &counter{base: testTransport(t)}
	c, err := client.New(baseURL, client.WithToken(token), client.WithTransport(count), client.WithRetries(10, time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	st, err := reconcile.LoadState(filepath.Join(t.TempDir(), "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	return &reconcile.Engine{Source: src, Target: c, State: st, Mapping: scriptMapping(), Concurrency: 4,
		Policy: reconcile.Policy{MaxDeprovision: 5, RetireGroups: reconcile.RetireRename}}, count
}

// TestSyncIntoTargetsRosterDidNotWrite runs the change script against
// each strict target: the initial load, then hire, rename, surname
// change, phone added and removed, move between teams, team renamed, team
// deleted, leaver, then returner and nested team; after each, the target
// holds exactly what the source says and the next run sends no write.
// A mapping to an attribute the target lacks fails at plan time, with
// nothing written.
func TestSyncIntoTargetsRosterDidNotWrite(t *testing.T) {
	t.Parallel()
	for _, tg := range strictTargets() {
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			url, token := tg.start(t)
			t.Run("a mapping to an attribute the target lacks fails at plan time", func(t *testing.T) {
				e, count := strictEngine(t, url, token, staff())
				e.Mapping.Users[enterpriseURN+":department"] = `default(department, "Unassigned")`
				e.Mapping.Where = map[string]string{enterpriseURN + ":department": "sync.yaml:19"}
				_, err := e.Plan(context.Background())
				if err == nil || !strings.Contains(err.Error(), "sync.yaml:19") || !strings.Contains(err.Error(), enterpriseURN) {
					t.Fatalf("plan: %v, want an error naming sync.yaml:19 and the schema", err)
				}
				if n := count.take(); n != 0 {
					t.Fatalf("%d writes", n)
				}
				t.Log(err)
			})
			t.Run("the target's schemas are read from /Schemas", func(t *testing.T) {
				e, _ := strictEngine(t, url, token, staff())
				ts, err := e.LearnTarget(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("read %s of %s in %v", ts.From, strings.Join(ts.Schemas, ", "), ts.Elapsed)
				if ts.From != "/Schemas" || len(ts.Schemas) != 1 {
					t.Fatalf("learnt %v from %q", ts.Schemas, ts.From)
				}
			})
			t.Run("the change script converges exactly", func(t *testing.T) {
				changeScript(t, url, token)
				if tg.afterScript != nil {
					tg.afterScript(t)
				}
			})
		})
	}
}

func changeScript(t *testing.T, url, token string) {
	ctx := context.Background()
	src := staff()
	e, count := strictEngine(t, url, token, src)
	direct, err := client.New(url, client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	converge := func(step string, gone ...string) {
		t.Helper()
		_, res := syncOnce(t, e)
		if len(res.Failed) > 0 {
			t.Fatalf("%s: failures %+v", step, res.Failed)
		}
		for _, l := range res.Learnt {
			t.Logf("%s: learnt: %s", step, l)
		}
		checkExactly(t, direct, src, gone)
		count.take()
		p, res := syncOnce(t, e)
		if n := count.take(); n != 0 || p.Counts.Writes() != 0 {
			t.Fatalf("%s: the next run sent %d writes, plan %+v", step, n, p.Counts)
		}
		_ = res
		_ = ctx
	}
	converge("initial load")

	users := src.snap.Users
	users = append(users, person("u6", "katherine@example.com", "Katherine", "Johnson", true)) // hire
	users[1].Attributes["mail"] = []string{"alan.turing@example.com"}                          // rename
	users[0].Attributes["sn"] = []string{"King"}                                               // surname change
	users[0].Attributes["phone"] = []string{"+1 555 0101"}                                     // phone added
	delete(users[4].Attributes, "phone")                                                       // phone removed
	users = slices.Delete(users, 2, 3)                                                         // Grace leaves
	src.snap.Users = users
	src.snap.Groups = []source.Group{
		{ID: "eng", Name: "Engineering", Members: []string{"u1", "u2", "u4"}}, // Linus moves in
		{ID: "platform", Name: "Platform", Parent: "eng"},
		{ID: "support", Name: "Customer Support", Members: []string{"u5", "u6"}}, // renamed; Linus moves out
		// Sales is gone.
	}
	converge("the changes", "grace@example.com")

	grace := staff().snap.Users[2] // returns
	src.snap.Users = append(src.snap.Users, grace)
	src.snap.Groups = append(src.snap.Groups, source.Group{ID: "compilers", Name: "Compilers", Members: []string{"u3"}, Parent: "platform"})
	src.snap.Groups[1].Members = []string{"u3"}
	converge("the returner and a nested team")
}

// checkExactly fails unless the target holds exactly what the source and
// the script's mapping say: each source user with its mapped values and
// active, each of gone (userNames) deactivated, each source group with
// its members (users and nested groups), and Sales retired by renaming,
// without members.
func checkExactly(t *testing.T, c *client.Client, src *memSource, gone []string) {
	t.Helper()
	ctx := context.Background()
	byExt := map[string]*client.User{}
	idToKey := map[string]string{}
	for u, err := range c.Users.All(ctx, client.Query{}) {
		if err != nil {
			t.Fatal(err)
		}
		byExt[u.ExternalID] = u
		idToKey[u.ID] = "user " + u.ExternalID
	}
	for _, su := range src.snap.Users {
		u := byExt[su.ID]
		if u == nil {
			t.Fatalf("source user %s is not in the target", su.ID)
		}
		a := func(k string) string { return source.Get(su.Attributes, k) }
		mail := strings.ToLower(a("mail"))
		var work, phone string
		for _, e := range u.Emails {
			if e.Type == "work" {
				work = e.Value
			}
		}
		phones := 0
		for _, p := range u.PhoneNumbers {
			if p.Type == "work" {
				phone = p.Value
				phones++
			}
		}
		if u.UserName != mail || u.Name == nil || u.Name.GivenName != a("givenName") || u.Name.FamilyName != a("sn") ||
			u.DisplayName != a("givenName")+" "+a("sn") || work != mail || phone != a("phone") || phones > 1 ||
			u.Active == nil || !*u.Active {
			t.Fatalf("target user %s: %+v (name %+v, emails %+v, phones %+v, active %v), want %v",
				su.ID, u, u.Name, u.Emails, u.PhoneNumbers, u.Active, su.Attributes)
		}
	}
	if len(byExt) != len(src.snap.Users)+len(gone) {
		t.Fatalf("the target has %d users, want %d", len(byExt), len(src.snap.Users)+len(gone))
	}
	for _, name := range gone {
		for _, u := range byExt {
			if u.UserName == name && (u.Active == nil || *u.Active) {
				t.Fatalf("%s left but is active", name)
			}
		}
	}
	groups := map[string]*client.Group{}
	for g, err := range c.Groups.All(ctx, client.Query{}) {
		if err != nil {
			t.Fatal(err)
		}
		groups[g.ExternalID] = g
		idToKey[g.ID] = "group " + g.ExternalID
	}
	want := map[string]bool{}
	for _, sg := range src.snap.Groups {
		want[sg.ID] = true
		g := groups[sg.ID]
		if g == nil || g.DisplayName != sg.Name {
			t.Fatalf("group %s (%s): %+v", sg.ID, sg.Name, g)
		}
		var wantM []string
		for _, m := range sg.Members {
			wantM = append(wantM, "user "+m)
		}
		for _, child := range src.snap.Groups {
			if child.Parent == sg.ID {
				wantM = append(wantM, "group "+child.ID)
			}
		}
		var got []string
		for _, m := range g.Members {
			got = append(got, idToKey[m.Value])
		}
		slices.Sort(got)
		slices.Sort(wantM)
		if !slices.Equal(got, wantM) {
			t.Fatalf("group %s has members %v, want %v", sg.Name, got, wantM)
		}
	}
	for _, ext := range slices.Sorted(maps.Keys(groups)) {
		if g := groups[ext]; !want[ext] && (!strings.HasPrefix(g.DisplayName, reconcile.RetiredPrefix) || len(g.Members) > 0) {
			t.Fatalf("group %s left the source but is %q with %d members", ext, g.DisplayName, len(g.Members))
		}
	}
}

// TestLifecycleGoesFirst: (de)activation is a PATCH of its own, sent
// before the attributes, so a target refusing an attribute can neither
// keep a leaver active nor a returning user locked out; and when the
// (de)activation itself is refused, no attribute is changed and the next
// run does both.
func TestLifecycleGoesFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, token, proxy := startStrictProxy(t, 10, 0)
	src := staff()
	e, _ := strictEngine(t, url, token, src)
	direct, err := client.New(url, client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, e)
	idOf := func(name string) string {
		u, err := direct.Users.ByUserName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	ada, alan := idOf("ada@example.com"), idOf("alan@example.com")
	refuse := func(id, path string) {
		proxy.set(func(p *strictProxy) {
			p.refuseOp = func(got string, op map[string]any) bool { return got == id && op["path"] == path }
		})
	}
	active := func(id string) bool {
		u, err := direct.Users.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return u.Active == nil || *u.Active
	}
	family := func(id string) string {
		u, err := direct.Users.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return u.Name.FamilyName
	}

	// Alan is disabled in the source and his surname changes; the target
	// refuses the surname: he is deactivated all the same.
	src.snap.Users[1].Active = false
	src.snap.Users[1].Attributes["sn"] = []string{"Turing-Smith"}
	refuse(alan, "name.familyName")
	if _, res := syncOnce(t, e); len(res.Failed) != 1 || active(alan) {
		t.Fatalf("a leaver whose attribute is refused: failed %+v, active %v", res.Failed, active(alan))
	}
	// He comes back with another given name, refused too: he is active
	// again all the same.
	src.snap.Users[1].Active = true
	src.snap.Users[1].Attributes["sn"] = []string{"Turing"}
	src.snap.Users[1].Attributes["givenName"] = []string{"Alan M."}
	refuse(alan, "name.givenName")
	if _, res := syncOnce(t, e); len(res.Failed) != 1 || !active(alan) {
		t.Fatalf("a returner whose attribute is refused: failed %+v, active %v", res.Failed, active(alan))
	}

	// The other order: Ada's deactivation is refused; her attributes are
	// left as they were, and the run says so.
	src.snap.Users[0].Active = false
	src.snap.Users[0].Attributes["sn"] = []string{"King"}
	refuse(ada, "active")
	_, res := syncOnce(t, e)
	if len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Err, "set active to false") || !active(ada) || family(ada) != "Lovelace" {
		t.Fatalf("a refused deactivation: failed %+v, active %v, surname %q", res.Failed, active(ada), family(ada))
	}
	// Healed, the next run does all that is left, and then nothing.
	proxy.set(func(p *strictProxy) { p.refuseOp = nil })
	mustSync(t, e)
	if active(ada) || family(ada) != "King" || !active(alan) || family(alan) != "Turing" {
		t.Fatalf("after healing: ada active %v %q, alan active %v %q", active(ada), family(ada), active(alan), family(alan))
	}
	if p := mustSync(t, e); p.Counts.Writes() != 0 {
		t.Fatalf("a converged run: %+v", p.Counts)
	}
}

// TestRefusedShapesFallBack: a target that takes one PATCH operation a
// request gets one a request, for users and members, from the first
// refusal on; the run converges and says what it learnt.
func TestRefusedShapesFallBack(t *testing.T) {
	t.Parallel()
	url, token, proxy := startStrictProxy(t, 1, 0)
	src := staff()
	e, _ := strictEngine(t, url, token, src)
	mustSync(t, e)
	src.snap.Users[0].Attributes["sn"] = []string{"King"} // and so displayName: two operations
	src.snap.Groups[2].Members = []string{"u5", "u1"}     // Support: one out, one in
	src.snap.Groups[3].Members = []string{"u1", "u2"}     // Sales: one out, two in
	_, res := syncOnce(t, e)
	if len(res.Failed) > 0 || len(res.Learnt) == 0 {
		t.Fatalf("failed %+v, learnt %v", res.Failed, res.Learnt)
	}
	t.Log(res.Learnt)
	direct, err := client.New(url, client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	checkExactly(t, direct, src, nil)
	if p := mustSync(t, e); p.Counts.Writes() != 0 {
		t.Fatalf("a converged run: %+v", p.Counts)
	}
	if proxy.count("tooMany") == 0 {
		t.Fatal("the proxy refused nothing")
	}
}

// TestATargetThatRefusesUserPatchesGetsPuts: a target that refuses every
// PATCH of a user gets each change as a read, change and replace (PUT),
// attributes and lifecycle alike, from the first refusal on.
func TestATargetThatRefusesUserPatchesGetsPuts(t *testing.T) {
	t.Parallel()
	url, token, proxy := startStrictProxy(t, 10, 0)
	src := staff()
	e, _ := strictEngine(t, url, token, src)
	e.Concurrency = 1 // Ada first, then Alan
	mustSync(t, e)
	proxy.set(func(p *strictProxy) { p.noUserPatch = true })
	src.snap.Users[0].Attributes["sn"] = []string{"King"}
	src.snap.Users[0].Attributes["phone"] = []string{"+1 555 0101"}
	src.snap.Users[1].Active = false
	_, res := syncOnce(t, e)
	if len(res.Failed) > 0 || len(res.Learnt) != 2 || !slices.ContainsFunc(res.Learnt, func(l string) bool { return strings.Contains(l, "replaced (PUT)") }) {
		t.Fatalf("failed %+v, learnt %q", res.Failed, res.Learnt)
	}
	direct, err := client.New(url, client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	src.snap.Users = append(src.snap.Users[:1], src.snap.Users[2:]...) // Alan is deactivated: as gone, for checkExactly
	checkExactly(t, direct, src, []string{"alan@example.com"})
	// Ada's PATCH of three operations, then of one: then PUTs only.
	if n := proxy.count("noUserPatch"); n != 2 {
		t.Fatalf("%d PATCHes refused, want 2", n)
	}
}

// TestAValueRefusedDoesNotChangeTheShape: a target refusing one user's
// value (400 invalidValue, to a PATCH of one operation a request and to a
// PUT alike) fails that user's change only; the run does not take it for
// a refused shape and keeps sending the others one PATCH each.
func TestAValueRefusedDoesNotChangeTheShape(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, token, proxy := startStrictProxy(t, 10, 0)
	src := staff()
	e, count := strictEngine(t, url, token, src)
	e.Concurrency = 1
	mustSync(t, e)
	direct, err := client.New(url, client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	ada, err := direct.Users.ByUserName(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	proxy.set(func(p *strictProxy) { p.badValueOf = ada.ID })
	for _, u := range src.snap.Users {
		u.Attributes["phone"] = []string{"+1 555 0199"}
		u.Attributes["sn"] = []string{source.Get(u.Attributes, "sn") + "-Smith"}
	}
	count.take()
	_, res := syncOnce(t, e)
	if len(res.Failed) != 1 || !strings.Contains(res.Failed[0].What, "ada@example.com") || len(res.Learnt) != 0 || res.Done.Update != 4 {
		t.Fatalf("failed %+v, learnt %q, done %+v", res.Failed, res.Learnt, res.Done)
	}
	// Ada: her PATCH of three operations, then each operation alone
	// and its PUT (every one is tried, not only the first); the four
	// others: a PATCH each.
	if n := count.take(); n != 1+3*2+4 {
		t.Fatalf("%d writes", n)
	}
	if got := strings.Count(res.Failed[0].Err, "the phone number is not one"); got != 3 {
		t.Fatalf("the failure names %d refused operations, want 3: %s", got, res.Failed[0].Err)
	}
}

// TestATargetWithoutSchemasIsLearntFromAUser: a target that serves no
// /Schemas is checked against one of its users, and the plan says so; a
// mapping into an extension none of its users has then fails at plan
// time.
func TestATargetWithoutSchemasIsLearntFromAUser(t *testing.T) {
	t.Parallel()
	url, token, proxy := startStrictProxy(t, 10, 0)
	proxy.set(func(p *strictProxy) { p.noSchemas = true })
	src := staff()
	e, count := strictEngine(t, url, token, src)
	p := mustSync(t, e)
	if len(p.Notes) == 0 || !strings.Contains(p.Notes[0], "could not be checked") {
		t.Fatalf("an empty target's notes: %q", p.Notes)
	}
	p, err := e.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Notes) == 0 || !strings.Contains(p.Notes[0], "one of its users") {
		t.Fatalf("notes: %q", p.Notes)
	}
	e.Mapping.Users[enterpriseURN+":department"] = "default(department)"
	count.take()
	if _, err := e.Plan(context.Background()); err == nil || !strings.Contains(err.Error(), "has no schema "+enterpriseURN) {
		t.Fatalf("plan: %v", err)
	}
	if n := count.take(); n != 0 {
		t.Fatalf("%d writes", n)
	}
}

// BenchmarkLearnTarget measures reading a target's schemas at the start
// of a plan (/ServiceProviderConfig, /ResourceTypes and /Schemas, at
// once): against Roster, and against the elimity-com/scim target. Issue
// 14 wants it under a second.
func BenchmarkLearnTarget(b *testing.B) {
	for _, tg := range []struct {
		name  string
		start func(t testing.TB) (string, string)
	}{
		{"roster", func(t testing.TB) (string, string) { u, token := startRoster(t); return u + "/scim/v2", token }},
		{"elimity", startElimity},
	} {
		b.Run(tg.name, func(b *testing.B) {
			url, token := tg.start(b)
			for b.Loop() {
				c, err := client.New(url, client.WithToken(token)) // a new client: nothing remembered
				if err != nil {
					b.Fatal(err)
				}
				e := &reconcile.Engine{Target: c}
				if _, err := e.LearnTarget(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
