package reconcile_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/internal/scimmytest"
)

// The targets Roster did not write that the sync is tested against
// (strict_test.go): a server on the npm packages scimmy and
// scimmy-routers (internal/scimmytest), one on the Go module
// github.com/elimity-com/scim (internal/elimitytest, elimity_test.go),
// and a strict, faulty proxy in front of Roster.

// startScimmy starts the scimmy server (internal/scimmytest) and returns
// its SCIM base URL and bearer token; it skips without node and npm, and
// fails under CI=true.
func startScimmy(t *testing.T) (baseURL, token string) {
	t.Helper()
	return scimmytest.Start(t)
}

// strictProxy stands in front of a Roster server as a strict, poorer and
// faulty target: it serves no enterprise extension (and silently drops
// its attributes from what it is sent), answers 400 noTarget to a replace
// through a filter that matches no element, refuses a PATCH of more than
// maxOps operations, and answers 429 or 503 (Retry-After: 0) to a share
// of the requests, at random.
type strictProxy struct {
	roster  *url.URL
	proxy   http.Handler
	client  *http.Client // of the proxy's own transport, for its reads of Roster
	token   string
	maxOps  int
	faults  float64
	mu      sync.Mutex
	rand    *rand.Rand
	refused map[string]int // what it refused, by reason
	// refuseOp, if set, makes it refuse (400 mutability) a PATCH of
	// /Users/{id} with an operation for which it returns true.
	refuseOp func(id string, op map[string]any) bool
	// noSchemas makes it answer 404 to /Schemas and /ResourceTypes.
	noSchemas bool
	// noUserPatch makes it answer 400 to every PATCH of a user, as a
	// target that takes users whole (PUT) only.
	noUserPatch bool
	// badValueOf makes it answer 400 invalidValue to every PATCH and PUT
	// of the user of this id, as for a value it cannot take.
	badValueOf string
}

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

func startStrictProxy(t *testing.T, maxOps int, faults float64) (baseURL, token string, p *strictProxy) {
	t.Helper()
	rosterURL, token := startRoster(t)
	u, err := url.Parse(rosterURL)
	if err != nil {
		t.Fatal(err)
	}
	tr := testTransport(t)
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.Transport = tr
	p = &strictProxy{roster: u, proxy: proxy, client: &http.Client{Transport: tr}, token: token, maxOps: maxOps, faults: faults,
		rand: rand.New(rand.NewPCG(7, 14)), refused: map[string]int{}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.URL + "/scim/v2", token, p
}

func (p *strictProxy) refuse(w http.ResponseWriter, status int, scimType, reason, detail string, retryAfter bool) {
	p.mu.Lock()
	p.refused[reason]++
	p.mu.Unlock()
	if retryAfter {
		w.Header().Set("Retry-After", "0")
	}
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
		"status": fmt.Sprint(status), "scimType": scimType, "detail": detail})
}

// counts returns how many requests it refused for a reason: "fault",
// "noTarget", "tooMany".
func (p *strictProxy) count(reason string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused[reason]
}

func (p *strictProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	fault := p.rand.Float64() < p.faults
	status := http.StatusTooManyRequests
	if p.rand.IntN(2) == 0 {
		status = http.StatusServiceUnavailable
	}
	p.mu.Unlock()
	if fault {
		p.refuse(w, status, "", "fault", "busy", true)
		return
	}
	body, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.Path, "/scim/v2")
	if (r.Method == http.MethodPatch || r.Method == http.MethodPut) && p.get(func() bool { return p.badValueOf != "" && path == "/Users/"+p.badValueOf }) {
		p.refuse(w, http.StatusBadRequest, "invalidValue", "badValue", "the phone number is not one", false)
		return
	}
	switch {
	case r.Method == http.MethodGet && (path == "/Schemas" || path == "/ResourceTypes"):
		p.mu.Lock()
		none := p.noSchemas
		p.mu.Unlock()
		if none {
			p.refuse(w, http.StatusNotFound, "", "noSchemas", "no such endpoint", false)
			return
		}
		p.discovery(w, r)
		return
	case r.Method == http.MethodPost || r.Method == http.MethodPut:
		body = dropEnterprise(body)
	case r.Method == http.MethodPatch && strings.HasPrefix(path, "/Users/") && p.get(func() bool { return p.noUserPatch }):
		p.refuse(w, http.StatusBadRequest, "", "noUserPatch", "users are replaced whole here", false)
		return
	case r.Method == http.MethodPatch:
		var req struct {
			Schemas    []string         `json:"schemas"`
			Operations []map[string]any `json:"Operations"`
		}
		if json.Unmarshal(body, &req) == nil {
			if len(req.Operations) > p.maxOps {
				p.refuse(w, http.StatusBadRequest, "invalidValue", "tooMany", fmt.Sprintf("at most %d operations a PATCH", p.maxOps), false)
				return
			}
			p.mu.Lock()
			refuseOp := p.refuseOp
			p.mu.Unlock()
			var kept []map[string]any
			for _, op := range req.Operations {
				if refuseOp != nil && refuseOp(strings.TrimPrefix(path, "/Users/"), op) {
					p.refuse(w, http.StatusBadRequest, "mutability", "refuseOp", "the target keeps this attribute as it is", false)
					return
				}
				path, _ := op["path"].(string)
				if strings.HasPrefix(path, enterpriseURN) {
					continue // an attribute it does not have: dropped, silently
				}
				if v, ok := op["value"].(map[string]any); ok {
					delete(v, enterpriseURN)
				}
				if strings.EqualFold(fmt.Sprint(op["op"]), "replace") && strings.Contains(path, "[") && !p.matches(r, path) {
					p.refuse(w, http.StatusBadRequest, "noTarget", "noTarget", "no element matches "+path, false)
					return
				}
				kept = append(kept, op)
			}
			req.Operations = kept
			if len(kept) == 0 {
				// Nothing it keeps: answer with the resource as it is.
				r.Method = http.MethodGet
				body = nil
			} else {
				body, _ = json.Marshal(req)
			}
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	p.proxy.ServeHTTP(w, r)
}

// filtered is the path of a replace through a value filter.
var filtered = regexp.MustCompile(`^(\w+)\[(\w+) eq "([^"]*)"\]`)

// matches reports whether the resource a PATCH names has an element the
// filter of path matches, reading it from Roster.
func (p *strictProxy) matches(r *http.Request, path string) bool {
	m := filtered.FindStringSubmatch(path)
	if m == nil {
		return true
	}
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, p.roster.String()+r.URL.Path, nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := p.client.Do(req)
	if err != nil {
		return true
	}
	defer resp.Body.Close()
	var res map[string]any
	json.NewDecoder(resp.Body).Decode(&res)
	list, _ := res[m[1]].([]any)
	for _, e := range list {
		if el, ok := e.(map[string]any); ok && strings.EqualFold(fmt.Sprint(el[m[2]]), m[3]) {
			return true
		}
	}
	return false
}

// discovery answers /Schemas and /ResourceTypes as Roster does, without
// the enterprise extension.
func (p *strictProxy) discovery(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	p.proxy.ServeHTTP(rec, r)
	var lr map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &lr); err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	res, _ := lr["Resources"].([]any)
	var kept []any
	for _, x := range res {
		m, _ := x.(map[string]any)
		if m["id"] == enterpriseURN {
			continue
		}
		delete(m, "schemaExtensions")
		kept = append(kept, m)
	}
	lr["Resources"], lr["totalResults"], lr["itemsPerPage"] = kept, len(kept), len(kept)
	w.Header().Set("Content-Type", "application/scim+json")
	json.NewEncoder(w).Encode(lr)
}

// dropEnterprise removes the enterprise extension from a resource's JSON.
func dropEnterprise(body []byte) []byte {
	var res map[string]any
	if json.Unmarshal(body, &res) != nil {
		return body
	}
	delete(res, enterpriseURN)
	if s, ok := res["schemas"].([]any); ok {
		var kept []any
		for _, x := range s {
			if x != enterpriseURN {
				kept = append(kept, x)
			}
		}
		res["schemas"] = kept
	}
	out, _ := json.Marshal(res)
	return out
}

func (p *strictProxy) set(fn func(p *strictProxy)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p)
}

func (p *strictProxy) get(fn func() bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fn()
}
