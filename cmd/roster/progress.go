package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// isTerminal reports whether w is a terminal: a pipe or a log file gets
// no progress drawn on it.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressBar returns a function that draws the progress of a long task
// on w, or nil when w is not a terminal. It redraws at most ten times a
// second, and ends the line when the task is done.
func progressBar(w io.Writer, label string) func(done, total int) {
	if !isTerminal(w) {
		return nil
	}
	return drawProgress(w, label, 100*time.Millisecond)
}

// drawProgress returns a function that draws a progress bar on w, at
// most once every so often and always when done reaches total.
func drawProgress(w io.Writer, label string, every time.Duration) func(done, total int) {
	var last time.Time
	return func(done, total int) {
		if total <= 0 || done < total && time.Since(last) < every {
			return
		}
		last = time.Now()
		const width = 30
		filled := width * done / total
		fmt.Fprintf(w, "\r%s [%s%s] %d/%d", label, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total)
		if done >= total {
			fmt.Fprintln(w)
		}
	}
}

// readingProgress returns, for reconcile.Engine.Reading, a function that shows
// on w what the sync is reading and how far it got, on one line, and a
// function that ends that line with what was read (at most once: call it
// before anything else is written to the terminal). When w is not a
// terminal, report is nil and end does nothing.
func readingProgress(w io.Writer) (report func(what string, n, total int), end func()) {
	if !isTerminal(w) {
		return nil, func() {}
	}
	return drawReading(w, 100*time.Millisecond)
}

// drawReading returns the functions of readingProgress, drawing on w.
// While reading, the line shows what is still being read ("reading target
// users 40,000/100,000, target groups 500"), redrawn at most once every
// interval; end replaces it with what was read, by side ("read source
// 3,000 users, 12 groups; target 100,000 users, 500 groups"). Only what is
// unfinished is shown while reading, so that the line stays short enough
// for the terminal: a line that wraps cannot be redrawn.
func drawReading(w io.Writer, every time.Duration) (report func(what string, n, total int), end func()) {
	type count struct{ n, total int }
	var (
		mu     sync.Mutex
		counts = map[string]count{}
		whats  []string // the keys of counts, in the order shown
		last   time.Time
		width  int // of the line last drawn, to blank what a shorter one leaves
		ended  bool
	)
	// What reconcile.Engine reads, in the order shown; anything else comes
	// after, in alphabetical order.
	order := []string{"source users", "source groups", "target users", "target groups"}
	rank := func(what string) int {
		if i := slices.Index(order, what); i >= 0 {
			return i
		}
		return len(order)
	}
	draw := func(line string) { // with mu held
		fmt.Fprintf(w, "\r%s%s", line, strings.Repeat(" ", max(width-len(line), 0)))
		width = len(line)
		last = time.Now()
	}
	report = func(what string, n, total int) {
		mu.Lock()
		defer mu.Unlock()
		if ended {
			return
		}
		if _, ok := counts[what]; !ok {
			whats = append(whats, what)
			slices.SortStableFunc(whats, func(a, b string) int {
				return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
			})
		}
		counts[what] = count{n, total}
		if time.Since(last) < every {
			return
		}
		var parts []string
		for _, what := range whats {
			if c := counts[what]; c.n != c.total {
				part := what + " " + thousands(c.n)
				if c.total >= 0 {
					part += "/" + thousands(c.total)
				}
				parts = append(parts, part)
			}
		}
		if len(parts) > 0 {
			draw("reading " + strings.Join(parts, ", "))
		}
	}
	end = func() {
		mu.Lock()
		defer mu.Unlock()
		if ended || len(whats) == 0 {
			ended = true
			return
		}
		ended = true
		var sides []string
		prev := ""
		for _, what := range whats {
			side, kind, _ := strings.Cut(what, " ")
			part := thousands(counts[what].n)
			if kind != "" {
				part += " " + kind
			}
			if side == prev {
				sides[len(sides)-1] += ", " + part
			} else {
				sides = append(sides, side+" "+part)
			}
			prev = side
		}
		draw("read " + strings.Join(sides, "; "))
		fmt.Fprintln(w)
	}
	return report, end
}

// thousands formats n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// endsReading is a writer that ends the reading line (see
// readingProgress) before it writes, for output written by code that
// reads and then writes, such as Explain.
type endsReading struct {
	io.Writer
	end func()
}

func (e endsReading) Write(p []byte) (int, error) {
	e.end()
	return e.Writer.Write(p)
}
