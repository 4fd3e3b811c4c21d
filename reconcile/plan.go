package reconcile

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster/reconcile/source"
)

// Plan is what a run will change in the target, computed from both sides
// before anything changes.
type Plan struct {
	Created time.Time      `json:"created"`
	Counts  Counts         `json:"counts"`
	Users   []UserChange   `json:"users,omitempty"`
	Groups  []GroupChange  `json:"groups,omitempty"`
	Members []MemberChange `json:"members,omitempty"`
	// Refused says why Apply will refuse the plan, a reason for each
	// guard it trips (a mass deactivation, an attribute cleared for
	// many, …), unless mass changes are allowed; empty when it will not.
	// Allowing mass changes overrides every one, so all are kept.
	Refused []string `json:"refused,omitempty"`
	// Notes are what a reader of the plan should know that is not a
	// change: how the target's schema was learnt, groups kept by policy.
	Notes []string `json:"notes,omitempty"`

	// matchedUsers and matchedGroups are the source ids of the users and
	// groups that exist in the target already: the sync manages them from
	// now on, changed or not.
	matchedUsers, matchedGroups []string
	// inactive are the externalIds of managed users who left the source
	// and were found deactivated without the sync recording when (by
	// hand, say): their grace period starts with this plan.
	inactive []string
}

// Counts sums up a plan.
type Counts struct {
	Create     int `json:"create"`
	Update     int `json:"update"`
	Deactivate int `json:"deactivate"`
	Reactivate int `json:"reactivate"`
	Delete     int `json:"delete"`
	Unchanged  int `json:"unchanged"`
	// Adopt counts the users and groups the plan takes over: found in
	// the target, not created by this configuration nor adopted before.
	// Adopting writes nothing by itself (an adopted user without an
	// externalId gets it by an update).
	Adopt int `json:"adopt,omitempty"`
	// NotAdopted counts the users and groups that match the source but
	// that policy.adopt leaves alone: the plan changes nothing of them.
	NotAdopted    int `json:"notAdopted,omitempty"`
	GroupCreate   int `json:"groupCreate"`
	GroupRename   int `json:"groupRename"`
	GroupRetire   int `json:"groupRetire"`
	MembersAdd    int `json:"membersAdd"`
	MembersRemove int `json:"membersRemove"`
}

// Writes returns how many changes the plan makes (not requests: member
// changes are batched).
func (c Counts) Writes() int {
	return c.Create + c.Update + c.Deactivate + c.Reactivate + c.Delete + c.GroupCreate + c.GroupRename + c.GroupRetire +
		c.MembersAdd + c.MembersRemove
}

// The actions of a UserChange and a GroupChange.
const (
	ActionCreate     = "create"
	ActionUpdate     = "update"
	ActionDeactivate = "deactivate"
	ActionReactivate = "reactivate" // an update that also sets active
	ActionDelete     = "delete"
	ActionRename     = "rename"
	ActionRetire     = "retire"
	// ActionAdopt takes over a target user or group equal to the source's
	// that this configuration did not create: it writes nothing, and the
	// sync manages it from then on.
	ActionAdopt = "adopt"
)

// UserChange is one change to one target user.
type UserChange struct {
	Action     string `json:"action"`
	ExternalID string `json:"externalId"`
	UserName   string `json:"userName"`
	TargetID   string `json:"targetId,omitempty"` // "" for a create
	// Adopt says the target user is one this configuration did not
	// create nor adopt before, taken over by this change: AdoptBy says
	// how it was matched, "externalId" (the source's id, written by
	// another configuration or tool, or by this one before its state was
	// lost) or "userName" (it had no externalId, which this change sets).
	Adopt   bool         `json:"adopt,omitempty"`
	AdoptBy string       `json:"adoptBy,omitempty"`
	Changes []AttrChange `json:"changes,omitempty"`
	// Absent names the typed elements (addresses[type eq "work"]) the
	// changes give values to that the target user does not hold: each is
	// added whole, with all its sub-values, in one operation; the
	// sub-values of an element it holds are replaced.
	Absent []string `json:"absent,omitempty"`
}

// AttrChange is one attribute's value before and after.
type AttrChange struct {
	Path   string `json:"path"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// GroupChange is one change to one target group.
type GroupChange struct {
	Action     string `json:"action"`
	ExternalID string `json:"externalId"`
	Name       string `json:"name"`
	Before     string `json:"before,omitempty"` // a rename's old name
	TargetID   string `json:"targetId,omitempty"`
	Adopt      bool   `json:"adopt,omitempty"`
	AdoptBy    string `json:"adoptBy,omitempty"` // as UserChange.AdoptBy, with displayName
	// Rename is the name a retirement gives the group under
	// policy.retireGroups: rename, which keeps it; "" deletes it.
	Rename string `json:"rename,omitempty"`
}

// MemberChange is the members added to and removed from one group.
type MemberChange struct {
	Group  Ref   `json:"group"`
	Add    []Ref `json:"add,omitempty"`
	Remove []Ref `json:"remove,omitempty"`
}

// Ref names a user or group on both sides; TargetID is "" for one the
// plan creates.
type Ref struct {
	ExternalID string `json:"externalId,omitempty"`
	TargetID   string `json:"targetId,omitempty"`
	Name       string `json:"name,omitempty"`
	Type       string `json:"type,omitempty"` // User or Group
}

// Policy is what a run may do.
type Policy struct {
	// Delete deletes users who left the source instead of only
	// deactivating them, once they have been deactivated for GracePeriod.
	Delete      bool          `yaml:"delete"`
	GracePeriod time.Duration `yaml:"gracePeriod"`
	// RetireGroups says what becomes of a group the sync manages once it
	// is gone from the source: keep it as it is (the default), rename it
	// "(removed) name" and remove its members, or delete it.
	RetireGroups RetirePolicy `yaml:"retireGroups"`
	// MaxDeprovisionShare and MaxDeprovision bound the users one run may
	// deactivate or delete (whether they left the source or were disabled
	// in it): a share of the target's managed users (default 0.1) or a
	// number (default 1), whichever is larger.
	MaxDeprovisionShare float64 `yaml:"maxDeprovisionShare"`
	MaxDeprovision      int     `yaml:"maxDeprovision"`
	// Flatten gives a group the users of its nested groups as direct
	// members, for targets without nested groups.
	Flatten bool `yaml:"flatten"`
	// Adopt says which target users and groups that match the source, but
	// that this configuration did not create nor adopt before, a plan
	// adopts (see AdoptPolicy); the others it leaves alone, and says so.
	Adopt AdoptPolicy `yaml:"adopt"`
}

// AdoptPolicy is Policy.Adopt: "none" adopts nothing; "userName" (or "",
// the default) adopts the users and groups that have no externalId, by
// userName or displayName (made by hand, or by a tool that sets none);
// "externalId" also adopts those that have the source's externalId,
// which another configuration or tool wrote (or this one, before its
// state was lost). The default never takes over what another
// configuration manages: two configurations adopting each other's users
// would fight over them, run after run, unattended.
type AdoptPolicy string

// The AdoptPolicy values.
const (
	AdoptNone       AdoptPolicy = "none"
	AdoptUserName   AdoptPolicy = "userName"
	AdoptExternalID AdoptPolicy = "externalId"
)

// UnmarshalYAML reads none, userName or externalId, ignoring case.
func (a *AdoptPolicy) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	v, err := ParseAdoptPolicy(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// ParseAdoptPolicy returns the AdoptPolicy s names, ignoring case ("" is
// the default, userName).
func ParseAdoptPolicy(s string) (AdoptPolicy, error) {
	for _, v := range []AdoptPolicy{AdoptNone, AdoptUserName, AdoptExternalID} {
		if strings.EqualFold(s, string(v)) {
			return v, nil
		}
	}
	if s == "" {
		return AdoptUserName, nil
	}
	return "", fmt.Errorf("policy.adopt: %q is not none, userName or externalId", s)
}

// allows reports whether the policy adopts a user or group matched by
// (UserChange.AdoptBy).
func (a AdoptPolicy) allows(by string) bool {
	switch a {
	case AdoptNone:
		return false
	case AdoptExternalID:
		return true
	}
	return by != "externalId"
}

// RetirePolicy is Policy.RetireGroups: "keep" (or ""), "rename" or
// "delete". In YAML, true means delete and false keep, as the setting
// was once a boolean.
type RetirePolicy string

// The RetirePolicy values.
const (
	RetireKeep   RetirePolicy = "keep"
	RetireRename RetirePolicy = "rename"
	RetireDelete RetirePolicy = "delete"
)

// RetiredPrefix starts the name of a group retired by renaming.
const RetiredPrefix = "(removed) "

// UnmarshalYAML reads keep, rename or delete, or a boolean.
func (r *RetirePolicy) UnmarshalYAML(unmarshal func(any) error) error {
	var b bool
	if unmarshal(&b) == nil {
		*r = RetireKeep
		if b {
			*r = RetireDelete
		}
		return nil
	}
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	switch v := RetirePolicy(strings.ToLower(s)); v {
	case RetireKeep, RetireRename, RetireDelete:
		*r = v
		return nil
	}
	return fmt.Errorf("policy.retireGroups: %q is not keep, rename or delete", s)
}

// deprovisionShare returns MaxDeprovisionShare, or its default.
func (pol Policy) deprovisionShare() float64 {
	if pol.MaxDeprovisionShare <= 0 {
		return 0.1
	}
	return pol.MaxDeprovisionShare
}

// deprovisionLimit returns how many of managed users (or groups) one run
// may deprovision.
func (pol Policy) deprovisionLimit(managed int) int {
	return max(int(pol.deprovisionShare()*float64(managed)), pol.MaxDeprovision, 1)
}

// targetUser and targetGroup are the target's side as read.
type targetUser struct {
	id, externalID, userName string
	active                   bool
	values                   []string // the mapped paths' values, in the order of mapping.users
	// elements says, for each mapped typed path, in the same order,
	// whether the user holds an element of its type; nil when the
	// mapping maps no typed path.
	elements []bool
}

// value returns the user's value of a mapped path, given the paths'
// indexes.
func (u *targetUser) value(index map[string]int, path string) string {
	if i, ok := index[path]; ok && i < len(u.values) {
		return u.values[i]
	}
	return ""
}

type targetGroup struct {
	id, externalID, name string
	members              []Ref // TargetID and Type
}

type target struct {
	users  []targetUser
	groups []targetGroup
}

// computePlan compares what the source says the target should hold with
// what it holds. It is a pure function of its arguments.
func computePlan(snap *source.Snapshot, tgt target, m *mapping, st *State, pol Policy, now time.Time) (*Plan, error) {
	pl := &planner{snap: snap, tgt: tgt, m: m, st: st, pol: pol, now: now, p: &Plan{Created: now},
		userRef: map[string]Ref{}, matched: map[string]bool{},
		groupRef: map[string]Ref{}, gMatched: map[string]*targetGroup{}, gTaken: map[string]bool{},
		gOwned: map[string]bool{}, matchedExt: map[string]bool{}}
	if err := pl.planUsers(); err != nil {
		return nil, err
	}
	pl.planLeavers()
	if err := pl.planGroups(); err != nil {
		return nil, err
	}
	pl.planRetirements()
	pl.planMembers()
	pl.limitAdoptions()
	pl.noteNotAdopted()
	return pl.p, nil
}

// noteNotAdopted says in the plan's notes which users and groups match
// the source but were left alone, as policy.adopt says.
func (pl *planner) noteNotAdopted() {
	n := len(pl.notAdopted)
	if n == 0 {
		return
	}
	names := pl.notAdopted[:min(n, 5)]
	more := ""
	if n > len(names) {
		more = fmt.Sprintf(", and %d more", n-len(names))
	}
	pol := pl.pol.Adopt
	if pol == "" {
		pol = AdoptUserName
	}
	pl.p.Notes = append(pl.p.Notes, fmt.Sprintf("%d users and groups match the source but are not this configuration's, and policy.adopt: %s leaves them alone: %s%s. "+
		"If this configuration's state file was lost, restore it; to take them over, set policy.adopt: externalId (or userName, for those without an externalId)",
		n, pol, strings.Join(names, "; "), more))
}

// limitAdoptions refuses a plan that takes over more users and groups
// than the mass-change limit: a second configuration pointed at a target
// another one fills, or this one after its state file was lost, would
// otherwise treat everything it finds as its own.
func (pl *planner) limitAdoptions() {
	p := pl.p
	limit := pl.pol.deprovisionLimit(len(pl.matched) + len(pl.gTaken))
	if pl.adopted > limit {
		p.refuse("the plan adopts %d users and groups this configuration did not create nor adopt before (of %d it matched), more than the limit of %d; "+
			"if its state file was lost, restore it; if another configuration manages them, point this one elsewhere; to take them over, allow mass changes",
			pl.adopted, len(pl.matched)+len(pl.gTaken), limit)
	}
}

// refuse adds a reason for Apply to refuse the plan.
func (p *Plan) refuse(format string, args ...any) {
	p.Refused = append(p.Refused, fmt.Sprintf(format, args...))
}

// ownsMember reports whether a member of a target group is this
// configuration's to remove: a user or group it manages (created or
// adopted, before or by this plan). Others (added by hand, by another
// configuration or tool) are left alone.
func (pl *planner) ownsMember(r Ref, extOf map[string]string) bool {
	if r.Type == "Group" || pl.gOwned[r.TargetID] {
		return pl.gOwned[r.TargetID]
	}
	ext := extOf[r.TargetID]
	return ext != "" && (pl.st.ownsUser(ext) || pl.matchedExt[ext])
}

// planner computes one Plan, a kind of change at a time (see
// computePlan): users, then groups, then memberships, which refer to both.
type planner struct {
	snap *source.Snapshot
	tgt  target
	m    *mapping
	st   *State
	pol  Policy
	now  time.Time
	p    *Plan // what the planner has planned so far

	// What planUsers and planLeavers found, for the memberships and the
	// mass limit.
	userRef     map[string]Ref  // source user id → the target user (TargetID "" for a create)
	matched     map[string]bool // target user ids matched to a source user
	deprovision int             // users deactivated or deleted
	adopted     int             // users and groups adopted
	// notAdopted names the users and groups that match the source but
	// that the policy does not let the plan adopt.
	notAdopted []string

	// What planGroups found, for the retirements and the memberships.
	groupRef map[string]Ref          // source group id → the target group, as userRef
	gMatched map[string]*targetGroup // source group id → the target group it matched
	gTaken   map[string]bool         // target group ids matched to a source group
	// gOwned holds the target ids of the groups the configuration
	// manages, matchedExt the externalIds of the users this plan matched:
	// the members it may remove (see ownsMember).
	gOwned     map[string]bool
	matchedExt map[string]bool
}

// planUsers plans the changes to the users the source holds: users are
// matched by externalId, then by userName ignoring case.
func (pl *planner) planUsers() error {
	p, m := pl.p, pl.m
	pathIndex := make(map[string]int, len(m.users)) // a mapped path's index in targetUser.values
	for i, mp := range m.users {
		pathIndex[mp.path.String()] = i
	}
	cleared := map[string]int{} // mapped path → matched users whose value the plan clears
	matched := 0
	byExt := map[string]*targetUser{}
	byName := map[string]*targetUser{}
	for i := range pl.tgt.users {
		u := &pl.tgt.users[i]
		if u.externalID != "" {
			byExt[u.externalID] = u
		}
		byName[strings.ToLower(u.userName)] = u
	}
	for _, su := range pl.snap.Users {
		want := m.user(su)
		name := want["userName"]
		if name == "" {
			return fmt.Errorf("source user %s maps to an empty userName", su.ID)
		}
		tu, adoptBy := byExt[su.ID], ""
		if tu != nil && !pl.st.ownsUser(su.ID) {
			adoptBy = "externalId"
		}
		if tu == nil {
			// Only a user without an externalId is adopted by name: one
			// with another's externalId belongs to another provisioning
			// system (or another sync), which the sync must not take
			// over; creating this user then fails with 409, reported.
			if c := byName[strings.ToLower(name)]; c != nil && c.externalID == "" && !pl.matched[c.id] {
				tu, adoptBy = c, "userName"
			}
		}
		adopt := adoptBy != ""
		if adopt && !pl.pol.Adopt.allows(adoptBy) {
			pl.notAdopted = append(pl.notAdopted, fmt.Sprintf("user %s [%s], same %s", name, su.ID, adoptBy))
			p.Counts.NotAdopted++
			continue
		}
		if tu == nil && !su.Active {
			continue // a disabled account needs no account in the target
		}
		if tu == nil {
			ch := UserChange{Action: ActionCreate, ExternalID: su.ID, UserName: name}
			for _, path := range slices.Sorted(maps.Keys(want)) {
				if want[path] != "" {
					ch.Changes = append(ch.Changes, AttrChange{Path: path, After: want[path]})
				}
			}
			p.Users = append(p.Users, ch)
			p.Counts.Create++
			pl.userRef[su.ID] = Ref{ExternalID: su.ID, Name: name, Type: "User"}
			continue
		}
		pl.matched[tu.id] = true
		pl.matchedExt[su.ID] = true
		p.matchedUsers = append(p.matchedUsers, su.ID)
		pl.userRef[su.ID] = Ref{ExternalID: su.ID, TargetID: tu.id, Name: name, Type: "User"}
		ch := UserChange{Action: ActionUpdate, ExternalID: su.ID, UserName: name, TargetID: tu.id, Adopt: adopt, AdoptBy: adoptBy}
		if adopt {
			p.Counts.Adopt++
			pl.adopted++
		}
		if adoptBy == "userName" {
			ch.Changes = append(ch.Changes, AttrChange{Path: "externalId", Before: tu.externalID, After: su.ID})
		}
		matched++
		for _, path := range slices.Sorted(maps.Keys(want)) {
			if have := tu.value(pathIndex, path); have != want[path] {
				ch.Changes = append(ch.Changes, AttrChange{Path: path, Before: have, After: want[path]})
				if want[path] == "" {
					cleared[path]++
				}
				if i := pathIndex[path]; m.users[i].path.typ != "" && (tu.elements == nil || !tu.elements[i]) {
					if el := m.users[i].path.element(); !slices.Contains(ch.Absent, el) {
						ch.Absent = append(ch.Absent, el)
					}
				}
			}
		}
		switch {
		case su.Active && !tu.active:
			ch.Action = ActionReactivate
			ch.Changes = append(ch.Changes, AttrChange{Path: "active", Before: "false", After: "true"})
		case !su.Active && tu.active:
			ch.Changes = append(ch.Changes, AttrChange{Path: "active", Before: "true", After: "false"})
			if len(ch.Changes) == 1 {
				ch.Action = ActionDeactivate
			}
			pl.deprovision++
		}
		if len(ch.Changes) == 0 {
			p.Counts.Unchanged++
			if adopt {
				ch.Action = ActionAdopt
				p.Users = append(p.Users, ch)
			}
			continue
		}
		p.Users = append(p.Users, ch)
		switch ch.Action {
		case ActionReactivate:
			p.Counts.Reactivate++
		case ActionDeactivate:
			p.Counts.Deactivate++
		default:
			p.Counts.Update++
		}
	}
	// A mapping that clears an attribute of many users is more likely a
	// mistake (a misspelt field) than news: refused like a mass
	// deactivation.
	limit := pl.pol.deprovisionLimit(matched)
	for _, path := range slices.Sorted(maps.Keys(cleared)) {
		if n := cleared[path]; n > limit {
			where := lookupWhere(pl.m.where, path)
			if where != "" {
				where = " (" + where + ")"
			}
			p.refuse("the plan clears %s%s for %d of the %d users it matched, more than the limit of %d (%.0f%% or %d); check the mapping and the source, or allow mass changes",
				path, where, n, matched, limit, pl.pol.deprovisionShare()*100, pl.pol.MaxDeprovision)
		}
	}
	return nil
}

// planLeavers plans the deactivation, and after the grace period the
// deletion, of the target users the sync manages that left the source,
// and refuses the plan if it deprovisions more users than the policy
// allows.
func (pl *planner) planLeavers() {
	p, st, pol := pl.p, pl.st, pl.pol
	managed := 0
	for _, tu := range pl.tgt.users {
		if tu.externalID == "" || !st.ownsUser(tu.externalID) {
			continue
		}
		managed++
		if pl.matched[tu.id] {
			continue
		}
		switch {
		case tu.active:
			p.Users = append(p.Users, UserChange{Action: ActionDeactivate, ExternalID: tu.externalID, UserName: tu.userName, TargetID: tu.id,
				Changes: []AttrChange{{Path: "active", Before: "true", After: "false"}}})
			p.Counts.Deactivate++
			pl.deprovision++
		case pol.Delete && st.deprovisionedBefore(tu.externalID, pl.now.Add(-pol.GracePeriod)):
			p.Users = append(p.Users, UserChange{Action: ActionDelete, ExternalID: tu.externalID, UserName: tu.userName, TargetID: tu.id})
			p.Counts.Delete++
			pl.deprovision++
		case st.Users[tu.externalID].Deprovisioned.IsZero():
			p.inactive = append(p.inactive, tu.externalID)
		}
	}
	if limit := pol.deprovisionLimit(managed); pl.deprovision > limit {
		p.refuse("the plan deactivates or deletes %d of the %d users the sync manages, more than the limit of %d (%.0f%% or %d); check the source, or allow mass changes",
			pl.deprovision, managed, limit, pol.deprovisionShare()*100, pol.MaxDeprovision)
	}
}

// planGroups plans the changes to the groups the source holds: groups are
// matched by externalId, then by displayName ignoring case.
func (pl *planner) planGroups() error {
	p := pl.p
	gByExt := map[string]*targetGroup{}
	gByName := map[string]*targetGroup{}
	for i := range pl.tgt.groups {
		g := &pl.tgt.groups[i]
		if g.externalID != "" {
			gByExt[g.externalID] = g
		}
		gByName[strings.ToLower(g.name)] = g
	}
	for _, sg := range pl.snap.Groups {
		name := pl.m.group(sg)
		if name == "" {
			return fmt.Errorf("source group %s maps to an empty displayName", sg.ID)
		}
		tg, adoptBy := gByExt[sg.ID], ""
		if tg != nil && !pl.st.ownsGroup(sg.ID) {
			adoptBy = "externalId"
		}
		if tg == nil {
			// As for users: only a group without an externalId, and not
			// one another source group already took (two groups of one
			// name).
			if c := gByName[strings.ToLower(name)]; c != nil && c.externalID == "" && !pl.gTaken[c.id] {
				tg, adoptBy = c, "displayName"
			}
		}
		adopt := adoptBy != ""
		if adopt && !pl.pol.Adopt.allows(adoptBy) {
			pl.notAdopted = append(pl.notAdopted, fmt.Sprintf("group %s [%s], same %s", name, sg.ID, adoptBy))
			p.Counts.NotAdopted++
			continue
		}
		if tg == nil {
			p.Groups = append(p.Groups, GroupChange{Action: ActionCreate, ExternalID: sg.ID, Name: name})
			p.Counts.GroupCreate++
			pl.groupRef[sg.ID] = Ref{ExternalID: sg.ID, Name: name, Type: "Group"}
			continue
		}
		pl.gMatched[sg.ID] = tg
		pl.gTaken[tg.id] = true
		pl.gOwned[tg.id] = true
		p.matchedGroups = append(p.matchedGroups, sg.ID)
		pl.groupRef[sg.ID] = Ref{ExternalID: sg.ID, TargetID: tg.id, Name: name, Type: "Group"}
		if adopt {
			p.Counts.Adopt++
			pl.adopted++
		}
		switch {
		case tg.name != name || adoptBy == "displayName":
			p.Groups = append(p.Groups, GroupChange{Action: ActionRename, ExternalID: sg.ID, Name: name, Before: tg.name, TargetID: tg.id,
				Adopt: adopt, AdoptBy: adoptBy})
			p.Counts.GroupRename++
		case adopt:
			p.Groups = append(p.Groups, GroupChange{Action: ActionAdopt, ExternalID: sg.ID, Name: name, TargetID: tg.id, Adopt: true, AdoptBy: adoptBy})
		}
	}
	return nil
}

// planRetirements plans what becomes of the groups the sync manages that
// left the source, as policy.retireGroups says, and refuses the plan if
// they are more than the policy's limit for users: an empty groups search
// must not delete every group. Under keep, the plan says how many it
// keeps; under rename, how many were retired already.
func (pl *planner) planRetirements() {
	p := pl.p
	owned, kept := 0, 0
	for _, tg := range pl.tgt.groups {
		if tg.externalID != "" && pl.st.ownsGroup(tg.externalID) {
			pl.gOwned[tg.id] = true
		}
	}
	extOf := make(map[string]string, len(pl.tgt.users))
	for _, tu := range pl.tgt.users {
		extOf[tu.id] = tu.externalID
	}
	for _, tg := range pl.tgt.groups {
		if tg.externalID == "" || !pl.st.ownsGroup(tg.externalID) {
			continue
		}
		owned++
		if pl.gTaken[tg.id] {
			continue
		}
		switch pl.pol.RetireGroups {
		case RetireDelete:
			p.Groups = append(p.Groups, GroupChange{Action: ActionRetire, ExternalID: tg.externalID, Name: tg.name, TargetID: tg.id})
			p.Counts.GroupRetire++
		case RetireRename:
			renamed := strings.HasPrefix(tg.name, RetiredPrefix)
			if !renamed {
				p.Groups = append(p.Groups, GroupChange{Action: ActionRetire, ExternalID: tg.externalID, Name: tg.name, TargetID: tg.id,
					Rename: RetiredPrefix + tg.name})
				p.Counts.GroupRetire++
			}
			mc := MemberChange{Group: Ref{ExternalID: tg.externalID, TargetID: tg.id, Name: tg.name, Type: "Group"}}
			for _, r := range tg.members {
				if pl.ownsMember(r, extOf) {
					if r.Type == "User" {
						r.ExternalID = extOf[r.TargetID]
					}
					mc.Remove = append(mc.Remove, r)
				}
			}
			if len(mc.Remove) > 0 {
				p.Members = append(p.Members, mc)
				p.Counts.MembersRemove += len(mc.Remove)
			} else if renamed {
				kept++ // retired already
			}
		default:
			kept++
		}
	}
	if kept > 0 {
		what := fmt.Sprintf("%d groups gone from the source are", kept)
		if kept == 1 {
			what = "1 group gone from the source is"
		}
		if pl.pol.RetireGroups == RetireRename {
			p.Notes = append(p.Notes, what+" retired already: renamed "+strings.TrimSpace(RetiredPrefix)+"…, without members (policy.retireGroups: rename)")
		} else {
			p.Notes = append(p.Notes, what+" kept (policy.retireGroups: keep)")
		}
	}
	if limit := pl.pol.deprovisionLimit(owned); p.Counts.GroupRetire > limit {
		p.refuse("the plan retires %d of the %d groups the sync manages, more than the limit of %d; check the source, or allow mass changes",
			p.Counts.GroupRetire, owned, limit)
	}
}

// planMembers plans the members each source group gains and loses. A
// target member's externalId names it in the plan, so that explain finds
// the removals of a user.
func (pl *planner) planMembers() {
	p := pl.p
	extOf := make(map[string]string, len(pl.tgt.users))
	for _, tu := range pl.tgt.users {
		extOf[tu.id] = tu.externalID
	}
	members := desiredMembers(pl.snap, pl.pol.Flatten)
	for _, sg := range pl.snap.Groups {
		if _, ok := pl.groupRef[sg.ID]; !ok {
			continue // not this configuration's (see policy.adopt)
		}
		want := map[string]Ref{} // by source id
		for _, id := range members[sg.ID] {
			if r, ok := pl.userRef[id]; ok {
				want[id] = r
			} else if r, ok := pl.groupRef[id]; ok {
				want[id] = r
			}
		}
		mc := MemberChange{Group: pl.groupRef[sg.ID]}
		have := map[string]bool{} // target ids
		if tg := pl.gMatched[sg.ID]; tg != nil {
			for _, r := range tg.members {
				have[r.TargetID] = true
			}
			keep := map[string]bool{}
			for _, r := range want {
				if r.TargetID != "" {
					keep[r.TargetID] = true
				}
			}
			for _, r := range tg.members {
				if !keep[r.TargetID] && pl.ownsMember(r, extOf) {
					if r.Type == "User" {
						r.ExternalID = extOf[r.TargetID]
					}
					mc.Remove = append(mc.Remove, r)
				}
			}
		}
		for _, id := range slices.Sorted(maps.Keys(want)) {
			if r := want[id]; r.TargetID == "" || !have[r.TargetID] {
				mc.Add = append(mc.Add, r)
			}
		}
		if len(mc.Add)+len(mc.Remove) > 0 {
			p.Members = append(p.Members, mc)
			p.Counts.MembersAdd += len(mc.Add)
			p.Counts.MembersRemove += len(mc.Remove)
		}
	}
}

// desiredMembers returns each group's members by source id: its members
// and the groups whose parent it is; with flatten, nested groups are
// replaced by their users, through any depth, cycles included.
func desiredMembers(snap *source.Snapshot, flatten bool) map[string][]string {
	direct := map[string][]string{}
	isGroup := map[string]bool{}
	for _, g := range snap.Groups {
		isGroup[g.ID] = true
		direct[g.ID] = append(direct[g.ID], g.Members...)
	}
	for _, g := range snap.Groups {
		if g.Parent != "" {
			direct[g.Parent] = append(direct[g.Parent], g.ID)
		}
	}
	out := map[string][]string{}
	for _, g := range snap.Groups {
		if !flatten {
			out[g.ID] = dedupe(direct[g.ID])
			continue
		}
		seen := map[string]bool{g.ID: true}
		var users []string
		queue := slices.Clone(direct[g.ID])
		for len(queue) > 0 {
			id := queue[0]
			queue = queue[1:]
			if seen[id] {
				continue
			}
			seen[id] = true
			if isGroup[id] {
				queue = append(queue, direct[id]...)
			} else {
				users = append(users, id)
			}
		}
		out[g.ID] = users
	}
	return out
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
