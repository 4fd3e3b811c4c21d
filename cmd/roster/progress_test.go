package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestProgressBar(t *testing.T) {
	t.Parallel()
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
	draw := drawProgress(&b, "applying", time.Hour)
	draw(5, 10)
	draw(6, 10) // within an hour of the last: not drawn
	draw(10, 10)
	out := b.String()
	if !strings.Contains(out, "\rapplying [===============               ] 5/10") || strings.Contains(out, "6/10") ||
		!strings.HasSuffix(out, "] 10/10\n") {
		t.Fatalf("%q", out)
	}
}

func TestReadingProgress(t *testing.T) {
	t.Parallel()
	if report, end := readingProgress(&bytes.Buffer{}); report != nil {
		t.Fatal("a reading line for a buffer")
	} else {
		end() // does nothing, and does not panic
	}
	for _, tc := range []struct {
		name  string
		every time.Duration
		calls func(report func(what string, n, total int))
		want  string
	}{{
		name:  "redrawn at most once an interval, and ended with what was read, by side",
		every: time.Hour,
		calls: func(report func(what string, n, total int)) {
			report("target groups", 0, 0)          // done: nothing to show
			report("target users", 1, 100000)      // drawn
			report("target users", 40000, 100000)  // within the hour: not drawn
			report("source users", 3, 3)           // not drawn
			report("source groups", 1, 1)          // not drawn
			report("target users", 100001, 100001) // the target grew meanwhile
		},
		want: "\rreading target users 1/100,000" +
			"\rread source 3 users, 1 groups; target 100,001 users, 0 groups\n",
	}, {
		name: "only what is still being read is shown, and a shorter line blanks what a longer one leaves",
		calls: func(report func(what string, n, total int)) {
			report("target groups", 5, 10)
			report("target users", 20, -1)
			report("target groups", 10, 10)
			report("target users", 40, 40)
			report("other", 7, 7)
		},
		want: "\rreading target groups 5/10" +
			"\rreading target users 20, target groups 5/10" +
			"\rreading target users 20" + strings.Repeat(" ", 43-23) +
			"\rread target 40 users, 10 groups; other 7\n",
	}, {
		name:  "told nothing, end draws nothing",
		calls: func(report func(what string, n, total int)) {},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			report, end := drawReading(&b, tc.every)
			tc.calls(report)
			end()
			end()                        // once only
			report("target users", 5, 5) // after the end: not drawn
			if got := b.String(); got != tc.want {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 40000: "40,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
