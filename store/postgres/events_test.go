package postgres_test

import (
	"context"
	"testing"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/postgres"
	"github.com/rosterhq/roster/store/storetest"
)

// TestEventOrderAcrossReplicas runs 8 writers on two stores over one
// database, as two replicas, with a poller reading the events all along:
// PostgreSQL commits concurrent transactions in any order, and the poller
// must still see every event once, in seq order.
func TestEventOrderAcrossReplicas(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	var stores []store.Store
	for range 2 {
		st, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
	}
	storetest.EventOrder(t, stores...)
}
