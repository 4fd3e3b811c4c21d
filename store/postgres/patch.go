package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// Patch implements store.Store. The resource's row is locked for the
// transaction, so concurrent patches of one resource (through any number
// of servers) apply one after the other and none is lost.
func (s *Store) Patch(ctx context.Context, dir string, rt *schema.ResourceType, id string, req *patch.Request, ifVersion string, members bool) (*resource.Resource, error) {
	rest, changes, err := store.SplitPatch(req)
	if err != nil {
		return nil, err
	}
	var out *resource.Resource
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// One statement reads and locks the row.
		if checkText(dir) != nil || checkText(id) != nil {
			return store.ErrNotFound
		}
		var created, modified time.Time
		var version int64
		var attrs []byte
		err := tx.QueryRow(ctx, `SELECT created, last_modified, version, attrs FROM resources
			WHERE directory_id = $1 AND type = $2 AND id = $3 FOR NO KEY UPDATE`, dir, rt.Name, id).Scan(&created, &modified, &version, &attrs)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if ifVersion != "" && ifVersion != "*" && ifVersion != store.ETag(version) {
			return fmt.Errorf("version is %s, not %s: %w", store.ETag(version), ifVersion, store.ErrPreconditionFailed)
		}
		r, err := decodeRow(rt, id, created, modified, version, attrs)
		if err != nil {
			return err
		}
		before, _, err := split(r)
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
		after, _, err := split(r)
		if err != nil {
			return err
		}
		if changed || !bytes.Equal(after.attrs, before.attrs) { // otherwise the version stays
			t := now()
			if err := update(ctx, tx, dir, rt, id, after, r.ExternalID(), t, version+1); err != nil {
				return err
			}
			m := r.Meta()
			r.SetMeta(resource.Meta{Created: m.Created, LastModified: t, Version: store.ETag(version + 1)})
		}
		out, err = withComputed(ctx, tx, dir, r, members)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: patch %s %q: %w", rt.Name, id, err)
	}
	return out, nil
}

// changeMembers carries out one member change and reports whether it
// changed the membership.
func changeMembers(ctx context.Context, tx pgx.Tx, dir, group string, c store.MemberChange) (bool, error) {
	switch c.Op {
	case store.AddMembers:
		return addMembers(ctx, tx, dir, group, c.Members)
	case store.ReplaceMembers:
		return replaceMembers(ctx, tx, dir, group, c.Members)
	case store.RemoveMembers:
		ids := make([]string, 0, len(c.Members))
		for _, m := range c.Members {
			if checkText(m.ID) == nil { // else no member has it, and it would fail the query
				ids = append(ids, m.ID)
			}
		}
		return removeMembers(ctx, tx, dir, group, ids)
	case store.RemoveAllMembers:
		tag, err := tx.Exec(ctx, `DELETE FROM members WHERE directory_id = $1 AND group_id = $2`, dir, group)
		return tag.RowsAffected() > 0, err
	case store.RemoveMatchingMembers:
		ids, err := matchingMembers(ctx, tx, dir, group, c.Filter)
		if err != nil {
			return false, err
		}
		return changeMembers(ctx, tx, dir, group, store.MemberChange{Op: store.RemoveMembers, Members: ids})
	}
	return false, errors.New("unknown member change")
}

// removeMembers removes members by id and reports whether any was one.
// Each id is a statement of its own, sent together in one round trip: an
// index lookup on the primary key, whatever the table's statistics say
// (a DELETE with = ANY or a join may get a plan that reads the whole group
// when the statistics are missing or stale).
func removeMembers(ctx context.Context, tx pgx.Tx, dir, group string, ids []string) (bool, error) {
	if len(ids) == 0 {
		return false, nil
	}
	b := &pgx.Batch{}
	for _, id := range ids {
		b.Queue(`DELETE FROM members WHERE directory_id = $1 AND group_id = $2 AND member_id = $3`, dir, group, id)
	}
	br := tx.SendBatch(ctx, b)
	removed := false
	for range ids {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return false, err
		}
		removed = removed || tag.RowsAffected() > 0
	}
	return removed, br.Close()
}

// matchingMembers returns the members a value filter selects, looking at
// each member's value, type and display.
func matchingMembers(ctx context.Context, tx pgx.Tx, dir, group string, f filter.Expr) ([]store.Member, error) {
	rows, err := tx.Query(ctx, `SELECT m.member_id, m.member_type, COALESCE(r.attrs->>'displayName', r.name, '')
		FROM members m LEFT JOIN resources r ON r.directory_id = m.directory_id AND r.id = m.member_id
		WHERE m.directory_id = $1 AND m.group_id = $2`, dir, group)
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
