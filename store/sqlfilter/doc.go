// Package sqlfilter translates SCIM filters and sorts into SQL conditions
// on the resources table, once for every SQL dialect; a Dialect supplies
// the SQL of the leaves: how a value is read from the JSON of a resource,
// how it is compared with a literal, and which of the dialect's columns
// and indexes answer a comparison. The walk of the filter, which branch a
// comparison takes, which filters are rejected, and how the values of
// meta, members and groups are reached are here, so that the stores of
// every dialect select the same resources, exactly those filter.Match
// selects.
//
// A store calls Where and OrderBy with its dialect:
//
//	cond, args, err := sqlfilter.Where(dialect{}, q.Filter, q.Type, []any{dir, q.Type.Name})
//	if err != nil {
//		return err
//	}
//	query := `SELECT r.id FROM resources r WHERE r.directory_id = $1 AND r.type = $2 AND (` + cond + `)` +
//		` ORDER BY ` + sqlfilter.OrderBy(dialect{}, q)
package sqlfilter
