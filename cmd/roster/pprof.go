//go:build pprof

package main

import (
	"log"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"
)

// With the pprof build tag (go build -tags pprof ./cmd/roster), roster
// serves net/http/pprof at $ROSTER_PPROF_ADDR (default 127.0.0.1:6060), so
// that a run of ../shared/perf/compare.sh can be profiled with the binary
// it measures. Release builds do not have it.
func init() {
	addr := os.Getenv("ROSTER_PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go func() { log.Println(http.ListenAndServe(addr, nil)) }()
}
