package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/retryafter"
)

// The SCIM URNs the checks send and expect.
const (
	userURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	patchURN      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	listURN       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	errorURN      = "urn:ietf:params:scim:api:messages:2.0:Error"
	bulkURN       = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	spcURN        = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
)

// T is what a check function reports through: it sends requests to the
// server (recording each exchange) and says how the check ended. Failf
// and Skipf end the check; Warnf and Notef do not.
type T struct {
	ctx   context.Context
	r     *runner
	check Check

	status        Status
	message       string
	expected, got string
}

// stop is what Failf and Skipf panic with to end a check.
type stop struct{}

// call runs fn, ending at Failf or Skipf, and turning any other panic
// into a failure (a check must not crash the run).
func (t *T) call(fn func(*T)) {
	defer func() {
		switch p := recover(); p.(type) {
		case nil, stop:
		default:
			t.status, t.message = Fail, fmt.Sprintf("the check crashed: %v", p)
		}
	}()
	fn(t)
}

// Failf ends the check as failed, saying why.
func (t *T) Failf(format string, args ...any) {
	t.status, t.message = Fail, fmt.Sprintf(format, args...)
	panic(stop{})
}

// Expect ends the check as failed when want and got differ, saying what
// was checked, what was expected and what came.
func (t *T) Expect(what string, want, got any) {
	if fmt.Sprint(want) == fmt.Sprint(got) {
		return
	}
	t.expected, t.got = fmt.Sprint(want), fmt.Sprint(got)
	t.Failf("%s: expected %v, got %v", what, want, got)
}

// Skipf ends the check as skipped, saying why.
func (t *T) Skipf(format string, args ...any) {
	t.status, t.message = Skip, fmt.Sprintf(format, args...)
	panic(stop{})
}

// Warnf marks the check as warned (unless it already failed), saying
// why; the check goes on.
func (t *T) Warnf(format string, args ...any) {
	if t.status == Fail {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if t.status == Warn {
		t.message += "; " + msg
		return
	}
	t.status, t.message = Warn, msg
}

// Notef adds a note to a passing check's message (timings).
func (t *T) Notef(format string, args ...any) {
	if t.status != Pass {
		return
	}
	if t.message != "" {
		t.message += "; "
	}
	t.message += fmt.Sprintf(format, args...)
}

// Context returns the check's context.
func (t *T) Context() context.Context { return t.ctx }

// Response is the server's answer to one request.
type Response struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         []byte
	Duration     time.Duration
}

// String describes the answer for a failure message: its status and the
// start of its body.
func (r *Response) String() string {
	body := strings.Join(strings.Fields(string(r.Body)), " ")
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	if body == "" {
		body = "(no body)"
	}
	return fmt.Sprintf("%d %s", r.Status, body)
}

// object decodes the body as a JSON object, failing the check when it is
// not one.
func (r *Response) object(t *T) map[string]any {
	m := r.objectOrNil()
	if m == nil {
		t.Failf("%s %s answered %d with a body that is not a JSON object: %s", r.Method, r.Path, r.Status, r)
	}
	return m
}

// objectOrNil decodes the body as a JSON object (numbers as
// json.Number), or returns nil.
func (r *Response) objectOrNil() map[string]any {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(r.Body))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return nil
	}
	return m
}

// req is a request a check sends.
type req struct {
	method, path string // path relative to the base URL, with its query
	body         any    // nil, a string or []byte sent as is, or a value sent as JSON
	header       []string
	anonymous    bool // send without the run's credentials
	// patient waits out up to ten 429s rather than two (the cleanup,
	// which must get through).
	patient bool
}

// do sends a request and returns the answer, failing the check when no
// answer comes. A 429 with Retry-After of at most 10 seconds is waited
// out and the request sent again (twice at most): the checker does not
// hammer a server that asks it to slow down.
func (t *T) do(q req) *Response {
	resp, err := t.r.send(t.ctx, q)
	if err != nil {
		if t.ctx.Err() != nil {
			t.Skipf("the run was cancelled")
		}
		t.Failf("%s %s: no answer: %v", q.method, q.path, err)
	}
	return resp
}

// send is do for callers without a T (goroutines report their errors).
func (r *runner) send(ctx context.Context, q req) (*Response, error) {
	var data []byte
	switch b := q.body.(type) {
	case nil:
	case string:
		data = []byte(b)
	case []byte:
		data = b
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			return nil, fmt.Errorf("encode the request: %w", err)
		}
	}
	target := r.base + q.path
	if strings.HasPrefix(q.path, "http://") || strings.HasPrefix(q.path, "https://") {
		// A URL the server gave: the run's credentials go to the base
		// URL only.
		if !strings.HasPrefix(q.path, r.base+"/") {
			return nil, fmt.Errorf("%s is not under the base URL %s: not sent", q.path, r.base)
		}
		target = q.path
	}
	for attempt := 0; ; attempt++ {
		var body io.Reader
		if q.body != nil {
			body = bytes.NewReader(data)
		}
		hr, err := http.NewRequestWithContext(ctx, q.method, target, body)
		if err != nil {
			return nil, err
		}
		hr.Header.Set("Accept", "application/scim+json")
		if q.body != nil {
			hr.Header.Set("Content-Type", "application/scim+json")
		}
		for i := 0; i+1 < len(q.header); i += 2 {
			if q.header[i+1] == "" {
				hr.Header.Del(q.header[i])
			} else {
				hr.Header.Set(q.header[i], q.header[i+1])
			}
		}
		hc := r.authed
		if q.anonymous {
			hc = r.anon
		}
		start := time.Now()
		resp, err := hc.Do(hr)
		if err != nil {
			return nil, err
		}
		respBody, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read the answer: %w", err)
		}
		out := &Response{Method: q.method, Path: q.path, Status: resp.StatusCode, Header: resp.Header, Body: respBody, Duration: time.Since(start)}
		if resp.StatusCode != http.StatusTooManyRequests {
			return out, nil
		}
		ra := resp.Header.Get("Retry-After")
		r.mu.Lock()
		r.limited = append(r.limited, limitedAnswer{method: q.method, path: q.path, retryAfter: ra})
		r.mu.Unlock()
		wait, ok := retryafter.Parse(ra, time.Now(), maxRetryAfter)
		if !ok || wait > 10*time.Second || attempt >= 2 && !q.patient || attempt >= 10 {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(max(wait, 100*time.Millisecond)):
		}
	}
}

// maxRetryAfter bounds the Retry-After a server can ask the checker to
// wait.
const maxRetryAfter = 24 * time.Hour

// get, post, put, patch and del send a request with the run's credentials.
func (t *T) get(path string, header ...string) *Response {
	return t.do(req{method: http.MethodGet, path: path, header: header})
}

func (t *T) post(path string, body any, header ...string) *Response {
	return t.do(req{method: http.MethodPost, path: path, body: body, header: header})
}

func (t *T) put(path string, body any, header ...string) *Response {
	return t.do(req{method: http.MethodPut, path: path, body: body, header: header})
}

func (t *T) patch(path string, ops ...any) *Response {
	return t.do(req{method: http.MethodPatch, path: path, body: patchBody(ops...)})
}

func (t *T) del(path string, header ...string) *Response {
	return t.do(req{method: http.MethodDelete, path: path, header: header})
}

// patchBody is a PatchOp message of ops.
func patchBody(ops ...any) map[string]any {
	if ops == nil {
		ops = []any{}
	}
	return map[string]any{"schemas": []string{patchURN}, "Operations": ops}
}

// op is one PATCH operation; path "" leaves the path out, value nil the
// value.
func op(name, path string, value any) map[string]any {
	o := map[string]any{"op": name}
	if path != "" {
		o["path"] = path
	}
	if value != nil {
		o["value"] = value
	}
	return o
}

// query builds a path with a query: pairs of names and values.
func query(path string, pairs ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Add(pairs[i], pairs[i+1])
	}
	return path + "?" + v.Encode()
}

// wantStatus fails the check unless resp's status is one of want.
func (t *T) wantStatus(resp *Response, what string, want ...int) {
	for _, w := range want {
		if resp.Status == w {
			return
		}
	}
	ws := make([]string, len(want))
	for i, w := range want {
		ws[i] = strconv.Itoa(w)
	}
	t.expected, t.got = strings.Join(ws, " or "), resp.String()
	t.Failf("%s (%s %s): expected status %s, got %s", what, resp.Method, resp.Path, strings.Join(ws, " or "), resp)
}

// wantSCIMError fails the check unless resp is a SCIM error of status
// want (RFC 7644 §3.12: the Error schema, and status as a string, which
// a number only warns about) with one of the scimTypes (none: any); a
// scimType that differs is a warning.
func (t *T) wantSCIMError(resp *Response, what string, want int, scimTypes ...string) {
	t.wantStatus(resp, what, want)
	m := resp.object(t)
	if !hasString(m["schemas"], errorURN) {
		t.expected, t.got = `schemas ["`+errorURN+`"]`, fmt.Sprint(m["schemas"])
		t.Failf("%s: the %d answer lacks the SCIM error schema %s (RFC 7644 §3.12): %s", what, want, errorURN, resp)
	}
	switch st := m["status"].(type) {
	case string:
		if st != strconv.Itoa(want) {
			t.Failf("%s: the error's status is %q, the HTTP status %d", what, st, want)
		}
	case json.Number:
		t.Warnf("%s: the error's status is the number %s, where RFC 7644 §3.12 has a string (\"%d\"); most clients tolerate it", what, st, want)
	default:
		t.Failf("%s: the error has no status (RFC 7644 §3.12): %s", what, resp)
	}
	if len(scimTypes) > 0 {
		got, _ := m["scimType"].(string)
		if !containsFold(scimTypes, got) {
			t.Warnf("%s: scimType is %q, expected %s (RFC 7644 §3.12 table 9)", what, got, strings.Join(scimTypes, " or "))
		}
	}
}

// wantSCIMJSON warns when an answer with a body is not
// application/scim+json (RFC 7644 §3.1; Entra expects it).
func (t *T) wantSCIMJSON(resp *Response) {
	if len(resp.Body) == 0 {
		return
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch mt {
	case "application/scim+json":
	case "application/json":
		t.Warnf("%s %s answered Content-Type application/json, where RFC 7644 §8.1 has application/scim+json", resp.Method, resp.Path)
	default:
		t.Failf("%s %s answered Content-Type %q, not application/scim+json (RFC 7644 §8.1)", resp.Method, resp.Path, resp.Header.Get("Content-Type"))
	}
}

// list is a decoded ListResponse.
type list struct {
	TotalResults, StartIndex, ItemsPerPage int
	hasStartIndex, hasItemsPerPage         bool
	Resources                              []map[string]any
	NextCursor                             string
	raw                                    map[string]any
}

// wantList fails the check unless resp is a 200 ListResponse (RFC 7644
// §3.4.2), and returns it.
func (t *T) wantList(resp *Response, what string) list {
	t.wantStatus(resp, what, http.StatusOK)
	m := resp.object(t)
	if !hasString(m["schemas"], listURN) {
		t.Failf("%s: the answer's schemas lack %s (RFC 7644 §3.4.2): %s", what, listURN, resp)
	}
	var l list
	l.raw = m
	var ok bool
	if l.TotalResults, ok = integer(m["totalResults"]); !ok {
		t.expected, t.got = "totalResults, an integer", fmt.Sprintf("%#v", m["totalResults"])
		t.Failf("%s: totalResults is %#v, not an integer (RFC 7644 §3.4.2)", what, m["totalResults"])
	}
	if v, present := m["startIndex"]; present {
		if l.StartIndex, ok = integer(v); !ok {
			t.Failf("%s: startIndex is %#v, not an integer", what, v)
		}
		l.hasStartIndex = true
	}
	if v, present := m["itemsPerPage"]; present {
		if l.ItemsPerPage, ok = integer(v); !ok {
			t.Failf("%s: itemsPerPage is %#v, not an integer", what, v)
		}
		l.hasItemsPerPage = true
	}
	l.NextCursor, _ = m["nextCursor"].(string)
	switch rs := m["Resources"].(type) {
	case nil:
	case []any:
		for _, x := range rs {
			o, ok := x.(map[string]any)
			if !ok {
				t.Failf("%s: Resources holds %#v, not a resource", what, x)
			}
			l.Resources = append(l.Resources, o)
		}
	default:
		t.Failf("%s: Resources is %#v, not an array", what, rs)
	}
	if len(l.Resources) > l.TotalResults {
		t.Failf("%s: %d Resources but totalResults %d", what, len(l.Resources), l.TotalResults)
	}
	return l
}

// integer returns a JSON number that is a whole number as an int.
func integer(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(n.String())
	return i, err == nil
}

// hasString reports whether v is a JSON array holding s.
func hasString(v any, s string) bool {
	arr, _ := v.([]any)
	for _, x := range arr {
		if x == s {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// str returns the string at a dotted path of a resource ("" if none).
func str(m map[string]any, path string) string {
	v := lookup(m, path)
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// lookup returns the value at a dotted path of a resource; a URN part
// (holding dots of its own) may be given whole, as in
// "urn:…:enterprise:2.0:User.department".
func lookup(m map[string]any, path string) any {
	var cur any = m
	for path != "" {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		key, rest, _ := strings.Cut(path, ".")
		if strings.HasPrefix(strings.ToLower(path), "urn:") {
			// The longest attribute the path starts with: a URN holds dots.
			key, rest = path, ""
			best := -1
			for k := range obj {
				if len(k) > best && (strings.EqualFold(path, k) || len(path) > len(k) && path[len(k)] == '.' && strings.EqualFold(path[:len(k)], k)) {
					best, key, rest = len(k), k, strings.TrimPrefix(path[len(k):], ".")
				}
			}
		}
		path = rest
		v, ok := getFold(obj, key)
		if !ok {
			return nil
		}
		cur = v
	}
	return cur
}

// getFold returns the attribute of an object by name, any case
// (attribute names are case-insensitive, RFC 7643 §2.1).
func getFold(obj map[string]any, key string) (any, bool) {
	if v, ok := obj[key]; ok {
		return v, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}
