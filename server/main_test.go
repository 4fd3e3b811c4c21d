package server_test

import (
	"os"
	"testing"

	"github.com/rosterhq/roster/internal/pgtest"
)

// TestMain drops the PostgreSQL database the tests share when they end.
func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m))
}
