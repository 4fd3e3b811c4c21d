package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/bulk"
)

// ErrBulkUnsupported is the error of Bulk on a server whose
// ServiceProviderConfig does not say bulk.supported.
var ErrBulkUnsupported = errors.New("client: the server does not support bulk operations")

// BulkOperation is one operation of a bulk request (RFC 7644 §3.7).
//
// A POST may name the resource it creates with a BulkID; later
// operations refer to it as "bulkId:" + BulkID in their Path
// ("/Groups/bulkId:eng") or anywhere in their Data as a whole string
// value ({"value": "bulkId:alice"}).
type BulkOperation struct {
	// Method is POST, PUT, PATCH or DELETE.
	Method string
	// Path is the endpoint ("/Users") for a POST, else the resource
	// ("/Users/ID").
	Path string
	// BulkID names what a POST creates, for the operations after it.
	BulkID string
	// Version makes a PUT, PATCH or DELETE apply only to that version of
	// the resource (meta.version), as If-Match does.
	Version string
	// Data is the body: a *User or *Group for POST and PUT, a
	// patch.Request (patch.NewRequest) for PATCH, nil for DELETE.
	Data any
}

// BulkResult is the server's answer to one operation of a bulk request.
type BulkResult struct {
	Method   string
	BulkID   string
	Version  string
	Location string
	// Status is the HTTP status of the operation; Response its body
	// (the resource, or an error), when the server sends one.
	Status   int
	Response json.RawMessage
}

// ID returns the id of the resource the operation created or changed:
// the response's id, else the last segment of its location.
func (r *BulkResult) ID() string {
	var res struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(r.Response, &res) == nil && res.ID != "" {
		return res.ID
	}
	if r.Location == "" {
		return ""
	}
	return path.Base(r.Location)
}

// Err returns the operation's failure as an *Error, or nil if it
// succeeded.
func (r *BulkResult) Err() error {
	if r.Status < 400 {
		return nil
	}
	e := &Error{Method: r.Method, URL: r.Location, Status: r.Status}
	var body scim.Error
	if json.Unmarshal(r.Response, &body) == nil {
		e.ScimType, e.Detail = body.ScimType, body.Detail
	}
	if e.Detail == "" {
		e.Detail = http.StatusText(r.Status)
	}
	return e
}

// UnmarshalJSON decodes a result whose status is a string ("201", as RFC
// 7644's examples have it), a number, or a {"code": "201"} object (as
// drafts had it).
func (r *BulkResult) UnmarshalJSON(data []byte) error {
	var raw struct {
		Method   string          `json:"method"`
		BulkID   string          `json:"bulkId"`
		Version  string          `json:"version"`
		Location string          `json:"location"`
		Status   json.RawMessage `json:"status"`
		Response json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*r = BulkResult{Method: raw.Method, BulkID: raw.BulkID, Version: raw.Version, Location: raw.Location, Response: raw.Response}
	status := bytes.TrimSpace(raw.Status)
	if bytes.HasPrefix(status, []byte("{")) {
		var code struct {
			Code json.RawMessage `json:"code"`
		}
		if err := json.Unmarshal(status, &code); err != nil {
			return err
		}
		status = code.Code
	}
	n, err := strconv.Atoi(strings.Trim(string(status), `"`))
	if err != nil {
		return fmt.Errorf("bulk operation status %s: %w", raw.Status, err)
	}
	r.Status = n
	return nil
}

// BulkResponse is the outcome of Bulk.
type BulkResponse struct {
	// Operations are the servers' results, in the order of the
	// operations they answer; when failOnErrors stopped the processing,
	// the operations after it have none.
	Operations []BulkResult
	// Requests is how many bulk requests carried the operations.
	Requests int
}

// Errors returns how many operations failed.
func (r *BulkResponse) Errors() int {
	n := 0
	for i := range r.Operations {
		if r.Operations[i].Status >= 400 {
			n++
		}
	}
	return n
}

// Bulk sends ops to the server's /Bulk endpoint, in as many requests as
// its ServiceProviderConfig's bulk.maxOperations and maxPayloadSize
// require. The server stops after failOnErrors failed operations (0: it
// carries on whatever fails), counted across the requests: no request
// is sent after they are reached.
//
// The server resolves "bulkId:" references within one request; across
// requests Bulk replaces a reference to a resource an earlier request
// created by its id. A reference to an operation later in the list must
// then be in the same request, so Bulk refuses one that a split would
// separate: put the operations that create before those that refer.
//
// A server without bulk support gets no request: ErrBulkUnsupported.
// The bulk request is a POST, so it is retried only when the server
// answered that it did not act on it (429, 503) or was never reached.
func (c *Client) Bulk(ctx context.Context, ops []BulkOperation, failOnErrors int) (*BulkResponse, error) {
	spc, err := c.ServiceProviderConfig(ctx)
	if err != nil {
		return nil, err
	}
	if !spc.Bulk.Supported {
		return nil, ErrBulkUnsupported
	}
	maxOps, maxSize := spc.Bulk.MaxOperations, spc.Bulk.MaxPayloadSize
	if maxOps <= 0 {
		maxOps = len(ops)
	}
	defined := map[string]int{} // bulkId → index of the operation creating it
	for i, op := range ops {
		switch op.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			return nil, fmt.Errorf("client: bulk operation %d: method %q is not POST, PUT, PATCH or DELETE", i, op.Method)
		}
		if op.BulkID == "" {
			continue
		}
		if op.Method != http.MethodPost {
			return nil, fmt.Errorf("client: bulk operation %d: a bulkId names what a POST creates, not a %s", i, op.Method)
		}
		if j, dup := defined[op.BulkID]; dup {
			return nil, fmt.Errorf("client: bulk operations %d and %d: both have bulkId %q", j, i, op.BulkID)
		}
		defined[op.BulkID] = i
	}

	// A reference forward needs every operation in one request: refuse
	// it before sending anything if they do not fit in one. Each
	// operation's references are found once (it is encoded to find them).
	refs := make([][]string, len(ops))
	for i, op := range ops {
		refs[i] = bulkRefs(op)
	}
	fits := sync.OnceValue(func() bool { return fitsOne(ops, maxOps, maxSize) })
	for i := range ops {
		for _, ref := range refs[i] {
			if j, ok := defined[ref]; ok && j > i && !fits() {
				return nil, fmt.Errorf("client: bulk operation %d refers to bulkId %q, which operation %d after it creates, and the operations need more than one request (maxOperations %d, maxPayloadSize %d): put it first",
					i, ref, j, spc.Bulk.MaxOperations, maxSize)
			}
		}
	}

	out := &BulkResponse{}
	resolved := map[string]string{} // bulkId → the id an earlier request created
	failed := 0
	for start := 0; start < len(ops); {
		left := 0
		if failOnErrors > 0 {
			if left = failOnErrors - failed; left <= 0 {
				break
			}
		}
		head := bulkHead(left)
		size := len(head) + len("]}")
		var batch [][]byte
		end := start
		for end < len(ops) && len(batch) < maxOps {
			b, err := encodeBulkOp(ops[end], resolved)
			if err != nil {
				return out, fmt.Errorf("client: bulk operation %d: %w", end, err)
			}
			grown := size + len(b)
			if len(batch) > 0 {
				grown++ // the comma
			}
			if maxSize > 0 && grown > maxSize {
				if len(batch) == 0 {
					return out, fmt.Errorf("client: bulk operation %d: %d bytes alone, more than the server's maxPayloadSize %d", end, grown, maxSize)
				}
				break
			}
			batch, size = append(batch, b), grown
			end++
		}
		// A reference the server cannot resolve: its operation comes in a
		// later request, after this one's.
		for i := start; i < end; i++ {
			for _, ref := range refs[i] {
				if j, ok := defined[ref]; ok && j >= end {
					return out, fmt.Errorf("client: bulk operation %d refers to bulkId %q, which operation %d creates in a later request (maxOperations %d, maxPayloadSize %d): put it first",
						i, ref, j, spc.Bulk.MaxOperations, maxSize)
				}
			}
		}
		body := make([]byte, 0, size)
		body = append(append(append(body, head...), bytes.Join(batch, []byte(","))...), "]}"...)
		resp, err := c.do(ctx, request{method: http.MethodPost, path: "/Bulk", body: rawJSON(body)})
		if err != nil {
			return out, err
		}
		var br struct {
			Operations []BulkResult `json:"Operations"`
		}
		if err := decode(http.MethodPost, "/Bulk", resp, &br); err != nil {
			return out, err
		}
		out.Requests++
		for _, r := range br.Operations {
			if r.Status >= 400 {
				failed++
			} else if r.BulkID != "" && strings.EqualFold(r.Method, http.MethodPost) {
				if id := r.ID(); id != "" {
					resolved[r.BulkID] = id
				}
			}
		}
		out.Operations = append(out.Operations, br.Operations...)
		start = end
	}
	return out, nil
}

// fitsOne reports whether ops fit in one bulk request.
func fitsOne(ops []BulkOperation, maxOps, maxSize int) bool {
	if len(ops) > maxOps {
		return false
	}
	if maxSize <= 0 {
		return true
	}
	size := len(bulkHead(1<<30)) + len("]}") + len(ops) - 1
	for _, op := range ops {
		b, err := encodeBulkOp(op, nil)
		if err != nil {
			return false
		}
		size += len(b)
	}
	return size <= maxSize
}

// bulkHead is the start of a bulk request's body, up to its operations.
func bulkHead(failOnErrors int) []byte {
	if failOnErrors > 0 {
		return fmt.Appendf(nil, `{"schemas":[%q],"failOnErrors":%d,"Operations":[`, scim.BulkRequestURN, failOnErrors)
	}
	return fmt.Appendf(nil, `{"schemas":[%q],"Operations":[`, scim.BulkRequestURN)
}

// encodeBulkOp encodes op, with the references to resolved bulkIds
// replaced by their ids; the others are left for the server.
func encodeBulkOp(op BulkOperation, resolved map[string]string) ([]byte, error) {
	ids := func(bulkID string) (string, bool) {
		if id := resolved[bulkID]; id != "" {
			return id, true
		}
		return bulk.Prefix + bulkID, true
	}
	path, err := bulk.ResolvePath(op.Path, ids)
	if err != nil {
		return nil, err
	}
	w := struct {
		Method  string          `json:"method"`
		Path    string          `json:"path"`
		BulkID  string          `json:"bulkId,omitempty"`
		Version string          `json:"version,omitempty"`
		Data    json.RawMessage `json:"data,omitempty"`
	}{Method: op.Method, Path: path, BulkID: op.BulkID, Version: op.Version}
	if op.Data != nil {
		data, v, err := bulkData(op)
		if err != nil {
			return nil, err
		}
		w.Data = data
		if v != nil && len(resolved) > 0 {
			if v, err = bulk.Resolve(v, ids); err != nil {
				return nil, err
			}
			if w.Data, err = json.Marshal(v); err != nil {
				return nil, err
			}
		}
	}
	return json.Marshal(w)
}

// bulkRefs returns the bulkIds op refers to.
func bulkRefs(op BulkOperation) []string {
	refs := bulk.PathRefs(op.Path)
	if op.Data != nil {
		if _, v, err := bulkData(op); err == nil && v != nil {
			refs = append(refs, bulk.Refs(v)...)
		}
	}
	return refs
}

// bulkData returns op's data encoded and, when it may hold a bulkId
// reference, decoded (numbers as json.Number, so that they encode again as
// they were), else nil. Data without the prefix anywhere holds none, as
// encoding/json escapes none of its characters (a json.RawMessage that
// does is sent as it is): most operations are not decoded again.
func bulkData(op BulkOperation) ([]byte, any, error) {
	data, err := json.Marshal(op.Data)
	if err != nil {
		return nil, nil, err
	}
	if !bytes.Contains(data, []byte(bulk.Prefix)) {
		return data, nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, nil, err
	}
	return data, v, nil
}
