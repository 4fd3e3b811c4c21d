package conformance_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/rosterhq/roster/conformance"
	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/postgres"
	"github.com/rosterhq/roster/store/sqlite"
)

// TestRosterPassesEveryCheck holds Roster's own server, on each store, to
// every check: each passes, or is skipped with a reason.
func TestRosterPassesEveryCheck(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		passesEveryCheck(t, newRoster(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		st, err := postgres.Open(context.Background(), pgtest.New(t))
		if err != nil {
			t.Fatal(err)
		}
		passesEveryCheck(t, newRosterOn(t, st))
	})
}

func passesEveryCheck(t *testing.T, rs roster) {
	rep := run(t, serve(t, rs.handler), rs.token, conformance.Config{Large: 250})
	if len(rep.Results) != len(conformance.Checks()) {
		t.Errorf("%d results for %d checks", len(rep.Results), len(conformance.Checks()))
	}
	for _, res := range rep.Results {
		switch {
		case res.Status == conformance.Fail || res.Status == conformance.Warn:
			t.Errorf("%s: %s: %s", res.ID, res.Status, res.Message)
		case res.Status == conformance.Skip && res.Message == "":
			t.Errorf("%s was skipped without a reason", res.ID)
		}
	}
	if len(rep.Cleanup.Left) > 0 || rep.Cleanup.Deleted == 0 {
		t.Errorf("cleanup deleted %d and left %v", rep.Cleanup.Deleted, rep.Cleanup.Left)
	}
	if t.Failed() {
		t.Log(explain(rep))
	}
}

// roster is a Roster server a test started in-process.
type roster struct {
	handler http.Handler // the SCIM API
	token   string       // a token of its directory
}

// newRoster builds a Roster server over a fresh SQLite store, with a
// directory and a token; it does not listen (see serve).
func newRoster(t testing.TB) roster {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	return newRosterOn(t, st)
}

// newRosterOn builds a Roster server over st, with a directory of its own
// and a token.
func newRosterOn(t testing.TB, st store.Store) roster {
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
func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + server.BasePath
}
