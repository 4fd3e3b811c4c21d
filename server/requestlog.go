package server

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"time"
)

// RequestLog receives a record of each SCIM request once it has been
// answered (Config.RequestLog). LogRequest runs on the request's
// goroutine after the answer: it must return at once (hand the record to
// a queue, not to a database) and must not keep the record's byte slices,
// which are reused.
type RequestLog interface {
	LogRequest(rec RequestRecord)
}

// RequestRecord is what the server tells a RequestLog of one SCIM
// request.
type RequestRecord struct {
	Time     time.Time // when it arrived
	Duration time.Duration
	Method   string
	Path     string
	Status   int
	// Directory and Token are the id of the directory and the name of the
	// token or OAuth client that authenticated it ("" if none did).
	Directory string
	Token     string
	// Resource is the id of the user or group it read or changed, if any.
	Resource  string
	RequestID string
	// ScimType and Detail are those of an error answer.
	ScimType string
	Detail   string
	// RequestBody and ResponseBody are set only with Config.LogBodies, up
	// to LogBodyBytes of each, as sent: masking secrets is the log's job.
	RequestBody  []byte
	ResponseBody []byte
}

// LogBodyBytes is the most of a request's and a response's body a
// RequestRecord carries.
const LogBodyBytes = 16 << 10

// logged reports whether a request goes to the request log: the SCIM API
// and the token endpoint, not the console, the management API or probes.
func logged(path string) bool {
	return strings.HasPrefix(path, BasePath+"/") || path == "/oauth/token"
}

// cappedBuffer keeps the first LogBodyBytes written to it.
type cappedBuffer struct{ bytes.Buffer }

func (b *cappedBuffer) keep(p []byte) {
	if room := LogBodyBytes - b.Len(); room > 0 {
		b.Write(p[:min(len(p), room)])
	}
}

// teeBody keeps what the handler reads of a request's body.
type teeBody struct {
	io.ReadCloser
	buf *cappedBuffer
}

func (t teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	t.buf.keep(p[:n])
	return n, err
}

// recordRequest fills and hands rec to the log.
func recordRequest(log RequestLog, sw *statusWriter, r *http.Request, start time.Time, d time.Duration) {
	rec := RequestRecord{Time: start, Duration: d, Method: r.Method, Path: r.URL.Path, Status: sw.status,
		Directory: sw.directory, Token: sw.token, RequestID: sw.Header().Get("X-Request-Id"),
		ScimType: sw.scimType, Detail: sw.detail}
	rec.Resource = r.PathValue("id")
	if rec.Resource == "" && r.Method == http.MethodPost && sw.status == http.StatusCreated {
		loc := sw.Header().Get("Location")
		rec.Resource = loc[strings.LastIndexByte(loc, '/')+1:]
	}
	if sw.reqBody != nil {
		rec.RequestBody, rec.ResponseBody = sw.reqBody.Bytes(), sw.respBody.Bytes()
	}
	log.LogRequest(rec)
}
