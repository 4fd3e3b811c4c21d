package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/client/patch"
	"github.com/rosterhq/roster/scim"
)

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
	// Learnt says which shapes of request the target refused, and what
	// the run sent instead from then on.
	Learnt []string
}

// Failure is a change tried and, if it failed after its retries, why.
type Failure struct {
	What string `json:"what"`
	Err  string `json:"error,omitempty"`
	// Members names the members a change of a group's members added or
	// removed (their userNames, or groups' names).
	Members []string `json:"members,omitempty"`
	// Cause is the error without what differs from one change to the
	// next (the URL, ids): failures of one Cause and kind are one line
	// of the summary (see Causes).
	Cause string `json:"cause,omitempty"`
}

// causeOf returns the cause of a failure for grouping: a target's answer
// as its status, scimType and detail with ids left out, and a hint at
// what it means where one is known.
func causeOf(err error) string {
	var ce *client.Error
	if !errors.As(err, &ce) {
		return idLike.ReplaceAllString(err.Error(), "…")
	}
	cause := fmt.Sprint(ce.Status)
	if ce.ScimType != "" {
		cause += " " + ce.ScimType
	}
	if ce.Detail != "" {
		cause += ": " + idLike.ReplaceAllString(ce.Detail, "…")
	}
	hint := map[string]string{
		"invalidPath": "the target's schema has no such attribute",
		"noTarget":    "no value in the target matches the path",
		"uniqueness":  "another resource in the target holds this value (another system's user?)",
		"mutability":  "the target does not let this attribute change",
	}[ce.ScimType]
	switch ce.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		hint = "the target refuses the token"
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		hint = "the target was busy through every retry"
	}
	if hint != "" {
		cause += " — " + hint
	}
	return cause
}

// idLike matches the ids that make one change's error differ from the
// next's: UUIDs, long hex or digit runs, and quoted URLs.
var idLike = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\b[0-9a-fA-F]{16,}\b|https?://\S+`)

// Cause is one line of a run's failures grouped: how many changes of a
// kind ("update user") failed for one cause, and a few of them.
type Cause struct {
	Kind     string
	Cause    string
	Count    int
	Examples []string // the first few changes' subjects
}

// Causes groups a run's failures by kind of change and cause, the
// largest group first.
func (r *Result) Causes() []Cause {
	var out []Cause
	index := map[[2]string]int{}
	for _, f := range r.Failed {
		kind, subject := splitWhat(f.What)
		cause := f.Cause
		if cause == "" {
			cause = f.Err
		}
		k := [2]string{kind, cause}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, Cause{Kind: kind, Cause: cause})
		}
		out[i].Count++
		if len(out[i].Examples) < 3 {
			out[i].Examples = append(out[i].Examples, subject)
		}
	}
	slices.SortStableFunc(out, func(a, b Cause) int { return b.Count - a.Count })
	return out
}

// splitWhat splits a change's description into its kind ("update user",
// "add members to group") and its subject (a userName, a group's name).
func splitWhat(what string) (kind, subject string) {
	if m, g, ok := strings.Cut(strings.TrimPrefix(what, "add "), " to group "); ok && strings.HasPrefix(what, "add ") && !strings.HasSuffix(m, "members") {
		return "add member to group", m + " to " + g // "add ada@example.com to group Eng"
	}
	words := strings.Fields(what)
	for i, w := range words {
		if w == "user" || w == "group" {
			return strings.Join(words[:i+1], " "), strings.Join(words[i+1:], " ")
		}
	}
	return what, ""
}

// ErrRefused is returned by Apply for a plan it refuses (see Plan.Refused).
var ErrRefused = errors.New("sync: the plan makes mass changes")

// Apply carries out a plan: users first (updates, then creates), then
// groups, memberships (batched), and last the deletions, each phase at
// most Concurrency requests at once. A change that fails is reported in
// the Result and the rest go on; the next run retries what is left.
// allowMass overrides the plan's refusal. A plan Plan cannot have made
// (edited by hand) changes nothing: ErrInvalidPlan.
func (e *Engine) Apply(ctx context.Context, p *Plan, allowMass bool) (*Result, error) {
	paths, err := p.validate()
	if err != nil {
		return nil, err
	}
	return e.apply(ctx, p, paths, allowMass)
}

// apply is Apply for a plan validate has checked, with the paths it
// parsed.
func (e *Engine) apply(ctx context.Context, p *Plan, paths map[string]attrPath, allowMass bool) (*Result, error) {
	if len(p.Refused) > 0 && !allowMass {
		return nil, fmt.Errorf("%w: %s", ErrRefused, strings.Join(p.Refused, "; "))
	}
	e.own(p)
	now := time.Now().UTC()
	// Own what the plan creates before creating it, on disk: a run that
	// dies before it saves the state at its end still manages the users
	// and groups it created, and deactivates them when they leave.
	a := newApplier(e, p, paths, now)
	if a.ownCreates() {
		if err := e.State.Save(); err != nil {
			return nil, err
		}
	}
	a.adopt()
	a.updateUsers(ctx)
	a.createUsers(ctx)
	a.retireReplacedGroups(ctx)
	a.renameGroups(ctx)
	a.createGroups(ctx)
	a.changeMembers(ctx)
	a.deleteUsers(ctx)
	a.retireGroups(ctx)
	if err := e.State.Save(); err != nil {
		return a.res, err
	}
	return a.res, nil
}

// ErrPlanStale is returned by ApplySaved when the source or the target
// changed since the plan was made.
var ErrPlanStale = errors.New("sync: the source or the target changed since the plan was made; make a new plan")

// ApplySaved applies a plan made earlier (and reviewed), only if a plan
// made now is the same: otherwise it changes nothing and returns
// ErrPlanStale.
func (e *Engine) ApplySaved(ctx context.Context, saved *Plan, allowMass bool) (*Result, error) {
	paths, err := saved.validate()
	if err != nil {
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
	// The saved plan is now's but for what JSON does not carry: what it
	// matched, which Apply records as owned.
	a = *saved
	a.matchedUsers, a.matchedGroups, a.inactive = now.matchedUsers, now.matchedGroups, now.inactive
	return e.apply(ctx, &a, paths, allowMass)
}

// applier carries out one plan for Apply, a phase at a time; the phases
// share what the run did so far.
type applier struct {
	e     *Engine
	plan  *Plan
	paths map[string]attrPath // the plan's paths, parsed (see Plan.validate)
	now   time.Time

	mu sync.Mutex // guards what follows, and e.State
	// res is what the run did so far.
	res *Result
	// total is how many changes Progress counts to.
	total int
	// ids maps the externalId of each user and group the run created or
	// changed to its target id, for the memberships that refer to it.
	ids map[string]string
	// retiredEarly holds the target ids of the groups retireReplacedGroups
	// deleted.
	retiredEarly map[string]bool
	// shape is what the run learnt of the PATCH requests the target
	// takes.
	shape shapes
	// owning holds the users ("User" refs) and groups ("Group" refs),
	// by externalId, that ownCreates recorded as owned before creating
	// them: a create the target refuses is forgotten again (disown).
	owning map[Ref]bool
}

func newApplier(e *Engine, p *Plan, paths map[string]attrPath, now time.Time) *applier {
	total := len(p.Users) + len(p.Groups)
	for _, mc := range p.Members {
		if len(mc.Add) > 0 {
			total++
		}
		if len(mc.Remove) > 0 {
			total++
		}
	}
	return &applier{e: e, plan: p, paths: paths, now: now, res: &Result{}, total: total,
		ids: map[string]string{}, retiredEarly: map[string]bool{}, owning: map[Ref]bool{}}
}

// progress tells Engine.Progress how far the run is. a.mu must be held.
func (a *applier) progress() {
	if a.e.Progress != nil {
		a.e.Progress(min(len(a.res.Changes), a.total), a.total)
	}
}

// fail records a change that failed, of kind.
func (a *applier) fail(what string, err error, kind Counts) {
	a.failMembers(what, err, kind, nil)
}

// failMembers records a change of members that failed, naming them.
func (a *applier) failMembers(what string, err error, kind Counts, members []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.res.FailedCounts.add(kind)
	f := Failure{What: what, Err: err.Error(), Cause: causeOf(err), Members: members}
	a.res.Failed = append(a.res.Failed, f)
	a.res.Changes = append(a.res.Changes, f)
	a.progress()
}

// done records a change made. a.mu must be held.
func (a *applier) done(what string) {
	a.doneMembers(what, nil)
}

// doneMembers records a change of members made, naming them. a.mu must
// be held.
func (a *applier) doneMembers(what string, members []string) {
	a.res.Changes = append(a.res.Changes, Failure{What: what, Members: members})
	a.progress()
}

// users returns the plan's user changes that keep selects.
func (a *applier) users(keep func(UserChange) bool) []UserChange {
	var out []UserChange
	for _, ch := range a.plan.Users {
		if keep(ch) {
			out = append(out, ch)
		}
	}
	return out
}

// groups returns the plan's group changes that keep selects.
func (a *applier) groups(keep func(GroupChange) bool) []GroupChange {
	var out []GroupChange
	for _, ch := range a.plan.Groups {
		if keep(ch) {
			out = append(out, ch)
		}
	}
	return out
}

// updateUsers carries out the user changes but creates and deletes
// (updates, deactivations, reactivations), Concurrency at a time. They go
// before the creates, so that a new user may take a userName another
// gives up (as groups: renames before creates).
func (a *applier) updateUsers(ctx context.Context) {
	a.eachUser(ctx, a.users(func(ch UserChange) bool {
		return ch.Action != ActionCreate && ch.Action != ActionDelete && ch.Action != ActionAdopt
	}))
}

// adopt records the plan's adoptions that change nothing in the target:
// the users and groups are the configuration's from now on (the plan
// recorded them in the state first, with own, and saves it).
func (a *applier) adopt() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ch := range a.plan.Users {
		if ch.Action == ActionAdopt {
			if a.e.State.Users[ch.ExternalID] == nil {
				a.e.State.Users[ch.ExternalID] = &Owned{Since: a.now}
			}
			a.res.Done.Adopt++
			a.done("adopt user " + ch.UserName)
		} else if ch.Adopt {
			a.res.Done.Adopt++
		}
	}
	for _, ch := range a.plan.Groups {
		if ch.Action == ActionAdopt {
			if a.e.State.Groups[ch.ExternalID] == nil {
				a.e.State.Groups[ch.ExternalID] = &Owned{Since: a.now}
			}
			a.res.Done.Adopt++
			a.done("adopt group " + ch.Name)
		} else if ch.Adopt {
			a.res.Done.Adopt++
		}
	}
}

// createUsers creates the plan's new users: in bulk requests when the
// target takes them (one request for many users), else one request each;
// Concurrency requests at a time.
func (a *applier) createUsers(ctx context.Context) {
	creates := a.users(func(ch UserChange) bool { return ch.Action == ActionCreate })
	if a.e.bulkCreates(ctx, creates) {
		a.bulkCreateUsers(ctx, creates)
	} else {
		a.eachUser(ctx, creates)
	}
}

// eachUser carries out changes, a request each, Concurrency at a time.
func (a *applier) eachUser(ctx context.Context, changes []UserChange) {
	a.e.each(ctx, len(changes), func(i int) {
		ch := changes[i]
		id, lifeDone, err := a.applyUser(ctx, ch)
		if err != nil {
			if lifeDone {
				a.mu.Lock()
				a.recordActive(ch)
				a.mu.Unlock()
			}
			if ch.Action == ActionCreate {
				a.disown("User", ch.ExternalID, err)
			}
			a.fail(fmt.Sprintf("%s user %s", ch.Action, ch.UserName), err, userKind(ch.Action))
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		a.succeeded(ch, id)
	})
}

// bulkBatch is how many users one bulk request creates (the client splits
// further to the server's limits).
const bulkBatch = 200

// bulkCreateUsers creates users bulkBatch a request, Concurrency requests
// at a time.
func (a *applier) bulkCreateUsers(ctx context.Context, creates []UserChange) {
	batches := (len(creates) + bulkBatch - 1) / bulkBatch
	a.e.each(ctx, batches, func(b int) {
		batch := creates[b*bulkBatch : min((b+1)*bulkBatch, len(creates))]
		ops := make([]client.BulkOperation, 0, len(batch))
		chs := make([]UserChange, 0, len(batch)) // the change of each operation
		for _, ch := range batch {
			u, err := a.newUser(ch)
			if err != nil {
				a.fail(fmt.Sprintf("create user %s", ch.UserName), err, Counts{Create: 1})
				continue
			}
			ops = append(ops, client.BulkOperation{Method: "POST", Path: "/Users", BulkID: fmt.Sprintf("u%d", len(ops)), Data: u})
			chs = append(chs, ch)
		}
		out, err := a.e.Target.Bulk(ctx, ops, 0)
		for i, ch := range chs {
			switch {
			case err != nil:
				a.disown("User", ch.ExternalID, err)
				a.fail(fmt.Sprintf("create user %s", ch.UserName), err, Counts{Create: 1})
			case i >= len(out.Operations):
				a.fail(fmt.Sprintf("create user %s", ch.UserName), errors.New("the bulk response has no result for it"), Counts{Create: 1})
			case out.Operations[i].Err() != nil:
				a.disown("User", ch.ExternalID, out.Operations[i].Err())
				a.fail(fmt.Sprintf("create user %s", ch.UserName), out.Operations[i].Err(), Counts{Create: 1})
			default:
				a.mu.Lock()
				a.succeeded(ch, out.Operations[i].ID())
				a.mu.Unlock()
			}
		}
	})
}

// succeeded records a user change made, and the target user's id. a.mu
// must be held.
func (a *applier) succeeded(ch UserChange, id string) {
	a.ids[ch.ExternalID] = id
	a.recordActive(ch)
	a.done(fmt.Sprintf("%s user %s", ch.Action, ch.UserName))
	a.res.Done.add(userKind(ch.Action))
}

// recordActive records that the sync manages the user of a change made
// (its lifecycle at least), and when it deactivated it. a.mu must be
// held.
func (a *applier) recordActive(ch UserChange) {
	o := a.e.State.Users[ch.ExternalID]
	if o == nil {
		o = &Owned{Since: a.now}
		a.e.State.Users[ch.ExternalID] = o
	}
	// The grace period runs from the change that deactivated the user,
	// whatever else that change did, until one that reactivates it. A
	// deactivation finds the user active, so a time recorded before
	// (the user was reactivated by hand since) is stale.
	switch activeAfter(ch) {
	case "false":
		o.Deprovisioned = a.now
	case "true":
		o.Deprovisioned = time.Time{}
	}
}

// applyUser carries out one user change and returns the target user's
// id. An update that also (de)activates the user sends that first, in a
// PATCH of its own, so that an attribute the target refuses can never
// keep a leaver active or a returning user locked out; lifeDone says it
// was made, whatever became of the attributes.
func (a *applier) applyUser(ctx context.Context, ch UserChange) (id string, lifeDone bool, err error) {
	if ch.Action == ActionCreate {
		u, err := a.newUser(ch)
		if err != nil {
			return "", false, err
		}
		created, err := a.e.Target.Users.Create(ctx, u)
		if err != nil {
			return "", false, err
		}
		return created.ID, false, nil
	}
	var attrs []AttrChange
	for _, c := range ch.Changes {
		if c.Path == "active" {
			if err := a.patchOne(ctx, ch.TargetID, nil, patch.Replace("active", c.After == "true")); err != nil {
				return "", false, fmt.Errorf("set active to %s: %w", c.After, err)
			}
			lifeDone = true
			continue
		}
		attrs = append(attrs, c)
	}
	if len(attrs) > 0 {
		if err := a.patchAttrs(ctx, ch.TargetID, attrs, ch.Absent); err != nil {
			if lifeDone {
				err = fmt.Errorf("active is set, but the attributes failed: %w", err)
			}
			return ch.TargetID, lifeDone, err
		}
	}
	return ch.TargetID, lifeDone, nil
}

// attrOps returns the PATCH operations of a user's attribute changes in
// the shapes strict servers accept (RFC 7644 §3.5.2): remove for a value
// the source cleared; for a typed element of a multi-valued attribute
// (addresses[type eq "work"].locality) the target does not hold (absent,
// as the plan says), one add of the element whole, with every sub-value
// the changes give it — a replace through a filter that matches nothing
// is answered noTarget, and an add per sub-value would add an element
// each; replace for a sub-value of an element it holds; and for other
// values add when absent, replace when present.
func (a *applier) attrOps(changes []AttrChange, absent []string) []patch.Op {
	var ops []patch.Op
	added := map[string]bool{} // the absent elements added so far
	for _, c := range changes {
		p := a.paths[c.Path]
		switch {
		case p.typ != "" && slices.Contains(absent, p.element()):
			if !added[p.element()] && c.After != "" {
				added[p.element()] = true
				ops = append(ops, patch.Add(p.multiValued(), []map[string]any{elementOf(p, changes, a.paths)}))
			}
		case c.After == "":
			ops = append(ops, patch.Remove(p.removal()))
		case c.Before == "" && p.typ == "":
			ops = append(ops, patch.Add(c.Path, c.After))
		default:
			ops = append(ops, patch.Replace(c.Path, c.After))
		}
	}
	return ops
}

// elementOf returns the typed element of p's attribute with the type and
// every sub-value changes give it, for an add of the element whole.
func elementOf(p attrPath, changes []AttrChange, paths map[string]attrPath) map[string]any {
	elem := map[string]any{"type": p.typ}
	for _, c := range changes {
		if q := paths[c.Path]; q.element() == p.element() && c.After != "" {
			elem[q.sub] = c.After
		}
	}
	return elem
}

// shapes is what a run learnt of the PATCH requests a target refuses, so
// that it sends the shape that works for the rest of the run rather than
// meet the same refusal for every user.
type shapes struct {
	oneOp atomic.Bool // several operations in one PATCH were refused: one a request
	put   atomic.Bool // a single operation was refused: read, change and replace (PUT)
}

// reshapable reports whether a refusal of a PATCH may be its shape, which
// another shape of the same change may get past: not a path or value the
// target's schema lacks (invalidPath, mutability, uniqueness), which no
// shape changes.
func reshapable(err error) bool {
	var ce *client.Error
	if !errors.As(err, &ce) {
		return false
	}
	switch ce.Status {
	case http.StatusBadRequest:
		switch ce.ScimType {
		case "invalidPath", "mutability", "uniqueness", "invalidVers", "sensitive":
			return false
		}
		return true
	case http.StatusNotImplemented:
		return true
	}
	return false
}

// patchAttrs sends a user's attribute changes in one PATCH, or, if the
// target refuses its shape, in the next shape that works: each operation
// alone, a refused replace through a filter as an add of the element, and
// last a read, change and replace (PUT). What worked is remembered for
// the run (see shapes). absent are the typed elements the target user
// does not hold (see UserChange.Absent).
func (a *applier) patchAttrs(ctx context.Context, id string, changes []AttrChange, absent []string) error {
	ops := a.attrOps(changes, absent)
	users := a.e.Target.Users
	switch {
	case len(ops) == 0:
		return nil
	case a.shape.put.Load():
		_, err := users.PatchByReplace(ctx, id, ops...)
		return err
	case len(ops) == 1:
		return a.patchOne(ctx, id, changes, ops[0])
	case !a.shape.oneOp.Load():
		_, err := users.Patch(ctx, id, ops...)
		if err == nil || !reshapable(err) {
			return err
		}
		// Remembered only once one operation a request worked: a value
		// the target refuses fails that way too, and says nothing of
		// the shape.
		if err := a.patchEach(ctx, id, changes, ops); err != nil {
			return err
		}
		if !a.shape.oneOp.Swap(true) {
			a.learnt(fmt.Sprintf("the target refused a PATCH of %d operations (%v): one operation a request from then on", len(ops), err))
		}
		return nil
	}
	return a.patchEach(ctx, id, changes, ops)
}

// patchEach sends ops one a request, every one of them even after one
// fails (the others are as much the source's), and returns the failures
// joined.
func (a *applier) patchEach(ctx context.Context, id string, changes []AttrChange, ops []patch.Op) error {
	var errs []error
	for _, op := range ops {
		if err := a.patchOne(ctx, id, changes, op); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", op.Op, op.Path, err))
		}
	}
	return errors.Join(errs...)
}

// noTarget matches a strict server's answer to a PATCH through a path
// that matches nothing.
var noTarget = &scim.Error{Status: http.StatusBadRequest, ScimType: "noTarget"}

// patchOne sends one operation of a user's changes, falling back as
// patchAttrs says.
func (a *applier) patchOne(ctx context.Context, id string, changes []AttrChange, op patch.Op) error {
	users := a.e.Target.Users
	if a.shape.put.Load() {
		_, err := users.PatchByReplace(ctx, id, op)
		return err
	}
	_, err := users.Patch(ctx, id, op)
	if err == nil || !reshapable(err) {
		return err
	}
	if errors.Is(err, noTarget) {
		if op.Op == "remove" {
			return nil // gone already, as the source wants it
		}
		if p, ok := a.paths[op.Path]; ok && op.Op == "replace" && p.typ != "" {
			// The element was not there after all (gone since the plan
			// read it): add it, with every sub-value the changes give
			// it.
			if _, err2 := users.Patch(ctx, id, patch.Add(p.multiValued(), []map[string]any{elementOf(p, changes, a.paths)})); err2 == nil {
				return nil
			}
		}
	}
	if _, err2 := users.PatchByReplace(ctx, id, op); err2 != nil {
		return err // the PATCH's refusal says more than the PUT's
	}
	// Remembered only once the PUT worked where the PATCH did not.
	if !a.shape.put.Swap(true) {
		a.learnt(fmt.Sprintf("the target refused a PATCH %s %s (%v): users are read, changed and replaced (PUT) from then on", op.Op, op.Path, err))
	}
	return nil
}

// learnt records in the result what the run learnt of the target. Safe
// for concurrent use.
func (a *applier) learnt(note string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.res.Learnt = append(a.res.Learnt, note)
}

// newUser returns the user a create change makes.
func (a *applier) newUser(ch UserChange) (*client.User, error) {
	body := map[string]any{"externalId": ch.ExternalID, "active": true}
	for _, c := range ch.Changes {
		a.paths[c.Path].set(body, c.After)
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

// retirements returns the plan's group retirements: those of groups
// whose name a create or a rename takes (the source replaced them), or
// the others.
func (a *applier) retirements(replaced bool) []GroupChange {
	taken := map[string]bool{} // the names creates and renames take, in lower case
	for _, ch := range a.plan.Groups {
		if ch.Action == ActionCreate || ch.Action == ActionRename {
			taken[strings.ToLower(ch.Name)] = true
		}
	}
	// Renames go early: they free the name and keep the group, whose
	// members changeMembers then removes.
	return a.groups(func(ch GroupChange) bool {
		return ch.Action == ActionRetire && (taken[strings.ToLower(ch.Name)] || ch.Rename != "") == replaced
	})
}

// retireReplacedGroups deletes the groups the source replaced by new ones
// of their names, Concurrency at a time, before any group is created or
// renamed, or those would meet the names. Deleting a group takes it out
// of its parents, so changeMembers leaves it alone.
func (a *applier) retireReplacedGroups(ctx context.Context) {
	a.retire(ctx, a.retirements(true), true)
}

// retireGroups deletes the other groups the plan retires, last,
// Concurrency at a time.
func (a *applier) retireGroups(ctx context.Context) {
	a.retire(ctx, a.retirements(false), false)
}

// retire deletes the groups of changes, Concurrency at a time; early says
// it runs before changeMembers, which must then leave the groups alone.
func (a *applier) retire(ctx context.Context, changes []GroupChange, early bool) {
	a.e.each(ctx, len(changes), func(i int) {
		ch := changes[i]
		if ch.Rename != "" {
			// Kept, and still managed: renamed out of the way; its
			// members go in changeMembers.
			if err := a.e.Target.Groups.Rename(ctx, ch.TargetID, ch.Rename); err != nil {
				a.fail("retire group "+ch.Name, err, Counts{GroupRetire: 1})
				return
			}
		} else if err := a.e.Target.Groups.Delete(ctx, ch.TargetID); err != nil && !errors.Is(err, client.ErrNotFound) {
			a.fail("retire group "+ch.Name, err, Counts{GroupRetire: 1})
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if ch.Rename != "" {
			a.res.Done.GroupRetire++
			a.done("retire group " + ch.Name + " as " + ch.Rename)
			return
		}
		delete(a.e.State.Groups, ch.ExternalID)
		a.res.Done.GroupRetire++
		a.done("retire group " + ch.Name)
		if early && ch.Rename == "" {
			a.retiredEarly[ch.TargetID] = true
		}
	})
}

// renameGroups renames groups (and gives those adopted by displayName,
// which have none, the source's externalId), Concurrency at a time,
// before any group is created, so that a new group may take a name
// another gives up.
func (a *applier) renameGroups(ctx context.Context) {
	a.eachGroup(ctx, ActionRename, func(ch GroupChange) (string, error) {
		ops := []patch.Op{patch.Replace("displayName", ch.Name)}
		if ch.AdoptBy == "displayName" {
			// Absent: an add (a strict target answers a replace of an
			// absent attribute noTarget).
			ops = append(ops, patch.Add("externalId", ch.ExternalID))
		}
		_, err := a.e.Target.Groups.Patch(ctx, ch.TargetID, ops...)
		return ch.TargetID, err
	})
}

// createGroups creates the plan's new groups, Concurrency at a time.
func (a *applier) createGroups(ctx context.Context) {
	a.eachGroup(ctx, ActionCreate, func(ch GroupChange) (string, error) {
		g, err := a.e.Target.Groups.Create(ctx, &client.Group{DisplayName: ch.Name, ExternalID: ch.ExternalID})
		if err != nil {
			return "", err
		}
		return g.ID, nil
	})
}

// eachGroup carries out the plan's group changes of action with apply,
// which returns the group's target id, Concurrency at a time, and records
// that the sync manages each group changed.
func (a *applier) eachGroup(ctx context.Context, action string, apply func(GroupChange) (string, error)) {
	todo := a.groups(func(ch GroupChange) bool { return ch.Action == action })
	a.e.each(ctx, len(todo), func(i int) {
		ch := todo[i]
		what := fmt.Sprintf("%s group %s", ch.Action, ch.Name)
		id, err := apply(ch)
		if err != nil {
			if ch.Action == ActionCreate {
				a.disown("Group", ch.ExternalID, err)
			}
			a.fail(what, err, groupKind(ch.Action))
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		a.res.Done.add(groupKind(ch.Action))
		a.done(what)
		a.ids[ch.ExternalID] = id
		if a.e.State.Groups[ch.ExternalID] == nil {
			a.e.State.Groups[ch.ExternalID] = &Owned{Since: a.now}
		}
	})
}

// resolve returns the target id of a user or group the plan refers to:
// its own, or the one this run created it with ("" if it failed). Only
// after the creates: it reads ids without a.mu.
func (a *applier) resolve(r Ref) string {
	if r.TargetID != "" {
		return r.TargetID
	}
	return a.ids[r.ExternalID]
}

// changeMembers adds and removes members, a group's in one request (the
// client splits it in batches), Concurrency groups at once.
func (a *applier) changeMembers(ctx context.Context) {
	a.e.each(ctx, len(a.plan.Members), func(i int) {
		mc := a.plan.Members[i]
		group := a.resolve(mc.Group)
		if group == "" {
			a.fail("members of group "+mc.Group.Name, errors.New("the group was not created"),
				Counts{MembersAdd: len(mc.Add), MembersRemove: len(mc.Remove)})
			return
		}
		var add, remove, addNames, removeNames []string
		for _, r := range mc.Add {
			if id := a.resolve(r); id != "" {
				add = append(add, id)
				addNames = append(addNames, refName(r))
			} else {
				a.failMembers(fmt.Sprintf("add %s to group %s", r.Name, mc.Group.Name), errors.New("the member was not created"), Counts{MembersAdd: 1}, []string{refName(r)})
			}
		}
		for _, r := range mc.Remove {
			if !a.retiredEarly[r.TargetID] {
				remove = append(remove, r.TargetID)
				removeNames = append(removeNames, refName(r))
			}
		}
		if len(mc.Remove) > 0 && len(remove) == 0 { // only groups deleted above
			a.mu.Lock()
			a.total--
			a.progress()
			a.mu.Unlock()
		}
		if len(add) == 0 && len(remove) == 0 {
			return
		}
		if err := a.sendMembers(ctx, group, add, remove); err != nil {
			if len(add) > 0 {
				a.failMembers("add members to group "+mc.Group.Name, err, Counts{MembersAdd: len(add)}, addNames)
			}
			if len(remove) > 0 {
				a.failMembers("remove members from group "+mc.Group.Name, err, Counts{MembersRemove: len(remove)}, removeNames)
			}
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if len(add) > 0 {
			a.res.Done.MembersAdd += len(add)
			a.doneMembers(fmt.Sprintf("add %d members to group %s", len(add), mc.Group.Name), addNames)
		}
		if len(remove) > 0 {
			a.res.Done.MembersRemove += len(remove)
			a.doneMembers(fmt.Sprintf("remove %d members from group %s", len(remove), mc.Group.Name), removeNames)
		}
	})
}

// sendMembers adds and removes members of a group: together, in as few
// PATCH requests as the client's member batch allows, or, once the target
// refused a PATCH of several operations, one operation a request (a
// member removed already counts as removed).
func (a *applier) sendMembers(ctx context.Context, group string, add, remove []string) error {
	g := a.e.Target.Groups
	// One operation a request, every one of them even after one fails
	// (the others are as much the source's), the failures joined.
	oneByOne := func() error {
		var errs []error
		for _, id := range remove {
			if err := g.RemoveMembers(ctx, group, id); err != nil && !errors.Is(err, noTarget) {
				errs = append(errs, fmt.Errorf("remove member %s: %w", id, err))
			}
		}
		if len(add) > 0 {
			if err := g.AddMembers(ctx, group, add...); err != nil { // one operation, of all of them
				errs = append(errs, fmt.Errorf("add members: %w", err))
			}
		}
		return errors.Join(errs...)
	}
	if a.shape.oneOp.Load() {
		return oneByOne()
	}
	err := g.ChangeMembers(ctx, group, add, remove)
	if err == nil || !reshapable(err) || len(remove)+min(len(add), 1) <= 1 {
		return err
	}
	if err2 := oneByOne(); err2 != nil {
		return err2
	}
	if !a.shape.oneOp.Swap(true) {
		a.learnt(fmt.Sprintf("the target refused a PATCH of several member changes (%v): one operation a request from then on", err))
	}
	return nil
}

// deleteUsers deletes the users the plan deletes (after their grace
// period), after every other user and membership change, Concurrency at
// a time.
func (a *applier) deleteUsers(ctx context.Context) {
	deletes := a.users(func(ch UserChange) bool { return ch.Action == ActionDelete })
	a.e.each(ctx, len(deletes), func(i int) {
		ch := deletes[i]
		if err := a.e.Target.Users.Delete(ctx, ch.TargetID); err != nil && !errors.Is(err, client.ErrNotFound) {
			a.fail("delete user "+ch.UserName, err, Counts{Delete: 1})
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		delete(a.e.State.Users, ch.ExternalID)
		a.res.Done.Delete++
		a.done("delete user " + ch.UserName)
	})
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
	c.Adopt += o.Adopt
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

// ownCreates records that the sync manages the users and groups the plan
// creates, and reports whether it recorded any not recorded before.
func (a *applier) ownCreates() bool {
	for _, ch := range a.plan.Users {
		if ch.Action == ActionCreate && a.e.State.Users[ch.ExternalID] == nil {
			a.e.State.Users[ch.ExternalID] = &Owned{Since: a.now}
			a.owning[Ref{Type: "User", ExternalID: ch.ExternalID}] = true
		}
	}
	for _, ch := range a.plan.Groups {
		if ch.Action == ActionCreate && a.e.State.Groups[ch.ExternalID] == nil {
			a.e.State.Groups[ch.ExternalID] = &Owned{Since: a.now}
			a.owning[Ref{Type: "Group", ExternalID: ch.ExternalID}] = true
		}
	}
	return len(a.owning) > 0
}

// disown forgets the user or group (typ) of externalId ext, which
// ownCreates recorded as owned, when its create failed with an answer
// saying it made nothing (4xx: a userName another holds, a value refused):
// otherwise the state would claim a resource that another system may
// create with that externalId. A create that failed otherwise (a timeout,
// 5xx) may have been made, and stays owned, as by a run that crashed.
func (a *applier) disown(typ, ext string, err error) {
	if status := client.StatusOf(err); status < 400 || status > 499 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	r := Ref{Type: typ, ExternalID: ext}
	if !a.owning[r] {
		return
	}
	delete(a.owning, r)
	if typ == "Group" {
		delete(a.e.State.Groups, ext)
	} else {
		delete(a.e.State.Users, ext)
	}
}

// bulkCreates reports whether to create users in bulk requests: Bulk is
// set, there are several creates and the target says it supports bulk.
func (e *Engine) bulkCreates(ctx context.Context, creates []UserChange) bool {
	if len(creates) < 2 || !e.Bulk {
		return false
	}
	spc, err := e.Target.ServiceProviderConfig(ctx)
	return err == nil && spc.Bulk.Supported && spc.Bulk.MaxOperations > 1
}
