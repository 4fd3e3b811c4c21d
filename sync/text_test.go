package sync

import (
	"strings"
	"testing"
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
