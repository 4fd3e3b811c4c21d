package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/server"
)

// records is a server.RequestLog that hands each record to the test,
// copying its bodies (which the server reuses).
type records chan server.RequestRecord

func (c records) LogRequest(r server.RequestRecord) {
	r.RequestBody, r.ResponseBody = append([]byte(nil), r.RequestBody...), append([]byte(nil), r.ResponseBody...)
	c <- r
}

func (c records) next(t *testing.T) server.RequestRecord {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no request was logged")
		return server.RequestRecord{}
	}
}

// The request log is told of each SCIM request: its credential, the
// resource it was about, an error's scimType and detail, and bodies only
// when they are logged.
func TestRequestLogRecordsEachSCIMRequest(t *testing.T) {
	t.Parallel()
	for _, bodies := range []bool{false, true} {
		log := make(records, 10)
		a := newAPI(t, server.Config{RequestLog: log, LogBodies: bodies})
		u := a.create(t, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann","password":"s3cret-pass"}`)
		rec := log.next(t)
		if rec.Method != "POST" || rec.Path != "/scim/v2/Users" || rec.Status != 201 || rec.Resource != u["id"] ||
			rec.Directory != a.dir.ID || rec.Token != "test" || rec.RequestID == "" || rec.Duration <= 0 {
			t.Errorf("the create was logged as %+v", rec)
		}
		if got := strings.Contains(string(rec.RequestBody), `"userName":"ann"`); got != bodies {
			t.Errorf("with bodies %v, the request body logged is %q", bodies, rec.RequestBody)
		}
		if got := strings.Contains(string(rec.ResponseBody), `"userName":"ann"`); got != bodies {
			t.Errorf("with bodies %v, the response body logged is %q", bodies, rec.ResponseBody)
		}
		a.mustFail(t, 400, "invalidPath", "PATCH", "/Users/"+u["id"].(string), patchOps(`{"op":"replace","path":"nosuch[","value":1}`))
		rec = log.next(t)
		if rec.Status != 400 || rec.ScimType != "invalidPath" || rec.Detail == "" || rec.Resource != u["id"] {
			t.Errorf("the failed PATCH was logged as %+v", rec)
		}
		a.withToken("wrong").do(t, "GET", "/Users", nil)
		rec = log.next(t)
		if rec.Status != 401 || rec.Directory != "" || rec.Token != "" {
			t.Errorf("the unauthenticated GET was logged as %+v", rec)
		}
		if _, err := a.send("GET", a.root+"/healthz", nil); err != nil {
			t.Fatal(err)
		}
		a.do(t, "GET", "/Users/"+u["id"].(string), nil)
		if rec := log.next(t); rec.Path != "/scim/v2/Users/"+u["id"].(string) {
			t.Errorf("a probe was logged: %+v", rec)
		}
	}
}
