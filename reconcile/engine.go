package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/reconcile/source"
)

// Engine syncs one source into one target.
type Engine struct {
	Source  source.Source
	Target  *client.Client
	Mapping Mapping
	Policy  Policy
	// Scope narrows the source's users and groups (group allow-lists).
	Scope Scope
	State *State
	// Concurrency is how many requests Apply sends at once (default 8).
	Concurrency int
	// MinUsers aborts a run whose source holds fewer users, while the
	// target holds users the sync manages: an empty LDAP answer must not
	// deactivate everyone. Default 1.
	MinUsers int
	// Bulk creates users in bulk requests (RFC 7644 §3.7, 200 a request)
	// when the target supports them: far fewer round trips to a distant
	// target. Off, each user is a request of its own (on a local Roster
	// over SQLite that is as fast: the store's one writer is the limit).
	Bulk bool
	// Progress, if set, is told during Apply how many of the plan's
	// changes are done (failed ones included) out of how many. It is
	// called with Apply's lock held: it must be quick.
	Progress func(done, total int)
	// Reading, if set, is told during Plan (and so ApplySaved and
	// Explain) how much of each side has been read: what is "source
	// users", "source groups", "target users" or "target groups"; n is
	// how many so far, total how many there are, -1 while unknown. The
	// source reports once, when read; the target as its users and groups
	// arrive, then once more when it is done, with n == total. The reads
	// run in parallel, but the calls are never concurrent: it must be
	// quick, as it holds up the reads.
	Reading func(what string, n, total int)
}

// Plan reads both sides and computes what Apply would change. It changes
// nothing.
func (e *Engine) Plan(ctx context.Context) (*Plan, error) {
	p, _, _, _, err := e.plan(ctx)
	return p, err
}

// plan is Plan that also returns the source's snapshot (in scope), the
// compiled mapping it planned with and the target as read, for Explain.
func (e *Engine) plan(ctx context.Context) (*Plan, *source.Snapshot, *mapping, *target, error) {
	m, err := e.Mapping.compile()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	// The three reads wait on different things (the source, the target's
	// pages of users, of groups), so they overlap; the first to fail
	// cancels the others and is the error.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		snap  *source.Snapshot
		tgt   target
		ts    *TargetSchema
	)
	fail := func(what string, err error) {
		if err != nil {
			once.Do(func() { first = fmt.Errorf("sync: read the %s: %w", what, err); cancel() })
		}
	}
	var readingMu sync.Mutex
	reading := func(what string, n, total int) {
		if e.Reading != nil {
			readingMu.Lock()
			defer readingMu.Unlock()
			e.Reading(what, n, total)
		}
	}
	wg.Go(func() {
		var err error
		snap, err = e.Source.Read(ctx)
		fail("source", err)
		if err == nil {
			reading("source users", len(snap.Users), len(snap.Users))
			reading("source groups", len(snap.Groups), len(snap.Groups))
		}
	})
	wg.Go(func() {
		var err error
		tgt.users, err = e.readUsers(ctx, m, reading)
		fail("target", err)
	})
	wg.Go(func() {
		var err error
		tgt.groups, err = e.readGroups(ctx, reading)
		fail("target", err)
	})
	wg.Go(func() {
		var err error
		ts, err = e.LearnTarget(ctx)
		fail("target's schemas", err)
	})
	wg.Wait()
	if first != nil {
		return nil, nil, nil, nil, first
	}
	// Mistakes of the mapping, found before anything is written: a path
	// the target cannot hold, a source field no record has.
	if err := ts.check(m, e.Mapping.Where); err != nil {
		return nil, nil, nil, nil, err
	}
	if err := checkFields(snap, m, e.Mapping.Where); err != nil {
		return nil, nil, nil, nil, err
	}
	snap = e.Scope.apply(snap)
	m.withGroups(snap)
	if min := max(e.MinUsers, 1); len(snap.Users) < min && len(e.State.Users) > 0 {
		return nil, nil, nil, nil, fmt.Errorf("sync: the source returned %d users (fewer than %d) while the sync manages %d in the target; refusing to go on",
			len(snap.Users), min, len(e.State.Users))
	}
	p, err := computePlan(snap, tgt, m, e.State, e.Policy, time.Now().UTC())
	if err != nil {
		return nil, nil, nil, nil, err
	}
	p.Notes = append(p.Notes, ts.Notes()...)
	return p, snap, m, &tgt, nil
}

// readUsers lists the target's users, keeping of their attributes only
// the values of the paths m maps: a sync of 100,000 users holds them all
// until the plan is made. It tells reading (see Engine.Reading) as they
// arrive.
func (e *Engine) readUsers(ctx context.Context, m *mapping, reading func(what string, n, total int)) ([]targetUser, error) {
	var users []targetUser
	total := -1
	if e.Reading != nil {
		total = listTotal(ctx, e.Target.Users.List)
	}
	for u, err := range e.Target.Users.All(ctx, client.Query{ExcludedAttributes: []string{"groups"}}) {
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(u)
		if err != nil {
			return nil, err
		}
		var attrs map[string]any
		if err := json.Unmarshal(raw, &attrs); err != nil {
			return nil, err
		}
		values := make([]string, len(m.users))
		var elements []bool
		for i, mp := range m.users {
			var found bool
			values[i], found = mp.path.get(attrs)
			if mp.path.typ != "" {
				if elements == nil {
					elements = make([]bool, len(m.users))
				}
				elements[i] = found
			}
		}
		users = append(users, targetUser{id: u.ID, externalID: u.ExternalID, userName: u.UserName,
			active: u.Active == nil || *u.Active, values: values, elements: elements})
		reading("target users", len(users), soFar(total, len(users)))
	}
	reading("target users", len(users), len(users))
	return users, nil
}

// readGroups lists the target's groups with their members, telling
// reading (see Engine.Reading) as they arrive.
func (e *Engine) readGroups(ctx context.Context, reading func(what string, n, total int)) ([]targetGroup, error) {
	var groups []targetGroup
	total := -1
	if e.Reading != nil {
		total = listTotal(ctx, e.Target.Groups.List)
	}
	for g, err := range e.Target.Groups.All(ctx, client.Query{}) {
		if err != nil {
			return nil, err
		}
		tg := targetGroup{id: g.ID, externalID: g.ExternalID, name: g.DisplayName}
		for _, m := range g.Members {
			typ := m.Type
			if typ == "" {
				typ = "User"
			}
			tg.members = append(tg.members, Ref{TargetID: m.Value, Name: m.Display, Type: typ})
		}
		groups = append(groups, tg)
		reading("target groups", len(groups), soFar(total, len(groups)))
	}
	reading("target groups", len(groups), len(groups))
	return groups, nil
}

// soFar is the total to report with n read so far, while reading: -1
// once n reaches it (the target grew since it said), as only the last
// call has n == total.
func soFar(total, n int) int {
	if n >= total {
		return -1
	}
	return total
}

// listTotal asks the target how many resources a listing will return (a
// page of one id), for Engine.Reading; -1 when it does not say.
func listTotal[T any](ctx context.Context, list func(context.Context, client.Query) (*client.Page[T], error)) int {
	page, err := list(ctx, client.Query{Attributes: []string{"id"}, Count: 1})
	if err != nil || page.TotalResults <= 0 {
		return -1
	}
	return page.TotalResults
}

// own records in the state that the sync manages the users and groups a
// plan matched in the target, so that it deactivates them when they leave
// the source even if no run ever had to change them, and starts the grace
// period of leavers found already deactivated, or they would never be
// deleted. Only Apply calls it, once the plan is not refused: a plan
// changes nothing, the state included, so that a second plan sees the
// same adoptions (and refuses them the same way). Apply saves it.
func (e *Engine) own(p *Plan) {
	now := time.Now().UTC()
	for _, id := range p.matchedUsers {
		if e.State.Users[id] == nil {
			e.State.Users[id] = &Owned{Since: now}
		}
	}
	for _, id := range p.matchedGroups {
		if e.State.Groups[id] == nil {
			e.State.Groups[id] = &Owned{Since: now}
		}
	}
	for _, id := range p.inactive {
		if o := e.State.Users[id]; o != nil && o.Deprovisioned.IsZero() {
			o.Deprovisioned = now
		}
	}
}
