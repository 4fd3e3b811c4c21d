package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// examples is the folder of the sample files the README shows.
const examples = "../../examples"

// TestTheExamplesAgree runs roster sync plan and preview on the sample
// sync.yaml, people.csv and teams.csv into a real Roster: the
// configuration reads the columns the CSV has and scopes to groups it
// has, so that everyone in scope is created with a department of their
// own, and the README shows the sample configuration as it is.
func TestTheExamplesAgree(t *testing.T) {
	rs := startRoster(t)
	dir := t.TempDir()
	for _, name := range []string{"sync.yaml", "people.csv", "teams.csv"} {
		data, err := os.ReadFile(filepath.Join(examples, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "sync.yaml" {
			if !strings.Contains(string(data), "url: http://localhost:8080/scim/v2\n") {
				t.Fatalf("examples/sync.yaml does not name the README's server, http://localhost:8080/scim/v2")
			}
			data = []byte(strings.Replace(string(data), "http://localhost:8080/scim/v2", rs.url, 1))
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("ACME_TOKEN", rs.token) // examples/sync.yaml's tokenEnv
	cfg := filepath.Join(dir, "sync.yaml")

	if out := must(t, "sync", "validate", "--config", cfg); !strings.Contains(out, "is valid") {
		t.Errorf("sync validate:\n%s", out)
	}
	out := must(t, "sync", "plan", "--config", cfg)
	for _, want := range []string{
		"users    create 4 ",
		"create user ada@example.com [1001]", "create user alan@example.com [1002]",
		"create user grace@example.com [1003]", "create user linus@example.com [1004]",
		`department: (none) → "Engineering"`, `department: (none) → "Platform"`, `department: (none) → "Support"`,
		"create group Engineering [eng]", "create group Platform [platform]", "create group Support [support]",
		"members of Engineering: +ada@example.com +alan@example.com +Platform",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("sync plan does not say %q:\n%s", want, out)
		}
	}
	// Out of scope (Finance), inactive (margaret), or mapped from a
	// column the CSV lacks: none of these.
	for _, unwanted := range []string{"edsger", "Finance", "margaret", "Unassigned"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("sync plan mentions %q:\n%s", unwanted, out)
		}
	}
	if out := must(t, "sync", "preview", "--config", cfg, "--user", "ada@example.com"); !strings.Contains(out, `department: "Engineering"`) {
		t.Errorf("sync preview --user ada@example.com (as the README runs it):\n%s", out)
	}

	// The README shows examples/sync.yaml as it is.
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile(filepath.Join(examples, "sync.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```yaml\n"+string(sample)+"```\n") {
		t.Errorf("the README does not show examples/sync.yaml as it is, in a yaml block")
	}
}
