package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSyncFromFiles runs roster sync plan and apply from a CSV export into
// a real Roster, then changes the export and applies a reviewed plan.
func TestSyncFromFiles(t *testing.T) {
	t.Parallel()
	remote := newRoster(t) // --url U --token T
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("people.csv", "id,mail,givenName,sn,active\n"+
		"e1,ada@example.com,Ada,Lovelace,true\n"+
		"e2,alan@example.com,Alan,Turing,true\n"+
		"e3,grace@example.com,Grace,Hopper,false\n")
	write("teams.csv", "id,name,members\nt1,Engineering,e1;e2\n")
	write("sync.yaml", `source:
  type: file
  file:
    users: people.csv
    groups: teams.csv
target:
  url: `+remote[1]+`
  token: `+remote[3]+`
mapping:
  users:
    userName: lower(mail)
    name.givenName: givenName
    name.familyName: sn
    displayName: join(" ", givenName, sn)
policy:
  maxDeprovision: 5
database: history.db
`)
	cfg := filepath.Join(dir, "sync.yaml")

	out := must(t, "sync", "plan", "--config", cfg)
	if !strings.Contains(out, "create 2") || !strings.Contains(out, "create user ada@example.com [e1]") {
		t.Fatalf("plan:\n%s", out)
	}
	r := runIn(t, "", "sync", "apply", "--config", cfg)
	if r.fail != nil {
		t.Fatalf("apply: %v\n%s", r.fail, r.err)
	}
	out = r.out
	// The summary table, and no progress drawn: neither output is a
	// terminal.
	want := map[string]string{"users created": "2 2 0", "groups created": "1 1 0", "members added": "2 2 0", "total": "5 5 0"}
	if got := summary(t, out); !maps.Equal(got, want) || !regexp.MustCompile(`(?m)^took \d.*s$`).MatchString(out) {
		t.Fatalf("the summary is %v, want %v, and how long it took:\n%s", got, want, out)
	}
	if strings.ContainsAny(out+r.err, "\r\x1b") || strings.Contains(r.err, "reading") {
		t.Fatalf("progress drawn on a pipe:\n%q\n%q", out, r.err)
	}
	if out := must(t, "sync", "plan", "--config", cfg); !strings.Contains(out, "Nothing to change.") {
		t.Fatalf("a second plan:\n%s", out)
	}
	users := must(t, append([]string{"users", "list", "-o", "json"}, remote...)...)
	if !strings.Contains(users, `"externalId":"e1"`) || strings.Contains(users, "grace") {
		t.Fatalf("users in the target:\n%s", users)
	}

	// Alan leaves; a reviewed plan is applied as is.
	write("people.csv", "id,mail,givenName,sn,active\ne1,ada@example.com,Ada,Lovelace,true\n")
	write("teams.csv", "id,name,members\nt1,Engineering,e1\n")
	planFile := filepath.Join(dir, "plan.json")
	must(t, "sync", "plan", "--config", cfg, "--out", planFile)
	var p struct{ Counts map[string]int }
	data, _ := os.ReadFile(planFile)
	if err := json.Unmarshal(data, &p); err != nil || p.Counts["deactivate"] != 1 || p.Counts["membersRemove"] != 1 {
		t.Fatalf("saved plan %s: %v", data, err)
	}
	if out := must(t, "sync", "apply", "--config", cfg, "--plan", planFile); !maps.Equal(summary(t, out), map[string]string{"users deactivated": "1 1 0", "members removed": "1 1 0", "total": "2 2 0"}) {
		t.Fatalf("apply --plan:\n%s", out)
	}
	// The same plan again is stale now.
	if r := runIn(t, "", "sync", "apply", "--config", cfg, "--plan", planFile); r.fail == nil || !strings.Contains(r.err, "changed since the plan") {
		t.Fatalf("a stale plan: %v\n%s", r.fail, r.err)
	}
	if out := must(t, "sync", "explain", "--config", cfg, "--user", "alan@example.com"); !strings.Contains(out, "not in the source's scope") {
		t.Fatalf("explain:\n%s", out)
	}

	// The history, newest first: the stale plan, the reviewed one, the
	// first load.
	out = must(t, "sync", "history", "--config", cfg)
	hist := rows(t, out)
	var statuses []string
	for _, r := range hist {
		statuses = append(statuses, r[3])
	}
	if strings.Join(statuses, ",") != "error,ok,ok" || !strings.Contains(out, "deactivate 1, members -1") ||
		!strings.Contains(out, "create 2, group create 1, members +2") {
		t.Fatalf("history:\n%s", out)
	}
	// A run is named by the start of its id, and its member changes name
	// the members.
	if out := must(t, "sync", "history", "--config", cfg, "--run", hist[2][0][:8]); !strings.Contains(out, "ok     create user ada@example.com") ||
		!strings.Contains(out, "ok     add 2 members to group Engineering: ada@example.com, alan@example.com") {
		t.Fatalf("the first run:\n%s", out)
	}
	if r := runIn(t, "", "sync", "history", "--config", cfg, "--run", "zzz-no-such-run"); r.fail == nil || !strings.Contains(r.err, "no run") {
		t.Fatalf("an unknown run: %v\n%s", r.fail, r.err)
	}

	// The state file is lost: the database kept a copy, which the next
	// command restores, so the sync still owns what it made: nothing to
	// adopt, nothing to change.
	if err := os.Remove(filepath.Join(dir, "sync.yaml.state.json")); err != nil {
		t.Fatal(err)
	}
	r = runIn(t, "", "sync", "plan", "--config", cfg)
	if r.fail != nil || !strings.Contains(r.err, "was missing: restored the state this sync kept in its database") || !strings.Contains(r.out, "Nothing to change.") {
		t.Fatalf("plan without a state file: %v\n%s\n%s", r.fail, r.out, r.err)
	}
}

// summary returns the rows of the summary table in the output of sync
// apply: each kind of change's planned, done and failed counts, by kind.
func summary(t *testing.T, out string) map[string]string {
	t.Helper()
	_, table, ok := strings.Cut(out, "\nCHANGE ")
	if !ok {
		t.Fatalf("no summary table in:\n%s", out)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(table, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 4 {
			break
		}
		rows[strings.Join(f[:len(f)-3], " ")] = strings.Join(f[len(f)-3:], " ")
	}
	return rows
}

// TestSyncPlanNamesTheMappingLineTheTargetLacks: a mapped attribute the
// target's schema does not have fails sync plan before anything is
// written, naming the configuration's line and the target's schema; so
// does a misspelt source field.
func TestSyncPlanNamesTheMappingLineTheTargetLacks(t *testing.T) {
	t.Parallel()
	remote := newRoster(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte("id,mail,givenName\ne1,ada@example.com,Ada\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	config := func(mapping string) string {
		cfg := filepath.Join(dir, "sync.yaml")
		text := "source: {type: file, file: {users: people.csv}}\ntarget:\n  url: " + remote[1] + "\n  token: " + remote[3] + "\n" +
			"mapping:\n  users:\n    userName: lower(mail)\n" + mapping
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	cfg := config("    nickNmae: givenName\n")
	if r := runIn(t, "", "sync", "plan", "--config", cfg); r.fail == nil || !strings.Contains(r.err, "sync.yaml:8: mapping nickNmae: the target's schema urn:ietf:params:scim:schemas:core:2.0:User has no attribute nickNmae") {
		t.Fatalf("plan: %v\n%s", r.fail, r.err)
	}
	cfg = config("    nickName: givenNmae\n")
	if r := runIn(t, "", "sync", "plan", "--config", cfg); r.fail == nil || !strings.Contains(r.err, "sync.yaml:8: mapping nickName: no source user has a field givenNmae") {
		t.Fatalf("plan: %v\n%s", r.fail, r.err)
	}
	users := must(t, append([]string{"users", "list", "-o", "json"}, remote...)...)
	if strings.Contains(users, "ada@example.com") {
		t.Fatalf("a refused plan wrote users:\n%s", users)
	}
}
