package reconcile_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rosterhq/roster/reconcile"
)

// TestApplyRefusesAHandEditedPlan: a plan edited by hand (a program
// calling Apply, or a plan file given to ApplySaved) can name what no plan
// names. Apply refuses it as a whole, with an error saying which change is
// wrong, before it writes anything. Before, an attribute path the sync
// cannot map panicked in a worker and took the process down, and a change
// without a target id was sent to the collection (DELETE /Users/, whose
// 404 counted as done, and the user left the state).
func TestApplyRefusesAHandEditedPlan(t *testing.T) {
	ada := reconcile.Ref{ExternalID: "u1", TargetID: "t1", Name: "ada", Type: "User"}
	eng := reconcile.Ref{ExternalID: "g1", TargetID: "t2", Name: "Engineering", Type: "Group"}
	create := reconcile.UserChange{Action: reconcile.ActionCreate, ExternalID: "n1", UserName: "new",
		Changes: []reconcile.AttrChange{{Path: "userName", After: "new"}}}
	tests := []struct {
		name string
		plan *reconcile.Plan
		want string // in the error
	}{
		{"a plan that is missing", nil, "no plan"},
		{"a create of an attribute that is not a path", &reconcile.Plan{Users: []reconcile.UserChange{
			{Action: reconcile.ActionCreate, ExternalID: "n1", UserName: "new",
				Changes: []reconcile.AttrChange{{Path: "userName", After: "new"}, {Path: "emails[type eq work", After: "new@example.com"}}}}},
			`users[0] (create user new): "emails[type eq work" is not a path`},
		{"an update clearing an attribute that is not a path", &reconcile.Plan{Users: []reconcile.UserChange{
			{Action: reconcile.ActionUpdate, ExternalID: "u1", UserName: "ada", TargetID: "t1",
				Changes: []reconcile.AttrChange{{Path: "title]", Before: "Dr", After: ""}}}}},
			`users[0] (update user ada): "title]" is not a path`},
		{"the second of two creates of an attribute that is not a path", &reconcile.Plan{Users: []reconcile.UserChange{
			create, {Action: reconcile.ActionCreate, ExternalID: "n2", UserName: "other",
				Changes: []reconcile.AttrChange{{Path: "userName", After: "other"}, {Path: "name..givenName", After: "O"}}}}},
			`users[1] (create user other): "name..givenName" is not a path`},
		{"a user change of an unknown action", &reconcile.Plan{Users: []reconcile.UserChange{
			{Action: "promote", ExternalID: "u1", UserName: "ada", TargetID: "t1"}}},
			`users[0]: unknown action "promote"`},
		{"a user change of a group's action", &reconcile.Plan{Users: []reconcile.UserChange{
			{Action: reconcile.ActionRetire, ExternalID: "u1", UserName: "ada", TargetID: "t1"}}},
			`users[0]: unknown action "retire"`},
		{"a create without an externalId", &reconcile.Plan{Users: []reconcile.UserChange{
			{Action: reconcile.ActionCreate, UserName: "new", Changes: []reconcile.AttrChange{{Path: "userName", After: "new"}}}}},
			"users[0] (create user new): no externalId"},
		{"a create of a user already in the target", &reconcile.Plan{Users: []reconcile.UserChange{
			{Action: reconcile.ActionCreate, ExternalID: "n1", UserName: "new", TargetID: "t1"}}},
			"users[0] (create user new): a create has no targetId"},
		{"an update without a target id", &reconcile.Plan{Users: []reconcile.UserChange{
			{Action: reconcile.ActionUpdate, ExternalID: "u1", UserName: "ada",
				Changes: []reconcile.AttrChange{{Path: "title", After: "Dr"}}}}},
			"users[0] (update user ada): no targetId"},
		{"an update that changes nothing", &reconcile.Plan{Users: []reconcile.UserChange{
			{Action: reconcile.ActionUpdate, ExternalID: "u1", UserName: "ada", TargetID: "t1"}}},
			"users[0] (update user ada): no changes"},
		{"a deactivation setting active to neither true nor false", &reconcile.Plan{Users: []reconcile.UserChange{
			{Action: reconcile.ActionDeactivate, ExternalID: "u1", UserName: "ada", TargetID: "t1",
				Changes: []reconcile.AttrChange{{Path: "active", Before: "true", After: "no"}}}}},
			`users[0] (deactivate user ada): active is "no", not true or false`},
		{"a delete without a target id", &reconcile.Plan{Users: []reconcile.UserChange{
			{Action: reconcile.ActionDelete, ExternalID: "u1", UserName: "ada"}}},
			"users[0] (delete user ada): no targetId"},
		{"a group change of an unknown action", &reconcile.Plan{Groups: []reconcile.GroupChange{
			{Action: reconcile.ActionDeactivate, ExternalID: "g1", Name: "Engineering", TargetID: "t2"}}},
			`groups[0]: unknown action "deactivate"`},
		{"a group created without a name", &reconcile.Plan{Groups: []reconcile.GroupChange{
			{Action: reconcile.ActionCreate, ExternalID: "g9"}}},
			"groups[0] (create group ): no name"},
		{"a group renamed without a target id", &reconcile.Plan{Groups: []reconcile.GroupChange{
			{Action: reconcile.ActionRename, ExternalID: "g1", Name: "Platform"}}},
			"groups[0] (rename group Platform): no targetId"},
		{"a group retired without a target id", &reconcile.Plan{Groups: []reconcile.GroupChange{
			{Action: reconcile.ActionRetire, ExternalID: "g1", Name: "Engineering"}}},
			"groups[0] (retire group Engineering): no targetId"},
		{"the members of a group neither in the target nor created", &reconcile.Plan{Members: []reconcile.MemberChange{
			{Group: reconcile.Ref{ExternalID: "g9", Name: "Ghosts", Type: "Group"}, Add: []reconcile.Ref{ada}}}},
			"members[0] (group Ghosts): the group has no targetId and the plan does not create it"},
		{"a member neither in the target nor created", &reconcile.Plan{Users: []reconcile.UserChange{create}, Members: []reconcile.MemberChange{
			{Group: eng, Add: []reconcile.Ref{ada, {ExternalID: "n9", Name: "ghost", Type: "User"}}}}},
			"members[0] (group Engineering): add[1] (ghost): the member has no targetId and the plan does not create it"},
		{"a member to remove without a target id", &reconcile.Plan{Members: []reconcile.MemberChange{
			{Group: eng, Remove: []reconcile.Ref{{ExternalID: "u1", Name: "ada", Type: "User"}}}}},
			"members[0] (group Engineering): remove[0] (ada): no targetId"},
	}
	f := newFixture(t)
	f.run(t)
	before := len(f.engine.State.Users)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.count.take()
			res, err := f.engine.Apply(context.Background(), tt.plan, true)
			if !errors.Is(err, reconcile.ErrInvalidPlan) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Apply: %+v, %v; want ErrInvalidPlan saying %q", res, err, tt.want)
			}
			if _, err := f.engine.ApplySaved(context.Background(), tt.plan, true); !errors.Is(err, reconcile.ErrInvalidPlan) {
				t.Errorf("ApplySaved: %v, want ErrInvalidPlan", err)
			}
			if n := f.count.take(); n != 0 {
				t.Errorf("%d writes", n)
			}
			if n := len(f.engine.State.Users); n != before {
				t.Errorf("the state owns %d users, %d before", n, before)
			}
		})
	}
}
