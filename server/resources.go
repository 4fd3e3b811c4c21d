package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// readBody reads a request body of an accepted content type, within the
// size limit.
func (s *server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" && mt != contentType {
			return nil, scim.Errorf(http.StatusUnsupportedMediaType, "", "Content-Type %q is not application/scim+json or application/json", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if err != nil && !errors.As(err, &tooBig) {
		return nil, newBrokenBody(err)
	}
	return body, err
}

// options returns the options to decode a request's body with, and a
// function to call once it is decoded. In lenient mode (not Strict), what
// decoding ignores (schema URNs and attributes the resource type does not
// define, such as Entra's ADSCIM schema and custom extensions) is logged at
// debug level, in one line per request, when the logger logs debug lines.
func (s *server) options(r *http.Request) (opts resource.Options, done func()) {
	opts.Strict = s.Strict
	if s.Strict || !s.Logger.Enabled(r.Context(), slog.LevelDebug) {
		return opts, func() {}
	}
	var ignored []string
	more := 0
	opts.Ignored = func(name string) {
		if len(ignored) == maxIgnoredLogged {
			more++
			return
		}
		if len(name) > 200 {
			name = name[:200] + "…"
		}
		ignored = append(ignored, name)
	}
	return opts, func() {
		if len(ignored) > 0 {
			s.Logger.DebugContext(r.Context(), "ignored what the schemas do not define", "method", r.Method, "path", r.URL.Path,
				"names", ignored, "more", more)
		}
	}
}

// maxIgnoredLogged bounds the names one request's debug line lists: a
// body of a megabyte may name tens of thousands.
const maxIgnoredLogged = 20

// projection reads the attributes and excludedAttributes parameters.
func projection(r *http.Request, rt *schema.ResourceType) (*resource.Projection, error) {
	q := r.URL.Query()
	return resource.NewProjection(rt, q["attributes"], q["excludedAttributes"])
}

// wantsMembers reports whether a response with projection p shows the
// computed membership attribute of its type (a group's members, a user's
// groups), so the store loads them only then.
func wantsMembers(rt *schema.ResourceType, p *resource.Projection) bool {
	for _, name := range []string{"members", "groups"} {
		if a := rt.Schema.Attribute(name); a != nil {
			return p.Includes(schema.Ref{Attr: a})
		}
	}
	return false
}

// writeResource answers with one resource, its ETag and, for a create, its
// Location.
func (s *server) writeResource(w http.ResponseWriter, r *http.Request, status int, res *resource.Resource, p *resource.Projection) {
	location := s.locate(s.baseURL(r), res, p)
	w.Header().Set("ETag", res.Version())
	if status == http.StatusCreated {
		w.Header().Set("Location", location)
	}
	writeBody(w, status, res.AppendJSON(nil, p))
}

// locate sets what a response shows that the store does not keep because
// it depends on the URL the API is served at (base, from baseURL): the
// resource's meta.location, and the $ref of each member of a group and
// each group of a user (RFC 7643 §4.1.2, §4.2), <base>/Users/<id> or
// <base>/Groups/<id>. A client's $ref is never stored: what a response
// shows is always the server's. $refs the projection p leaves out are not
// built, so that a 50,000-member group costs no URLs nobody reads. It
// returns the location.
func (s *server) locate(base string, res *resource.Resource, p *resource.Projection) string {
	location := base + res.Type.Endpoint + "/" + res.ID()
	res.SetLocation(location)
	s.setRefs(base, res.Type, res.Attrs, p)
	return location
}

// setRefs sets the $ref of each member of a group and each group of a
// user in attrs, a resource of type rt, for locate.
func (s *server) setRefs(base string, rt *schema.ResourceType, attrs map[string]any, p *resource.Projection) {
	for _, name := range []string{"members", "groups"} {
		a := rt.Schema.Attribute(name)
		list, _ := attrs[name].([]any)
		if a == nil || a.SubAttribute("$ref") == nil || len(list) == 0 || !p.Includes(schema.Ref{Attr: a, Sub: a.SubAttribute("$ref")}) {
			continue
		}
		// A member's type names its resource type (User when it names
		// none, as the store reads it); a user's groups are Groups.
		prefixes := map[string]string{}
		prefix := func(typ string) string {
			switch {
			case name == "groups":
				typ = "Group"
			case typ == "":
				typ = "User"
			}
			pre, ok := prefixes[typ]
			if !ok {
				if rt := s.Registry.ResourceType(typ); rt != nil {
					pre = base + rt.Endpoint + "/"
				}
				prefixes[typ] = pre
			}
			return pre
		}
		for _, v := range list {
			el, _ := v.(map[string]any)
			id, _ := el["value"].(string)
			typ, _ := el["type"].(string)
			if pre := prefix(typ); id != "" && pre != "" {
				el["$ref"] = pre + id
			} else {
				delete(el, "$ref")
			}
		}
	}
}

func (s *server) create(w http.ResponseWriter, r *http.Request, req request) error {
	p, err := projection(r, req.rt)
	if err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	opts, decoded := s.options(r)
	res, err := resource.Decode(req.rt, body, opts)
	decoded()
	if err != nil {
		return err
	}
	// Hashed once the name is known to be free: the hash costs on
	// purpose, and a thousand creates of a taken name (one bulk request)
	// must not cost a thousand hashes.
	if _, ok := res.Attrs["password"].(string); ok {
		if err := s.checkNameFree(r.Context(), req.dir, res); err != nil {
			return err
		}
		if err := s.hashPassword(r.Context(), res); err != nil {
			return err
		}
	}
	created, err := s.Store.Create(r.Context(), req.dir, res)
	if err != nil {
		return err
	}
	s.writeResource(w, r, http.StatusCreated, created, p)
	return nil
}

func (s *server) get(w http.ResponseWriter, r *http.Request, req request) error {
	p, err := projection(r, req.rt)
	if err != nil {
		return err
	}
	members := wantsMembers(req.rt, p)
	if done, err := s.getStored(w, r, req, p, members); done || err != nil {
		return err
	}
	res, err := s.Store.Get(r.Context(), req.dir, req.rt, r.PathValue("id"), members)
	if err != nil {
		return err
	}
	if etagMatches(r.Header.Get("If-None-Match"), res.Version()) {
		w.Header().Set("ETag", res.Version())
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	s.writeResource(w, r, http.StatusOK, res, p)
	return nil
}

// listPage returns the page q selects, with the JSON of its resources under
// projection p: written from their stored JSON when the store reads them
// so (store.StoredReader), else encoded. The page's Resources are left
// empty.
func (s *server) listPage(r *http.Request, req request, q store.Query, p *resource.Projection) (store.Page, []json.RawMessage, error) {
	base := s.baseURL(r)
	sr, ok := s.Store.(store.StoredReader)
	if !ok {
		page, err := s.Store.List(r.Context(), req.dir, q)
		if err != nil {
			return page, nil, err
		}
		resources := make([]json.RawMessage, len(page.Resources))
		for i, res := range page.Resources {
			s.locate(base, res, p)
			resources[i] = res.AppendJSON(nil, p)
		}
		page.Resources = nil
		return page, resources, nil
	}
	sp, err := sr.ListStored(r.Context(), req.dir, q)
	if err != nil {
		return store.Page{}, nil, err
	}
	resources := make([]json.RawMessage, len(sp.Resources))
	for i, st := range sp.Resources {
		if resources[i], err = s.storedJSON(base, st, p); err != nil {
			return store.Page{}, nil, err
		}
	}
	return store.Page{Total: sp.Total, Next: sp.Next}, resources, nil
}

// storedJSON returns the JSON of a resource read as stored, under
// projection p, with the URLs of the API at base: written from its
// stored JSON, or, where that declines, decoded and encoded.
func (s *server) storedJSON(base string, st *resource.Stored, p *resource.Projection) ([]byte, error) {
	s.setRefs(base, st.Type, st.Computed, p)
	if b, ok := st.AppendJSON(nil, p, base+st.Type.Endpoint+"/"+st.ID); ok {
		return b, nil
	}
	res, err := st.Decode()
	if err != nil {
		return nil, fmt.Errorf("stored attributes of %s %q: %w", st.Type.Name, st.ID, err)
	}
	s.locate(base, res, p)
	return res.AppendJSON(nil, p), nil
}

// getStored answers a GET from the resource as the store keeps it,
// without decoding its attributes, when the store can read it so
// (store.StoredReader). It reports false when it did not answer.
func (s *server) getStored(w http.ResponseWriter, r *http.Request, req request, p *resource.Projection, members bool) (done bool, err error) {
	sg, ok := s.Store.(store.StoredReader)
	if !ok {
		return false, nil
	}
	st, err := sg.GetStored(r.Context(), req.dir, req.rt, r.PathValue("id"), members)
	if err != nil {
		return false, err
	}
	if etagMatches(r.Header.Get("If-None-Match"), st.Meta.Version) {
		w.Header().Set("ETag", st.Meta.Version)
		w.WriteHeader(http.StatusNotModified)
		return true, nil
	}
	body, err := s.storedJSON(s.baseURL(r), st, p)
	if err != nil {
		return false, err
	}
	w.Header().Set("ETag", st.Meta.Version)
	writeBody(w, http.StatusOK, body)
	return true, nil
}

// etagMatches reports whether an If-None-Match or If-Match header value
// lists the version (weak comparison, RFC 9110 §8.8.3.2) or is "*".
func etagMatches(header, version string) bool {
	if header == "" {
		return false
	}
	weak := func(t string) string { return strings.TrimPrefix(strings.TrimSpace(t), "W/") }
	for _, t := range strings.Split(header, ",") {
		if strings.TrimSpace(t) == "*" || weak(t) == weak(version) {
			return true
		}
	}
	return false
}

// ifMatch returns the version a write must find, from If-Match: the one
// tag, weakened (RFC 9110 §13.1.1 compares If-Match tags weakly here as
// meta.version is weak); for a list of tags, the resource's current
// version if the list names it, else ErrPreconditionFailed; "" when there
// is no header or it is "*".
func (s *server) ifMatch(r *http.Request, req request) (string, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return "", nil
	}
	if !strings.Contains(h, ",") {
		// One tag, the usual case: the store compares it, no read needed.
		return `W/` + strings.TrimPrefix(h, "W/"), nil
	}
	cur, err := s.Store.Get(r.Context(), req.dir, req.rt, r.PathValue("id"), false)
	if err != nil {
		return "", err
	}
	if etagMatches(h, cur.Version()) {
		return cur.Version(), nil
	}
	return "", store.ErrPreconditionFailed
}

func (s *server) replace(w http.ResponseWriter, r *http.Request, req request) error {
	p, err := projection(r, req.rt)
	if err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	opts, decoded := s.options(r)
	incoming, err := resource.Decode(req.rt, body, opts)
	decoded()
	if err != nil {
		return err
	}
	version, err := s.ifMatch(r, req)
	if err != nil {
		return err
	}
	// PUT keeps what the stored resource has and the client cannot send
	// (id, meta, groups, the password hash), so it reads the resource and
	// writes on condition that it did not change in between. Without a
	// client If-Match, a change in between is not the client's concern:
	// read and try again.
	old, err := s.Store.Get(r.Context(), req.dir, req.rt, r.PathValue("id"), false)
	if err != nil {
		return err
	}
	// Hashed once the resource is known to exist: the hash costs on purpose.
	if err := s.hashPassword(r.Context(), incoming); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if old, err = s.Store.Get(r.Context(), req.dir, req.rt, r.PathValue("id"), false); err != nil {
				return err
			}
		}
		next, err := resource.Replace(old, incoming)
		if err != nil {
			return err
		}
		cond := version
		if cond == "" {
			cond = old.Meta().Version
		}
		stored, err := s.Store.Replace(r.Context(), req.dir, next, cond)
		if errors.Is(err, store.ErrPreconditionFailed) && version == "" && attempt < 100 {
			continue
		}
		if err != nil {
			return err
		}
		s.writeResource(w, r, http.StatusOK, stored, p)
		return nil
	}
}

func (s *server) patch(w http.ResponseWriter, r *http.Request, req request) error {
	p, err := projection(r, req.rt)
	if err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	opts, decoded := s.options(r)
	pr, err := patch.Parse(req.rt, body, opts)
	decoded()
	if err != nil {
		return err
	}
	version, err := s.ifMatch(r, req)
	if err != nil {
		return err
	}
	if err := s.hashPatchPassword(r, req, pr); err != nil {
		return err
	}
	// A group's PATCH answers 204 unless the client asks for attributes,
	// so that a member change never serialises a 100,000-member list.
	isGroup := req.rt.Schema.Attribute("members") != nil
	body204 := isGroup && len(r.URL.Query()["attributes"]) == 0
	res, err := s.Store.Patch(r.Context(), req.dir, req.rt, r.PathValue("id"), pr, version, !body204 && wantsMembers(req.rt, p))
	if err != nil {
		return err
	}
	if body204 {
		w.Header().Set("ETag", res.Version())
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	s.writeResource(w, r, http.StatusOK, res, p)
	return nil
}

// hashPatchPassword replaces the password a PATCH sets by its hash, once
// the resource is known to exist. One password per request: each hash
// costs on purpose, so a request holding thousands must not make the
// server compute thousands.
func (s *server) hashPatchPassword(r *http.Request, req request, pr *patch.Request) error {
	found := -1
	for i, op := range pr.Operations {
		if a := op.Path.Attr.Ref.Attr; a != nil && op.Path.Attr.Ref.Extension == "" && a.Name == "password" && op.Value != nil {
			if found >= 0 {
				return scim.BadRequest(scim.InvalidValue, "a PATCH may set the password once")
			}
			found = i
		}
	}
	if found < 0 {
		return nil
	}
	pw, ok := pr.Operations[found].Value.(string)
	if !ok {
		return nil
	}
	if _, err := s.Store.Get(r.Context(), req.dir, req.rt, r.PathValue("id"), false); err != nil {
		return err
	}
	h, err := s.hash(r.Context(), pw)
	if err != nil {
		return err
	}
	pr.Operations[found].Value = h
	return nil
}

func (s *server) delete(w http.ResponseWriter, r *http.Request, req request) error {
	version, err := s.ifMatch(r, req)
	if err != nil {
		return err
	}
	if err := s.Store.Delete(r.Context(), req.dir, req.rt, r.PathValue("id"), version); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listParams are the parameters of a query (RFC 7644 §3.4.2), from the
// URL or a .search body.
type listParams struct {
	filter, sortBy, sortOrder      string
	startIndex, count              string
	attributes, excludedAttributes []string
	// cursor is set (possibly to "") when the client asks for cursor
	// pagination (RFC 9865).
	cursor *string
}

func (s *server) list(w http.ResponseWriter, r *http.Request, req request) error {
	q := r.URL.Query()
	lp := listParams{
		filter: q.Get("filter"), sortBy: q.Get("sortBy"), sortOrder: q.Get("sortOrder"),
		startIndex: q.Get("startIndex"), count: q.Get("count"),
		attributes: q["attributes"], excludedAttributes: q["excludedAttributes"],
	}
	if c, ok := q["cursor"]; ok {
		lp.cursor = &c[0]
	}
	return s.query(w, r, req, lp)
}

func (s *server) search(w http.ResponseWriter, r *http.Request, req request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var sr scim.SearchRequest
	if err := json.Unmarshal(body, &sr); err != nil {
		return scim.BadRequest(scim.InvalidSyntax, "the search request is not a valid SearchRequest object")
	}
	p := listParams{filter: sr.Filter, sortBy: sr.SortBy, sortOrder: sr.SortOrder,
		attributes: sr.Attributes, excludedAttributes: sr.ExcludedAttributes}
	if sr.StartIndex != 0 {
		p.startIndex = strconv.Itoa(sr.StartIndex)
	}
	if sr.Count != nil {
		p.count = strconv.Itoa(*sr.Count)
	}
	p.cursor = sr.Cursor
	return s.query(w, r, req, p)
}

func (s *server) query(w http.ResponseWriter, r *http.Request, req request, lp listParams) error {
	p, err := resource.NewProjection(req.rt, lp.attributes, lp.excludedAttributes)
	if err != nil {
		return err
	}
	q := store.Query{Type: req.rt, StartIndex: 1, Count: s.DefaultCount, Members: wantsMembers(req.rt, p), Budget: max(s.QueryBudget, 0)}
	if lp.filter != "" {
		if q.Filter, err = filter.Parse(lp.filter, req.rt); err != nil {
			return err
		}
	}
	if lp.sortBy != "" {
		if q.SortBy, err = req.rt.Resolve(lp.sortBy); err != nil || q.SortBy.Attr == nil {
			return scim.BadRequest(scim.InvalidValue, "sortBy %q is not an attribute of %s", lp.sortBy, req.rt.Name)
		}
	}
	switch strings.ToLower(lp.sortOrder) {
	case "", "ascending":
	case "descending":
		q.Descending = true
	default:
		return scim.BadRequest(scim.InvalidValue, "sortOrder must be ascending or descending, not %q", lp.sortOrder)
	}
	// RFC 7644 §3.4.2.4: a startIndex below 1 means 1, a negative count 0.
	if lp.startIndex != "" {
		n, err := strconv.Atoi(lp.startIndex)
		if err != nil {
			return scim.BadRequest(scim.InvalidValue, "startIndex must be an integer, not %q", lp.startIndex)
		}
		q.StartIndex = max(n, 1)
	}
	if lp.count != "" {
		n, err := strconv.Atoi(lp.count)
		if err != nil {
			return scim.BadRequest(scim.InvalidValue, "count must be an integer, not %q", lp.count)
		}
		q.Count = min(max(n, 0), s.MaxResults)
	}
	if lp.cursor != nil {
		if lp.sortBy != "" || lp.startIndex != "" {
			return scim.BadRequest(scim.InvalidValue, "cursor pagination does not take sortBy or startIndex")
		}
		q.Cursor = true
		if *lp.cursor != "" {
			if q.After, err = s.cursors.decode(r.Context(), *lp.cursor, req.dir, req.rt.Name, lp.filter); err != nil {
				return err
			}
		}
	}
	page, resources, err := s.listPage(r, req, q, p)
	if err != nil {
		return err
	}
	lr := scim.NewListResponse(page.Total, resources)
	lr.StartIndex = q.StartIndex
	if q.Cursor {
		lr.StartIndex = 0
		if page.Next != "" {
			if lr.NextCursor, err = s.cursors.encode(r.Context(), req.dir, req.rt.Name, lp.filter, page.Next); err != nil {
				return err
			}
		}
	}
	writeList(w, lr)
	return nil
}
