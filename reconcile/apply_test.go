package reconcile_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/reconcile/source"
)

// overlap is a transport that holds each DELETE of a collection until a
// second DELETE of it is in flight too, or a while has passed, and records
// whether two were: whether the engine sends them concurrently.
type overlap struct {
	base http.RoundTripper // where requests go on to

	mu       sync.Mutex
	inFlight map[string]int
	together map[string]chan struct{} // closed when two were in flight
}

func (o *overlap) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodDelete {
		return o.base.RoundTrip(r)
	}
	coll := "Groups"
	if strings.Contains(r.URL.Path, "/Users/") {
		coll = "Users"
	}
	o.mu.Lock()
	together := o.together[coll]
	if together == nil {
		together = make(chan struct{})
		o.together[coll] = together
	}
	o.inFlight[coll]++
	if o.inFlight[coll] >= 2 {
		select {
		case <-together: // closed by an earlier pair
		default:
			close(together)
		}
	}
	o.mu.Unlock()
	select {
	case <-together:
	case <-time.After(time.Second):
	}
	resp, err := o.base.RoundTrip(r)
	o.mu.Lock()
	o.inFlight[coll]--
	o.mu.Unlock()
	return resp, err
}

// overlapped reports whether two DELETEs of coll were in flight at once,
// and forgets it.
func (o *overlap) overlapped(coll string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	together := o.together[coll]
	delete(o.together, coll)
	if together == nil {
		return false
	}
	select {
	case <-together:
		return true
	default:
		return false
	}
}

// TestDeletionsRunConcurrencyWide: deleting users and retiring groups
// are requests independent of each other, sent Concurrency at a time as
// every other change is, not one after another.
func TestDeletionsRunConcurrencyWide(t *testing.T) {
	url, token := startRoster(t)
	groups := func(prefix string) []source.Group {
		var out []source.Group
		for _, name := range []string{"Red", "Green", "Blue"} {
			out = append(out, source.Group{ID: prefix + name, Name: name})
		}
		return out
	}
	src := &memSource{snap: source.Snapshot{Users: people(6), Groups: groups("old")}}
	ov := &overlap{base: testTransport(t), inFlight: map[string]int{}, together: map[string]chan struct{}{}}
	e, _ := newEngine(t, url, token, src, client.WithTransport(ov))
	e.Policy = reconcile.Policy{Delete: true, RetireGroups: reconcile.RetireDelete, MaxDeprovision: 5}
	e.Concurrency = 4
	mustSync(t, e)

	// The source replaces its groups by new ones of the same names: the
	// old ones are retired before the new ones are created.
	src.snap.Groups = groups("new")
	if p := mustSync(t, e); p.Counts.GroupRetire != 3 || p.Counts.GroupCreate != 3 {
		t.Fatalf("groups replaced: plan %+v", p.Counts)
	}
	if !ov.overlapped("Groups") {
		t.Error("the groups replaced by new ones were retired one at a time")
	}

	// Half the users and every group leave: the users are deactivated,
	// the groups retired.
	src.snap = source.Snapshot{Users: src.snap.Users[:3]}
	if p := mustSync(t, e); p.Counts.Deactivate != 3 || p.Counts.GroupRetire != 3 {
		t.Fatalf("users and groups left: plan %+v", p.Counts)
	}
	if !ov.overlapped("Groups") {
		t.Error("the groups that left were retired one at a time")
	}

	// The next run, the grace period (none) over, deletes the users.
	time.Sleep(time.Millisecond)
	if p := mustSync(t, e); p.Counts.Delete != 3 {
		t.Fatalf("the next run: plan %+v, want 3 deletes", p.Counts)
	}
	if !ov.overlapped("Users") {
		t.Error("the users were deleted one at a time")
	}
}
