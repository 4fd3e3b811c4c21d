package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestProgressBar(t *testing.T) {
	if progressBar(&bytes.Buffer{}, "x") != nil {
		t.Fatal("a bar for a buffer")
	}
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if progressBar(f, "x") != nil {
		t.Fatal("a bar for a file")
	}
	var b bytes.Buffer
	draw := drawProgress(&b, "applying")
	draw(5, 10)
	draw(6, 10) // within 100 ms of the last: not drawn
	draw(10, 10)
	out := b.String()
	if !strings.Contains(out, "\rapplying [===============               ] 5/10") || strings.Contains(out, "6/10") ||
		!strings.HasSuffix(out, "] 10/10\n") {
		t.Fatalf("%q", out)
	}
}
