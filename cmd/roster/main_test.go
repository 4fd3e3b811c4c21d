package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestVersionCommandPrintsTheVersion(t *testing.T) {
	cmd := newRootCommand(noEnv)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"version"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.HasPrefix(got, "roster ") || !strings.HasSuffix(got, "\n") {
		t.Fatalf("version printed %q, want \"roster <version>\\n\"", got)
	}
}
