package reconcile_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/client/patch"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/reconcile/config"
	"github.com/rosterhq/roster/reconcile/source"
)

// TestAUserIsNotAdoptedByNameFromTheSourceUserItBelongsTo: a target user
// whose externalId is another source user's (created by a run that
// crashed before saving its state, so not yet owned) is that user's; a
// new hire who takes its userName must not adopt it, or two source users
// change one target user.
func TestAUserIsNotAdoptedByNameFromTheSourceUserItBelongsTo(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.src.snap.Groups = nil
	if _, err := f.c.Users.Create(ctx, &client.User{UserName: "ada@example.com", ExternalID: "u1", Active: client.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	// Ada's mail changes and a new hire, listed first, gets her old one.
	f.src.snap.Users[0] = person("u1", "ada.lovelace@example.com", "Ada", "Lovelace", true)
	f.src.snap.Users = append([]source.User{person("u9", "ada@example.com", "Ada", "Byron", true)}, f.src.snap.Users...)
	p, err := f.engine.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, ch := range p.Users {
		if ch.TargetID == "" {
			continue
		}
		if other, ok := seen[ch.TargetID]; ok {
			t.Fatalf("source users %s and %s both change target user %s: %+v", other, ch.ExternalID, ch.TargetID, p.Users)
		}
		seen[ch.TargetID] = ch.ExternalID
	}
}

// TestTwoSourceGroupsDoNotAdoptOneTargetGroup: two source groups of one
// name (in two OUs, say) must not both adopt the target group of that
// name, or each run flips its externalId and its members between them.
func TestTwoSourceGroupsDoNotAdoptOneTargetGroup(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.c.Groups.Create(ctx, &client.Group{DisplayName: "Engineering"}); err != nil {
		t.Fatal(err)
	}
	f.src.snap.Groups = []source.Group{
		{ID: "g1", Name: "Engineering", Members: []string{"u1"}},
		{ID: "g3", Name: "Engineering", Members: []string{"u2"}},
	}
	p, err := f.engine.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, ch := range p.Groups {
		if ch.TargetID == "" {
			continue
		}
		if other, ok := seen[ch.TargetID]; ok {
			t.Fatalf("source groups %s and %s both change target group %s: %+v", other, ch.ExternalID, ch.TargetID, p.Groups)
		}
		seen[ch.TargetID] = ch.ExternalID
	}
}

// TestTokenFileIsRelativeToTheConfig: like every other path in the
// configuration, target.tokenFile is relative to the configuration's
// directory, not to where roster runs.
func TestTokenFileIsRelativeToTheConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sync.yaml")
	if err := os.WriteFile(path, []byte("target: {url: http://x, tokenFile: token}\nsource: {type: scim, scim: {url: http://y, tokenFile: token}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Target.Client("test"); err != nil {
		t.Errorf("target: %v", err)
	}
	if _, err := c.Source.SCIM.Client("test"); err != nil {
		t.Errorf("source: %v", err)
	}
}

// TestAUserDeactivatedAgainGetsAFullGracePeriod: a leaver reactivated by
// hand who returns to the source and later leaves again is deactivated
// anew; the grace period runs from that deactivation, not from the first,
// or the next run deletes the user at once.
func TestAUserDeactivatedAgainGetsAFullGracePeriod(t *testing.T) {
	ctx := context.Background()
	url, token := startRoster(t)
	src := &memSource{snap: source.Snapshot{Users: people(6)}}
	e, statePath := newEngine(t, url, token, src)
	e.Policy.Delete, e.Policy.GracePeriod = true, 24*time.Hour
	mustSync(t, e)
	all := slices.Clone(src.snap.Users)

	src.snap.Users = all[1:] // u0 leaves: deactivated
	if p := mustSync(t, e); p.Counts.Deactivate != 1 {
		t.Fatalf("u0 left: %+v", p.Counts)
	}
	e.State = backdate(t, statePath, "u0", 48*time.Hour) // long ago
	u, err := e.Target.Users.ByUserName(ctx, "user0@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Target.Users.Patch(ctx, u.ID, patch.Replace("active", true)); err != nil { // by hand
		t.Fatal(err)
	}
	src.snap.Users = all // u0 returns, active on both sides: nothing to do
	if p := mustSync(t, e); p.Counts.Writes() != 0 {
		t.Fatalf("u0 returned: %+v", p.Counts)
	}
	src.snap.Users = all[1:] // u0 leaves again
	if p := mustSync(t, e); p.Counts.Deactivate != 1 {
		t.Fatalf("u0 left again: %+v", p.Counts)
	}
	if p := mustSync(t, e); p.Counts.Delete != 0 {
		t.Fatalf("u0 deleted a moment after being deactivated: %+v", p.Counts)
	}
}

// TestAnEmailRemovedFromTheSourceLeavesNoEmptyEmail: when the source
// loses a user's mail, the target user loses the work email, rather than
// keep a primary work email without an address.
func TestAnEmailRemovedFromTheSourceLeavesNoEmptyEmail(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.src.snap.Groups = nil
	f.run(t)
	f.src.snap.Users[0].Attributes["mail"] = nil
	f.src.snap.Users[0].Attributes["userPrincipalName"] = []string{"ada@example.com"}
	if p, _, _ := f.run(t); p.Counts.Update != 1 {
		t.Fatalf("mail removed: %+v", p.Counts)
	}
	u, err := f.c.Users.ByUserName(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Emails) != 0 {
		t.Fatalf("emails: %+v", u.Emails)
	}
}

// TestANewUserTakesTheUserNameARenamedOneGaveUp: updates go before
// creates, so that a hire who gets a userName another user gives up in
// the same run is created, not refused as a conflict.
func TestANewUserTakesTheUserNameARenamedOneGaveUp(t *testing.T) {
	f := newFixture(t)
	f.src.snap.Groups = nil
	f.run(t)
	f.engine.Concurrency = 1 // in the plan's order
	f.src.snap.Users[0] = person("u1", "ada.lovelace@example.com", "Ada", "Lovelace", true)
	f.src.snap.Users = append([]source.User{person("u9", "ada@example.com", "Ada", "Byron", true)}, f.src.snap.Users...)
	if p, _, _ := f.run(t); p.Counts.Create != 1 || p.Counts.Update != 1 {
		t.Fatalf("plan: %+v", p.Counts)
	}
}

// crashCopy copies the state file, the first time a user is created, to
// what a crash at that moment would leave on disk.
// Apply sends requests concurrently, so done is guarded by mu.
type crashCopy struct {
	base                http.RoundTripper // where requests go on to
	statePath, copyPath string

	mu   sync.Mutex
	done bool
}

func (c *crashCopy) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && !c.done && r.Method == http.MethodPost && resp.StatusCode == http.StatusCreated {
		c.done = true
		data, rerr := os.ReadFile(c.statePath)
		if rerr != nil {
			data = nil // no state file yet
		}
		if werr := os.WriteFile(c.copyPath, data, 0o600); werr != nil {
			return nil, werr
		}
	}
	return resp, err
}

// TestAUserCreatedByARunThatCrashedIsDeactivatedWhenItLeaves: a run that
// dies after creating a user, before its end, must still leave the user
// managed, or the user keeps an active account after leaving the source.
func TestAUserCreatedByARunThatCrashedIsDeactivatedWhenItLeaves(t *testing.T) {
	url, token := startRoster(t)
	src := &memSource{snap: source.Snapshot{Users: people(3)}}
	crash := &crashCopy{base: testTransport(t), copyPath: filepath.Join(t.TempDir(), "crashed.json")}
	e, statePath := newEngine(t, url, token, src, client.WithTransport(crash))
	crash.statePath = statePath
	mustSync(t, e) // ends normally; the test then puts back the crashed state
	data, err := os.ReadFile(crash.copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 {
		if err := os.Remove(statePath); err != nil {
			t.Fatal(err)
		}
	} else if err := os.WriteFile(statePath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	src.snap.Users = src.snap.Users[1:] // u0 leaves before the next run
	if e.State, err = reconcile.LoadState(statePath); err != nil {
		t.Fatal(err)
	}
	if p := mustSync(t, e); p.Counts.Deactivate != 1 {
		t.Fatalf("u0 left: %+v", p.Counts)
	}
}

// TestExplainSaysAUserLeavesAGroup: explain --user alice says the next run
// removes alice from a group she left in the source.
func TestExplainSaysAUserLeavesAGroup(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.run(t)
	f.src.snap.Groups[0].Members = []string{"u2"} // Ada leaves Engineering
	var b strings.Builder
	if err := f.engine.Explain(ctx, &b, "ada@example.com"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "from group Engineering") {
		t.Errorf("explain does not say Ada leaves Engineering:\n%s", b.String())
	}
}
