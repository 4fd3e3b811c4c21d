package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progressBar returns a function that draws the progress of a long task
// on w, or nil when w is not a terminal (a pipe or a log file gets no
// bar). It redraws at most ten times a second, and ends the line when the
// task is done.
func progressBar(w io.Writer, label string) func(done, total int) {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return drawProgress(w, label)
}

// drawProgress returns a function that draws a progress bar on w.
func drawProgress(w io.Writer, label string) func(done, total int) {
	var last time.Time
	return func(done, total int) {
		if total <= 0 || done < total && time.Since(last) < 100*time.Millisecond {
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
