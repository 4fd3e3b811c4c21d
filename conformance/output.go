package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// TextOptions say how WriteText draws a report.
type TextOptions struct {
	// Color marks statuses with ANSI colours (for a terminal).
	Color bool
	// Verbose prints the HTTP exchanges of every check that failed or
	// warned, secrets masked.
	Verbose bool
}

// WriteText writes the report as tables grouped by each check's first
// tag, each failure's explanation under it, and a summary line.
func (r *Report) WriteText(w io.Writer, opts TextOptions) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "roster conform %s (profile %s, run prefix %s)\n", r.URL, r.Profile, r.Prefix)
	for _, n := range r.Notes {
		fmt.Fprintf(ew, "note: %s\n", clean(n))
	}
	var tags []string
	byTag := map[string][]Result{}
	for _, res := range r.Results {
		tag := res.Tags[0]
		if _, ok := byTag[tag]; !ok {
			tags = append(tags, tag)
		}
		byTag[tag] = append(byTag[tag], res)
	}
	for _, tag := range tags {
		fmt.Fprintf(ew, "\n%s\n", strings.ToUpper(tag))
		tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		for _, res := range byTag[tag] {
			note := res.Message
			if res.Status == Pass || res.Status == Skip {
				note = oneLine(note, 100)
			} else {
				note = oneLine(res.Title, 100)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", paint(res.Status, opts.Color), res.ID, note)
		}
		tw.Flush()
		for _, res := range byTag[tag] {
			if res.Status != Fail && res.Status != Warn {
				continue
			}
			fmt.Fprintf(ew, "\n  %s %s (%s)\n", paint(res.Status, opts.Color), res.ID, res.Ref)
			fmt.Fprintf(ew, "    %s\n", clean(res.Message))
			if (res.Expected != "" || res.Got != "") && !strings.Contains(res.Message, res.Got) {
				fmt.Fprintf(ew, "    expected: %s\n    got:      %s\n", clean(oneLine(res.Expected, 500)), clean(oneLine(res.Got, 500)))
			}
			if opts.Verbose {
				writeExchanges(ew, res)
			}
		}
	}
	fmt.Fprintf(ew, "\n%d passed, %d failed, %d warned, %d skipped in %v; cleanup deleted %d resources",
		r.Count(Pass), r.Count(Fail), r.Count(Warn), r.Count(Skip), r.Duration.Round(time.Millisecond), r.Cleanup.Deleted)
	if len(r.Cleanup.Left) > 0 {
		fmt.Fprintf(ew, ", could not delete %d:\n", len(r.Cleanup.Left))
		for _, l := range r.Cleanup.Left {
			fmt.Fprintf(ew, "  %s\n", clean(l))
		}
	} else {
		fmt.Fprintln(ew)
	}
	if !opts.Verbose && (r.Count(Fail) > 0 || r.Count(Warn) > 0) {
		fmt.Fprintln(ew, "(-v shows the HTTP exchanges of each failure)")
	}
	return ew.err
}

func writeExchanges(w io.Writer, res Result) {
	for _, e := range res.Exchanges {
		fmt.Fprintf(w, "    > %s %s\n", e.Method, clean(e.URL))
		writeHeader(w, "    > ", e.RequestHeader)
		if e.RequestBody != "" {
			fmt.Fprintf(w, "    > %s\n", clean(e.RequestBody))
		}
		if e.Error != "" {
			fmt.Fprintf(w, "    < (no answer: %s)\n", clean(e.Error))
			continue
		}
		fmt.Fprintf(w, "    < %d (%v)\n", e.Status, e.Duration.Round(time.Microsecond))
		writeHeader(w, "    < ", e.ResponseHeader)
		if e.ResponseBody != "" {
			fmt.Fprintf(w, "    < %s\n", clean(e.ResponseBody))
		}
	}
	if res.DroppedExchanges > 0 {
		fmt.Fprintf(w, "    (%d more exchanges not kept)\n", res.DroppedExchanges)
	}
}

func writeHeader(w io.Writer, prefix string, h map[string][]string) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(w, "%s%s: %s\n", prefix, k, clean(v))
		}
	}
}

// paint returns a status as a word, coloured for a terminal.
func paint(s Status, color bool) string {
	word := strings.ToUpper(string(s))
	if !color {
		return word
	}
	code := map[Status]string{Pass: "32", Fail: "31", Warn: "33", Skip: "90"}[s]
	return "\x1b[" + code + "m" + word + "\x1b[0m"
}

// clean replaces control characters (a server's answer could hold
// terminal escapes) with spaces.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// oneLine returns s on one line, cut to n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(clean(s)), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// errWriter keeps the first error of its writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// WriteJSON writes the report as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteJUnit writes the report as JUnit XML, which CI systems show: a
// test suite per tag, a test case per check, failures as failures (with
// the exchanges), warnings as passing cases with system-out, skips as
// skipped.
func (r *Report) WriteJUnit(w io.Writer) error {
	type failure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	type skipped struct {
		Message string `xml:"message,attr"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Time      string   `xml:"time,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		Skipped   *skipped `xml:"skipped,omitempty"`
		SystemOut string   `xml:"system-out,omitempty"`
	}
	type testsuite struct {
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Skipped  int        `xml:"skipped,attr"`
		Time     string     `xml:"time,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	type testsuites struct {
		XMLName xml.Name    `xml:"testsuites"`
		Name    string      `xml:"name,attr"`
		Tests   int         `xml:"tests,attr"`
		Fail    int         `xml:"failures,attr"`
		Skipped int         `xml:"skipped,attr"`
		Suites  []testsuite `xml:"testsuite"`
	}
	secs := func(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
	out := testsuites{Name: "roster conform " + r.URL}
	index := map[string]int{}
	for _, res := range r.Results {
		tag := res.Tags[0]
		i, ok := index[tag]
		if !ok {
			i = len(out.Suites)
			index[tag] = i
			out.Suites = append(out.Suites, testsuite{Name: tag})
		}
		s := &out.Suites[i]
		tc := testcase{Name: res.ID, Classname: "conform." + tag, Time: secs(res.Duration)}
		detail := func() string {
			var b strings.Builder
			fmt.Fprintf(&b, "%s\n%s (%s)\n", res.Message, res.Title, res.Ref)
			if res.Expected != "" || res.Got != "" {
				fmt.Fprintf(&b, "expected: %s\ngot:      %s\n", res.Expected, res.Got)
			}
			writeExchanges(&b, res)
			return xmlSafe(b.String())
		}
		switch res.Status {
		case Fail:
			tc.Failure = &failure{Message: xmlSafe(oneLine(res.Message, 300)), Type: "fail", Text: detail()}
			s.Failures++
			out.Fail++
		case Skip:
			tc.Skipped = &skipped{Message: xmlSafe(res.Message)}
			s.Skipped++
			out.Skipped++
		case Warn:
			tc.SystemOut = "WARN " + detail()
		}
		s.Tests++
		out.Tests++
		s.Cases = append(s.Cases, tc)
	}
	for i := range out.Suites {
		var d time.Duration
		for _, res := range r.Results {
			if res.Tags[0] == out.Suites[i].Name {
				d += res.Duration
			}
		}
		out.Suites[i].Time = secs(d)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("conformance: write JUnit XML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// xmlSafe drops the characters XML 1.0 cannot hold (most control
// characters), which a server's answer may carry.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r != 0xFFFE && r != 0xFFFF && !(r >= 0xD800 && r <= 0xDFFF)) {
			return r
		}
		return -1
	}, s)
}
