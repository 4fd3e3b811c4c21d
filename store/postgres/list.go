package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/store"
)

// List implements store.Store. The filter becomes a WHERE clause (see
// where) and the sort an ORDER BY, so only the page's rows are read.
func (s *Store) List(ctx context.Context, dir string, q store.Query) (store.Page, error) {
	page, err := s.list(ctx, dir, q)
	if err != nil {
		return page, fmt.Errorf("postgres: list %s: %w", q.Type.Name, classify(err))
	}
	return page, nil
}

func (s *Store) list(ctx context.Context, dir string, q store.Query) (store.Page, error) {
	var page store.Page
	if checkText(dir) != nil {
		return page, nil
	}
	cond, args := "r.directory_id = $1 AND r.type = $2", []any{dir, q.Type.Name}
	if q.Filter != nil {
		w, wargs, err := where(q.Filter, q.Type, args)
		if err != nil {
			return page, err
		}
		cond += " AND (" + w + ")"
		args = wargs
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM resources r WHERE `+cond, args...).Scan(&page.Total); err != nil {
		return page, err
	}
	if q.Count <= 0 || page.Total == 0 {
		return page, nil
	}
	var query string
	if q.Cursor {
		after := int64(0)
		if q.After != "" {
			n, err := strconv.ParseInt(q.After, 10, 64)
			if err != nil {
				return page, fmt.Errorf("position %q: %w", q.After, store.ErrNotFound)
			}
			after = n
		}
		// Keyset pagination on seq, one row more than asked to know
		// whether more follow.
		args = append(args, after, q.Count+1)
		query = `SELECT r.seq, ` + resourceColumns + ` FROM resources r WHERE ` + cond +
			` AND r.seq > $` + strconv.Itoa(len(args)-1) + ` ORDER BY r.seq LIMIT $` + strconv.Itoa(len(args))
	} else {
		args = append(args, q.Count, max(q.StartIndex, 1)-1)
		query = `SELECT r.seq, ` + resourceColumns + ` FROM resources r WHERE ` + cond +
			` ORDER BY ` + orderBy(q) + ` LIMIT $` + strconv.Itoa(len(args)-1) + ` OFFSET $` + strconv.Itoa(len(args))
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	var last int64
	for rows.Next() {
		if q.Cursor && len(page.Resources) == q.Count {
			page.Next = strconv.FormatInt(last, 10)
			break
		}
		var id string
		var created, modified time.Time
		var version int64
		var attrs []byte
		if err := rows.Scan(&last, &id, &created, &modified, &version, &attrs); err != nil {
			return page, err
		}
		r, err := decodeRow(q.Type, id, created, modified, version, attrs)
		if err != nil {
			return page, err
		}
		page.Resources = append(page.Resources, r)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	rows.Close()
	return page, s.pageComputed(ctx, dir, page.Resources, q.Members)
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
			if _, err := withComputed(ctx, s.pool, dir, r, members); err != nil {
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
	for i, r := range page {
		ids[i] = r.ID()
	}
	groups, err := groupsOf(ctx, s.pool, dir, ids)
	if err != nil {
		return fmt.Errorf("groups of a page: %w", err)
	}
	for _, r := range page {
		setOrDelete(r.Attrs, "groups", groups[r.ID()])
	}
	return nil
}
