package reconcile

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/rosterhq/roster/reconcile/source"
)

// Preview writes what the mapping makes of the source users who match
// who (by id, mapped userName, or any field's value, ignoring case): the
// SCIM attributes the target would hold.
func (e *Engine) Preview(ctx context.Context, w io.Writer, who string) error {
	m, err := e.Mapping.compile()
	if err != nil {
		return err
	}
	snap, err := e.Source.Read(ctx)
	if err != nil {
		return fmt.Errorf("sync: read the source: %w", err)
	}
	snap = e.Scope.apply(snap)
	m.withGroups(snap)
	found := findUsers(snap, m, who)
	if len(found) == 0 {
		return fmt.Errorf("sync: no source user matches %q", who)
	}
	for _, u := range found {
		writeMapped(w, u, m)
	}
	return nil
}

func writeMapped(w io.Writer, u source.User, m *mapping) {
	want := m.user(u)
	fmt.Fprintf(w, "source user %s (active: %v)\n", u.ID, u.Active)
	fmt.Fprintf(w, "    externalId: %q\n", u.ID)
	for _, mp := range m.users {
		fmt.Fprintf(w, "    %s: %s    ← %s\n", mp.path, show(want[mp.path.String()]), mp.expr)
	}
}

// Explain writes whether who is in the source's scope, what the mapping
// makes of them, and what the next run would do to them and their groups.
func (e *Engine) Explain(ctx context.Context, w io.Writer, who string) error {
	p, snap, m, tgt, err := e.plan(ctx) // one read of each side
	if err != nil {
		return err
	}
	found := findUsers(snap, m, who)
	ids := map[string]bool{}
	for _, u := range found {
		ids[u.ID] = true
		fmt.Fprintf(w, "%s is in the source's scope.\n", who)
		writeMapped(w, u, m)
		if !u.Active {
			fmt.Fprintln(w, "    The source account is disabled: the target user is deactivated (or not created).")
		}
		var groups []string
		for _, g := range snap.Groups {
			if slices.Contains(g.Members, u.ID) {
				groups = append(groups, g.Name)
			}
		}
		fmt.Fprintf(w, "    groups in the source: %s\n", strings.Join(groups, ", "))
	}
	var changes []UserChange
	for _, ch := range p.Users {
		if ids[ch.ExternalID] || strings.EqualFold(ch.UserName, who) {
			changes = append(changes, ch)
		}
	}
	// The target's side: the users found there, by the source's ids or
	// by who.
	var inTarget []targetUser
	for _, tu := range tgt.users {
		if ids[tu.externalID] || strings.EqualFold(tu.userName, who) || strings.EqualFold(tu.externalID, who) || strings.EqualFold(tu.id, who) {
			inTarget = append(inTarget, tu)
		}
	}
	managed := false
	for _, tu := range inTarget {
		e.writeTargetUser(w, tu, tgt)
		managed = managed || tu.externalID != "" && e.State.ownsUser(tu.externalID)
	}
	if len(found) == 0 {
		switch {
		case len(inTarget) == 0:
			fmt.Fprintf(w, "%s is no such user anywhere: not in the source's scope (not found, or outside the base DN or filter), nor in the target.\n", who)
			return nil
		case !managed && len(changes) == 0:
			fmt.Fprintf(w, "%s is not in the source's scope, and is not managed by this configuration (it did not create nor adopt them): the sync leaves them alone.\n", who)
			return nil
		case len(changes) == 0:
			fmt.Fprintf(w, "%s is not in the source's scope; the sync manages them and they are deactivated already: the next run does nothing to them.\n", who)
			return nil
		}
		fmt.Fprintf(w, "%s is not in the source's scope (not found, or outside the base DN or filter).\n", who)
	} else if len(inTarget) == 0 {
		fmt.Fprintln(w, "    in the target: no such user yet.")
	}
	if len(changes) == 0 && len(found) > 0 && len(inTarget) > 0 && !managed {
		pol := e.Policy.Adopt
		if pol == "" {
			pol = AdoptUserName
		}
		fmt.Fprintf(w, "The target user matches the source's, but this configuration did not create nor adopt them, and policy.adopt: %s leaves them alone.\n", pol)
	} else if len(changes) == 0 {
		fmt.Fprintln(w, "The next run changes nothing about them.")
	}
	for _, ch := range changes {
		fmt.Fprintf(w, "The next run will %s the target user %s:\n", ch.Action, ch.UserName)
		for _, c := range ch.Changes {
			fmt.Fprintf(w, "    %s: %s → %s\n", c.Path, show(c.Before), show(c.After))
		}
	}
	for _, mc := range p.Members {
		for _, r := range mc.Add {
			if ids[r.ExternalID] {
				fmt.Fprintf(w, "The next run adds them to group %s.\n", mc.Group.Name)
			}
		}
		for _, r := range mc.Remove {
			if ids[r.ExternalID] || strings.EqualFold(r.Name, who) {
				fmt.Fprintf(w, "The next run removes %s from group %s.\n", r.Name, mc.Group.Name)
			}
		}
	}
	for _, why := range p.Refused {
		fmt.Fprintf(w, "Note: the run as a whole would be refused: %s\n", why)
	}
	return nil
}

// writeTargetUser writes what the target holds of a user: whether it is
// active, whether this configuration manages it, and its groups.
func (e *Engine) writeTargetUser(w io.Writer, tu targetUser, tgt *target) {
	owner := "not managed by this configuration (it did not create nor adopt them)"
	if o := e.State.Users[tu.externalID]; tu.externalID != "" && o != nil {
		owner = "managed by this configuration since " + o.Since.Format("2006-01-02")
	}
	var groups []string
	for _, g := range tgt.groups {
		for _, m := range g.members {
			if m.TargetID == tu.id {
				groups = append(groups, g.name)
				break
			}
		}
	}
	slices.Sort(groups)
	fmt.Fprintf(w, "in the target: user %s (id %s, externalId %s), active: %v, %s\n", tu.userName, tu.id, show(tu.externalID), tu.active, owner)
	fmt.Fprintf(w, "    groups in the target: %s\n", strings.Join(groups, ", "))
}

func findUsers(snap *source.Snapshot, m *mapping, who string) []source.User {
	var out []source.User
	for _, u := range snap.Users {
		if strings.EqualFold(u.ID, who) || strings.EqualFold(m.user(u)["userName"], who) || hasValue(u.Attributes, who) {
			out = append(out, u)
		}
	}
	return out
}

func hasValue(attrs map[string][]string, v string) bool {
	for _, vs := range attrs {
		for _, x := range vs {
			if strings.EqualFold(x, v) {
				return true
			}
		}
	}
	return false
}
