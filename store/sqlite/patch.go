package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// Patch implements store.Store.
func (s *Store) Patch(ctx context.Context, dir string, rt *schema.ResourceType, id string, req *patch.Request, ifVersion string, members bool) (*resource.Resource, error) {
	rest, changes, err := store.SplitPatch(req)
	if err != nil {
		return nil, err
	}
	var out *resource.Resource
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		version, _, err := current(ctx, tx, dir, rt, id, ifVersion)
		if err != nil {
			return err
		}
		r, err := scanResource(rt, tx.QueryRowContext(ctx, `SELECT `+resourceColumns+` FROM resources r
			WHERE r.directory_id = ? AND r.id = ?`, dir, id))
		if err != nil {
			return err
		}
		_, before, _, err := split(r)
		if err != nil {
			return err
		}
		if len(rest.Operations) > 0 {
			if err := rest.Apply(r); err != nil {
				return err
			}
		}
		changed := false
		for _, c := range changes {
			n, err := changeMembers(ctx, tx, dir, id, c)
			if err != nil {
				return err
			}
			changed = changed || n
		}
		name, attrs, _, err := split(r)
		if err != nil {
			return err
		}
		if changed || attrs != before { // otherwise the version stays
			now := time.Now().UTC()
			_, err = tx.ExecContext(ctx, `UPDATE resources SET name = ?, name_key = ?, fold_key = ?, external_id = ?, last_modified = ?,
				version = ?, attrs = ? WHERE directory_id = ? AND id = ?`,
				name, strings.ToLower(name), store.FoldKey(name), nullString(r.ExternalID()), now.Format(timeFormat), version+1, attrs, dir, id)
			if isUnique(err) {
				return fmt.Errorf("%s %q exists: %w", store.NameAttr(rt), name, store.ErrConflict)
			}
			if err != nil {
				return err
			}
			m := r.Meta()
			r.SetMeta(resource.Meta{Created: m.Created, LastModified: now, Version: store.ETag(version + 1)})
		}
		out, err = withComputed(ctx, tx, dir, r, members)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: patch %s %q: %w", rt.Name, id, err)
	}
	return out, nil
}

// changeMembers carries out one member change and reports whether it
// changed the membership.
func changeMembers(ctx context.Context, tx *sql.Tx, dir, group string, c store.MemberChange) (bool, error) {
	var n int64
	add := func(res sql.Result, err error) error {
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		n += k
		return err
	}
	switch c.Op {
	case store.AddMembers:
		return addMembers(ctx, tx, dir, group, c.Members)
	case store.ReplaceMembers:
		return replaceMembers(ctx, tx, dir, group, c.Members)
	case store.RemoveMembers:
		for _, m := range c.Members {
			if err := add(tx.ExecContext(ctx, `DELETE FROM members WHERE directory_id = ? AND group_id = ? AND member_id = ?`,
				dir, group, m.ID)); err != nil {
				return false, err
			}
		}
	case store.RemoveAllMembers:
		if err := add(tx.ExecContext(ctx, `DELETE FROM members WHERE directory_id = ? AND group_id = ?`, dir, group)); err != nil {
			return false, err
		}
	case store.RemoveMatchingMembers:
		ids, err := matchingMembers(ctx, tx, dir, group, c.Filter)
		if err != nil {
			return false, err
		}
		return changeMembers(ctx, tx, dir, group, store.MemberChange{Op: store.RemoveMembers, Members: ids})
	default:
		return false, errors.New("unknown member change")
	}
	return n > 0, nil
}

// matchingMembers returns the members a value filter selects, looking at
// each member's value, type and display.
func matchingMembers(ctx context.Context, tx *sql.Tx, dir, group string, f filter.Expr) ([]store.Member, error) {
	rows, err := tx.QueryContext(ctx, `SELECT m.member_id, m.member_type,
			COALESCE(json_extract(r.attrs, '$."displayName"'), r.name, '')
		FROM members m LEFT JOIN resources r ON r.directory_id = m.directory_id AND r.id = m.member_id
		WHERE m.directory_id = ? AND m.group_id = ?`, dir, group)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Member
	for rows.Next() {
		var m store.Member
		var display string
		if err := rows.Scan(&m.ID, &m.Type, &display); err != nil {
			return nil, err
		}
		if filter.MatchValue(f, map[string]any{"value": m.ID, "type": m.Type, "display": display}) {
			out = append(out, m)
		}
	}
	return out, rows.Err()
}
