package conformance_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/conformance"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlite"
)

// roster is a Roster server a test started in-process.
type roster struct {
	handler http.Handler // the SCIM API
	token   string       // a token of its directory
}

// newRoster builds a Roster server over a fresh SQLite store, with a
// directory and a token; it does not listen (see serve).
func newRoster(t *testing.T) roster {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	return newRosterOn(t, st)
}

// newRosterOn builds a Roster server over st, with a directory of its own
// and a token.
func newRosterOn(t *testing.T, st store.Store) roster {
	t.Helper()
	ctx := context.Background()
	t.Cleanup(func() { st.Close() })
	var b [4]byte
	rand.Read(b[:])
	d, err := st.CreateDirectory(ctx, "conform-"+hex.EncodeToString(b[:]))
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := st.CreateToken(ctx, d.ID, "conform", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(server.Config{Store: st, RateLimit: -1, AuthFailureLimit: -1, PasswordIterations: 1000})
	return roster{handler: h, token: token}
}

// serve serves h on a loopback port and returns the SCIM base URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + server.BasePath
}

// run runs the checker against base with token, failing the test when
// it cannot run.
func run(t *testing.T, base, token string, cfg conformance.Config) conformance.Report {
	t.Helper()
	cfg.URL = base
	if token != "" {
		cfg.Auth = client.WithToken(token)
	}
	rep, err := conformance.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("conformance.Run: %v", err)
	}
	return rep
}

// explain returns the text report with exchanges, for a failing test.
func explain(rep conformance.Report) string {
	var b strings.Builder
	rep.WriteText(&b, conformance.TextOptions{Verbose: true})
	return b.String()
}
