package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/bulk"
	"github.com/rosterhq/roster/store"
)

// maxBulkOperations is the most operations one bulk request may carry
// (the ServiceProviderConfig says so).
const maxBulkOperations = 1000

// bulkRequest is the body of POST /Bulk (RFC 7644 §3.7).
type bulkRequest struct {
	Schemas      []string        `json:"schemas"`
	FailOnErrors int             `json:"failOnErrors"`
	Operations   []bulkOperation `json:"Operations"`
}

type bulkOperation struct {
	Method  string          `json:"method"`
	BulkID  string          `json:"bulkId,omitempty"`
	Version string          `json:"version,omitempty"`
	Path    string          `json:"path"`
	Data    json.RawMessage `json:"data,omitempty"`
}

type bulkResult struct {
	Method   string          `json:"method"`
	BulkID   string          `json:"bulkId,omitempty"`
	Version  string          `json:"version,omitempty"`
	Location string          `json:"location,omitempty"`
	Status   string          `json:"status"`
	Response json.RawMessage `json:"response,omitempty"`
}

// bulk carries out the operations of a bulk request in order, each as the
// request of its own would be (one transaction each; a bulk request is not
// atomic, as RFC 7644 §3.7 allows), replacing "bulkId:x" in paths and data
// with the id of the resource the operation with bulkId x created. It
// stops after failOnErrors failures, and when the request's context ends
// (the client went away: nobody reads the answer). Each operation counts
// as a request against the token's rate limit: the first is the bulk
// request's own, each other waits for its token, as long as the client
// waits, so that a bulk request costs the budget of as many requests.
func (s *server) bulk(w http.ResponseWriter, r *http.Request, req request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var br bulkRequest
	if err := json.Unmarshal(body, &br); err != nil {
		return scim.BadRequest(scim.InvalidSyntax, "the bulk request is not valid JSON: %v", err)
	}
	if len(br.Schemas) != 1 || br.Schemas[0] != scim.BulkRequestURN {
		return scim.BadRequest(scim.InvalidSyntax, "a bulk request's schemas must be [%q]", scim.BulkRequestURN)
	}
	if len(br.Operations) > maxBulkOperations {
		return scim.Errorf(http.StatusRequestEntityTooLarge, "", "a bulk request carries at most %d operations, not %d", maxBulkOperations, len(br.Operations))
	}
	ids := map[string]string{} // bulkId → the id of the resource created
	var results []bulkResult
	failures := 0
	tok, _ := r.Context().Value(tokenKey).(store.Token)
	for i, op := range br.Operations {
		if br.FailOnErrors > 0 && failures >= br.FailOnErrors {
			break
		}
		if i > 0 {
			if err := s.limits.wait(r.Context(), tok.ID); err != nil {
				return err
			}
		}
		if err := r.Context().Err(); err != nil {
			return err
		}
		res := s.bulkOperation(r, req, op, ids)
		if res.Status[0] != '2' {
			failures++
		}
		results = append(results, res)
	}
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{scim.BulkResponseURN}, "Operations": results})
	return nil
}

// bulkOperation carries out one operation through the handler its method
// and path name.
func (s *server) bulkOperation(r *http.Request, req request, op bulkOperation, ids map[string]string) bulkResult {
	method := strings.ToUpper(op.Method)
	res := bulkResult{Method: method, BulkID: op.BulkID}
	fail := func(e *scim.Error) bulkResult {
		res.Status = strconv.Itoa(e.Status)
		res.Response, _ = json.Marshal(e)
		return res
	}
	created := func(bulkID string) (string, bool) {
		id, ok := ids[bulkID]
		return id, ok
	}
	path, err := bulk.ResolvePath(op.Path, created)
	if err != nil {
		return fail(unresolved(err))
	}
	data := op.Data
	if len(data) > 0 {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return fail(scim.BadRequest(scim.InvalidSyntax, "data is not valid JSON"))
		}
		if v, err = bulk.Resolve(v, created); err != nil {
			return fail(unresolved(err))
		}
		data, _ = json.Marshal(v)
	}
	endpoint, id, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	rt := s.Registry.ResourceTypeAt("/" + endpoint)
	if rt == nil || strings.Contains(id, "/") {
		return fail(s.badBulkPath(op.Path, "/"+endpoint))
	}
	var handler func(http.ResponseWriter, *http.Request, request) error
	switch {
	case method == http.MethodPost && id == "":
		if op.BulkID == "" {
			return fail(scim.BadRequest(scim.InvalidValue, "a POST in a bulk request needs a bulkId"))
		}
		handler = s.create
	case method == http.MethodPut && id != "":
		handler = s.replace
	case method == http.MethodPatch && id != "":
		handler = s.patch
	case method == http.MethodDelete && id != "":
		handler = s.delete
	default:
		return fail(scim.BadRequest(scim.InvalidValue, "a bulk operation is POST to /Users or /Groups, or PUT, PATCH or DELETE of one resource, not %s %s", op.Method, op.Path))
	}
	ec := store.EventContextOf(r.Context())
	ec.Source = store.SourceBulk
	sub, reqErr := http.NewRequestWithContext(store.WithEventContext(r.Context(), ec), method, BasePath+path, bytes.NewReader(data))
	if reqErr != nil {
		return fail(scim.BadRequest(scim.InvalidPath, "bad path %q", op.Path))
	}
	sub.Header.Set("Content-Type", contentType)
	if op.Version != "" {
		sub.Header.Set("If-Match", op.Version)
	}
	sub.Host = r.Host
	sub.TLS = r.TLS
	sub.SetPathValue("id", id)
	rec := &recorder{header: http.Header{}, Code: http.StatusOK}
	if err := handler(rec, sub, request{dir: req.dir, rt: rt}); err != nil {
		s.fail(rec, sub, err)
	}
	res.Status = strconv.Itoa(rec.Code)
	res.Location = rec.Header().Get("Location")
	res.Version = rec.Header().Get("ETag")
	if rec.Code >= 300 {
		res.Response = bytes.TrimSpace(rec.Body.Bytes())
		return res
	}
	if method == http.MethodPost {
		var created struct {
			ID string `json:"id"`
		}
		json.Unmarshal(rec.Body.Bytes(), &created)
		ids[op.BulkID] = created.ID
		if res.Location == "" {
			res.Location = s.baseURL(r) + rt.Endpoint + "/" + created.ID
		}
	}
	return res
}

// badBulkPath is the error of an operation whose path is no endpoint of
// the registry's, nor a resource at one; it names the endpoints, and the
// one meant when only the case differs (paths are case-sensitive, as the
// endpoints' own routes are).
func (s *server) badBulkPath(path, endpoint string) *scim.Error {
	var endpoints []string
	for _, rt := range s.Registry.ResourceTypes() {
		if strings.EqualFold(rt.Endpoint, endpoint) {
			return scim.BadRequest(scim.InvalidPath, "a bulk operation's path is an endpoint or a resource at one, not %q: endpoints are case-sensitive, did you mean %s?", path, rt.Endpoint)
		}
		endpoints = append(endpoints, rt.Endpoint)
	}
	return scim.BadRequest(scim.InvalidPath, "a bulk operation's path is an endpoint (%s) or a resource at one, not %q", strings.Join(endpoints, ", "), path)
}

// unresolved is the error of an operation that refers to a bulkId no
// operation before it created (bulk.Resolve's *bulk.UnknownError).
func unresolved(err error) *scim.Error {
	var u *bulk.UnknownError
	if !errors.As(err, &u) {
		return scim.Errorf(http.StatusInternalServerError, "", "resolve bulkId references: %v", err)
	}
	return scim.Errorf(http.StatusConflict, scim.InvalidValue, "bulkId %q names no resource created before this operation", u.BulkID)
}

// recorder is the http.ResponseWriter a bulk operation's handler writes
// to: the status, headers and body the operation's own request would get.
type recorder struct {
	header http.Header
	Code   int
	Body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.Code, r.wrote = code, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.Body.Write(b)
}
