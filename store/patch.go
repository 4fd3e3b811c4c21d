package store

import (
	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/patch"
)

// MemberOp is a kind of MemberChange.
type MemberOp int

// The kinds of MemberChange.
const (
	AddMembers            MemberOp = iota // add Members that are not members yet
	ReplaceMembers                        // make Members the members, touching only rows that change
	RemoveMembers                         // remove Members (by id)
	RemoveAllMembers                      // remove every member
	RemoveMatchingMembers                 // remove the members Filter selects
)

// MemberChange is one change to a group's membership table. A store
// carries them out in order, each costing the same whatever the size of the
// group, except RemoveMatchingMembers with a filter that is not an id
// lookup (members[type eq "Group"]), which must look at every member.
type MemberChange struct {
	Op      MemberOp
	Members []Member
	// Filter is a value filter on a member's value, type and display.
	Filter filter.Expr
}

// SplitPatch separates the operations of a PATCH request that change a
// group's members from the others, so that a store can apply the member
// changes to its membership table and the rest to the group loaded
// without its members. For a resource type without members, every
// operation is in rest. Operations on members that a membership table
// cannot express (changing a member's immutable sub-attributes) are a 400
// error.
func SplitPatch(req *patch.Request) (rest *patch.Request, changes []MemberChange, err error) {
	rest = &patch.Request{Type: req.Type}
	for _, op := range req.Operations {
		ref := op.Path.Attr.Ref
		if ref.Attr == nil || ref.Extension != "" || ref.Attr.Name != "members" || req.Type.Schema.Attribute("members") != ref.Attr {
			rest.Operations = append(rest.Operations, op)
			continue
		}
		c, err := memberChange(op)
		if err != nil {
			return nil, nil, err
		}
		changes = append(changes, c...)
	}
	return rest, changes, nil
}

func memberChange(op patch.Operation) ([]MemberChange, error) {
	ref, f := op.Path.Attr.Ref, op.Path.Filter
	if ref.Sub != nil {
		return nil, scim.BadRequest(scim.Mutability, "the sub-attributes of a member cannot be changed; add or remove the member")
	}
	if f != nil {
		if op.Op != patch.Remove {
			return nil, scim.BadRequest(scim.InvalidPath, "%s through a filter on members is not supported; use %s with path \"members\"", op.Op, op.Op)
		}
		if eq, ok := filter.Equality(f); ok && len(eq) == 1 {
			if id, ok := eq["value"].(string); ok {
				return []MemberChange{{Op: RemoveMembers, Members: []Member{{ID: id}}}}, nil
			}
		}
		return []MemberChange{{Op: RemoveMatchingMembers, Filter: f}}, nil
	}
	list, _ := op.Value.([]any)
	switch {
	case op.Op == patch.Remove && op.Value == nil:
		return []MemberChange{{Op: RemoveAllMembers}}, nil
	case op.Op == patch.Remove:
		return []MemberChange{{Op: RemoveMembers, Members: Members(list)}}, nil
	case op.Op == patch.Replace:
		return []MemberChange{{Op: ReplaceMembers, Members: Members(list)}}, nil
	}
	return []MemberChange{{Op: AddMembers, Members: Members(list)}}, nil
}

// Members returns the members a "members" value lists, each once, with
// the type User when the value names none.
func Members(values []any) []Member {
	seen := make(map[string]bool, len(values))
	out := make([]Member, 0, len(values))
	for _, v := range values {
		m, _ := v.(map[string]any)
		id, _ := m["value"].(string)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		typ, _ := m["type"].(string)
		if typ == "" {
			typ = "User"
		}
		out = append(out, Member{ID: id, Type: typ})
	}
	return out
}
