package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/client/patch"
	"github.com/rosterhq/roster/server"
)

// bulkServer is a minimal SCIM server with a /Bulk endpoint (RFC 7644
// §3.7) over users and groups in memory: POST creates (409 on a taken
// userName or displayName), PATCH adds members, DELETE deletes. It
// resolves bulkId references within one request, in order, and keeps
// its limits as a server must, with 413.
type bulkServer struct {
	maxOps, maxSize int

	mu        sync.Mutex
	names     map[string]string   // userName or displayName → id
	members   map[string][]string // group id → member ids
	requests  []int               // operations in each bulk request
	sizes     []int               // bytes of each bulk request
	failLimit []int               // failOnErrors of each bulk request
	next      int
}

type bulkReq struct {
	FailOnErrors int `json:"failOnErrors"`
	Operations   []struct {
		Method, Path, BulkID string
		Data                 json.RawMessage
	} `json:"Operations"`
}

var refRE = regexp.MustCompile(`bulkId:([A-Za-z0-9_-]+)`)

func (s *bulkServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/ServiceProviderConfig":
		writeSCIM(w, http.StatusOK, fmt.Sprintf(`{"patch":{"supported":true},"bulk":{"supported":true,"maxOperations":%d,"maxPayloadSize":%d}}`, s.maxOps, s.maxSize))
		return
	case r.URL.Path != "/Bulk" || r.Method != http.MethodPost:
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req bulkReq
	if err := json.Unmarshal(body, &req); err != nil {
		writeSCIM(w, http.StatusBadRequest, `{"status":"400","scimType":"invalidSyntax"}`)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.sizes, s.failLimit = append(s.requests, len(req.Operations)), append(s.sizes, len(body)), append(s.failLimit, req.FailOnErrors)
	if len(req.Operations) > s.maxOps || len(body) > s.maxSize {
		writeSCIM(w, http.StatusRequestEntityTooLarge, `{"status":"413","detail":"too big"}`)
		return
	}
	created := map[string]string{}
	var results []string
	failed := 0
	for _, op := range req.Operations {
		if req.FailOnErrors > 0 && failed >= req.FailOnErrors {
			break
		}
		unresolved := false
		resolve := func(b []byte) []byte {
			return refRE.ReplaceAllFunc(b, func(m []byte) []byte {
				id, ok := created[string(m[len("bulkId:"):])]
				if !ok {
					unresolved = true
					return m
				}
				return []byte(id)
			})
		}
		path, data := string(resolve([]byte(op.Path))), resolve(op.Data)
		result := func(status int, location, resp string) {
			if status >= 400 {
				failed++
			}
			results = append(results, fmt.Sprintf(`{"method":%q,"bulkId":%q,"location":%q,"status":"%d","response":%s}`, op.Method, op.BulkID, location, status, resp))
		}
		if unresolved {
			result(http.StatusConflict, "", `{"status":"409","detail":"unresolved bulkId"}`)
			continue
		}
		switch {
		case op.Method == http.MethodPost:
			var res struct {
				UserName, DisplayName string
				Members               []client.Member
			}
			json.Unmarshal(data, &res)
			name := res.UserName + res.DisplayName
			if _, taken := s.names[name]; taken {
				result(http.StatusConflict, "", `{"status":"409","scimType":"uniqueness"}`)
				continue
			}
			s.next++
			id := fmt.Sprintf("id%d", s.next)
			s.names[name] = id
			for _, m := range res.Members {
				s.members[id] = append(s.members[id], m.Value)
			}
			created[op.BulkID] = id
			result(http.StatusCreated, "https://scim.example.com"+path+"/"+id, fmt.Sprintf(`{"id":%q}`, id))
		case op.Method == http.MethodPatch && strings.HasPrefix(path, "/Groups/"):
			var p struct {
				Operations []struct {
					Value []client.Member
				}
			}
			json.Unmarshal(data, &p)
			id := strings.TrimPrefix(path, "/Groups/")
			for _, o := range p.Operations {
				for _, m := range o.Value {
					s.members[id] = append(s.members[id], m.Value)
				}
			}
			result(http.StatusNoContent, "https://scim.example.com"+path, "null")
		case op.Method == http.MethodDelete:
			result(http.StatusNoContent, "https://scim.example.com"+path, "null")
		default:
			result(http.StatusBadRequest, "", `{"status":"400"}`)
		}
	}
	writeSCIM(w, http.StatusOK, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkResponse"],"Operations":[`+strings.Join(results, ",")+`]}`)
}

func newBulkServer(t *testing.T, maxOps, maxSize int) (*bulkServer, *client.Client) {
	t.Helper()
	s := &bulkServer{maxOps: maxOps, maxSize: maxSize, names: map[string]string{}, members: map[string][]string{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, client.WithRetries(2, time.Millisecond, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// peopleAndTeam is n users, a group of all of them referring to them by
// bulkId, and a PATCH of the group (by its bulkId) adding the first again
// under a second group.
func peopleAndTeam(n int) []client.BulkOperation {
	var ops []client.BulkOperation
	var members []client.Member
	for i := range n {
		ops = append(ops, client.BulkOperation{Method: "POST", Path: "/Users", BulkID: fmt.Sprintf("u%d", i),
			Data: &client.User{UserName: fmt.Sprintf("user%02d@example.com", i), Active: client.Bool(true)}})
		members = append(members, client.Member{Value: fmt.Sprintf("bulkId:u%d", i)})
	}
	return append(ops,
		client.BulkOperation{Method: "POST", Path: "/Groups", BulkID: "team", Data: &client.Group{DisplayName: "Team", Members: members}},
		client.BulkOperation{Method: "POST", Path: "/Groups", BulkID: "leads", Data: &client.Group{DisplayName: "Leads"}},
		client.BulkOperation{Method: "PATCH", Path: "/Groups/bulkId:leads", Data: patch.NewRequest(patch.Add("members", []client.Member{{Value: "bulkId:team"}}))},
	)
}

func TestBulkSplitsAtTheServersLimits(t *testing.T) {
	for _, tc := range []struct {
		name            string
		maxOps, maxSize int
		wantRequests    int
	}{
		{"in one request", 100, 1 << 20, 1},
		{"by maxOperations", 4, 1 << 20, 4}, // 10 users, 3 group operations: 4+4+4+1
		{"by maxPayloadSize", 100, 600, 0},  // as many as fit
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newBulkServer(t, tc.maxOps, tc.maxSize)
			ops := peopleAndTeam(10)
			resp, err := c.Bulk(context.Background(), ops, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Operations) != len(ops) || resp.Errors() != 0 {
				t.Fatalf("%d results, %d errors: %+v", len(resp.Operations), resp.Errors(), resp.Operations)
			}
			if tc.wantRequests > 0 && resp.Requests != tc.wantRequests || resp.Requests != len(s.requests) {
				t.Fatalf("%d requests (server saw %v), want %d", resp.Requests, s.requests, tc.wantRequests)
			}
			for i, n := range s.requests {
				if n > tc.maxOps || s.sizes[i] > tc.maxSize {
					t.Fatalf("request %d: %d operations, %d bytes: over the limits", i, n, s.sizes[i])
				}
			}
			if tc.name == "by maxPayloadSize" && resp.Requests < 3 {
				t.Fatalf("%d requests for %v bytes, want a split", resp.Requests, s.sizes)
			}
			// Every member is a real id, whichever request created it.
			var users []string
			for _, r := range resp.Operations[:10] {
				if r.Status != http.StatusCreated || r.ID() == "" {
					t.Fatalf("user result %+v", r)
				}
				users = append(users, r.ID())
			}
			team, leads := resp.Operations[10].ID(), resp.Operations[11].ID()
			if !slices.Equal(s.members[team], users) {
				t.Fatalf("team members %v, want %v", s.members[team], users)
			}
			if !slices.Equal(s.members[leads], []string{team}) {
				t.Fatalf("leads members %v, want [%s]", s.members[leads], team)
			}
		})
	}
}

func TestBulkStopsAfterFailOnErrors(t *testing.T) {
	s, c := newBulkServer(t, 3, 1<<20)
	var ops []client.BulkOperation
	for _, name := range []string{"a", "b", "a", "c", "b", "d", "e", "a", "f"} {
		ops = append(ops, client.BulkOperation{Method: "POST", Path: "/Users", Data: &client.User{UserName: name}})
	}
	// a, b, a(409) | c, b(409): two errors, the limit | nothing more sent
	resp, err := c.Bulk(context.Background(), ops, 2)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Errors() != 2 || len(resp.Operations) != 5 || resp.Requests != 2 {
		t.Fatalf("%d errors in %d results from %d requests, want 2 in 5 from 2", resp.Errors(), len(resp.Operations), resp.Requests)
	}
	if !slices.Equal(s.failLimit, []int{2, 1}) {
		t.Fatalf("failOnErrors sent %v, want the errors left: [2 1]", s.failLimit)
	}
	if err := resp.Operations[2].Err(); !errors.Is(err, client.ErrConflict) {
		t.Fatalf("the duplicate's error: %v", err)
	}
	// Without a limit, everything is tried.
	resp, err = c.Bulk(context.Background(), ops, 0)
	if err != nil || len(resp.Operations) != len(ops) || resp.Errors() != 6 {
		t.Fatalf("without failOnErrors: %+v, %v", resp, err)
	}
}

func TestBulkRefusesAReferenceASplitWouldBreak(t *testing.T) {
	s, c := newBulkServer(t, 2, 1<<20)
	ops := []client.BulkOperation{
		{Method: "POST", Path: "/Groups", Data: &client.Group{DisplayName: "G", Members: []client.Member{{Value: "bulkId:late"}}}},
		{Method: "POST", Path: "/Users", Data: &client.User{UserName: "x"}},
		{Method: "POST", Path: "/Users", BulkID: "late", Data: &client.User{UserName: "y"}},
	}
	if _, err := c.Bulk(context.Background(), ops, 0); err == nil || !strings.Contains(err.Error(), `bulkId "late"`) {
		t.Fatalf("got %v, want a refusal naming the bulkId", err)
	}
	if len(s.requests) != 0 {
		t.Fatalf("%d requests sent", len(s.requests))
	}
	// Even when the reference comes after requests that could be sent.
	var early []client.BulkOperation
	for i := range 4 {
		early = append(early, client.BulkOperation{Method: "POST", Path: "/Users", Data: &client.User{UserName: fmt.Sprint("e", i)}})
	}
	if _, err := c.Bulk(context.Background(), append(early, ops...), 0); err == nil || len(s.requests) != 0 {
		t.Fatalf("got %v after %d requests, want a refusal before any", err, len(s.requests))
	}
	// In one request it is the server's to resolve: no refusal.
	s, c = newBulkServer(t, 10, 1<<20)
	if _, err := c.Bulk(context.Background(), ops, 0); err != nil || len(s.requests) != 1 {
		t.Fatalf("got %v after %d requests, want 1 request", err, len(s.requests))
	}
}

// TestBulkResolvesValuesAcrossRequestsButNotKeys: a reference to what an
// earlier request created is replaced where it is a whole string value
// (in the path, in nested arrays), and nowhere else: not in an object's
// key, not inside a longer string.
func TestBulkResolvesValuesAcrossRequestsButNotKeys(t *testing.T) {
	var mu sync.Mutex
	var sent []json.RawMessage // the operations of each request, as sent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ServiceProviderConfig" {
			writeSCIM(w, http.StatusOK, `{"bulk":{"supported":true,"maxOperations":1,"maxPayloadSize":1048576}}`)
			return
		}
		var req struct{ Operations []json.RawMessage }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Operations) != 1 {
			writeSCIM(w, http.StatusBadRequest, `{"status":"400"}`)
			return
		}
		mu.Lock()
		sent = append(sent, req.Operations[0])
		n := len(sent)
		mu.Unlock()
		writeSCIM(w, http.StatusOK, fmt.Sprintf(`{"Operations":[{"method":"POST","bulkId":"a","status":"201","location":"https://scim.example.com/Users/id%d"}]}`, n))
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ops := []client.BulkOperation{
		{Method: "POST", Path: "/Users", BulkID: "a", Data: &client.User{UserName: "a"}},
		{Method: "PUT", Path: "/Things/bulkId:a", Data: map[string]any{
			"bulkId:a": "bulkId:a",
			"nested":   []any{[]any{"bulkId:a"}, map[string]any{"bulkId:a": "see bulkId:a"}},
			"n":        json.Number("12345678901234567890"),
		}},
	}
	if _, err := c.Bulk(context.Background(), ops, 0); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 2 {
		t.Fatalf("%d requests, want 2", len(sent))
	}
	var got struct {
		Path string
		Data json.RawMessage
	}
	if err := json.Unmarshal(sent[1], &got); err != nil {
		t.Fatal(err)
	}
	want := `{"bulkId:a":"id1","n":12345678901234567890,"nested":[["id1"],{"bulkId:a":"see bulkId:a"}]}`
	if got.Path != "/Things/id1" || string(got.Data) != want {
		t.Fatalf("sent path %q, data %s; want /Things/id1, %s", got.Path, got.Data, want)
	}
}

func TestBulkRefusesWhatItCannotSend(t *testing.T) {
	s, c := newBulkServer(t, 10, 300)
	big := &client.User{UserName: strings.Repeat("x", 400)}
	for _, tc := range []struct {
		name string
		ops  []client.BulkOperation
		want string
	}{
		{"an operation over maxPayloadSize", []client.BulkOperation{{Method: "POST", Path: "/Users", Data: big}}, "maxPayloadSize 300"},
		{"a GET", []client.BulkOperation{{Method: "GET", Path: "/Users/1"}}, "not POST, PUT, PATCH or DELETE"},
		{"a bulkId twice", []client.BulkOperation{{Method: "POST", Path: "/Users", BulkID: "a"}, {Method: "POST", Path: "/Users", BulkID: "a"}}, "both have bulkId"},
	} {
		if _, err := c.Bulk(context.Background(), tc.ops, 0); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if len(s.requests) != 0 {
		t.Fatalf("%d requests sent", len(s.requests))
	}
}

func TestBulkOnlyWhereSupported(t *testing.T) {
	var cnt counter
	c := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
		cnt.add(r)
		writeSCIM(w, http.StatusOK, `{"patch":{"supported":true},"bulk":{"supported":false,"maxOperations":0,"maxPayloadSize":0}}`)
	})
	_, err := c.Bulk(context.Background(), peopleAndTeam(1), 0)
	if !errors.Is(err, client.ErrBulkUnsupported) || cnt.get("POST /Bulk") != 0 {
		t.Fatalf("got %v after %d bulk requests, want ErrBulkUnsupported and none", err, cnt.get("POST /Bulk"))
	}
}

// TestBulkAgainstRoster sends users, a group of them (by bulkId) and a
// group nested in another to a real Roster in one bulk request.
func TestBulkAgainstRoster(t *testing.T) {
	ctx := context.Background()
	rc := newClient(t, server.Config{})
	res, err := rc.Bulk(ctx, peopleAndTeam(5), 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors() != 0 || len(res.Operations) != 8 {
		t.Fatalf("bulk response %+v", res)
	}
	team, err := rc.Groups.ByDisplayName(ctx, "Team")
	if err != nil {
		t.Fatal(err)
	}
	full, err := rc.Groups.Get(ctx, team.ID)
	if err != nil || len(full.Members) != 5 {
		t.Fatalf("team: %+v, %v", full, err)
	}
	leads, _ := rc.Groups.ByDisplayName(ctx, "Leads")
	l, err := rc.Groups.Get(ctx, leads.ID)
	if err != nil || len(l.Members) != 1 || l.Members[0].Value != team.ID || l.Members[0].Type != "Group" {
		t.Fatalf("leads: %+v, %v", l, err)
	}
	// A failure stops the rest with failOnErrors 1: the duplicate fails,
	// the user after it is not created.
	ops := []client.BulkOperation{
		{Method: "POST", Path: "/Users", BulkID: "dup", Data: &client.User{UserName: "user00@example.com"}},
		{Method: "POST", Path: "/Users", BulkID: "new", Data: &client.User{UserName: "after@example.com"}},
	}
	res, err = rc.Bulk(ctx, ops, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors() != 1 || len(res.Operations) != 1 || !errors.Is(res.Operations[0].Err(), client.ErrConflict) {
		t.Fatalf("failOnErrors 1: %+v", res.Operations)
	}
	if _, err := rc.Users.ByUserName(ctx, "after@example.com"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("the operation after the failure ran: %v", err)
	}
}

func TestBulkResultStatusShapes(t *testing.T) {
	for _, in := range []string{`{"status":"201"}`, `{"status":201}`, `{"status":{"code":"201"}}`} {
		var r client.BulkResult
		if err := json.Unmarshal([]byte(in), &r); err != nil || r.Status != 201 {
			t.Errorf("%s: %d, %v", in, r.Status, err)
		}
	}
}
