package sync

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the plan for people: the counts first, then each change
// with its values before → after.
func (p *Plan) WriteText(w io.Writer) error {
	c := p.Counts
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "users\tcreate %d\tupdate %d\tdeactivate %d\treactivate %d\tdelete %d\tunchanged %d\n",
		c.Create, c.Update, c.Deactivate, c.Reactivate, c.Delete, c.Unchanged)
	fmt.Fprintf(tw, "groups\tcreate %d\trename %d\tretire %d\t\t\t\n", c.GroupCreate, c.GroupRename, c.GroupRetire)
	fmt.Fprintf(tw, "members\tadd %d\tremove %d\t\t\t\t\n", c.MembersAdd, c.MembersRemove)
	if err := tw.Flush(); err != nil {
		return err
	}
	if p.Refused != "" {
		fmt.Fprintf(w, "\nREFUSED: %s\n", p.Refused)
	}
	if c.Writes() == 0 {
		_, err := fmt.Fprintln(w, "\nNothing to change.")
		return err
	}
	fmt.Fprintln(w)
	for _, u := range p.Users {
		adopt := ""
		if u.Adopt {
			adopt = " (adopted by userName)"
		}
		fmt.Fprintf(w, "%s user %s [%s]%s\n", u.Action, u.UserName, u.ExternalID, adopt)
		for _, ch := range u.Changes {
			fmt.Fprintf(w, "    %s: %s → %s\n", ch.Path, show(ch.Before), show(ch.After))
		}
	}
	for _, g := range p.Groups {
		switch g.Action {
		case ActionRename:
			fmt.Fprintf(w, "rename group %s → %s [%s]\n", show(g.Before), g.Name, g.ExternalID)
		default:
			fmt.Fprintf(w, "%s group %s [%s]\n", g.Action, g.Name, g.ExternalID)
		}
	}
	for _, m := range p.Members {
		fmt.Fprintf(w, "members of %s:", m.Group.Name)
		for _, r := range m.Add {
			fmt.Fprintf(w, " +%s", r.Name)
		}
		for _, r := range m.Remove {
			fmt.Fprintf(w, " -%s", refName(r))
		}
		fmt.Fprintln(w)
	}
	return nil
}

func show(s string) string {
	if s == "" {
		return "(none)"
	}
	return fmt.Sprintf("%q", s)
}

func refName(r Ref) string {
	if r.Name != "" {
		return r.Name
	}
	return strings.TrimSpace(r.TargetID)
}
