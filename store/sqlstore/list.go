package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/store"
)

// List implements store.Store. The filter becomes a WHERE clause and the
// sort an ORDER BY (see Dialect), so only the page's rows are read.
func (s *Store) List(ctx context.Context, dir string, q store.Query) (store.Page, error) {
	sp, err := s.list(ctx, dir, q)
	if err != nil {
		return store.Page{}, s.errorf("list "+q.Type.Name, err)
	}
	page := store.Page{Total: sp.Total, Next: sp.Next, Spent: sp.Spent, Resources: make([]*resource.Resource, len(sp.Resources))}
	for i, st := range sp.Resources {
		if page.Resources[i], err = decodeStored(st); err != nil {
			return store.Page{}, s.errorf("list "+q.Type.Name, err)
		}
	}
	return page, nil
}

// ListStored implements store.StoredReader.
func (s *Store) ListStored(ctx context.Context, dir string, q store.Query) (store.StoredPage, error) {
	page, err := s.list(ctx, dir, q)
	if err != nil {
		return store.StoredPage{}, s.errorf("list "+q.Type.Name, err)
	}
	return page, nil
}

func (s *Store) list(ctx context.Context, dir string, q store.Query) (store.StoredPage, error) {
	var page store.StoredPage
	if s.checkText(dir) != nil {
		return page, nil
	}
	// The selection runs under the query's budget, the members and groups
	// of the page (read after it) under ctx alone.
	sctx := ctx
	if q.Budget > 0 && (q.Filter != nil || q.SortBy.Attr != nil) {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeoutCause(ctx, q.Budget, store.ErrOverBudget)
		defer cancel()
	}
	start := time.Now()
	page, inGroups, err := s.selectPage(sctx, dir, q)
	page.Spent = time.Since(start)
	if err != nil {
		if ctx.Err() == nil && errors.Is(context.Cause(sctx), store.ErrOverBudget) {
			return page, fmt.Errorf("the selection ran for %v: %w", q.Budget, store.ErrOverBudget)
		}
		return page, err
	}
	if q.Members && q.Type.Schema.Attribute("groups") != nil {
		return page, setComputed(inGroups, func(users []*resource.Resource) error {
			return s.withGroups(ctx, s.d.Reader(), dir, users, true)
		})
	}
	if !q.Members {
		return page, nil // nothing computed to show
	}
	return page, setComputed(page.Resources, func(page []*resource.Resource) error {
		return s.pageComputed(ctx, dir, page, true)
	})
}

// selectPage reads the page of resources q selects in dir, and the total
// if it needs a count, but not their members and groups; when q wants a
// user's groups, it returns the users of the page that are in a group.
func (s *Store) selectPage(ctx context.Context, dir string, q store.Query) (page store.StoredPage, inGroups []*resource.Stored, err error) {
	cond, args := "r.directory_id = $1 AND r.type = $2", []any{dir, q.Type.Name}
	if q.Filter != nil {
		w, wargs, err := s.d.Where(q.Filter, q.Type, args)
		if err != nil {
			return page, nil, err
		}
		cond += " AND (" + w + ")"
		args = wargs
	}
	db := s.d.Reader()
	countCond, countArgs := cond, args[:len(args):len(args)]
	count := func() error {
		return db.QueryRow(ctx, `SELECT count(*) FROM resources r WHERE `+countCond, countArgs...).Scan(&page.Total)
	}
	if q.Count <= 0 {
		return page, nil, count()
	}
	var orderBy string
	limit, offset := q.Count, max(q.StartIndex, 1)-1
	if q.Cursor {
		after := int64(0)
		if q.After != "" {
			n, err := strconv.ParseInt(q.After, 10, 64)
			if err != nil {
				return page, nil, fmt.Errorf("position %q: %w", q.After, store.ErrNotFound)
			}
			after = n
		}
		// Keyset pagination on seq, one row more than asked to know
		// whether more follow.
		args = append(args, after)
		cond += ` AND r.seq > $` + strconv.Itoa(len(args))
		orderBy, limit, offset = "r.seq", q.Count+1, 0
	} else {
		if orderBy, err = s.d.OrderBy(q); err != nil {
			return page, nil, err
		}
	}
	// A user's groups take a query of their own (nested groups are
	// recursion), which the page's query says whom to run it for: a page
	// of users in no group (an Okta lookup by userName, as a rule) costs
	// one statement.
	groups := q.Members && q.Type.Schema.Attribute("groups") != nil
	columns := `r.seq, ` + resourceColumns
	if groups {
		columns += `, ` + inGroupsColumn
	}
	query := pageQuery(columns, cond, orderBy, len(args))
	if s.d.Materialize(q) {
		query = materializedPageQuery(columns, cond, orderBy, len(args))
	}
	args = append(args, limit, offset)
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return page, nil, err
	}
	defer rows.Close()
	var last int64
	for rows.Next() {
		if q.Cursor && len(page.Resources) == q.Count {
			page.Next = strconv.FormatInt(last, 10)
			break
		}
		var seq int64
		var in bool
		var row Row = rows
		if groups {
			row = suffixed{rows, &in}
		}
		r, err := scanStored(q.Type, prefixed{row, &seq})
		if err != nil {
			return page, nil, err
		}
		last = seq
		page.Resources = append(page.Resources, r)
		if in {
			inGroups = append(inGroups, r)
		}
	}
	if err := rows.Err(); err != nil {
		return page, nil, err
	}
	rows.Close()
	// A page that is not full ends the list, so it tells the total without
	// a second pass over what the filter selects (a userName eq, as Okta
	// and Entra look a user up, is one row or none): the rows before it
	// and its own. A cursor page's position is a seq, which counts nothing.
	n := len(page.Resources)
	switch {
	case q.Cursor && q.After == "" && page.Next == "":
		page.Total = n
	case !q.Cursor && n < q.Count && (n > 0 || offset == 0):
		page.Total = offset + n
	case q.NoTotal:
	default:
		if err := count(); err != nil {
			return page, nil, err
		}
	}
	return page, inGroups, nil
}

// inGroupsColumn says whether the resource r is a member of any group.
const inGroupsColumn = `EXISTS (SELECT 1 FROM members m WHERE m.directory_id = r.directory_id AND m.member_id = r.id)`

// prefixed is a row whose first column goes to first, the rest to the
// destinations its Scan is given.
type prefixed struct {
	row   Row
	first any
}

func (p prefixed) Scan(dest ...any) error { return p.row.Scan(append([]any{p.first}, dest...)...) }

// suffixed is a row whose last column goes to last, the others to the
// destinations its Scan is given.
type suffixed struct {
	row  Row
	last any
}

func (s suffixed) Scan(dest ...any) error { return s.row.Scan(append(dest, s.last)...) }

// PageQuery returns the query List runs for a page of resources: those
// the condition cond selects, in the order orderBy, its count and offset
// the two arguments after the n that cond takes.
func PageQuery(cond, orderBy string, n int) string {
	return pageQuery(`r.seq, `+resourceColumns, cond, orderBy, n)
}

// MaterializedPageQuery is PageQuery written so that the database finds
// and sorts every row of the page before it returns the first: the seqs
// of the page are a MATERIALIZED common table expression, whose rows are
// then read by seq and sorted again (a page at most). It is for a
// database whose driver stops a query whose context ends only while it
// waits for the first row (see Dialect.Materialize). Sorting seqs
// alone, not the rows, also makes it no slower.
func MaterializedPageQuery(cond, orderBy string, n int) string {
	return materializedPageQuery(`r.seq, `+resourceColumns, cond, orderBy, n)
}

func materializedPageQuery(columns, cond, orderBy string, n int) string {
	return `WITH page AS MATERIALIZED (` + pageQuery("r.seq", cond, orderBy, n) + `) SELECT ` + columns +
		` FROM page CROSS JOIN resources r WHERE r.seq = page.seq ORDER BY ` + orderBy
}

func pageQuery(columns, cond, orderBy string, n int) string {
	return `SELECT ` + columns + ` FROM resources r WHERE ` + cond +
		` ORDER BY ` + orderBy + ` LIMIT $` + strconv.Itoa(n+1) + ` OFFSET $` + strconv.Itoa(n+2)
}
