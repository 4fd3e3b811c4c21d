package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/client/patch"
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
	p, _, _, err := e.plan(ctx)
	return p, err
}

// plan is Plan that also returns the source's snapshot (in scope) and the
// compiled mapping it planned with, for Explain.
func (e *Engine) plan(ctx context.Context) (*Plan, *source.Snapshot, *mapping, error) {
	m, err := e.Mapping.compile()
	if err != nil {
		return nil, nil, nil, err
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
	wg.Wait()
	if first != nil {
		return nil, nil, nil, first
	}
	snap = e.Scope.apply(snap)
	if min := max(e.MinUsers, 1); len(snap.Users) < min && len(e.State.Users) > 0 {
		return nil, nil, nil, fmt.Errorf("sync: the source returned %d users (fewer than %d) while the sync manages %d in the target; refusing to go on",
			len(snap.Users), min, len(e.State.Users))
	}
	p, err := computePlan(snap, tgt, m, e.State, e.Policy, time.Now().UTC())
	if err != nil {
		return nil, nil, nil, err
	}
	e.own(p)
	return p, snap, m, nil
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
		for i, mp := range m.users {
			values[i] = mp.path.get(attrs)
		}
		users = append(users, targetUser{id: u.ID, externalID: u.ExternalID, userName: u.UserName,
			active: u.Active == nil || *u.Active, values: values})
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

// Result is what Apply did.
type Result struct {
	Done Counts
	// Changes is every change tried, in order, with its error if it
	// failed; Failed holds the failed ones again.
	Changes []Failure
	Failed  []Failure
	// FailedCounts counts the failed changes by kind, as Done counts
	// those made: a failed request to add three members counts three.
	FailedCounts Counts
}

// Failure is a change tried and, if it failed after its retries, why.
type Failure struct {
	What string `json:"what"`
	Err  string `json:"error,omitempty"`
}

// ErrRefused is returned by Apply for a plan it refuses (see Plan.Refused).
var ErrRefused = errors.New("sync: the plan makes mass changes")

// Apply carries out a plan: users first (creates and updates), then
// groups, memberships (batched), each at most Concurrency requests at
// once, and last the deletions. A change that fails is reported in the Result and the rest go
// on; the next run retries what is left. allowMass overrides the plan's
// refusal. A plan Plan cannot have made (edited by hand) changes nothing:
// ErrInvalidPlan.
func (e *Engine) Apply(ctx context.Context, p *Plan, allowMass bool) (*Result, error) {
	paths, err := p.validate()
	if err != nil {
		return nil, err
	}
	if p.Refused != "" && !allowMass {
		return nil, fmt.Errorf("%w: %s", ErrRefused, p.Refused)
	}
	now := time.Now().UTC()
	// Own what the plan creates before creating it, on disk: a run that
	// dies before it saves the state at its end still manages the users
	// and groups it created, and deactivates them when they leave.
	if e.ownCreates(p, now) {
		if err := e.State.Save(); err != nil {
			return nil, err
		}
	}
	res := &Result{}
	var mu sync.Mutex
	total := len(p.Users) + len(p.Groups)
	for _, mc := range p.Members {
		if len(mc.Add) > 0 {
			total++
		}
		if len(mc.Remove) > 0 {
			total++
		}
	}
	progress := func() { // with mu held
		if e.Progress != nil {
			e.Progress(min(len(res.Changes), total), total)
		}
	}
	fail := func(what string, err error, kind Counts) {
		mu.Lock()
		res.FailedCounts.add(kind)
		res.Failed = append(res.Failed, Failure{What: what, Err: err.Error()})
		res.Changes = append(res.Changes, Failure{What: what, Err: err.Error()})
		progress()
		mu.Unlock()
	}
	done := func(what string) { // with mu held
		res.Changes = append(res.Changes, Failure{What: what})
		progress()
	}
	ids := map[string]string{} // externalId → target id, for refs to what this run creates

	// Users, but deletions. Creates go in bulk requests when the target
	// takes them (one request for many users), the rest one request each.
	succeeded := func(ch UserChange, id string) { // with mu held
		ids[ch.ExternalID] = id
		o := e.State.Users[ch.ExternalID]
		if o == nil {
			o = &Owned{Since: now}
			e.State.Users[ch.ExternalID] = o
		}
		// The grace period runs from the change that deactivated the user,
		// whatever else that change did, until one that reactivates it. A
		// deactivation finds the user active, so a time recorded before
		// (the user was reactivated by hand since) is stale.
		switch activeAfter(ch) {
		case "false":
			o.Deprovisioned = now
		case "true":
			o.Deprovisioned = time.Time{}
		}
		done(fmt.Sprintf("%s user %s", ch.Action, ch.UserName))
		switch ch.Action {
		case ActionCreate:
			res.Done.Create++
		case ActionUpdate:
			res.Done.Update++
		case ActionReactivate:
			res.Done.Reactivate++
		case ActionDeactivate:
			res.Done.Deactivate++
		}
	}
	// Updates before creates, so that a new user may take a userName
	// another gives up (as groups: renames before creates).
	bulk := e.bulkCreates(ctx, p.Users)
	for _, creates := range []bool{false, true} {
		if creates && bulk {
			break
		}
		e.each(ctx, len(p.Users), func(i int) {
			ch := p.Users[i]
			if ch.Action == ActionDelete || (ch.Action == ActionCreate) != creates {
				return
			}
			id, err := e.applyUser(ctx, ch, paths)
			if err != nil {
				fail(fmt.Sprintf("%s user %s", ch.Action, ch.UserName), err, userKind(ch.Action))
				return
			}
			mu.Lock()
			defer mu.Unlock()
			succeeded(ch, id)
		})
	}
	if bulk {
		var creates []UserChange
		for _, ch := range p.Users {
			if ch.Action == ActionCreate {
				creates = append(creates, ch)
			}
		}
		batches := (len(creates) + bulkBatch - 1) / bulkBatch
		e.each(ctx, batches, func(b int) {
			batch := creates[b*bulkBatch : min((b+1)*bulkBatch, len(creates))]
			ops := make([]client.BulkOperation, 0, len(batch))
			chs := make([]UserChange, 0, len(batch)) // the change of each operation
			for _, ch := range batch {
				u, err := newUser(ch, paths)
				if err != nil {
					fail(fmt.Sprintf("create user %s", ch.UserName), err, Counts{Create: 1})
					continue
				}
				ops = append(ops, client.BulkOperation{Method: "POST", Path: "/Users", BulkID: fmt.Sprintf("u%d", len(ops)), Data: u})
				chs = append(chs, ch)
			}
			out, err := e.Target.Bulk(ctx, ops, 0)
			for i, ch := range chs {
				switch {
				case err != nil:
					fail(fmt.Sprintf("create user %s", ch.UserName), err, Counts{Create: 1})
				case i >= len(out.Operations):
					fail(fmt.Sprintf("create user %s", ch.UserName), errors.New("the bulk response has no result for it"), Counts{Create: 1})
				case out.Operations[i].Err() != nil:
					fail(fmt.Sprintf("create user %s", ch.UserName), out.Operations[i].Err(), Counts{Create: 1})
				default:
					mu.Lock()
					succeeded(ch, out.Operations[i].ID())
					mu.Unlock()
				}
			}
		})
	}

	// A group retired to make way for a new one of its name (the source
	// replaced it) goes before the creates, or they would meet its name.
	// Deleting it takes it out of its parents, so the membership changes
	// below leave it alone. The other retirements come last.
	retire := func(ch GroupChange) bool {
		if err := e.Target.Groups.Delete(ctx, ch.TargetID); err != nil && !errors.Is(err, client.ErrNotFound) {
			fail("retire group "+ch.Name, err, Counts{GroupRetire: 1})
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		delete(e.State.Groups, ch.ExternalID)
		res.Done.GroupRetire++
		done("retire group " + ch.Name)
		return true
	}
	taken := map[string]bool{} // the names creates and renames take, in lower case
	for _, ch := range p.Groups {
		if ch.Action == ActionCreate || ch.Action == ActionRename {
			taken[strings.ToLower(ch.Name)] = true
		}
	}
	retiredEarly := map[string]bool{} // target ids
	for _, ch := range p.Groups {
		if ch.Action == ActionRetire && taken[strings.ToLower(ch.Name)] {
			if retire(ch) {
				retiredEarly[ch.TargetID] = true
			}
		}
	}

	// Groups, but retirements: renames first, so that a new group may take
	// a name another gives up; each pass Concurrency at a time.
	for _, action := range []string{ActionRename, ActionCreate} {
		var todo []GroupChange
		for _, ch := range p.Groups {
			if ch.Action == action {
				todo = append(todo, ch)
			}
		}
		e.each(ctx, len(todo), func(i int) {
			ch := todo[i]
			id := ch.TargetID
			var err error
			switch ch.Action {
			case ActionCreate:
				var g *client.Group
				g, err = e.Target.Groups.Create(ctx, &client.Group{DisplayName: ch.Name, ExternalID: ch.ExternalID})
				if err == nil {
					id = g.ID
				}
			case ActionRename:
				ops := []patch.Op{patch.Replace("displayName", ch.Name)}
				if ch.Adopt {
					ops = append(ops, patch.Replace("externalId", ch.ExternalID))
				}
				_, err = e.Target.Groups.Patch(ctx, id, ops...)
			}
			if err != nil {
				fail(fmt.Sprintf("%s group %s", ch.Action, ch.Name), err, groupKind(ch.Action))
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if ch.Action == ActionCreate {
				res.Done.GroupCreate++
			} else {
				res.Done.GroupRename++
			}
			done(fmt.Sprintf("%s group %s", ch.Action, ch.Name))
			ids[ch.ExternalID] = id
			if e.State.Groups[ch.ExternalID] == nil {
				e.State.Groups[ch.ExternalID] = &Owned{Since: now}
			}
		})
	}

	// Memberships, a group's at a time, Concurrency groups at once; ids no
	// longer changes.
	resolve := func(r Ref) string {
		if r.TargetID != "" {
			return r.TargetID
		}
		return ids[r.ExternalID]
	}
	e.each(ctx, len(p.Members), func(i int) {
		mc := p.Members[i]
		group := resolve(mc.Group)
		if group == "" {
			fail("members of group "+mc.Group.Name, errors.New("the group was not created"),
				Counts{MembersAdd: len(mc.Add), MembersRemove: len(mc.Remove)})
			return
		}
		var add, remove []string
		for _, r := range mc.Add {
			if id := resolve(r); id != "" {
				add = append(add, id)
			} else {
				fail(fmt.Sprintf("add %s to group %s", r.Name, mc.Group.Name), errors.New("the member was not created"), Counts{MembersAdd: 1})
			}
		}
		for _, r := range mc.Remove {
			if !retiredEarly[r.TargetID] {
				remove = append(remove, r.TargetID)
			}
		}
		if len(mc.Remove) > 0 && len(remove) == 0 { // only groups deleted above
			mu.Lock()
			total--
			progress()
			mu.Unlock()
		}
		if len(add) == 0 && len(remove) == 0 {
			return
		}
		if err := e.Target.Groups.ChangeMembers(ctx, group, add, remove); err != nil {
			if len(add) > 0 {
				fail("add members to group "+mc.Group.Name, err, Counts{MembersAdd: len(add)})
			}
			if len(remove) > 0 {
				fail("remove members from group "+mc.Group.Name, err, Counts{MembersRemove: len(remove)})
			}
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if len(add) > 0 {
			res.Done.MembersAdd += len(add)
			done(fmt.Sprintf("add %d members to group %s", len(add), mc.Group.Name))
		}
		if len(remove) > 0 {
			res.Done.MembersRemove += len(remove)
			done(fmt.Sprintf("remove %d members from group %s", len(remove), mc.Group.Name))
		}
	})

	// Deletions last.
	for _, ch := range p.Users {
		if ch.Action != ActionDelete {
			continue
		}
		if err := e.Target.Users.Delete(ctx, ch.TargetID); err != nil && !errors.Is(err, client.ErrNotFound) {
			fail("delete user "+ch.UserName, err, Counts{Delete: 1})
			continue
		}
		delete(e.State.Users, ch.ExternalID)
		res.Done.Delete++
		done("delete user " + ch.UserName)
	}
	for _, ch := range p.Groups {
		if ch.Action == ActionRetire && !taken[strings.ToLower(ch.Name)] {
			retire(ch)
		}
	}
	if err := e.State.Save(); err != nil {
		return res, err
	}
	return res, nil
}

// userKind returns the Counts of one user change of an action.
func userKind(action string) Counts {
	switch action {
	case ActionCreate:
		return Counts{Create: 1}
	case ActionUpdate:
		return Counts{Update: 1}
	case ActionDeactivate:
		return Counts{Deactivate: 1}
	case ActionReactivate:
		return Counts{Reactivate: 1}
	case ActionDelete:
		return Counts{Delete: 1}
	}
	return Counts{}
}

// groupKind returns the Counts of one group change of an action.
func groupKind(action string) Counts {
	switch action {
	case ActionCreate:
		return Counts{GroupCreate: 1}
	case ActionRename:
		return Counts{GroupRename: 1}
	case ActionRetire:
		return Counts{GroupRetire: 1}
	}
	return Counts{}
}

// add adds o's counts to c's.
func (c *Counts) add(o Counts) {
	c.Create += o.Create
	c.Update += o.Update
	c.Deactivate += o.Deactivate
	c.Reactivate += o.Reactivate
	c.Delete += o.Delete
	c.Unchanged += o.Unchanged
	c.GroupCreate += o.GroupCreate
	c.GroupRename += o.GroupRename
	c.GroupRetire += o.GroupRetire
	c.MembersAdd += o.MembersAdd
	c.MembersRemove += o.MembersRemove
}

// activeAfter returns what a change sets active to: "true", "false", or
// "" when it leaves it alone (a create sets it to true).
func activeAfter(ch UserChange) string {
	if ch.Action == ActionCreate {
		return "true"
	}
	for _, c := range ch.Changes {
		if c.Path == "active" {
			return c.After
		}
	}
	return ""
}

// applyUser carries out one user change and returns the target user's id.
// paths are the change's paths parsed (see Plan.validate).
func (e *Engine) applyUser(ctx context.Context, ch UserChange, paths map[string]attrPath) (string, error) {
	if ch.Action == ActionCreate {
		u, err := newUser(ch, paths)
		if err != nil {
			return "", err
		}
		created, err := e.Target.Users.Create(ctx, u)
		if err != nil {
			return "", err
		}
		return created.ID, nil
	}
	var ops []patch.Op
	for _, c := range ch.Changes {
		switch {
		case c.Path == "active":
			ops = append(ops, patch.Replace("active", c.After == "true"))
		case c.After == "":
			ops = append(ops, patch.Remove(paths[c.Path].removal()))
		default:
			ops = append(ops, patch.Replace(c.Path, c.After))
		}
	}
	_, err := e.Target.Users.Patch(ctx, ch.TargetID, ops...)
	return ch.TargetID, err
}

// each runs fn for 0..n-1, Concurrency at a time.
func (e *Engine) each(ctx context.Context, n int, fn func(i int)) {
	workers := e.Concurrency
	if workers <= 0 {
		workers = 8
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
}

// ErrPlanStale is returned by ApplySaved when the source or the target
// changed since the plan was made.
var ErrPlanStale = errors.New("sync: the source or the target changed since the plan was made; make a new plan")

// ApplySaved applies a plan made earlier (and reviewed), only if a plan
// made now is the same: otherwise it changes nothing and returns
// ErrPlanStale.
func (e *Engine) ApplySaved(ctx context.Context, saved *Plan, allowMass bool) (*Result, error) {
	if _, err := saved.validate(); err != nil {
		return nil, err
	}
	now, err := e.Plan(ctx)
	if err != nil {
		return nil, err
	}
	a, b := *saved, *now
	a.Created, b.Created = time.Time{}, time.Time{}
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil || string(ja) != string(jb) {
		return nil, ErrPlanStale
	}
	return e.Apply(ctx, saved, allowMass)
}

// own records that the sync manages the users and groups a plan matched
// in the target, so that it deactivates them when they leave the source
// even if no run ever had to change them, and starts the grace period of
// leavers found already deactivated, or they would never be deleted.
// Apply saves it.
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

// ownCreates records that the sync manages the users and groups p
// creates, and reports whether it recorded any not recorded before.
func (e *Engine) ownCreates(p *Plan, now time.Time) bool {
	added := false
	for _, ch := range p.Users {
		if ch.Action == ActionCreate && e.State.Users[ch.ExternalID] == nil {
			e.State.Users[ch.ExternalID] = &Owned{Since: now}
			added = true
		}
	}
	for _, ch := range p.Groups {
		if ch.Action == ActionCreate && e.State.Groups[ch.ExternalID] == nil {
			e.State.Groups[ch.ExternalID] = &Owned{Since: now}
			added = true
		}
	}
	return added
}

// bulkBatch is how many users one bulk request creates (the client splits
// further to the server's limits).
const bulkBatch = 200

// bulkCreates reports whether to create users in bulk requests: Bulk is
// set, the plan creates several and the target says it supports bulk.
func (e *Engine) bulkCreates(ctx context.Context, changes []UserChange) bool {
	n := 0
	for _, ch := range changes {
		if ch.Action == ActionCreate {
			n++
		}
	}
	if n < 2 || !e.Bulk {
		return false
	}
	spc, err := e.Target.ServiceProviderConfig(ctx)
	return err == nil && spc.Bulk.Supported && spc.Bulk.MaxOperations > 1
}

// newUser returns the user a create change makes, given its paths parsed
// (see Plan.validate).
func newUser(ch UserChange, paths map[string]attrPath) (*client.User, error) {
	body := map[string]any{"externalId": ch.ExternalID, "active": true}
	for _, c := range ch.Changes {
		paths[c.Path].set(body, c.After)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	var u client.User
	if err := json.Unmarshal(raw, &u); err != nil {
		return nil, err
	}
	return &u, nil
}
