package reconcile

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
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
	if c.Adopt > 0 {
		fmt.Fprintf(tw, "adopt\t%d\t\t\t\t\t\n", c.Adopt)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if len(p.Refused) > 0 {
		fmt.Fprintln(w)
	}
	for _, why := range p.Refused {
		fmt.Fprintf(w, "REFUSED: %s\n", why)
	}
	if c.Writes() == 0 && c.Adopt == 0 {
		_, err := fmt.Fprintln(w, "\nNothing to change.")
		return err
	}
	fmt.Fprintln(w)
	for _, u := range p.Users {
		if u.Adopt {
			then := ""
			if u.Action != ActionAdopt {
				then = "; and " + u.Action
			}
			fmt.Fprintf(w, "adopt user %s [%s]: %s%s\n", u.UserName, u.ExternalID, adoptWhy(u.AdoptBy), then)
		} else {
			fmt.Fprintf(w, "%s user %s [%s]\n", u.Action, u.UserName, u.ExternalID)
		}
		for _, ch := range u.Changes {
			fmt.Fprintf(w, "    %s: %s → %s\n", ch.Path, show(ch.Before), show(ch.After))
		}
	}
	for _, g := range p.Groups {
		switch g.Action {
		case ActionRename:
			if g.Adopt {
				fmt.Fprintf(w, "adopt group %s [%s]: %s; and rename %s → %s\n", g.Name, g.ExternalID, adoptWhy(g.AdoptBy), show(g.Before), show(g.Name))
				break
			}
			fmt.Fprintf(w, "rename group %s → %s [%s]\n", show(g.Before), g.Name, g.ExternalID)
		case ActionAdopt:
			fmt.Fprintf(w, "adopt group %s [%s]: %s\n", g.Name, g.ExternalID, adoptWhy(g.AdoptBy))
		case ActionRetire:
			if g.Rename != "" {
				fmt.Fprintf(w, "retire group %s [%s]: rename to %s (policy.retireGroups: rename)\n", g.Name, g.ExternalID, show(g.Rename))
				break
			}
			fmt.Fprintf(w, "retire group %s [%s]: delete (policy.retireGroups: delete)\n", g.Name, g.ExternalID)
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

// adoptWhy says why the plan adopts a user or group, given how it was
// matched.
func adoptWhy(by string) string {
	if by == "externalId" {
		return "same externalId, not created by this configuration (nor adopted before)"
	}
	return "same " + by + ", no externalId"
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

// WriteSummary writes, for people, what a run planned and what it did: a
// table of each kind of change with something in it, planned, done and
// failed, a total line, and how long the run took. Changes neither done
// nor failed were not tried (the run was cancelled) or went with a group
// retired first.
func WriteSummary(w io.Writer, p *Plan, r *Result, took time.Duration) error {
	planned, done, failed := p.Counts, r.Done, r.FailedCounts
	rows := []struct {
		what                  string
		planned, done, failed int
	}{
		{"users created", planned.Create, done.Create, failed.Create},
		{"users updated", planned.Update, done.Update, failed.Update},
		{"users deactivated", planned.Deactivate, done.Deactivate, failed.Deactivate},
		{"users reactivated", planned.Reactivate, done.Reactivate, failed.Reactivate},
		{"users deleted", planned.Delete, done.Delete, failed.Delete},
		{"groups created", planned.GroupCreate, done.GroupCreate, failed.GroupCreate},
		{"groups renamed", planned.GroupRename, done.GroupRename, failed.GroupRename},
		{"groups retired", planned.GroupRetire, done.GroupRetire, failed.GroupRetire},
		{"members added", planned.MembersAdd, done.MembersAdd, failed.MembersAdd},
		{"members removed", planned.MembersRemove, done.MembersRemove, failed.MembersRemove},
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "CHANGE\tPLANNED\tDONE\tFAILED\n")
	for _, row := range rows {
		if row.planned != 0 || row.done != 0 || row.failed != 0 {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", row.what, row.planned, row.done, row.failed)
		}
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\n", planned.Writes(), done.Writes(), failed.Writes())
	if err := tw.Flush(); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "took %s\n", took.Round(time.Millisecond)); err != nil {
		return err
	}
	causes := r.Causes()
	if len(causes) > 0 {
		fmt.Fprintln(w, "\nfailed, by cause (the next run retries them):")
	}
	for _, c := range causes {
		examples := strings.Join(c.Examples, ", ")
		if c.Count > len(c.Examples) {
			examples += fmt.Sprintf(", and %d more", c.Count-len(c.Examples))
		}
		if _, err := fmt.Fprintf(w, "  %d × %s: %s (%s)\n", c.Count, c.Kind, c.Cause, examples); err != nil {
			return err
		}
	}
	for _, l := range r.Learnt {
		if _, err := fmt.Fprintf(w, "learnt: %s\n", l); err != nil {
			return err
		}
	}
	return nil
}
