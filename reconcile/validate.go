package reconcile

import (
	"errors"
	"fmt"
	"slices"
)

// ErrInvalidPlan is returned by Apply for a plan that Plan cannot have
// made, such as one edited by hand: a change of an unknown action, one
// without the target id or externalId it needs, an attribute path the
// sync cannot map, a member the plan neither finds in the target nor
// creates. The error names the first such change; Apply then changes
// nothing.
var ErrInvalidPlan = errors.New("sync: invalid plan")

// validate returns why Apply cannot carry out p, wrapping ErrInvalidPlan,
// or else the attribute paths its user changes name, parsed.
func (p *Plan) validate() (map[string]attrPath, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: no plan", ErrInvalidPlan)
	}
	invalid := func(where, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidPlan, where, fmt.Sprintf(format, args...))
	}
	paths := map[string]attrPath{}
	creates := map[Ref]bool{} // the Type and ExternalID of what p creates
	for i, ch := range p.Users {
		where := fmt.Sprintf("users[%d] (%s user %s)", i, ch.Action, ch.UserName)
		switch ch.Action {
		case ActionCreate:
			if ch.ExternalID == "" {
				return nil, invalid(where, "no externalId")
			}
			if ch.TargetID != "" {
				return nil, invalid(where, "a create has no targetId")
			}
			creates[Ref{Type: "User", ExternalID: ch.ExternalID}] = true
		case ActionUpdate, ActionDeactivate, ActionReactivate:
			if ch.TargetID == "" {
				return nil, invalid(where, "no targetId")
			}
			if len(ch.Changes) == 0 {
				return nil, invalid(where, "no changes")
			}
		case ActionDelete:
			if ch.TargetID == "" {
				return nil, invalid(where, "no targetId")
			}
		case ActionAdopt:
			if ch.TargetID == "" || ch.ExternalID == "" {
				return nil, invalid(where, "no targetId or externalId")
			}
			if len(ch.Changes) > 0 {
				return nil, invalid(where, "an adoption changes nothing")
			}
		default:
			return nil, invalid(fmt.Sprintf("users[%d]", i), "unknown action %q", ch.Action)
		}
		for _, c := range ch.Changes {
			if c.Path == "active" {
				if c.After != "true" && c.After != "false" {
					return nil, invalid(where, "active is %q, not true or false", c.After)
				}
				continue
			}
			if _, ok := paths[c.Path]; ok {
				continue
			}
			path, err := parseAttrPath(c.Path)
			if err != nil {
				return nil, invalid(where, "%q is not a path the sync can map", c.Path)
			}
			paths[c.Path] = path
		}
		for _, el := range ch.Absent {
			if !slices.ContainsFunc(ch.Changes, func(c AttrChange) bool { return paths[c.Path].element() == el && el != "" }) {
				return nil, invalid(where, "absent %q is the element of none of its changes", el)
			}
		}
	}
	for i, ch := range p.Groups {
		where := fmt.Sprintf("groups[%d] (%s group %s)", i, ch.Action, ch.Name)
		switch ch.Action {
		case ActionCreate:
			if ch.ExternalID == "" {
				return nil, invalid(where, "no externalId")
			}
			if ch.TargetID != "" {
				return nil, invalid(where, "a create has no targetId")
			}
			creates[Ref{Type: "Group", ExternalID: ch.ExternalID}] = true
		case ActionRename, ActionRetire, ActionAdopt:
			if ch.TargetID == "" {
				return nil, invalid(where, "no targetId")
			}
		default:
			return nil, invalid(fmt.Sprintf("groups[%d]", i), "unknown action %q", ch.Action)
		}
		if ch.Name == "" && ch.Action != ActionRetire {
			return nil, invalid(where, "no name")
		}
	}
	// A member or group without a target id is one this run creates: its
	// id comes from the create.
	for i, mc := range p.Members {
		where := fmt.Sprintf("members[%d] (group %s)", i, mc.Group.Name)
		if mc.Group.TargetID == "" && !creates[Ref{Type: "Group", ExternalID: mc.Group.ExternalID}] {
			return nil, invalid(where, "the group has no targetId and the plan does not create it")
		}
		for j, r := range mc.Add {
			if r.TargetID == "" && !creates[Ref{Type: r.Type, ExternalID: r.ExternalID}] {
				return nil, invalid(where, "add[%d] (%s): the member has no targetId and the plan does not create it", j, r.Name)
			}
		}
		for j, r := range mc.Remove {
			if r.TargetID == "" {
				return nil, invalid(where, "remove[%d] (%s): no targetId", j, r.Name)
			}
		}
	}
	return paths, nil
}
