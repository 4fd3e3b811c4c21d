package sqlite

import (
	"fmt"
	"strings"

	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// orderBy returns the ORDER BY terms for q: the sort value with missing
// values last (first when descending, the exact reverse, as
// resource.Compare orders them), then insertion order for stable pages.
func orderBy(q store.Query) string {
	dir := ""
	if q.Descending {
		dir = " DESC"
	}
	if q.SortBy.Attr == nil {
		if q.Filter != nil {
			// "+" keeps SQLite from walking the seq index to avoid a sort,
			// which scans the directory when the filter has an index of its
			// own (userName eq): sorting the few matches is cheaper.
			return "+r.seq" + dir
		}
		return "r.seq" + dir
	}
	x, folded := sortValue(q.Type, q.SortBy)
	terms := []string{"(" + x + ") IS NULL" + dir}
	if folded != "" {
		terms = append(terms, folded+dir)
	}
	terms = append(terms, x+dir, "r.seq"+dir)
	return strings.Join(terms, ", ")
}

// sortValue returns the SQL value a resource sorts by and, for a string
// compared case-insensitively, its folded form to sort by first.
func sortValue(rt *schema.ResourceType, ref schema.Ref) (value, folded string) {
	leaf := ref.Leaf()
	if leaf.Type == schema.Complex {
		if leaf = leaf.SubAttribute("value"); leaf == nil {
			return "NULL", ""
		}
		ref.Sub = leaf
	}
	if ref.Extension == "" && ref.Sub == nil {
		switch ref.Attr.Name {
		case "id":
			return "r.id", ""
		case "externalId":
			return "r.external_id", ""
		case store.NameAttr(rt):
			return "r.name", "r.name_key"
		}
	}
	if ref.Extension == "" && ref.Attr.Name == "meta" {
		switch ref.Sub.Name {
		case "created":
			return "r.created", ""
		case "lastModified":
			return "r.last_modified", ""
		case "resourceType":
			return "r.type", ""
		case "version":
			return "r.version", ""
		}
		return "NULL", ""
	}
	var sub string
	if ref.Sub != nil {
		sub = ref.Sub.Name
	}
	path, err1 := jsonPath(ref.Extension, ref.Attr.Name)
	elem, err2 := jsonPath(sub)
	full, err3 := jsonPath(ref.Extension, ref.Attr.Name, sub)
	if err1 != nil || err2 != nil || err3 != nil {
		return "NULL", ""
	}
	switch {
	case ref.Attr.MultiValued:
		// The primary value's, else the first's (RFC 7644 §3.4.2.3).
		value = fmt.Sprintf(`COALESCE((SELECT json_extract(e.value, %s) FROM json_each(r.attrs, %s) e
			WHERE json_extract(e.value, '$."primary"') = 1 LIMIT 1), (SELECT json_extract(e.value, %s) FROM json_each(r.attrs, %s) e LIMIT 1))`,
			elem, path, elem, path)
	default:
		value = fmt.Sprintf(`json_extract(r.attrs, %s)`, full)
	}
	if leaf.Type == schema.DateTime {
		return "scim_instant(" + value + ")", ""
	}
	if (leaf.Type == schema.String || leaf.Type == schema.Reference) && !leaf.CaseExact {
		return value, "scim_lower(" + value + ")"
	}
	return value, ""
}
