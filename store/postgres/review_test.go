package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// fixture is a migrated store with one directory, for the tests of this
// file: they look at what the conformance suite cannot, such as rows left
// behind, a connection lost in the middle of a call and PostgreSQL's limits.
type fixture struct {
	t             *testing.T
	st            *Store
	url           string
	dir           string
	users, groups *schema.ResourceType
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	url := pgtest.New(t)
	st, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newFixtureOn(t, st, url)
}

func newFixtureOn(t *testing.T, st *Store, url string) *fixture {
	t.Helper()
	d, err := st.CreateDirectory(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	reg := schema.NewRegistry()
	return &fixture{t: t, st: st, url: url, dir: d.ID, users: reg.ResourceType("User"), groups: reg.ResourceType("Group")}
}

func (f *fixture) decode(rt *schema.ResourceType, body string) *resource.Resource {
	f.t.Helper()
	r, err := resource.Decode(rt, []byte(body), resource.Options{})
	if err != nil {
		f.t.Fatalf("decode %s: %v", body, err)
	}
	return r
}

func (f *fixture) create(rt *schema.ResourceType, body string) *resource.Resource {
	f.t.Helper()
	r, err := f.st.Create(context.Background(), f.dir, f.decode(rt, body))
	if err != nil {
		f.t.Fatalf("Create %s: %v", body, err)
	}
	return r
}

// patch applies PATCH operations (JSON objects, comma-separated); it may
// run on any goroutine.
func (f *fixture) patch(rt *schema.ResourceType, id, ops string) (*resource.Resource, error) {
	req, err := patch.Parse(rt, []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+ops+`]}`), resource.Options{})
	if err != nil {
		return nil, fmt.Errorf("patch.Parse(%s): %w", ops, err)
	}
	return f.st.Patch(context.Background(), f.dir, rt, id, req, "", true)
}

func addMember(id string) string {
	return fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]}`, id)
}

// orphans counts membership rows whose member does not exist.
func (f *fixture) orphans() int {
	f.t.Helper()
	var n int
	err := f.st.pool.QueryRow(context.Background(), `SELECT count(*) FROM members m
		WHERE NOT EXISTS (SELECT 1 FROM resources r WHERE r.directory_id = m.directory_id AND r.id = m.member_id)`).Scan(&n)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// wantClientError fails unless err is a *scim.Error, which the server
// answers with its 4xx status.
func wantClientError(t *testing.T, what string, err error) {
	t.Helper()
	var se *scim.Error
	if !errors.As(err, &se) {
		t.Errorf("%s: got %v, want a *scim.Error (400), not a 500", what, err)
	}
}

// TestReviewDeletesRacingMemberAddsLeaveNoOrphans deletes users and groups
// while other requests add them to groups: every add either lands before
// the delete (which then removes the membership) or fails with a 400, and
// no membership row outlives its member.
func TestReviewDeletesRacingMemberAddsLeaveNoOrphans(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	target := f.create(f.groups, `{"displayName":"target"}`)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		u := f.create(f.users, fmt.Sprintf(`{"userName":"u%d"}`, i))
		g := f.create(f.groups, fmt.Sprintf(`{"displayName":"g%d"}`, i))
		other := f.create(f.groups, fmt.Sprintf(`{"displayName":"other%d"}`, i))
		wg.Go(func() {
			if _, err := f.patch(f.groups, target.ID(), addMember(u.ID())+","+addMember(g.ID())); err != nil {
				wantClientError(t, "add racing a delete", err)
			}
		})
		wg.Go(func() {
			if err := f.st.Delete(ctx, f.dir, f.users, u.ID(), ""); err != nil {
				t.Errorf("delete user: %v", err)
			}
		})
		wg.Go(func() {
			if err := f.st.Delete(ctx, f.dir, f.groups, g.ID(), ""); err != nil {
				t.Errorf("delete group: %v", err)
			}
		})
		// A group being deleted while a member is added to it.
		wg.Go(func() {
			if _, err := f.patch(f.groups, other.ID(), addMember(target.ID())); err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("add to a group being deleted: %v", err)
			}
		})
		wg.Go(func() {
			if err := f.st.Delete(ctx, f.dir, f.groups, other.ID(), ""); err != nil {
				t.Errorf("delete group: %v", err)
			}
		})
	}
	wg.Wait()
	if n := f.orphans(); n != 0 {
		t.Fatalf("%d membership rows name a deleted member", n)
	}
	var rows int
	if err := f.st.pool.QueryRow(ctx, `SELECT count(*) FROM members`).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("%d membership rows left, %v; want none", rows, err)
	}
}

// TestReviewNestedGroupsAddedBothWaysAtOnce adds G1 to G2 and G2 to G1 at
// the same time, which deadlocks in PostgreSQL; inTx runs the loser again,
// so both adds succeed and each group's version moves once.
func TestReviewNestedGroupsAddedBothWaysAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const pairs = 5
	var wg sync.WaitGroup
	type pair struct{ a, b *resource.Resource }
	ps := make([]pair, pairs)
	for i := range ps {
		ps[i] = pair{f.create(f.groups, fmt.Sprintf(`{"displayName":"a%d"}`, i)), f.create(f.groups, fmt.Sprintf(`{"displayName":"b%d"}`, i))}
		wg.Go(func() {
			if _, err := f.patch(f.groups, ps[i].a.ID(), addMember(ps[i].b.ID())); err != nil {
				t.Errorf("add b to a: %v", err)
			}
		})
		wg.Go(func() {
			if _, err := f.patch(f.groups, ps[i].b.ID(), addMember(ps[i].a.ID())); err != nil {
				t.Errorf("add a to b: %v", err)
			}
		})
	}
	wg.Wait()
	for _, p := range ps {
		for _, g := range []*resource.Resource{p.a, p.b} {
			got, err := f.st.Get(context.Background(), f.dir, f.groups, g.ID(), true)
			if err != nil {
				t.Fatal(err)
			}
			if m, _ := got.Attrs["members"].([]any); len(m) != 1 || got.Meta().Version != `W/"2"` {
				t.Errorf("group %s: members %v, version %s; want one member, version 2", g.ID(), m, got.Meta().Version)
			}
		}
	}
}

// TestReviewConcurrentPatchesOfOneUserAreNotLost patches one user from many
// goroutines (as several servers would): every change lands, and the
// version counts them.
func TestReviewConcurrentPatchesOfOneUserAreNotLost(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.create(f.users, `{"userName":"ann"}`)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			op := fmt.Sprintf(`{"op":"add","path":"emails","value":[{"value":"ann%d@example.com"}]}`, i)
			if _, err := f.patch(f.users, u.ID(), op); err != nil {
				t.Errorf("patch %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	got, err := f.st.Get(context.Background(), f.dir, f.users, u.ID(), false)
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := got.Attrs["emails"].([]any); len(e) != n || got.Meta().Version != fmt.Sprintf(`W/"%d"`, n+1) {
		t.Fatalf("%d emails, version %s after %d patches", len(e), got.Meta().Version, n)
	}
}

// TestReviewMembersOfAnotherDirectory cannot be added, listed or removed
// through a call that names this directory.
func TestReviewMembersOfAnotherDirectory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	other, err := f.st.CreateDirectory(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := f.st.Create(ctx, other.ID, f.decode(f.users, `{"userName":"eve"}`))
	if err != nil {
		t.Fatal(err)
	}
	g := f.create(f.groups, `{"displayName":"g"}`)
	_, err = f.patch(f.groups, g.ID(), addMember(stranger.ID()))
	wantClientError(t, "adding a user of another directory", err)
	_, err = f.st.Create(ctx, f.dir, f.decode(f.groups, fmt.Sprintf(`{"displayName":"h","members":[{"value":%q}]}`, stranger.ID())))
	wantClientError(t, "creating a group with a user of another directory", err)
	if _, err := f.st.Get(ctx, f.dir, f.users, stranger.ID(), false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of another directory's user: %v", err)
	}
	if err := f.st.Delete(ctx, f.dir, f.users, stranger.ID(), ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Delete of another directory's user: %v", err)
	}
}

// TestReviewDeadlockedPatchRunsAgain makes a member add the victim of a
// deadlock for sure: another transaction holds G2 (as a PATCH of G2 would)
// while the PATCH of G1 adding G2 waits for it, then asks for G1. (The
// PATCH also renames G1, so that it locks G1 first: one that only adds
// and removes members locks its group last, and deadlocks no more here.)
// PostgreSQL
// aborts the PATCH, which started waiting first; inTx runs it again, and it
// succeeds once the other transaction commits.
func TestReviewDeadlockedPatchRunsAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	g1 := f.create(f.groups, `{"displayName":"g1"}`)
	g2 := f.create(f.groups, `{"displayName":"g2"}`)
	tx, err := f.st.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	// PostgreSQL aborts the transaction of the session that runs its
	// deadlock check first, deadlock_timeout after it began to wait: the
	// PATCH's (1 s), never this one's, however busy the machine.
	if _, err := tx.Exec(ctx, `SET LOCAL deadlock_timeout = '60s'`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM resources WHERE id = $1 FOR UPDATE`, g2.ID()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := f.patch(f.groups, g1.ID(), `{"op":"replace","path":"displayName","value":"g1 renamed"},`+addMember(g2.ID()))
		done <- err
	}()
	// Wait until the PATCH waits for G2's lock.
	for {
		var waiting int
		if err := f.st.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM resources WHERE id = $1 FOR SHARE`, g1.ID()); err != nil {
		t.Fatalf("the other transaction was the deadlock's victim (%v); the test wants the PATCH to be", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the PATCH that deadlocked: %v; want it run again and succeed", err)
	}
	var deadlocks int64
	for range 50 { // statistics reach pg_stat_database within a second
		if err := f.st.pool.QueryRow(ctx, `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`).Scan(&deadlocks); err != nil {
			t.Fatal(err)
		}
		if deadlocks > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if deadlocks == 0 {
		t.Fatal("no deadlock happened; the test did not test the retry")
	}
}

// connKiller closes a connection's socket just before the first query
// whose SQL contains match is sent, as if the network failed there: the
// query fails before any byte of it left, which pgconn.SafeToRetry
// reports, so inTx runs the whole transaction again.
type connKiller struct {
	match string
	mu    sync.Mutex
	fired bool
}

func (k *connKiller) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.fired && strings.Contains(data.SQL, k.match) {
		k.fired = true
		conn.PgConn().Conn().Close()
	}
	return ctx
}

func (k *connKiller) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// storeWithTracer opens a second store on f's database whose connections
// report to tracer.
func (f *fixture) storeWithTracer(tracer pgx.QueryTracer) *Store {
	f.t.Helper()
	cfg, err := pgxpool.ParseConfig(f.url)
	if err != nil {
		f.t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(pool.Close)
	return newStore(pool)
}

// TestReviewTransactionsRunAgainAfterALostConnection loses the connection
// in the last statement of Create and Replace (reading the members back):
// inTx runs the transaction again, which must find the resource as it was
// before the first attempt, not half-updated by it.
func TestReviewTransactionsRunAgainAfterALostConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	u := f.create(f.users, `{"userName":"ann"}`)
	g := f.create(f.groups, `{"displayName":"g"}`)
	call := func(what string, fn func(st *Store) (*resource.Resource, error)) {
		t.Helper()
		killer := &connKiller{match: "FROM members m LEFT JOIN resources r"}
		st := f.storeWithTracer(killer)
		var got *resource.Resource
		var err error
		func() {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("panic: %v", p)
				}
			}()
			got, err = fn(st)
		}()
		if !killer.fired {
			t.Fatalf("%s: the connection was not cut", what)
		}
		if err != nil {
			t.Fatalf("%s, retried after a lost connection: %v", what, err)
		}
		if m, _ := got.Attrs["members"].([]any); len(m) != 1 {
			t.Errorf("%s: members %v, want ann", what, got.Attrs["members"])
		}
	}
	call("Create", func(st *Store) (*resource.Resource, error) {
		return st.Create(ctx, f.dir, f.decode(f.groups, fmt.Sprintf(`{"displayName":"new","members":[{"value":%q}]}`, u.ID())))
	})
	call("Replace", func(st *Store) (*resource.Resource, error) {
		r := f.decode(f.groups, fmt.Sprintf(`{"displayName":"g2","members":[{"value":%q}]}`, u.ID()))
		r.SetID(g.ID())
		return st.Replace(ctx, f.dir, r, "")
	})
}

// TestReviewMemberIDsPostgreSQLCannotHold are a 400 (or nothing to remove),
// never a 500: JSON can carry "\u0000" in a member's value, and a text
// parameter holding it makes PostgreSQL fail the whole statement.
func TestReviewMemberIDsPostgreSQLCannotHold(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.create(f.users, `{"userName":"ann"}`)
	g := f.create(f.groups, fmt.Sprintf(`{"displayName":"g","members":[{"value":%q}]}`, u.ID()))
	nul := `{"value":"x\u0000"}`
	_, err := f.patch(f.groups, g.ID(), `{"op":"replace","path":"members","value":[`+nul+`]}`)
	wantClientError(t, "PATCH replace members", err)
	_, err = f.patch(f.groups, g.ID(), `{"op":"add","path":"members","value":[`+nul+`]}`)
	wantClientError(t, "PATCH add members", err)
	r := f.decode(f.groups, `{"displayName":"g","members":[`+nul+`]}`)
	r.SetID(g.ID())
	_, err = f.st.Replace(context.Background(), f.dir, r, "")
	wantClientError(t, "PUT", err)
	// Removing what cannot be a member removes nothing, as for any id
	// that is not a member.
	got, err := f.patch(f.groups, g.ID(), `{"op":"remove","path":"members","value":[`+nul+`]}`)
	if err != nil {
		t.Fatalf("PATCH remove members: %v", err)
	}
	if got.Meta().Version != g.Meta().Version || len(got.Attrs["members"].([]any)) != 1 {
		t.Errorf("PATCH remove of no member changed the group: %v, %s", got.Attrs["members"], got.Meta().Version)
	}
}

// TestReviewOverlongIndexedValuesAreClientErrors sends values longer than
// PostgreSQL indexes (an index entry holds at most about 2.7 kB): a 400
// that says so, not the "index row size exceeds" error as a 500. The bodies
// are well within the server's 1 MiB limit.
func TestReviewOverlongIndexedValuesAreClientErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	// Distinct runes, so that PostgreSQL's compression of long index
	// entries cannot make them fit; "Ⱥ" is 2 bytes, its lower case 3.
	var b strings.Builder
	for i := 0; b.Len() < 6000; i++ {
		b.WriteRune(rune(0x4e00 + i%20000))
	}
	long := b.String()
	longLower := strings.Repeat("Ⱥ", maxKeyBytes/2) // fits, but strings.ToLower does not
	user := f.create(f.users, `{"userName":"ann"}`)
	for _, body := range []string{
		fmt.Sprintf(`{"userName":%q}`, long),
		fmt.Sprintf(`{"userName":%q}`, longLower),
		fmt.Sprintf(`{"userName":"bob","externalId":%q}`, long),
		fmt.Sprintf(`{"userName":"bob","emails":[{"value":%q}]}`, long),
	} {
		_, err := f.st.Create(ctx, f.dir, f.decode(f.users, body))
		wantClientError(t, "Create "+body[:30], err)
	}
	_, err := f.st.Create(ctx, f.dir, f.decode(f.groups, fmt.Sprintf(`{"displayName":%q}`, long)))
	wantClientError(t, "Create a group", err)
	_, err = f.patch(f.users, user.ID(), fmt.Sprintf(`{"op":"replace","path":"userName","value":%q}`, long))
	wantClientError(t, "PATCH userName", err)
	r := f.decode(f.users, fmt.Sprintf(`{"userName":"ann","externalId":%q}`, long))
	r.SetID(user.ID())
	_, err = f.st.Replace(ctx, f.dir, r, "")
	wantClientError(t, "PUT externalId", err)
	_, err = f.st.CreateDirectory(ctx, long)
	wantClientError(t, "CreateDirectory", err)

	// The longest values allowed are stored, even where they do not
	// compress.
	ok := []rune(long)[:maxKeyBytes/3]
	ok = append(ok, []rune(strings.Repeat("a", maxKeyBytes-len(string(ok))))...)
	if len(string(ok)) != maxKeyBytes {
		t.Fatalf("%d bytes", len(string(ok)))
	}
	f.create(f.users, fmt.Sprintf(`{"userName":%q,"externalId":%q,"emails":[{"value":%q}]}`, string(ok), string(ok), string(ok)))
	f.create(f.groups, fmt.Sprintf(`{"displayName":%q}`, string(ok)))
	if _, err := f.st.CreateDirectory(ctx, string(ok)); err != nil {
		t.Fatal(err)
	}
}

// TestReviewMigrateOnAPoolOfOneConnection opens a store whose pool has one
// connection (pool_max_conns=1): Migrate must not hold that connection
// for its lock while goose waits for one.
func TestReviewMigrateOnAPoolOfOneConnection(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t) + "&pool_max_conns=1"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 2 { // two servers starting at once
		wg.Go(func() {
			st, err := Open(ctx, url)
			if err != nil {
				t.Errorf("Open %d on one connection: %v", i, err)
				return
			}
			defer st.Close()
			if _, err := st.CreateDirectory(ctx, fmt.Sprintf("d%d", i)); err != nil {
				t.Errorf("after Open %d: %v", i, err)
			}
		})
	}
	wg.Wait()
}

// canceller cancels a context just before the first query whose SQL
// contains match, as a client that goes away in the middle of a call.
type canceller struct {
	match  string
	cancel context.CancelFunc
}

func (c *canceller) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if strings.Contains(data.SQL, c.match) {
		c.cancel()
	}
	return ctx
}

func (c *canceller) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestReviewACancelledCallIsNotUnavailable: when the caller's context ends
// between two statements of a call, the error is context.Canceled, not
// store.ErrUnavailable, which the server would log as an outage and count
// as a 503.
func TestReviewACancelledCallIsNotUnavailable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.create(f.users, `{"userName":"ann"}`)
	// In a group, so that Get reads her groups with a query of its own.
	f.create(f.groups, `{"displayName":"g","members":[{"value":"`+u.ID()+`"}]}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := f.storeWithTracer(&canceller{match: "WITH RECURSIVE", cancel: cancel})
	_, err := st.Get(ctx, f.dir, f.users, u.ID(), true)
	if !errors.Is(err, context.Canceled) || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Get cancelled between its queries: %v; want context.Canceled, not ErrUnavailable", err)
	}
}
