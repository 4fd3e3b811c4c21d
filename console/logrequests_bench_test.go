package console_test

import (
	"context"
	"testing"
	"time"

	"github.com/rosterhq/roster/store"
)

// BenchmarkLogRequests measures writing the request log to SQLite: one
// batch of 500 requests of one directory per op, and the cost per
// request.
func BenchmarkLogRequests(b *testing.B) {
	st := openStore(b)
	batch := make([]store.Request, 500)
	for i := range batch {
		batch[i] = store.Request{Time: time.Now(), Directory: "0f8fad5b-d9cb-469f-a165-70867728950e", Method: "GET",
			Path: "/scim/v2/Users/7c9e6679-7425-40de-944b-e07fc1f90ae7", Status: 200, Duration: time.Millisecond, Token: "okta",
			Resource: "7c9e6679-7425-40de-944b-e07fc1f90ae7", RequestID: "0123456789abcdef"}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := st.LogRequests(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/request")
}
