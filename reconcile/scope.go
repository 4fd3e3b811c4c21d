package reconcile

import (
	"strings"

	"github.com/rosterhq/roster/reconcile/source"
)

// Scope narrows what a sync provisions beyond what the source reads (an
// LDAP filter, a SCIM filter): with Groups set, only those groups (by name
// or id, ignoring case), the groups nested in them, and the users who are
// members of any of them, directly or through nesting, are in scope.
type Scope struct {
	Groups []string `yaml:"groups"`
}

// apply returns the part of snap in scope.
func (s Scope) apply(snap *source.Snapshot) *source.Snapshot {
	if len(s.Groups) == 0 {
		return snap
	}
	allowed := map[string]bool{}
	for _, g := range s.Groups {
		allowed[strings.ToLower(g)] = true
	}
	children := map[string][]string{} // group id → member ids, parents included
	isGroup := map[string]bool{}
	for _, g := range snap.Groups {
		isGroup[g.ID] = true
		children[g.ID] = append(children[g.ID], g.Members...)
		if g.Parent != "" {
			children[g.Parent] = append(children[g.Parent], g.ID)
		}
	}
	keep := map[string]bool{} // ids of groups and users in scope
	var queue []string
	for _, g := range snap.Groups {
		if allowed[strings.ToLower(g.Name)] || allowed[strings.ToLower(g.ID)] {
			queue = append(queue, g.ID)
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if keep[id] {
			continue
		}
		keep[id] = true
		if isGroup[id] {
			queue = append(queue, children[id]...)
		}
	}
	out := &source.Snapshot{}
	for _, u := range snap.Users {
		if keep[u.ID] {
			out.Users = append(out.Users, u)
		}
	}
	for _, g := range snap.Groups {
		if keep[g.ID] {
			if g.Parent != "" && !keep[g.Parent] {
				g.Parent = "" // the parent is out of scope
			}
			out.Groups = append(out.Groups, g)
		}
	}
	return out
}
