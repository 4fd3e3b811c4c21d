package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxRecordedBody bounds each body an Exchange keeps, and maxExchanges the
// exchanges a check keeps (a large-group check sends thousands).
const (
	maxRecordedBody = 4 << 10
	maxExchanges    = 40
)

// Exchange is one HTTP request the checker sent and the answer it got,
// with secrets masked: the Authorization header's credentials and the
// value of every "password" attribute.
type Exchange struct {
	Method         string              `json:"method"`
	URL            string              `json:"url"`
	RequestHeader  map[string][]string `json:"requestHeader,omitempty"`
	RequestBody    string              `json:"requestBody,omitempty"`
	Status         int                 `json:"status,omitempty"`
	ResponseHeader map[string][]string `json:"responseHeader,omitempty"`
	ResponseBody   string              `json:"responseBody,omitempty"`
	// Error is why no answer came (the connection failed).
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"durationNs"`
}

// exchangeLog collects the exchanges of one check; requests of several
// goroutines of a check may add to it at once.
type exchangeLog struct {
	mu        sync.Mutex
	exchanges []Exchange
	dropped   int
}

func (l *exchangeLog) add(e Exchange) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.exchanges) >= maxExchanges {
		l.dropped++
		return
	}
	l.exchanges = append(l.exchanges, e)
}

func (l *exchangeLog) take() ([]Exchange, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.exchanges, l.dropped
}

type logKey struct{}

// withLog returns a context whose requests the recorder adds to l.
func withLog(ctx context.Context, l *exchangeLog) context.Context {
	return context.WithValue(ctx, logKey{}, l)
}

// recorder is an http.RoundTripper that records each exchange, masked, in
// the log its request's context carries (requests without one, such as
// an OAuth token request, are not recorded).
type recorder struct {
	base http.RoundTripper
}

func (rec recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	l, _ := r.Context().Value(logKey{}).(*exchangeLog)
	if l == nil {
		return rec.base.RoundTrip(r)
	}
	e := Exchange{Method: r.Method, URL: r.URL.String(), RequestHeader: maskHeader(r.Header)}
	if r.Body != nil && r.GetBody != nil {
		if body, err := r.GetBody(); err == nil {
			data, _ := io.ReadAll(io.LimitReader(body, 1<<20))
			body.Close()
			e.RequestBody = clip(maskBody(data))
		}
	}
	start := time.Now()
	resp, err := rec.base.RoundTrip(r)
	e.Duration = time.Since(start)
	if err != nil {
		e.Error = err.Error()
		l.add(e)
		return nil, err
	}
	// The caller reads the body; keep what it reads.
	e.Status, e.ResponseHeader = resp.StatusCode, maskHeader(resp.Header)
	resp.Body = &tee{ReadCloser: resp.Body, done: func(data []byte) {
		e.ResponseBody = clip(maskBody(data))
		l.add(e)
	}}
	return resp, nil
}

// tee keeps up to 1 MiB of what is read through it and hands it to done
// when closed.
type tee struct {
	io.ReadCloser
	buf  bytes.Buffer
	done func([]byte)
	once sync.Once
}

func (t *tee) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if room := 1<<20 - t.buf.Len(); room > 0 {
		t.buf.Write(p[:min(n, room)])
	}
	return n, err
}

func (t *tee) Close() error {
	t.once.Do(func() { t.done(t.buf.Bytes()) })
	return t.ReadCloser.Close()
}

// maskHeader copies h with the credentials of Authorization (and of
// Proxy-Authorization and Cookie) masked, the scheme kept.
func maskHeader(h http.Header) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		vs = append([]string(nil), vs...)
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "Proxy-Authorization":
			for i, v := range vs {
				scheme, _, _ := strings.Cut(v, " ")
				vs[i] = scheme + " ****"
			}
		case "Cookie", "Set-Cookie":
			for i := range vs {
				vs[i] = "****"
			}
		}
		out[k] = vs
	}
	return out
}

// maskBody returns a body with the value of every "password" attribute
// (any case, at any depth, also in a PATCH operation whose path is
// password) replaced by "****". A body that is not JSON is returned as it
// is.
func maskBody(data []byte) string {
	var v any
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return string(data)
	}
	masked, changed := maskValue(v)
	if !changed {
		return string(data)
	}
	out, err := json.Marshal(masked)
	if err != nil {
		return "(a body that held a password)"
	}
	return string(out)
}

func maskValue(v any) (any, bool) {
	changed := false
	switch v := v.(type) {
	case map[string]any:
		if p, ok := v["path"].(string); ok && isPassword(p) {
			if _, ok := v["value"]; ok {
				v["value"], changed = "****", true
			}
		}
		for k, x := range v {
			if isPassword(k) {
				v[k], changed = "****", true
				continue
			}
			var c bool
			v[k], c = maskValue(x)
			changed = changed || c
		}
	case []any:
		for i, x := range v {
			var c bool
			v[i], c = maskValue(x)
			changed = changed || c
		}
	}
	return v, changed
}

// isPassword reports whether an attribute name or path names the
// password: "password", any case, or a URN-qualified one.
func isPassword(name string) bool {
	name = strings.ToLower(name)
	return name == "password" || strings.HasSuffix(name, ":password")
}

// clip cuts a body to maxRecordedBody bytes.
func clip(s string) string {
	if len(s) <= maxRecordedBody {
		return s
	}
	return s[:maxRecordedBody] + "…(cut)"
}
