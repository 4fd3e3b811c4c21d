package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// groupCommitFixture is a store whose group commit is held: creates queue
// until release, so that a test decides what one transaction carries.
type groupCommitFixture struct {
	st    *Store
	dir   string
	users *schema.ResourceType
}

func newGroupCommitFixture(t *testing.T) *groupCommitFixture {
	t.Helper()
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d, err := st.CreateDirectory(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	return &groupCommitFixture{st: st, dir: d.ID, users: schema.NewRegistry().ResourceType("User")}
}

func (f *groupCommitFixture) user(t *testing.T, userName string) *resource.Resource {
	t.Helper()
	r, err := resource.Decode(f.users, []byte(fmt.Sprintf(`{"userName":%q}`, userName)), resource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// hold takes the store's one write connection, so that creates queue
// (their leader waits for the writer); release gives it back.
func (f *groupCommitFixture) hold(t *testing.T) (release func()) {
	t.Helper()
	tx, err := f.st.d.w.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return func() { tx.Rollback() }
}

// waitPending waits until n creates are queued.
func (f *groupCommitFixture) waitPending(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		got := f.st.d.creates.Pending()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d creates queued, want %d", got, n)
		}
	}
}

func (f *groupCommitFixture) count(t *testing.T) int {
	t.Helper()
	page, err := f.st.List(context.Background(), f.dir, store.Query{Type: f.users, Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	return page.Total
}

// TestGroupCommitFailsOnlyTheFailingCreates: creates committed in one
// transaction succeed or fail each on its own: a taken name is a
// conflict, an unknown directory is not found, the rest are created.
func TestGroupCommitFailsOnlyTheFailingCreates(t *testing.T) {
	f := newGroupCommitFixture(t)
	ctx := context.Background()
	type job struct{ dir, userName string }
	jobs := []job{{f.dir, "ada"}, {f.dir, "alan"}, {f.dir, "ADA"}, {"no-such-directory", "grace"}, {f.dir, "edsger"}, {f.dir, "alan"}}
	release := f.hold(t)
	errs := make(chan error, len(jobs))
	for _, j := range jobs {
		go func() {
			_, err := f.st.Create(ctx, j.dir, f.user(t, j.userName))
			errs <- err
		}()
	}
	f.waitPending(t, len(jobs))
	release()
	var ok, conflicts, notFound int
	for range jobs {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrConflict):
			conflicts++
		case errors.Is(err, store.ErrNotFound):
			notFound++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 3 || conflicts != 2 || notFound != 1 {
		t.Fatalf("%d created, %d conflicts, %d not found; want 3, 2, 1", ok, conflicts, notFound)
	}
	if n := f.count(t); n != 3 {
		t.Fatalf("%d users stored, want 3 (ada, alan, edsger)", n)
	}
	// Each user created has its event, in one transaction; those that
	// failed have none.
	events, err := f.st.Events(ctx, store.EventQuery{Directory: f.dir, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	created, n := map[string]bool{}, 0
	for _, e := range events {
		if e.Type == store.UserCreated {
			created[e.Resource] = true
			n++
		}
	}
	page, err := f.st.List(ctx, f.dir, store.Query{Type: f.users, Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range page.Resources {
		delete(created, u.ID())
	}
	if n != 3 || len(created) != 0 {
		t.Fatalf("%d user.created events, %d of users not stored; want 3, of the users stored", n, len(created))
	}
}

// TestGroupCommitDropsACreateWhoseCallerGaveUp: a create whose context
// ends while it waits is not made, and says so; the others are.
func TestGroupCommitDropsACreateWhoseCallerGaveUp(t *testing.T) {
	f := newGroupCommitFixture(t)
	release := f.hold(t)
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := f.st.Create(ctx, f.dir, f.user(t, "quitter"))
		gaveUp <- err
	}()
	stays := make(chan error, 1)
	go func() {
		_, err := f.st.Create(context.Background(), f.dir, f.user(t, "stayer"))
		stays <- err
	}()
	f.waitPending(t, 2)
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("the create given up: %v, want context.Canceled", err)
	}
	release()
	if err := <-stays; err != nil {
		t.Fatal(err)
	}
	page, err := f.st.List(context.Background(), f.dir, store.Query{Type: f.users, Count: 10})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 || page.Resources[0].Attrs["userName"] != "stayer" {
		t.Fatalf("stored: %d users, want only stayer", page.Total)
	}
}

// TestGroupCommitCarriesAtMostItsLimit: more creates than one transaction
// takes are all made, by leaders in turn, and each caller returns only
// once its own create is committed.
func TestGroupCommitCarriesAtMostItsLimit(t *testing.T) {
	f := newGroupCommitFixture(t)
	n := 2*maxGroupCommit + 5
	release := f.hold(t)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			r, err := f.st.Create(context.Background(), f.dir, f.user(t, fmt.Sprintf("user%d", i)))
			if err == nil {
				_, err = f.st.Get(context.Background(), f.dir, f.users, r.ID(), false) // committed: visible
			}
			errs <- err
		}()
	}
	f.waitPending(t, n)
	release()
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := f.count(t); got != n {
		t.Fatalf("%d users stored, want %d", got, n)
	}
}

// TestGroupCommitGivesUpWaitingForTheWriter: a create whose context ends
// while another write holds the writer returns then, not when the writer
// is free, and is not made.
func TestGroupCommitGivesUpWaitingForTheWriter(t *testing.T) {
	f := newGroupCommitFixture(t)
	tx, err := f.st.d.w.BeginTx(context.Background(), nil) // a long write
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := f.st.Create(ctx, f.dir, f.user(t, "impatient"))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("create: %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("create still waiting for the writer 5s after its deadline")
		defer func() { <-done }() // once the writer is free
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Create(context.Background(), f.dir, f.user(t, "patient")); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t); n != 1 {
		t.Fatalf("%d users stored, want 1 (patient)", n)
	}
}

// TestGroupCommitForgetsConflictsOfAFailedBatch: when a create fails in a
// way that undoes the whole batch, a create of the batch that met a name
// taken by another of the batch is not told its name is taken: that
// other was undone too.
func TestGroupCommitForgetsConflictsOfAFailedBatch(t *testing.T) {
	f := newGroupCommitFixture(t)
	ctx := context.Background()
	// An email insert that fails: not a constraint, so it ends the batch.
	if _, err := f.st.d.w.Exec(`CREATE TRIGGER boom BEFORE INSERT ON resource_emails WHEN new.email_key = 'boom@example.com'
		BEGIN SELECT RAISE(ABORT, 'boom'); END`); err != nil {
		t.Fatal(err)
	}
	release := f.hold(t)
	names := []string{"ada", "ada", "boom"}
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := resource.Decode(f.users, fmt.Appendf(nil, `{"userName":%q,"emails":[{"value":"%s@example.com"}]}`, n, n), resource.Options{})
			if err != nil {
				t.Error(err)
				return
			}
			_, errs[i] = f.st.Create(ctx, f.dir, r)
		}()
		f.waitPending(t, i+1) // in this order: the second ada meets the first
	}
	release()
	wg.Wait()
	for i, err := range errs {
		if err == nil || errors.Is(err, store.ErrConflict) {
			t.Errorf("create %d (%s): %v, want the batch's failure", i, names[i], err)
		}
	}
	if n := f.count(t); n != 0 {
		t.Fatalf("%d users stored, want none", n)
	}
}
