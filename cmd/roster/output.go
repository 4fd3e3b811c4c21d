package main

import (
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/rosterhq/roster/client"
)

// printer writes what the users, groups and discover commands print: a
// table for people, or with -o json the SCIM JSON of each resource on a
// line of its own (JSON Lines), which jq reads as it comes and `jq -s`
// turns into an array.
type printer struct {
	w     io.Writer
	json  bool
	ids   bool // -o id: each resource's id, a line each
	quiet bool // --quiet: no line saying what was done
}

// done prints "<verb> <resource>", such as "deactivated alice@example.com
// (id 2819c223)", unless quiet.
func (p *printer) done(verb string, r ref) error {
	return p.printf("%s %s\n", verb, r)
}

// printf prints a line saying what was done, unless quiet.
func (p *printer) printf(format string, args ...any) error {
	if p.quiet {
		return nil
	}
	_, err := fmt.Fprintf(p.w, format, args...)
	return err
}

// table is how one kind of resource shows as a row of a table, and its
// id.
type table[T any] struct {
	header []string
	row    func(*T) []string
	id     func(*T) string
}

var (
	userTable = table[client.User]{header: []string{"ID", "USERNAME", "NAME", "ACTIVE", "EMAILS"}, row: userRow,
		id: func(u *client.User) string { return u.ID }}
	groupTable = table[client.Group]{header: []string{"ID", "DISPLAYNAME", "MEMBERS"}, row: groupRow,
		id: func(g *client.Group) string { return g.ID }}
)

// printAll writes the resources seq yields as they come. At an error it
// stops, writes out the rows before it and returns it.
func printAll[T any](p *printer, t table[T], seq iter.Seq2[*T, error]) error {
	if p.ids {
		for res, err := range seq {
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintln(p.w, t.id(res)); err != nil {
				return err
			}
		}
		return nil
	}
	if p.json {
		enc := json.NewEncoder(p.w)
		enc.SetEscapeHTML(false)
		for res, err := range seq {
			if err != nil {
				return err
			}
			if err := enc.Encode(res); err != nil {
				return err
			}
		}
		return nil
	}
	// The header waits for the first resource, so that a list that fails
	// at once prints only the error.
	var tw *tabwriter.Writer
	for res, err := range seq {
		if err != nil {
			if tw != nil {
				tw.Flush()
			}
			return err
		}
		if tw == nil {
			tw = newTable(p.w, t.header...)
		}
		writeRow(tw, t.row(res)...)
	}
	if tw == nil {
		tw = newTable(p.w, t.header...)
	}
	return tw.Flush()
}

// printOne writes one resource as printAll does.
func printOne[T any](p *printer, t table[T], res *T) error {
	return printAll(p, t, func(yield func(*T, error) bool) { yield(res, nil) })
}

// newTable returns a tabwriter that has written the header.
func newTable(w io.Writer, header ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	writeRow(tw, header...)
	return tw
}

// writeRow writes one row of cells, each on one line and with no control
// characters (a server's values could hold tabs, newlines or terminal
// escapes), "-" for an empty one. It leaves cells as they are: a table's
// header is shared by every command that prints one.
func writeRow(tw *tabwriter.Writer, cells ...string) {
	shown := make([]string, len(cells))
	for i, c := range cells {
		c = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, c)
		if c == "" {
			c = "-"
		}
		shown[i] = c
	}
	fmt.Fprintln(tw, strings.Join(shown, "\t"))
}

func userRow(u *client.User) []string {
	emails := make([]string, len(u.Emails))
	for i, e := range u.Emails {
		emails[i] = e.Value
	}
	active := ""
	if u.Active != nil {
		active = strconv.FormatBool(*u.Active)
	}
	return []string{u.ID, u.UserName, userName(u), active, strings.Join(emails, ",")}
}

// userName returns the name a user goes by: the displayName, else the
// formatted name, else the given and family names.
func userName(u *client.User) string {
	switch {
	case u.DisplayName != "":
		return u.DisplayName
	case u.Name == nil:
		return ""
	case u.Name.Formatted != "":
		return u.Name.Formatted
	}
	return strings.TrimSpace(u.Name.GivenName + " " + u.Name.FamilyName)
}

func groupRow(g *client.Group) []string {
	return []string{g.ID, g.DisplayName, strconv.Itoa(len(g.Members))}
}
