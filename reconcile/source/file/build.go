package file

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rosterhq/roster/reconcile/source"
)

// maxProblems is how many problems an error lists: enough to fix a file
// in one go, not a screenful per row of a file with a wrong column.
const maxProblems = 20

// problems collects what is wrong with the files, so that one error
// reports them together.
type problems struct {
	list []string
	n    int
}

func (p *problems) add(where, format string, args ...any) {
	p.n++
	if len(p.list) < maxProblems {
		p.list = append(p.list, where+": "+fmt.Sprintf(format, args...))
	}
}

func (p *problems) err() error {
	switch p.n {
	case 0:
		return nil
	case 1:
		return errors.New("file source: " + p.list[0])
	}
	msg := fmt.Sprintf("file source: %d problems:\n\t%s", p.n, strings.Join(p.list, "\n\t"))
	if p.n > len(p.list) {
		msg += fmt.Sprintf("\n\tand %d more", p.n-len(p.list))
	}
	return errors.New(msg)
}

// ids indexes users or groups by id, and by the value their id may be
// derived from.
type ids struct {
	at      map[string]int // id → index
	where   []string       // index → the row, for messages
	derived bool           // whether a reference may name an IDFrom value
}

// add indexes the id of the next user or group; false if it is taken.
func (x *ids) add(id, where string, pr *problems) bool {
	if first, ok := x.at[id]; ok {
		pr.add(where, "duplicate id %q (first at %s)", id, x.where[first])
		return false
	}
	x.at[id] = len(x.where)
	x.where = append(x.where, where)
	return true
}

// find returns the index a reference names: an id, or a value an id was
// derived from.
func (x *ids) find(ref string) (int, bool) {
	if i, ok := x.at[ref]; ok {
		return i, true
	}
	if x.derived {
		i, ok := x.at[source.NameUUID(ref)]
		return i, ok
	}
	return 0, false
}

// build checks the rows and turns them into a snapshot.
func (s *Source) build(ut, gt *table) (*source.Snapshot, error) {
	var pr problems
	uc, gc := s.cfg.UserColumns, s.cfg.GroupColumns
	snap := &source.Snapshot{}

	users := ids{at: map[string]int{}, derived: uc.IDFrom != ""}
	var groupsOf [][]string // each user's groups column
	if hasColumns(&pr, ut, uc.ID, uc.IDFrom) {
		for _, r := range ut.records {
			// A row with a bad value keeps its id, so that references to
			// it are not reported too.
			id, ok := rowID(&pr, r, uc.ID, uc.IDFrom)
			active := s.active(&pr, r)
			if !ok || !users.add(id, r.where, &pr) {
				continue
			}
			var refs []string
			if uc.Groups != "" {
				refs, _ = r.get(uc.Groups)
			}
			groupsOf = append(groupsOf, refs)
			snap.Users = append(snap.Users, source.User{ID: id, Active: active, Attributes: attributes(r)})
		}
	}

	groups := ids{at: map[string]int{}, derived: gc.IDFrom != ""}
	var memberRefs [][]string
	var parents []string
	if gt != nil && hasColumns(&pr, gt, gc.ID, gc.IDFrom) && hasColumns(&pr, gt, gc.Name, "") {
		for _, r := range gt.records {
			id, ok := rowID(&pr, r, gc.ID, gc.IDFrom)
			name := one(&pr, r, gc.Name, true)
			parent := one(&pr, r, gc.Parent, false)
			if !ok || !groups.add(id, r.where, &pr) {
				continue
			}
			members, _ := r.get(gc.Members)
			memberRefs = append(memberRefs, members)
			parents = append(parents, parent)
			snap.Groups = append(snap.Groups, source.Group{ID: id, Name: name, Attributes: attributes(r)})
		}
	}

	// Members as the groups file lists them, then as the users file does,
	// each once.
	seen := make([]map[string]bool, len(snap.Groups))
	addMember := func(gi int, id string) {
		if seen[gi] == nil {
			seen[gi] = map[string]bool{}
		}
		if !seen[gi][id] {
			seen[gi][id] = true
			snap.Groups[gi].Members = append(snap.Groups[gi].Members, id)
		}
	}
	for gi, refs := range memberRefs {
		where := groups.where[gi]
		for _, ref := range refs {
			ui, isUser := users.find(ref)
			gj, isGroup := groups.find(ref)
			switch {
			case isUser && isGroup:
				pr.add(where, "member %q is both the user at %s and the group at %s", ref, users.where[ui], groups.where[gj])
			case isUser:
				addMember(gi, snap.Users[ui].ID)
			case isGroup:
				addMember(gi, snap.Groups[gj].ID)
			default:
				pr.add(where, "member %q names no user or group", ref)
			}
		}
		if ref := parents[gi]; ref != "" {
			if gj, ok := groups.find(ref); ok {
				snap.Groups[gi].Parent = snap.Groups[gj].ID
			} else {
				pr.add(where, "parent %q names no group", ref)
			}
		}
	}
	for ui, refs := range groupsOf {
		u := snap.Users[ui]
		for _, ref := range refs {
			gi, ok := groups.find(ref)
			if !ok {
				pr.add(users.where[ui], "group %q names no group", ref)
				continue
			}
			if gj, ok := groups.at[u.ID]; ok {
				pr.add(users.where[ui], "user %q, a member of %q, has the id of the group at %s", u.ID, ref, groups.where[gj])
				continue
			}
			addMember(gi, u.ID)
		}
	}
	if pr.n == 0 {
		findCycles(&pr, snap.Groups, &groups)
	}
	if err := pr.err(); err != nil {
		return nil, err
	}
	return snap, nil
}

// hasColumns reports whether a CSV table has the column col or the column
// alt; a JSON table may have any, row by row. A table that has neither is
// one problem, not one per row.
func hasColumns(pr *problems, t *table, col, alt string) bool {
	if t.columns == nil || len(t.records) == 0 {
		return true
	}
	for _, c := range t.columns {
		if strings.EqualFold(c, col) || alt != "" && strings.EqualFold(c, alt) {
			return true
		}
	}
	if alt != "" {
		pr.add(t.name, "no column %q or %q", col, alt)
	} else {
		pr.add(t.name, "no column %q", col)
	}
	return false
}

// rowID returns a row's id: its id column's value, or the name-based UUID
// of its from column's.
func rowID(pr *problems, r record, col, from string) (string, bool) {
	vs, _ := r.get(col)
	switch {
	case len(vs) == 1:
		return vs[0], true
	case len(vs) > 1:
		pr.add(r.where, "%d values for %s", len(vs), col)
		return "", false
	case from == "":
		pr.add(r.where, "no %s", col)
		return "", false
	}
	vs, _ = r.get(from)
	switch len(vs) {
	case 1:
		return source.NameUUID(vs[0]), true
	case 0:
		pr.add(r.where, "no %s, and no %s to derive one from", col, from)
	default:
		pr.add(r.where, "no %s, and %d values for %s to derive one from", col, len(vs), from)
	}
	return "", false
}

// one returns a single-valued field's value, "" if it has none.
func one(pr *problems, r record, col string, required bool) string {
	vs, _ := r.get(col)
	switch {
	case len(vs) > 1:
		pr.add(r.where, "%d values for %s", len(vs), col)
	case len(vs) == 1:
		return vs[0]
	case required:
		pr.add(r.where, "no %s", col)
	}
	return ""
}

// active returns whether a row's account is enabled: true when the row
// has no active column.
func (s *Source) active(pr *problems, r record) bool {
	col := s.cfg.UserColumns.Active
	vs, ok := r.get(col)
	if !ok {
		return true
	}
	if len(vs) == 1 {
		switch strings.ToLower(vs[0]) {
		case "true", "yes", "1", "enabled":
			return true
		case "false", "no", "0", "disabled":
			return false
		}
	}
	pr.add(r.where, "%s is %q; want true, false, yes, no, 1, 0, enabled or disabled", col, strings.Join(vs, s.cfg.Separator))
	return false
}

// attributes returns a row's fields that have values, taking its map
// rather than copying it, since 100,000 users are held in memory at once:
// the row is not read again.
func attributes(r record) map[string][]string {
	maps.DeleteFunc(r.fields, func(_ string, vs []string) bool { return len(vs) == 0 })
	return r.fields
}

// findCycles reports groups nested in themselves, through parents and
// member lists alike, once per cycle.
func findCycles(pr *problems, gs []source.Group, x *ids) {
	// up[i] are the groups that group i is directly nested in.
	up := make([][]int, len(gs))
	for i, g := range gs {
		if g.Parent != "" {
			up[i] = append(up[i], x.at[g.Parent])
		}
		for _, m := range g.Members {
			if j, ok := x.at[m]; ok {
				up[j] = append(up[j], i)
			}
		}
	}
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]int, len(gs))
	var path []int
	var visit func(i int)
	visit = func(i int) {
		state[i] = onPath
		path = append(path, i)
		for _, j := range up[i] {
			switch state[j] {
			case unseen:
				visit(j)
			case onPath:
				cycle := path[slices.Index(path, j):]
				names := make([]string, 0, len(cycle)+1)
				for _, k := range cycle {
					names = append(names, gs[k].ID)
				}
				names = append(names, gs[j].ID)
				pr.add(x.where[j], "group %q is nested in itself: %s", gs[j].ID, strings.Join(names, " in "))
			}
		}
		path = path[:len(path)-1]
		state[i] = done
	}
	for i := range gs {
		if state[i] == unseen {
			visit(i)
		}
	}
}
