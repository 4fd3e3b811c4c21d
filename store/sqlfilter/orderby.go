package sqlfilter

import (
	"strings"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// OrderBy returns the ORDER BY terms, in the SQL of the dialect d, that
// sort the resources r of q's type as q asks: by the sort value with
// missing values last (first when descending, the exact reverse, as
// resource.Compare orders them), then in creation order for stable pages.
// A sort by an attribute a client must never learn (password), which
// would tell who has one, is a *scim.Error 400 invalidValue.
func OrderBy[O any](d Dialect[O], q store.Query) (string, error) {
	dir := ""
	if q.Descending {
		dir = " DESC"
	}
	if q.SortBy.Attr == nil {
		if q.Filter != nil {
			// "+ 0" keeps the database from walking the seq index to skip
			// the sort, reading the directory until a page of rows match,
			// when the filter has an index of its own (userName eq):
			// sorting the matches is cheaper, and the count has read them
			// all anyway.
			return "r.seq + 0" + dir, nil
		}
		return "r.seq" + dir, nil
	}
	if secret(q.SortBy) {
		return "", scim.BadRequest(scim.InvalidValue, "sortBy %s: the attribute is never returned, so it cannot be sorted by", q.SortBy)
	}
	var terms []string
	for _, k := range sortKeys(d, q.Type, q.SortBy) {
		terms = append(terms, k+dir)
	}
	return strings.Join(append(terms, "r.seq"+dir), ", "), nil
}

// sortKeys returns the SQL values a resource sorts by, in order, as
// resource.Compare orders them (see Dialect.SortKeys): the value that
// resource.SortValue picks, for a multi-valued attribute the primary
// value's, else the first's (RFC 7644 §3.4.2.3), members and groups in the
// order the store returns them. A value the store does not keep has none.
func sortKeys[O any](d Dialect[O], rt *schema.ResourceType, ref schema.Ref) []string {
	leaf := ref.Leaf()
	if leaf.Type == schema.Complex {
		if leaf = leaf.SubAttribute("value"); leaf == nil {
			return nil
		}
		ref.Sub = leaf
	}
	a := ref.Attr
	switch {
	case isCommon(a) && a.Name == "id":
		return []string{"r.id"}
	case a == rt.Schema.Attribute(store.NameAttr(rt)):
		// name is "" when the attribute is missing, which sorts last.
		missing := "(r.name = '' AND " + d.Type(d.Attr("", a.Name)) + " IS NULL)"
		if a.CaseExact {
			return []string{missing, "r.name"}
		}
		return []string{missing, "r.name_key", "r.name"}
	case isCommon(a) && a.Name == "meta":
		col, kind := metaColumn(ref.Sub)
		switch {
		case col == "":
			return nil
		case kind == Computed:
			return d.SortKeys(d.Column(col, kind), leaf)
		}
		return []string{col} // a column orders as resource.Compare does
	case ref.Extension == "" && a.Name == "members":
		// The subqueries of members and groups are NULL when there are
		// none, which sorts last.
		if col := memberColumn("m", ref.Sub); col != "" {
			return d.SortKeys(d.Column("(SELECT "+col+" FROM "+membersFrom("m")+" ORDER BY m.member_id LIMIT 1)", Computed), leaf)
		}
		return nil
	case ref.Extension == "" && a.Name == "groups":
		if col, _ := groupColumn("g", ref.Sub); col != "" {
			groups := d.Groups("g", col, ref.Sub.Name == "display")
			return d.SortKeys(d.Column("("+groups+" ORDER BY gv.id LIMIT 1)", Computed), leaf)
		}
		return nil
	}
	if checkKeys(ref.Extension, a.Name) != nil || ref.Sub != nil && checkKeys(ref.Sub.Name) != nil {
		return nil
	}
	x := d.Attr(ref.Extension, a.Name)
	if a.MultiValued {
		x = d.Primary(x)
	}
	if ref.Sub != nil {
		x = d.Sub(x, ref.Sub.Name)
	}
	return d.SortKeys(x, leaf)
}
