package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/store"
)

// List implements store.Store. The filter becomes a WHERE clause (see
// where) and the sort an ORDER BY, so only the page's rows are read.
func (s *Store) List(ctx context.Context, dir string, q store.Query) (store.Page, error) {
	cond, args := "r.directory_id = $1 AND r.type = $2", []any{dir, q.Type.Name}
	if q.Filter != nil {
		w, wargs, err := where(q.Filter, q.Type, args)
		if err != nil {
			return store.Page{}, err
		}
		cond += " AND (" + w + ")"
		args = wargs
	}
	var page store.Page
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM resources r WHERE `+cond, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("sqlite: count %s: %w", q.Type.Name, err)
	}
	if q.Count <= 0 || page.Total == 0 {
		return page, nil
	}
	if q.Cursor {
		return s.cursorPage(ctx, dir, cond, args, q, page)
	}
	offset := max(q.StartIndex, 1) - 1
	rows, err := s.db.QueryContext(ctx, pageQuery(cond, q), append(args, q.Count, offset)...)
	if err != nil {
		return page, fmt.Errorf("sqlite: list %s: %w", q.Type.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanResource(q.Type, rows)
		if err != nil {
			return page, fmt.Errorf("sqlite: list %s: %w", q.Type.Name, err)
		}
		page.Resources = append(page.Resources, r)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("sqlite: list %s: %w", q.Type.Name, err)
	}
	rows.Close()
	if err := s.pageComputed(ctx, dir, page.Resources, q.Members); err != nil {
		return page, err
	}
	return page, nil
}

// pageComputed adds the computed attributes to a page of resources when
// asked for: the groups of a page of users in one query (not one per
// user), the members of groups.
func (s *Store) pageComputed(ctx context.Context, dir string, page []*resource.Resource, members bool) error {
	if len(page) == 0 {
		return nil
	}
	if page[0].Type.Schema.Attribute("groups") == nil {
		for _, r := range page {
			if _, err := withComputed(ctx, s.db, dir, r, members); err != nil {
				return err
			}
		}
		return nil
	}
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
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, `WITH RECURSIVE g(member, id, direct) AS (
			SELECT member_id, group_id, 1 FROM members
			WHERE directory_id = ?1 AND member_id IN (SELECT value FROM json_each(?2))
			UNION
			SELECT g.member, m.group_id, 0 FROM g CROSS JOIN members m WHERE m.directory_id = ?1 AND m.member_id = g.id
		)
		SELECT g.member, g.id, max(g.direct), r.name FROM g CROSS JOIN resources r ON r.directory_id = ?1 AND r.id = g.id
		GROUP BY g.member, g.id ORDER BY g.member, g.id`, dir, string(list))
	if err != nil {
		return fmt.Errorf("sqlite: groups of a page: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var member, id, name string
		var direct bool
		if err := rows.Scan(&member, &id, &direct, &name); err != nil {
			return fmt.Errorf("sqlite: groups of a page: %w", err)
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

// cursorPage reads the page after q.After in creation order (keyset
// pagination on seq), one row more than asked to know whether more follow.
func (s *Store) cursorPage(ctx context.Context, dir, cond string, args []any, q store.Query, page store.Page) (store.Page, error) {
	after := int64(0)
	if q.After != "" {
		n, err := strconv.ParseInt(q.After, 10, 64)
		if err != nil {
			return page, fmt.Errorf("sqlite: list %s: position %q: %w", q.Type.Name, q.After, store.ErrNotFound)
		}
		after = n
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r.seq, `+resourceColumns+` FROM resources r WHERE `+cond+
		` AND r.seq > ? ORDER BY r.seq LIMIT ?`, append(args, after, q.Count+1)...)
	if err != nil {
		return page, fmt.Errorf("sqlite: list %s: %w", q.Type.Name, err)
	}
	defer rows.Close()
	var last int64
	for rows.Next() {
		if len(page.Resources) == q.Count {
			page.Next = strconv.FormatInt(last, 10)
			break
		}
		var seq int64
		var id, created, modified, attrs string
		var version int64
		if err := rows.Scan(&seq, &id, &created, &modified, &version, &attrs); err != nil {
			return page, fmt.Errorf("sqlite: list %s: %w", q.Type.Name, err)
		}
		r, err := scanResource(q.Type, fixedRow{id, created, modified, version, attrs})
		if err != nil {
			return page, fmt.Errorf("sqlite: list %s: %w", q.Type.Name, err)
		}
		page.Resources = append(page.Resources, r)
		last = seq
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("sqlite: list %s: %w", q.Type.Name, err)
	}
	rows.Close()
	if err := s.pageComputed(ctx, dir, page.Resources, q.Members); err != nil {
		return page, err
	}
	return page, nil
}

// fixedRow is a scanner over values already read.
type fixedRow struct {
	id, created, modified string
	version               int64
	attrs                 string
}

func (f fixedRow) Scan(dest ...any) error {
	*dest[0].(*string), *dest[1].(*string), *dest[2].(*string) = f.id, f.created, f.modified
	*dest[3].(*int64), *dest[4].(*string) = f.version, f.attrs
	return nil
}

// pageQuery returns the query for one page of q's resources, whose
// conditions are cond; its last two arguments are the count and offset.
func pageQuery(cond string, q store.Query) string {
	return `SELECT ` + resourceColumns + ` FROM resources r WHERE ` + cond + ` ORDER BY ` + orderBy(q) + ` LIMIT ? OFFSET ?`
}
