package reconcile_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/reconcile"
)

func TestExplainAndPreview(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var b strings.Builder
	if err := f.engine.Preview(ctx, &b, "ADA@example.com"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"source user u1", `userName: "ada@example.com"`, `name.givenName: "Ada"`, `displayName: "Ada Lovelace"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("preview lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	reads := f.src.reads
	if err := f.engine.Explain(ctx, &b, "ada@example.com"); err != nil {
		t.Fatal(err)
	}
	if n := f.src.reads - reads; n != 1 {
		t.Errorf("explain read the source %d times, want once", n)
	}
	for _, want := range []string{"is in the source's scope", "The next run will create the target user ada@example.com", "adds them to group Engineering"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("explain lacks %q:\n%s", want, b.String())
		}
	}
	f.run(t)
	b.Reset()
	if err := f.engine.Explain(ctx, &b, "nobody@example.com"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "not in the source's scope") {
		t.Errorf("explain of a stranger:\n%s", b.String())
	}
	// Grace leaves the source: explain says she will be deactivated.
	f.src.snap.Users = f.src.snap.Users[:2]
	f.engine.Policy.MaxDeprovision = 5
	b.Reset()
	if err := f.engine.Explain(ctx, &b, "grace@example.com"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "not in the source's scope") || !strings.Contains(b.String(), "will deactivate the target user grace@example.com") {
		t.Errorf("explain of a leaver:\n%s", b.String())
	}
}

func TestApplySavedRefusesAStalePlan(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p, err := f.engine.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Through JSON, as apply --plan reads it.
	data, _ := json.Marshal(p)
	var saved reconcile.Plan
	if err := json.Unmarshal(data, &saved); err != nil {
		t.Fatal(err)
	}
	f.src.snap.Users[0].Attributes["givenName"] = []string{"Augusta"}
	if _, err := f.engine.ApplySaved(ctx, &saved, false); !errors.Is(err, reconcile.ErrPlanStale) {
		t.Fatalf("a stale plan: %v", err)
	}
	if n := f.count.take(); n != 0 {
		t.Fatalf("a stale plan made %d writes", n)
	}
	f.src.snap.Users[0].Attributes["givenName"] = []string{"Ada"}
	res, err := f.engine.ApplySaved(ctx, &saved, false)
	if err != nil || res.Done.Create != 4 {
		t.Fatalf("the unchanged plan: %+v, %v", res, err)
	}
}

// TestExplainShowsTheTargetSide: explain says whether the target has the
// user, whether this configuration manages them, whether they are active
// and their groups there, and tells apart a user not in the source, one
// not managed by this configuration, and one nowhere.
func TestExplainShowsTheTargetSide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.run(t)
	if _, err := f.c.Users.Create(ctx, &client.User{UserName: "stranger@example.com", ExternalID: "okta-1"}); err != nil {
		t.Fatal(err)
	}
	explain := func(who string) string {
		var b strings.Builder
		if err := f.engine.Explain(ctx, &b, who); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	for who, wants := range map[string][]string{
		"ada@example.com": {"is in the source's scope", "in the target: user ada@example.com", "active: true, managed by this configuration since",
			"groups in the target: Engineering"},
		"stranger@example.com": {"in the target: user stranger@example.com", "not managed by this configuration",
			"is not in the source's scope, and is not managed by this configuration"},
		"nobody@example.com": {"no such user anywhere"},
	} {
		out := explain(who)
		for _, want := range wants {
			if !strings.Contains(out, want) {
				t.Errorf("explain %s lacks %q:\n%s", who, want, out)
			}
		}
	}
}
