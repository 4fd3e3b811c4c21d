package sqlstore

import (
	"context"
	"errors"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/store"
)

// memberIDs returns the distinct ids of members, or a 400 error for a
// group that would be its own member, or for an id that no resource can
// have because the database cannot hold it.
func (s *Store) memberIDs(group string, members []store.Member) ([]string, error) {
	ids := make([]string, 0, len(members))
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		if m.ID == group {
			return nil, scim.BadRequest(scim.InvalidValue, "a group cannot be a member of itself")
		}
		if s.d.CheckText(m.ID) != nil {
			return nil, notAMember(m.ID)
		}
		if !seen[m.ID] {
			seen[m.ID] = true
			ids = append(ids, m.ID)
		}
	}
	return ids, nil
}

func notAMember(id string) error {
	return scim.BadRequest(scim.InvalidValue, "member %q is not a user or group of this directory", id)
}

// addMembers adds members to a group, skipping those it has, and returns
// those it added. A member must be a user or group of the same
// directory; its type is the stored resource's, whatever the client said.
func (s *Store) addMembers(ctx context.Context, tx Querier, dir, group string, members []store.Member) ([]store.Member, error) {
	ids, err := s.memberIDs(group, members)
	if err != nil {
		return nil, err
	}
	return s.addMemberIDs(ctx, tx, dir, group, ids)
}

// addMemberIDs is addMembers for ids memberIDs has checked.
func (s *Store) addMemberIDs(ctx context.Context, tx Querier, dir, group string, ids []string) ([]store.Member, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	added, missing, err := s.d.AddMembers(ctx, tx, dir, group, ids)
	if err != nil {
		return nil, err
	}
	if missing != "" {
		return nil, notAMember(missing)
	}
	return added, nil
}

// replaceMembers makes members the group's members, touching only the
// rows that change, and returns the members it added and removed.
func (s *Store) replaceMembers(ctx context.Context, tx Querier, dir, group string, members []store.Member) (added, removed []store.Member, err error) {
	ids, err := s.memberIDs(group, members)
	if err != nil {
		return nil, nil, err
	}
	removed, err = queryAll(ctx, tx, scanMember, s.sql.KeepMembers, dir, group, s.d.List(ids))
	if err != nil {
		return nil, nil, err
	}
	added, err = s.addMemberIDs(ctx, tx, dir, group, ids)
	return added, removed, err
}

// QueryMembers runs a statement that returns member_id, member_type rows
// (an INSERT or DELETE … RETURNING of members) and returns them.
func QueryMembers(ctx context.Context, q Querier, query string, args ...any) ([]store.Member, error) {
	return queryAll(ctx, q, scanMember, query, args...)
}

// scanMember reads a member_id and member_type.
func scanMember(row Row) (store.Member, error) {
	var m store.Member
	err := row.Scan(&m.ID, &m.Type)
	return m, err
}

// changeMembers carries out one member change of a PATCH and returns the
// members it added and removed.
func (s *Store) changeMembers(ctx context.Context, tx Querier, dir, group string, c store.MemberChange) (added, removed []store.Member, err error) {
	switch c.Op {
	case store.AddMembers:
		added, err = s.addMembers(ctx, tx, dir, group, c.Members)
		return added, nil, err
	case store.ReplaceMembers:
		return s.replaceMembers(ctx, tx, dir, group, c.Members)
	case store.RemoveMembers:
		ids := make([]string, 0, len(c.Members))
		for _, m := range c.Members {
			if s.d.CheckText(m.ID) == nil { // else no member has it, and it would fail the query
				ids = append(ids, m.ID)
			}
		}
		if len(ids) == 0 {
			return nil, nil, nil
		}
		removed, err = s.d.RemoveMembers(ctx, tx, dir, group, ids)
		return nil, removed, err
	case store.RemoveAllMembers:
		removed, err = queryAll(ctx, tx, scanMember, `DELETE FROM members WHERE directory_id = $1 AND group_id = $2
			RETURNING member_id, member_type`, dir, group)
		return nil, removed, err
	case store.RemoveMatchingMembers:
		list, err := s.members(ctx, tx, dir, group)
		if err != nil {
			return nil, nil, err
		}
		var match []store.Member
		for _, m := range list {
			if filter.MatchValue(c.Filter, map[string]any{"value": m.ID, "type": m.Type, "display": m.display}) {
				match = append(match, m.Member)
			}
		}
		return s.changeMembers(ctx, tx, dir, group, store.MemberChange{Op: store.RemoveMembers, Members: match})
	}
	return nil, nil, errors.New("unknown member change")
}

// member is a member of a group as the members query reads it.
type member struct {
	store.Member
	display string // its displayName, else its name; "" if neither
}

// members returns a group's members, ordered by id.
func (s *Store) members(ctx context.Context, q Querier, dir, group string) ([]member, error) {
	return queryAll(ctx, q, func(row Row) (member, error) {
		var m member
		err := row.Scan(&m.ID, &m.Type, &m.display)
		return m, err
	}, s.sql.Members, dir, group)
}

// withComputed adds to r what the membership table holds when members is
// true: a group's members, a user's groups, direct and indirect; when it
// is false, it removes them.
func (s *Store) withComputed(ctx context.Context, q Querier, dir string, r *resource.Resource, members bool) error {
	switch {
	case r.Type.Schema.Attribute("members") != nil:
		if !members {
			delete(r.Attrs, "members")
			return nil
		}
		list, err := s.members(ctx, q, dir, r.ID())
		if err != nil {
			return err
		}
		values := make([]any, len(list))
		for i, m := range list {
			v := map[string]any{"value": m.ID, "type": m.Type}
			if m.display != "" {
				v["display"] = m.display
			}
			values[i] = v
		}
		setOrDelete(r.Attrs, "members", values)
	case r.Type.Schema.Attribute("groups") != nil:
		return s.withGroups(ctx, q, dir, []*resource.Resource{r}, members)
	}
	return nil
}

// withGroups sets the groups of resources, directly or through nested
// groups, with one query for all of them (not one each), when members is
// true; when it is false, it removes them.
func (s *Store) withGroups(ctx context.Context, q Querier, dir string, page []*resource.Resource, members bool) error {
	if !members {
		for _, r := range page {
			delete(r.Attrs, "groups")
		}
		return nil
	}
	ids := make([]string, len(page))
	byID := make(map[string]*resource.Resource, len(page))
	for i, r := range page {
		ids[i] = r.ID()
		byID[r.ID()] = r
		delete(r.Attrs, "groups")
	}
	rows, err := q.Query(ctx, s.sql.Groups, dir, s.d.List(ids))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var member, id, name string
		var direct bool
		if err := rows.Scan(&member, &id, &direct, &name); err != nil {
			return err
		}
		typ := "indirect"
		if direct {
			typ = "direct"
		}
		r := byID[member]
		groups, _ := r.Attrs["groups"].([]any)
		r.Attrs["groups"] = append(groups, map[string]any{"value": id, "display": name, "type": typ})
	}
	return rows.Err()
}

// pageComputed adds the computed attributes to a page of resources when
// asked for: the groups of a page of users in one query, the members of
// groups.
func (s *Store) pageComputed(ctx context.Context, dir string, page []*resource.Resource, members bool) error {
	if len(page) == 0 {
		return nil
	}
	if page[0].Type.Schema.Attribute("groups") != nil {
		return s.withGroups(ctx, s.d.Reader(), dir, page, members)
	}
	for _, r := range page {
		if err := s.withComputed(ctx, s.d.Reader(), dir, r, members); err != nil {
			return err
		}
	}
	return nil
}

func setOrDelete(m map[string]any, k string, list []any) {
	if len(list) == 0 {
		delete(m, k)
		return
	}
	m[k] = list
}
