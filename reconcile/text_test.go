package reconcile

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/client"
)

func TestWriteText(t *testing.T) {
	p := &Plan{
		Counts:  Counts{Create: 1, Update: 1, MembersAdd: 1},
		Users:   []UserChange{{Action: ActionCreate, ExternalID: "u1", UserName: "ada", Changes: []AttrChange{{Path: "userName", After: "ada"}}}, {Action: ActionUpdate, ExternalID: "u2", UserName: "alan", Changes: []AttrChange{{Path: "title", Before: "Dr", After: ""}}}},
		Members: []MemberChange{{Group: Ref{Name: "Eng"}, Add: []Ref{{Name: "ada"}}}},
	}
	var b strings.Builder
	if err := p.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"create 1", "update 1", "create user ada [u1]", `userName: (none) → "ada"`, `title: "Dr" → (none)`, "members of Eng: +ada"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	b.Reset()
	(&Plan{}).WriteText(&b)
	if !strings.Contains(b.String(), "Nothing to change.") {
		t.Errorf("empty plan:\n%s", b.String())
	}
}

func TestWriteSummary(t *testing.T) {
	for _, tc := range []struct {
		name string
		plan *Plan
		res  *Result
		took time.Duration
		want string
	}{{
		name: "a run with a failed create shows only the kinds it planned or did, and a total",
		plan: &Plan{Counts: Counts{Create: 2, Deactivate: 1, Unchanged: 40, GroupCreate: 1, MembersAdd: 3}},
		res: &Result{
			Done:         Counts{Create: 1, Deactivate: 1, GroupCreate: 1, MembersAdd: 2},
			Failed:       []Failure{{What: "create user alan", Err: "409 Conflict"}, {What: "add alan to group Eng", Err: "the member was not created", Members: []string{"alan"}}},
			FailedCounts: Counts{Create: 1, MembersAdd: 1},
		},
		took: 1234567891 * time.Nanosecond,
		want: `CHANGE             PLANNED  DONE  FAILED
users created      2        1     1
users deactivated  1        1     0
groups created     1        1     0
members added      3        2     1
total              7        5     2
took 1.235s

failed, by cause (the next run retries them):
  1 × create user: 409 Conflict (alan)
  1 × add member to group: the member was not created (alan to Eng)
`,
	}, {
		name: "a run with nothing to do shows the total only",
		plan: &Plan{Counts: Counts{Unchanged: 3}},
		res:  &Result{},
		took: 80 * time.Millisecond,
		want: `CHANGE  PLANNED  DONE  FAILED
total   0        0     0
took 80ms
`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := WriteSummary(&b, tc.plan, tc.res, tc.took); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tc.want)
			}
		})
	}
}

// TestFailuresAreGroupedByCause: the summary says each cause once, with
// how many changes of a kind it failed and the first of them, whatever
// ids and URLs the errors differ by.
func TestFailuresAreGroupedByCause(t *testing.T) {
	t.Parallel()
	res := &Result{}
	for i, name := range []string{"ada@example.com", "alan@example.com", "grace@example.com", "linus@example.com"} {
		err := &client.Error{Method: "PATCH", URL: fmt.Sprintf("http://t/Users/%d", i), Status: 400, ScimType: "invalidPath",
			Detail: fmt.Sprintf("Invalid path 'urn:x:department' for user 1b4e28ba-2fa1-11d2-883f-0016d3cca42%d", i)}
		res.Failed = append(res.Failed, Failure{What: "update user " + name, Err: err.Error(), Cause: causeOf(err)})
	}
	err := &client.Error{Status: 409, ScimType: "uniqueness", Detail: "taken"}
	res.Failed = append(res.Failed, Failure{What: "create user x@example.com", Err: err.Error(), Cause: causeOf(err)})
	var b strings.Builder
	if err := WriteSummary(&b, &Plan{}, res, time.Second); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  4 × update user: 400 invalidPath: Invalid path 'urn:x:department' for user … — the target's schema has no such attribute (ada@example.com, alan@example.com, grace@example.com, and 1 more)\n",
		"  1 × create user: 409 uniqueness: taken — another resource in the target holds this value (another system's user?) (x@example.com)\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Fatalf("the summary lacks %q:\n%s", want, b.String())
		}
	}
}
