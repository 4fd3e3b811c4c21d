package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// memberTracer records the member ids each insert and delete of members
// names, in the order the statements name them.
type memberTracer struct {
	mu       sync.Mutex
	inserted [][]string
	deleted  []string
}

func (m *memberTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if strings.HasPrefix(data.SQL, "INSERT INTO members") {
		ids, _ := data.Args[2].([]string)
		m.mu.Lock()
		m.inserted = append(m.inserted, slices.Clone(ids))
		m.mu.Unlock()
	}
	return ctx
}

func (m *memberTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (m *memberTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (m *memberTracer) TraceBatchQuery(_ context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	if strings.HasPrefix(data.SQL, "DELETE FROM members") {
		m.mu.Lock()
		m.deleted = append(m.deleted, fmt.Sprint(data.Args[2]))
		m.mu.Unlock()
	}
}

func (m *memberTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// TestMemberChangesLockInIDOrder holds that a PATCH adds and removes
// members in the order of their ids, whatever the order it names them
// in: two changes of one group that share members then lock them in the
// same order, and cannot deadlock.
func TestMemberChangesLockInIDOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var ids []string
	for i := range 4 {
		ids = append(ids, f.create(f.users, fmt.Sprintf(`{"userName":"u%d"}`, i)).ID())
	}
	g := f.create(f.groups, `{"displayName":"g"}`)
	slices.Sort(ids)
	slices.Reverse(ids)
	var values []string
	for _, id := range ids {
		values = append(values, `{"value":"`+id+`"}`)
	}
	tracer := &memberTracer{}
	f.st = f.storeWithTracer(tracer)
	list := strings.Join(values, ",")
	if _, err := f.patch(f.groups, g.ID(), `{"op":"add","path":"members","value":[`+list+`]}`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.patch(f.groups, g.ID(), `{"op":"remove","path":"members","value":[`+list+`]}`); err != nil {
		t.Fatal(err)
	}
	if len(tracer.inserted) != 1 || !slices.IsSorted(tracer.inserted[0]) || len(tracer.inserted[0]) != 4 {
		t.Errorf("the members inserted, in order: %v; want the four ids sorted", tracer.inserted)
	}
	if !slices.IsSorted(tracer.deleted) || len(tracer.deleted) != 4 {
		t.Errorf("the members deleted, in order: %v; want the four ids sorted", tracer.deleted)
	}
}
