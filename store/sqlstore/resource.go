package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// InsertColumns are the columns of resources a create writes, in this
// order.
const InsertColumns = `(directory_id, type, id, name, name_key, fold_key, external_id, email_keys, created, last_modified, version, attrs)`

// InsertResource inserts a resource from Insert.Args: directory_id, type,
// id, name, name_key, fold_key, external_id, email_keys, created (also its
// last_modified), attrs; version 1. Both dialects run it as it is.
const InsertResource = `INSERT INTO resources ` + InsertColumns + `
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1, $10)`

// The positions in Insert.Args of the values a dialect may look at.
const (
	ArgDirectory = 0
	ArgType      = 1
	ArgFoldKey   = 5
	ArgEmailKeys = 7
)

// ByID selects the resource r of directory $1, type $2 and id $3 through
// the unique index on (directory_id, id). The type is compared as an
// expression, which no index answers, so that a planner without
// statistics (a new PostgreSQL database, before its first ANALYZE) cannot
// take the index on (directory_id, type, seq) instead and filter every
// resource of the type by its id: 0.5 ms instead of 0.02 ms a lookup in a
// directory of 2,000 users.
const ByID = `r.directory_id = $1 AND r.id = $3 AND r.type || '' = $2`

// resourceColumns are the columns scanStored reads, from resources r.
const resourceColumns = `r.id, r.created, r.last_modified, r.version, r.attrs`

// columns are a resource's values as the resources table holds them.
type columns struct {
	name      string   // userName or displayName
	nameKey   string   // strings.ToLower(name)
	foldKey   string   // store.FoldKey(name)
	emailKeys []string // store.FoldKey of each emails.value
	attrs     []byte   // JSON of every attribute but id, meta, members and groups
}

// emailKeys is the argument for the email_keys column: NULL for none.
func (s *Store) emailKeys(c columns) any {
	if len(c.emailKeys) == 0 {
		return nil
	}
	return s.d.List(c.emailKeys)
}

// checkIndexed returns a 400 error for an indexed value the database
// cannot index.
func (s *Store) checkIndexed(attr, key string) error {
	if max := s.d.MaxKeyBytes(); max > 0 && len(key) > max {
		return scim.BadRequest(scim.InvalidValue, "%s is too long: at most %d bytes of UTF-8 can be stored", attr, max)
	}
	return nil
}

// checkValue returns the dialect's CheckText error for any text in v,
// object keys included.
func (s *Store) checkValue(v any) error {
	switch v := v.(type) {
	case string:
		return s.d.CheckText(v)
	case map[string]any:
		for k, x := range v {
			if err := s.d.CheckText(k); err != nil {
				return err
			}
			if err := s.checkValue(x); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := s.checkValue(x); err != nil {
				return err
			}
		}
	}
	return nil
}

// split takes a resource apart into its columns and its members.
func (s *Store) split(r *resource.Resource) (columns, []store.Member, error) {
	var c columns
	var members []store.Member
	c.name = nameOf(r)
	c.nameKey, c.foldKey = strings.ToLower(c.name), store.FoldKey(c.name)
	for _, k := range []string{c.nameKey, c.foldKey} {
		if err := s.checkIndexed(store.NameAttr(r.Type), k); err != nil {
			return c, nil, err
		}
	}
	if err := s.checkIndexed("externalId", r.ExternalID()); err != nil {
		return c, nil, err
	}
	rest := make(map[string]any, len(r.Attrs))
	for k, v := range r.Attrs {
		switch k {
		case "id", "meta", "groups":
		case "members":
			list, _ := v.([]any)
			members = store.Members(list)
		default:
			rest[k] = v
		}
	}
	if err := s.checkValue(rest); err != nil {
		return c, nil, err
	}
	c.emailKeys = emailKeysOf(r)
	for _, k := range c.emailKeys {
		if err := s.checkIndexed("emails.value", k); err != nil {
			return c, nil, err
		}
	}
	b, ok := resource.AppendStoredAttrs(nil, rest)
	if !ok {
		var err error
		if b, err = json.Marshal(rest); err != nil {
			return c, nil, fmt.Errorf("encode attributes: %w", err)
		}
	}
	c.attrs = b
	return c, members, nil
}

// nameOf returns the name column of r: its userName or displayName.
func nameOf(r *resource.Resource) string {
	name, _ := r.Attrs[store.NameAttr(r.Type)].(string)
	return name
}

// emailKeysOf returns the email_keys of r: store.FoldKey of each of its
// emails' values.
func emailKeysOf(r *resource.Resource) []string {
	emails, ok := r.Attrs["emails"].([]any)
	if !ok || r.Type.Schema.Attribute("emails") == nil {
		return nil
	}
	var keys []string
	for _, e := range emails {
		if m, ok := e.(map[string]any); ok {
			if v, ok := m["value"].(string); ok {
				keys = append(keys, store.FoldKey(v))
			}
		}
	}
	return keys
}

// conflict is the error for a resource whose name is taken.
func conflict(rt *schema.ResourceType, name string) error {
	return fmt.Errorf("%s %q exists: %w", store.NameAttr(rt), name, store.ErrConflict)
}

// NewInsert returns the resource Create makes of r in the directory dir
// (a new id, meta), the insert of its row and its members.
func (s *Store) NewInsert(dir string, r *resource.Resource) (*resource.Resource, Insert, []store.Member, error) {
	out := r.Clone()
	out.SetID(store.NewResourceID())
	t := s.d.Now()
	row, members, err := s.split(out)
	if err == nil {
		err = s.checkText(dir)
	}
	if err != nil {
		return nil, Insert{}, nil, err
	}
	ins := Insert{
		ID: out.ID(),
		Args: []any{dir, out.Type.Name, out.ID(), row.name, row.nameKey, row.foldKey, nullString(out.ExternalID()),
			s.emailKeys(row), s.d.Time(t), string(row.attrs)},
		Conflict: conflict(out.Type, row.name),
	}
	ins.Check = func(err error) error {
		switch {
		case s.d.IsUnique(err):
			return ins.Conflict
		case s.d.IsForeignKey(err):
			return fmt.Errorf("directory %q: %w", dir, store.ErrNotFound)
		}
		return err
	}
	out.SetMeta(resource.Meta{Created: t, LastModified: t, Version: store.ETag(1)})
	return out, ins, members, nil
}

// Create implements store.Store. A resource without members is one
// INSERT, which the dialect may commit with others arriving together: the
// directory's foreign key tells whether it exists, and a new user is in
// no group yet.
func (s *Store) Create(ctx context.Context, dir string, r *resource.Resource) (*resource.Resource, error) {
	what := "create " + r.Type.Name
	out, ins, members, err := s.NewInsert(dir, r)
	if err != nil {
		return nil, s.errorf(what, err)
	}
	created := out.Meta().Created
	if len(members) == 0 {
		ev := s.newEvents(ctx, created)
		ev.add(kind(out.Type)+".created", dir, out.ID(), resourceData(out), nil)
		ins.Events = ev.list
		if err := s.d.Create(ctx, ins); err != nil {
			return nil, s.errorf(what, err)
		}
		s.written.fire()
		delete(out.Attrs, "members")
		delete(out.Attrs, "groups")
		return out, nil
	}
	err = s.inTx(ctx, func(tx Querier) error {
		if _, err := tx.Exec(ctx, InsertResource, ins.Args...); err != nil {
			return ins.Check(err)
		}
		if err := s.d.IndexEmails(ctx, tx, dir, ins.ID, ins.Args[ArgEmailKeys]); err != nil {
			return err
		}
		added, err := s.addMembers(ctx, tx, dir, out.ID(), members)
		if err != nil {
			return err
		}
		ev := s.newEvents(ctx, created)
		ev.add(kind(out.Type)+".created", dir, out.ID(), resourceData(out), nil)
		name, _ := out.Attrs["displayName"].(string)
		ev.members(store.GroupUserAdded, dir, out.ID(), name, added)
		if err := WriteEvents(ctx, tx, s.d, ev.list); err != nil {
			return err
		}
		return s.withComputed(ctx, tx, dir, out, true) // in place, so that a retry still has out
	})
	if err != nil {
		return nil, s.errorf(what, err)
	}
	return out, nil
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, dir string, rt *schema.ResourceType, id string, members bool) (*resource.Resource, error) {
	st, err := s.GetStored(ctx, dir, rt, id, members)
	if err != nil {
		return nil, err
	}
	r, err := decodeStored(st)
	if err != nil {
		return nil, s.errorf(fmt.Sprintf("get %s %q", rt.Name, id), err)
	}
	return r, nil
}

// GetStored implements store.StoredReader.
func (s *Store) GetStored(ctx context.Context, dir string, rt *schema.ResourceType, id string, members bool) (*resource.Stored, error) {
	what := fmt.Sprintf("%s %q", rt.Name, id)
	if s.checkText(dir, id) != nil {
		return nil, s.notFound(what)
	}
	// A user's groups take a query of their own (nested groups are
	// recursion), which the row's query says whether to run: a user in no
	// group costs one statement.
	groups := members && rt.Schema.Attribute("groups") != nil
	columns, inGroups := resourceColumns, false
	if groups {
		columns += `, ` + inGroupsColumn
	}
	row := s.d.Reader().QueryRow(ctx, `SELECT `+columns+` FROM resources r WHERE `+ByID, dir, rt.Name, id)
	if groups {
		row = suffixed{row, &inGroups}
	}
	st, err := scanStored(rt, row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound(what)
	}
	if err == nil && members && (!groups || inGroups) {
		st.Computed, err = s.computed(ctx, s.d.Reader(), dir, rt, id)
	}
	if err != nil {
		return nil, s.errorf("get "+what, err)
	}
	return st, nil
}

// computed returns the computed membership attribute of a resource (a
// group's members, a user's groups), as withComputed sets it; nil if it
// has none.
func (s *Store) computed(ctx context.Context, q Querier, dir string, rt *schema.ResourceType, id string) (map[string]any, error) {
	st := []*resource.Stored{{Type: rt, ID: id}}
	err := setComputed(st, func(page []*resource.Resource) error {
		return s.withComputed(ctx, q, dir, page[0], true)
	})
	return st[0].Computed, err
}

// setComputed sets the Computed of each resource of page to what compute,
// which computes the membership attributes of resources (withComputed,
// withGroups, pageComputed), sets for it: compute is given resources
// that hold only the ids.
func setComputed(page []*resource.Stored, compute func(page []*resource.Resource) error) error {
	if len(page) == 0 {
		return nil
	}
	holders := make([]*resource.Resource, len(page))
	for i, st := range page {
		holders[i] = resource.New(st.Type)
		holders[i].SetID(st.ID)
	}
	if err := compute(holders); err != nil {
		return err
	}
	for i, r := range holders {
		delete(r.Attrs, "id")
		if len(r.Attrs) > 0 {
			page[i].Computed = r.Attrs
		}
	}
	return nil
}

// Replace implements store.Store.
func (s *Store) Replace(ctx context.Context, dir string, r *resource.Resource, ifVersion string) (*resource.Resource, error) {
	what := fmt.Sprintf("replace %s %q", r.Type.Name, r.ID())
	out := r.Clone()
	row, members, err := s.split(out)
	if err != nil {
		return nil, s.errorf(what, err)
	}
	t := s.d.Now()
	err = s.inTx(ctx, func(tx Querier) error {
		cur, err := s.current(ctx, tx, dir, out.Type, out.ID(), ifVersion, s.sql.LockForNoKeyUpdate)
		if err != nil {
			return err
		}
		before, err := decodeRow(out.Type, out.ID(), cur.created, cur.modified, cur.version, cur.attrs)
		if err != nil {
			return err
		}
		was := columns{name: nameOf(before), emailKeys: emailKeysOf(before)}
		if err := s.update(ctx, tx, dir, out.Type, out.ID(), was, row, before.ExternalID(), out.ExternalID(), t, cur.version+1); err != nil {
			return err
		}
		out.SetMeta(resource.Meta{Created: cur.created, LastModified: t, Version: store.ETag(cur.version + 1)})
		ev := s.newEvents(ctx, t)
		ev.updated(dir, before, out)
		if out.Type.Schema.Attribute("members") != nil {
			added, removed, err := s.replaceMembers(ctx, tx, dir, out.ID(), members)
			if err != nil {
				return err
			}
			name, _ := out.Attrs["displayName"].(string)
			ev.members(store.GroupUserRemoved, dir, out.ID(), name, removed)
			ev.members(store.GroupUserAdded, dir, out.ID(), name, added)
		}
		if err := WriteEvents(ctx, tx, s.d, ev.list); err != nil {
			return err
		}
		// In place, so that a retry still has out.
		return s.withComputed(ctx, tx, dir, out, cur.inGroups || out.Type.Schema.Attribute("groups") == nil)
	})
	if err != nil {
		return nil, s.errorf(what, err)
	}
	return out, nil
}

// update writes a resource's columns: row, whose externalId is
// externalID, over was, whose externalId was wasExternalID. The columns
// that did not change are left out of the UPDATE, so that their indexes
// are not rewritten: a PATCH of active changes the row and the
// last_modified index, not the name, externalId and email indexes.
func (s *Store) update(ctx context.Context, tx Querier, dir string, rt *schema.ResourceType, id string, was, row columns, wasExternalID, externalID string, t time.Time, version int64) error {
	args := []any{s.d.Time(t), version, string(row.attrs), dir, id}
	set := `UPDATE resources SET last_modified = $1, version = $2, attrs = $3`
	if row.name != was.name {
		set += `, name = $6, name_key = $7, fold_key = $8`
		args = append(args, row.name, row.nameKey, row.foldKey)
	}
	if externalID != wasExternalID {
		args = append(args, nullString(externalID))
		set += `, external_id = $` + strconv.Itoa(len(args))
	}
	if !slices.Equal(row.emailKeys, was.emailKeys) {
		args = append(args, s.emailKeys(row))
		set += `, email_keys = $` + strconv.Itoa(len(args))
	}
	query := set + ` WHERE directory_id = $4 AND id = $5`
	if len(args) == 5 {
		// No indexed value changes, so no name can be taken: where the
		// update can go with the COMMIT (PostgreSQL), it does, one round
		// trip less. Its row is there: the caller locked it (current).
		at, ok := tx.(AtCommit)
		if ok && at.QueryRowAtCommit(query+` RETURNING version`, args, func(row Row) error {
			var v int64
			return row.Scan(&v)
		}) {
			return nil
		}
	}
	_, err := tx.Exec(ctx, query, args...)
	if s.d.IsUnique(err) {
		return conflict(rt, row.name)
	}
	return err
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, dir string, rt *schema.ResourceType, id, ifVersion string) error {
	err := s.inTx(ctx, func(tx Querier) error {
		// Locking the row FOR UPDATE first (PostgreSQL) makes a concurrent
		// request that is adding this resource to a group (and holds it
		// FOR KEY SHARE) finish first, so that the memberships deleted
		// next include its.
		cur, err := s.current(ctx, tx, dir, rt, id, ifVersion, s.sql.LockForUpdate)
		if err != nil {
			return err
		}
		r, err := decodeRow(rt, id, cur.created, cur.modified, cur.version, cur.attrs)
		if err != nil {
			return err
		}
		ev := s.newEvents(ctx, s.d.Now())
		ev.add(kind(rt)+".deleted", dir, id, resourceData(r), nil)
		// The groups it leaves, each an event: with their names, read
		// before the memberships go.
		var typ string
		var groups []struct{ id, name string }
		rows, err := tx.Query(ctx, `SELECT m.group_id, m.member_type, g.name FROM members m
			JOIN resources g ON g.directory_id = m.directory_id AND g.id = m.group_id
			WHERE m.directory_id = $1 AND m.member_id = $2 ORDER BY m.group_id`, dir, id)
		if err != nil {
			return err
		}
		for rows.Next() {
			var g struct{ id, name string }
			if err := rows.Scan(&g.id, &typ, &g.name); err != nil {
				rows.Close()
				return err
			}
			groups = append(groups, g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, g := range groups {
			ev.members(store.GroupUserRemoved, dir, g.id, g.name, []store.Member{{ID: id, Type: typ}})
		}
		if _, err := tx.Exec(ctx, `DELETE FROM members WHERE directory_id = $1 AND member_id = $2`, dir, id); err != nil {
			return err
		}
		// The group's own memberships go with it (ON DELETE CASCADE).
		if _, err := tx.Exec(ctx, `DELETE FROM resources WHERE directory_id = $1 AND id = $2`, dir, id); err != nil {
			return err
		}
		return WriteEvents(ctx, tx, s.d, ev.list)
	})
	if err != nil {
		return s.errorf(fmt.Sprintf("delete %s %q", rt.Name, id), err)
	}
	return nil
}

// stored is a resource's row as current reads it.
type stored struct {
	created, modified time.Time
	version           int64
	attrs             []byte
	// inGroups says, for a type with a groups attribute (users), whether
	// the resource is a member of any group: a change of a user does not
	// change that, and a user in none has no groups to compute.
	inGroups bool
}

// current reads a resource's row, locked for the rest of the transaction
// with lock (see Statements), checking its version against ifVersion when
// that is set.
func (s *Store) current(ctx context.Context, tx Querier, dir string, rt *schema.ResourceType, id, ifVersion, lock string) (stored, error) {
	var cur stored
	if s.checkText(dir, id) != nil {
		return cur, store.ErrNotFound
	}
	var created, modified Time
	var row Row
	if rt.Schema.Attribute("groups") != nil {
		row = suffixed{tx.QueryRow(ctx, `SELECT r.created, r.last_modified, r.version, r.attrs, `+inGroupsColumn+`
			FROM resources r WHERE `+ByID+` `+lock, dir, rt.Name, id), &cur.inGroups}
	} else {
		row = tx.QueryRow(ctx, `SELECT r.created, r.last_modified, r.version, r.attrs FROM resources r
			WHERE `+ByID+` `+lock, dir, rt.Name, id)
	}
	err := row.Scan(&created, &modified, &cur.version, &cur.attrs)
	if errors.Is(err, sql.ErrNoRows) {
		return cur, store.ErrNotFound
	}
	if err != nil {
		return cur, err
	}
	if ifVersion != "" && ifVersion != "*" && ifVersion != store.ETag(cur.version) {
		return cur, fmt.Errorf("version is %s, not %s: %w", store.ETag(cur.version), ifVersion, store.ErrPreconditionFailed)
	}
	cur.created, cur.modified = created.Time, modified.Time
	return cur, nil
}

// Patch implements store.Store. The resource's row is read and locked
// (PostgreSQL; SQLite's write transaction holds the database) by one
// statement, so concurrent patches of one resource, through any number of
// servers, apply one after the other and none is lost.
func (s *Store) Patch(ctx context.Context, dir string, rt *schema.ResourceType, id string, req *patch.Request, ifVersion string, members bool) (*resource.Resource, error) {
	rest, changes, err := store.SplitPatch(req)
	if err != nil {
		return nil, err
	}
	if len(rest.Operations) == 0 && len(changes) > 0 && addsAndRemoves(changes) {
		return s.patchMembers(ctx, dir, rt, id, changes, ifVersion, members)
	}
	var out *resource.Resource
	err = s.inTx(ctx, func(tx Querier) error {
		cur, err := s.current(ctx, tx, dir, rt, id, ifVersion, s.sql.LockForNoKeyUpdate)
		if err != nil {
			return err
		}
		r, err := decodeRow(rt, id, cur.created, cur.modified, cur.version, cur.attrs)
		if err != nil {
			return err
		}
		old := r
		if len(rest.Operations) > 0 {
			old = r.Clone()
			if err := rest.Apply(r); err != nil {
				return err
			}
		}
		t := s.d.Now()
		ev := s.newEvents(ctx, t)
		name, _ := r.Attrs["displayName"].(string)
		changed := false
		for _, c := range changes {
			added, removed, err := s.changeMembers(ctx, tx, dir, id, c)
			if err != nil {
				return err
			}
			ev.members(store.GroupUserRemoved, dir, id, name, removed)
			ev.members(store.GroupUserAdded, dir, id, name, added)
			changed = changed || len(added) > 0 || len(removed) > 0
		}
		after, _, err := s.split(r)
		if err != nil {
			return err
		}
		if attrsChanged := !sameAttrs(old, r); changed || attrsChanged { // otherwise the version stays
			was := columns{name: nameOf(old), emailKeys: emailKeysOf(old)}
			if err := s.update(ctx, tx, dir, rt, id, was, after, old.ExternalID(), r.ExternalID(), t, cur.version+1); err != nil {
				return err
			}
			r.SetMeta(resource.Meta{Created: cur.created, LastModified: t, Version: store.ETag(cur.version + 1)})
			if attrsChanged {
				// First, so that the members' events name the group as it is now.
				member := ev.list
				ev.list = nil
				ev.updated(dir, old, r)
				ev.list = append(ev.list, member...)
			}
			if err := WriteEvents(ctx, tx, s.d, ev.list); err != nil {
				return err
			}
		}
		if err := s.withComputed(ctx, tx, dir, r, members && (cur.inGroups || rt.Schema.Attribute("groups") == nil)); err != nil {
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, s.errorf(fmt.Sprintf("patch %s %q", rt.Name, id), err)
	}
	return out, nil
}

// sameAttrs reports whether a and b hold the same attributes in the
// attrs column: all but id, meta, members and groups.
func sameAttrs(a, b *resource.Resource) bool {
	kept := func(name string) bool {
		switch name {
		case "id", "meta", "members", "groups":
			return false
		}
		return true
	}
	for k, v := range a.Attrs {
		if kept(k) && !resource.Equal(v, b.Attrs[k]) {
			return false
		}
	}
	for k := range b.Attrs {
		if _, ok := a.Attrs[k]; !ok && kept(k) {
			return false
		}
	}
	return true
}

// addsAndRemoves reports whether every change adds or removes members
// named by id: changes that commute with others of their kind.
func addsAndRemoves(changes []store.MemberChange) bool {
	for _, c := range changes {
		if c.Op != store.AddMembers && c.Op != store.RemoveMembers {
			return false
		}
	}
	return true
}

// patchMembers carries out a PATCH that only adds and removes members by
// id, as identity providers push group memberships. It locks the group's
// row last, when it bumps the version, rather than first: adds and
// removes of members by id give the same result in any order, so they
// need not wait for each other, and a PostgreSQL writer holds the row
// for two round trips and its commit instead of five. (A replace, or a
// remove by filter, reads the members it changes and takes the lock
// first; see Patch.)
func (s *Store) patchMembers(ctx context.Context, dir string, rt *schema.ResourceType, id string, changes []store.MemberChange, ifVersion string, members bool) (*resource.Resource, error) {
	var out *resource.Resource
	err := s.inTx(ctx, func(tx Querier) error {
		cur, err := s.current(ctx, tx, dir, rt, id, ifVersion, "")
		if err != nil {
			return err
		}
		type change struct{ added, removed []store.Member }
		done := make([]change, len(changes))
		changed := false
		for i, c := range changes {
			added, removed, err := s.changeMembers(ctx, tx, dir, id, c)
			if s.d.IsForeignKey(err) {
				return store.ErrNotFound // the group was deleted since it was read
			}
			if err != nil {
				return err
			}
			done[i] = change{added, removed}
			changed = changed || len(added) > 0 || len(removed) > 0
		}
		if !changed {
			r, err := decodeRow(rt, id, cur.created, cur.modified, cur.version, cur.attrs)
			if err != nil {
				return err
			}
			out = r
			return s.withComputed(ctx, tx, dir, r, members)
		}
		t := s.d.Now()
		cond, args := ByID, []any{dir, rt.Name, id, s.d.Time(t)}
		if ifVersion != "" && ifVersion != "*" {
			// The version the If-Match named (current checked it) must
			// still be the group's now that its row is locked.
			cond += ` AND r.version = $5`
			args = append(args, cur.version)
		}
		update := func(cond string) string {
			return `UPDATE resources AS r SET version = r.version + 1, last_modified = $4 WHERE ` + cond + `
				RETURNING created, last_modified, version, attrs`
		}
		scan := func(row Row) error {
			var created, modified Time
			var version int64
			var attrs []byte
			err := row.Scan(&created, &modified, &version, &attrs)
			switch {
			case errors.Is(err, sql.ErrNoRows) && len(args) == 5:
				return fmt.Errorf("version is no longer %s: %w", ifVersion, store.ErrPreconditionFailed)
			case errors.Is(err, sql.ErrNoRows):
				return store.ErrNotFound // deleted meanwhile
			case err != nil:
				return err
			}
			out, err = decodeRow(rt, id, created.Time, modified.Time, version, attrs)
			return err
		}
		// Where the group's version and lastModified can change with the
		// COMMIT (PostgreSQL), its row is locked for that round trip only,
		// so member adds to one group wait for each other that much less.
		// The events name the group as it was read at the start, without
		// a lock: the update holds that name, or the transaction runs
		// again (see AtCommit). (Not under If-Match, whose version must
		// be checked before.)
		var named *resource.Resource
		deferred := false
		if at, ok := tx.(AtCommit); ok && len(args) == 4 && !members {
			if named, err = decodeRow(rt, id, cur.created, cur.modified, cur.version, cur.attrs); err != nil {
				return err
			}
			deferred = at.QueryRowAtCommit(update(cond+` AND r.name = $5`), append(args, nameOf(named)), scan)
		}
		if !deferred {
			if err := scan(tx.QueryRow(ctx, update(cond), args...)); err != nil {
				return err
			}
			named = out
		}
		groupName, _ := named.Attrs["displayName"].(string)
		ev := s.newEvents(ctx, t)
		for _, c := range done {
			ev.members(store.GroupUserRemoved, dir, id, groupName, c.removed)
			ev.members(store.GroupUserAdded, dir, id, groupName, c.added)
		}
		if err := WriteEvents(ctx, tx, s.d, ev.list); err != nil {
			return err
		}
		if deferred {
			return nil // the stored row holds no members, and none are asked for
		}
		return s.withComputed(ctx, tx, dir, out, members)
	})
	if err != nil {
		return nil, s.errorf(fmt.Sprintf("patch %s %q", rt.Name, id), err)
	}
	return out, nil
}

// scanStored reads the resourceColumns of a row.
func scanStored(rt *schema.ResourceType, row Row) (*resource.Stored, error) {
	var id string
	var created, modified Time
	var version int64
	var attrs []byte
	if err := row.Scan(&id, &created, &modified, &version, &attrs); err != nil {
		return nil, err
	}
	return &resource.Stored{Type: rt, ID: id, Attrs: attrs,
		Meta: resource.Meta{Created: created.Time, LastModified: modified.Time, Version: store.ETag(version)}}, nil
}

func decodeRow(rt *schema.ResourceType, id string, created, modified time.Time, version int64, attrs []byte) (*resource.Resource, error) {
	return decodeStored(&resource.Stored{Type: rt, ID: id, Attrs: attrs,
		Meta: resource.Meta{Created: created, LastModified: modified, Version: store.ETag(version)}})
}

// decodeStored decodes st, saying which resource's attributes a store
// holds that do not decode.
func decodeStored(st *resource.Stored) (*resource.Resource, error) {
	r, err := st.Decode()
	if err != nil {
		return nil, fmt.Errorf("stored attributes of %s %q: %w", st.Type.Name, st.ID, err)
	}
	return r, nil
}
