package postgres_test

import (
	"context"
	"testing"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/store/postgres"
	"github.com/rosterhq/roster/store/storetest"
)

// BenchmarkLongValues: see storetest.BenchmarkLongValues.
func BenchmarkLongValues(b *testing.B) {
	st, err := postgres.Open(context.Background(), pgtest.New(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	storetest.BenchmarkLongValues(b, st)
}
