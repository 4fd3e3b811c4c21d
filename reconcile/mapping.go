package reconcile

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/reconcile/source"
)

// Mapping says which SCIM attributes of a user the sync manages, and how
// each is computed from the source: a SCIM path (userName, name.givenName,
// emails[type eq "work"].value, or an extension's attribute by URN, such
// as urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department)
// to an expression (see Expr). externalId (the source's stable id) and
// active are always managed. Attributes the mapping does not name are
// never changed in the target.
type Mapping struct {
	Users map[string]string `yaml:"users"`
	// GroupName computes a group's displayName; default: the source's
	// group name.
	GroupName string `yaml:"groupName"`
	// PrimaryGroup maps a user's primary group (team) to a user
	// attribute of the target, for targets that keep one (SCIM has no
	// such attribute of its own).
	PrimaryGroup PrimaryGroup `yaml:"primaryGroup"`
	// Where says where each of Users' paths is written, as "file:line",
	// for errors that name the mapping line; package config fills it.
	Where map[string]string `yaml:"-"`
}

// PrimaryGroup is Mapping.PrimaryGroup: Path is the target's user
// attribute (any path Users may map, such as an extension's attribute),
// Value an expression over the primary group's fields (name, id, and the
// source's others; default: name). A user's primary group is the one the
// source user's field From names (by id or name), or, without From, the
// first of the source's groups the user is a direct member of, in the
// source's order; a user in no group gets none.
type PrimaryGroup struct {
	Path  string `yaml:"path"`
	Value string `yaml:"value"`
	From  string `yaml:"from"`
}

// DefaultMapping returns the users' mapping of a Mapping that maps none:
// the fields of LDAP's inetOrgPerson and Active Directory, and of files
// with the same column names. Each call returns a map of its own.
func DefaultMapping() Mapping {
	return Mapping{Users: map[string]string{
		"userName":                     "default(userName, mail, userPrincipalName, uid, sAMAccountName)",
		"displayName":                  "default(displayName, cn, join(\" \", givenName, default(sn, familyName)))",
		"name.givenName":               "default(givenName)",
		"name.familyName":              "default(familyName, sn)",
		`emails[type eq "work"].value`: "default(email, mail)",
		"title":                        "default(title)",
	}}
}

// Check parses the mapping's paths and expressions, as a plan would,
// without reading either side.
func (m Mapping) Check() error {
	_, err := m.compile()
	return err
}

// mapping is a Mapping with its paths and expressions parsed.
type mapping struct {
	users     []mapped
	groupName *Expr
	where     map[string]string // Mapping.Where
	// primaryFrom is PrimaryGroup.From; primary the primary group of
	// each source user by id, set by withGroups for one snapshot.
	primaryFrom string
	primary     map[string]*source.Group
}

type mapped struct {
	path attrPath
	expr *Expr
	// group says expr reads the user's primary group's fields (see
	// PrimaryGroup), not the user's.
	group bool
}

func (m Mapping) compile() (*mapping, error) {
	users := m.Users
	if users == nil {
		users = DefaultMapping().Users
	}
	out := &mapping{where: m.Where}
	for _, p := range slices.Sorted(maps.Keys(users)) {
		path, err := parseAttrPath(p)
		if err != nil {
			return nil, err
		}
		if err := mappable(path); err != nil {
			return nil, err
		}
		e, err := ParseExpr(users[p])
		if err != nil {
			return nil, fmt.Errorf("mapping of %s: %w", p, err)
		}
		out.users = append(out.users, mapped{path: path, expr: e})
	}
	if pg := m.PrimaryGroup; pg.Path != "" || pg.Value != "" || pg.From != "" {
		if pg.Path == "" {
			return nil, fmt.Errorf("mapping: primaryGroup needs a path (the target's user attribute)")
		}
		path, err := parseAttrPath(pg.Path)
		if err != nil {
			return nil, fmt.Errorf("mapping of primaryGroup: %w", err)
		}
		if err := mappable(path); err != nil {
			return nil, fmt.Errorf("mapping of primaryGroup: %w", err)
		}
		if slices.ContainsFunc(out.users, func(m mapped) bool { return m.path.String() == path.String() }) {
			return nil, fmt.Errorf("mapping: primaryGroup's path %s is mapped in users too", pg.Path)
		}
		e, err := ParseExpr(cmp.Or(pg.Value, "name"))
		if err != nil {
			return nil, fmt.Errorf("mapping of primaryGroup: %w", err)
		}
		out.users = append(out.users, mapped{path: path, expr: e, group: true})
		out.primaryFrom = pg.From
	}
	if !slices.ContainsFunc(out.users, func(m mapped) bool { return m.path.String() == "userName" }) {
		return nil, fmt.Errorf("mapping: userName must be mapped")
	}
	gn := m.GroupName
	if gn == "" {
		gn = "name"
	}
	e, err := ParseExpr(gn)
	if err != nil {
		return nil, fmt.Errorf("mapping of groupName: %w", err)
	}
	out.groupName = e
	return out, nil
}

// mappable returns an error if a path is one the sync cannot map: one it
// manages itself (externalId, active) or the target does (id, meta,
// groups), or a password.
func mappable(p attrPath) error {
	switch strings.ToLower(attrPath{urn: p.urn, attr: p.attr}.String()) {
	case "externalid", "active", "id", "meta", "groups", "password":
		return fmt.Errorf("mapping: %s cannot be mapped (the sync manages externalId and active itself; the target, id, meta and groups)", p)
	}
	return nil
}

// user returns the values the target user should have, by path.
func (m *mapping) user(u source.User) map[string]string {
	out := make(map[string]string, len(m.users))
	for _, mp := range m.users {
		if mp.group {
			if g := m.primary[u.ID]; g != nil {
				out[mp.path.String()] = mp.expr.Eval(g.ID, groupFields(*g))
			} else {
				out[mp.path.String()] = ""
			}
			continue
		}
		out[mp.path.String()] = mp.expr.Eval(u.ID, u.Attributes)
	}
	return out
}

// withGroups works out each source user's primary group in snap, when
// the mapping maps one.
func (m *mapping) withGroups(snap *source.Snapshot) {
	if !slices.ContainsFunc(m.users, func(mp mapped) bool { return mp.group }) {
		return
	}
	m.primary = map[string]*source.Group{}
	byKey := map[string]*source.Group{}
	for i := range snap.Groups {
		g := &snap.Groups[i]
		for _, id := range g.Members {
			if m.primary[id] == nil {
				m.primary[id] = g
			}
		}
		byKey[strings.ToLower(g.ID)] = g
		if byKey[strings.ToLower(g.Name)] == nil {
			byKey[strings.ToLower(g.Name)] = g
		}
	}
	if m.primaryFrom == "" {
		return
	}
	for _, u := range snap.Users {
		if g := byKey[strings.ToLower(source.Get(u.Attributes, m.primaryFrom))]; g != nil {
			m.primary[u.ID] = g
		} else {
			delete(m.primary, u.ID)
		}
	}
}

// groupFields returns a group's fields for an expression: name, and the
// source's others.
func groupFields(g source.Group) map[string][]string {
	attrs := map[string][]string{"name": {g.Name}}
	for k, v := range g.Attributes {
		attrs[k] = v
	}
	return attrs
}

// group returns a group's displayName.
func (m *mapping) group(g source.Group) string {
	return m.groupName.Eval(g.ID, groupFields(g))
}

// attrPath is a path the mapping may name: [urn:]attr[[type eq "t"]][.sub].
type attrPath struct {
	urn, attr, typ, sub string
}

var pathRE = regexp.MustCompile(`^(?:(urn:[^\[\]"]+):)?([A-Za-z$][\w$-]*)(?:\[type eq "([^"]*)"\])?(?:\.([A-Za-z$][\w$-]*))?$`)

func parseAttrPath(s string) (attrPath, error) {
	m := pathRE.FindStringSubmatch(s)
	if m == nil {
		return attrPath{}, fmt.Errorf("mapping: %q is not a path the sync can map (attr, attr.sub, attr[type eq \"t\"].sub, with an optional schema URN)", s)
	}
	p := attrPath{urn: m[1], attr: m[2], typ: m[3], sub: m[4]}
	if p.typ != "" && p.sub == "" {
		p.sub = "value"
	}
	return p, nil
}

// String returns the path in SCIM PATCH syntax.
func (p attrPath) String() string {
	s := p.attr
	if p.urn != "" {
		s = p.urn + ":" + s
	}
	if p.typ != "" {
		s += `[type eq "` + p.typ + `"]`
	}
	if p.sub != "" {
		s += "." + p.sub
	}
	return s
}

// removal returns the path a PATCH removes to clear the path's value.
// The value of a typed element (emails[type eq "work"].value) is what the
// element is for: the element goes whole, rather than stay as an email
// without an address.
func (p attrPath) removal() string {
	if p.typ != "" && p.sub == "value" {
		p.sub = ""
	}
	return p.String()
}

// multiValued returns the path of the multi-valued attribute a typed
// path names an element of: emails for emails[type eq "work"].value.
func (p attrPath) multiValued() string {
	return attrPath{urn: p.urn, attr: p.attr}.String()
}

// element returns the typed element a typed path names a sub-attribute
// of, as addresses[type eq "work"]: the key by which a plan says the
// target lacks it (UserChange.Absent); "" for a path without a type.
func (p attrPath) element() string {
	if p.typ == "" {
		return ""
	}
	return attrPath{urn: p.urn, attr: p.attr, typ: p.typ}.String()
}

// get returns the path's value in a resource as JSON decodes it, as a
// string ("" when absent), and, for a typed path, whether the resource
// holds an element of its type (with this value or not). Of several
// elements of the type, the first is read.
func (p attrPath) get(res map[string]any) (value string, element bool) {
	obj := res
	if p.urn != "" {
		ext, _ := lookup(res, p.urn).(map[string]any)
		if ext == nil {
			return "", false
		}
		obj = ext
	}
	v := lookup(obj, p.attr)
	if p.typ != "" {
		list, _ := v.([]any)
		v = nil
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				if t, _ := lookup(m, "type").(string); strings.EqualFold(t, p.typ) {
					v, element = m, true
					break
				}
			}
		}
	}
	if p.sub != "" {
		m, _ := v.(map[string]any)
		v = lookup(m, p.sub)
	}
	return text(v), element
}

// set puts the path's value into a resource being built for a create.
func (p attrPath) set(res map[string]any, value string) {
	obj := res
	if p.urn != "" {
		ext, _ := res[p.urn].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
			res[p.urn] = ext
		}
		obj = ext
	}
	switch {
	case p.typ != "":
		// Every sub-value of one type goes into one element: two mapped
		// sub-attributes (.locality, .postalCode) are one address.
		list, _ := obj[p.attr].([]any)
		for _, e := range list {
			if m, ok := e.(map[string]any); ok && m["type"] == p.typ {
				m[p.sub] = value
				return
			}
		}
		elem := map[string]any{"type": p.typ, p.sub: value}
		if len(list) == 0 {
			elem["primary"] = true
		}
		obj[p.attr] = append(list, elem)
	case p.sub != "":
		m, _ := obj[p.attr].(map[string]any)
		if m == nil {
			m = map[string]any{}
			obj[p.attr] = m
		}
		m[p.sub] = value
	default:
		obj[p.attr] = value
	}
}

func lookup(m map[string]any, k string) any {
	if v, ok := m[k]; ok {
		return v
	}
	for key, v := range m {
		if strings.EqualFold(key, k) {
			return v
		}
	}
	return nil
}

func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// checkFields returns an error naming the mapped paths whose expression
// reads, outside default(…), a field no source user has: a misspelt
// field would otherwise clear the attribute for everyone. A source
// without users is not checked.
func checkFields(snap *source.Snapshot, m *mapping, where map[string]string) error {
	if len(snap.Users) == 0 {
		return nil
	}
	// The source's field names, in lower case, read once a mapping reads
	// a field outside default(…).
	var has map[string]bool
	present := func(field string) bool {
		if has == nil {
			has = map[string]bool{}
			for _, u := range snap.Users {
				for k := range u.Attributes {
					has[strings.ToLower(k)] = true
				}
			}
		}
		return has[strings.ToLower(field)]
	}
	var problems []string
	for _, mp := range m.users {
		if mp.group {
			continue
		}
		for _, f := range mp.expr.required() {
			if present(f) {
				continue
			}
			line := "mapping " + mp.path.String()
			if w := lookupWhere(where, mp.path.String()); w != "" {
				line = w + ": " + line
			}
			problems = append(problems, fmt.Sprintf("%s: no source user has a field %s (write default(%s) if some may lack it on purpose)", line, f, f))
		}
	}
	if f := m.primaryFrom; f != "" && !present(f) {
		problems = append(problems, fmt.Sprintf("mapping primaryGroup.from: no source user has a field %s", f))
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("sync: the mapping reads fields the source does not have; nothing was changed:\n  %s", strings.Join(problems, "\n  "))
}
