package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/rosterhq/roster/store"
)

// testSyncHistory checks a store's history of sync runs, when it keeps one.
func (s *suite) testSyncHistory(t *testing.T) {
	h, ok := s.open(t).(store.SyncHistory)
	if !ok {
		t.Skip("the store keeps no sync history")
	}
	ctx := context.Background()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var ids []string
	for i, cfg := range []string{"a.yaml", "b.yaml", "a.yaml"} {
		r, err := h.RecordRun(ctx, store.SyncRun{Config: cfg, Started: base.Add(time.Duration(i) * time.Hour),
			Ended: base.Add(time.Duration(i)*time.Hour + time.Minute), Status: "ok",
			Summary: json.RawMessage(`{"create":` + string(rune('1'+i)) + `}`),
			Changes: json.RawMessage(`[{"what":"create user ada"}]`)})
		if err != nil {
			t.Fatal(err)
		}
		if r.ID == "" {
			t.Fatal("no id assigned")
		}
		ids = append(ids, r.ID)
	}
	runs, err := h.SyncRuns(ctx, "a.yaml", 10)
	if err != nil || len(runs) != 2 || runs[0].ID != ids[2] || runs[1].ID != ids[0] {
		t.Fatalf("runs of a.yaml: %+v, %v", runs, err)
	}
	if runs[0].Changes != nil || !runs[0].Started.Equal(base.Add(2*time.Hour)) || runs[0].Status != "ok" {
		t.Fatalf("a listed run: %+v", runs[0])
	}
	var summary map[string]int
	if err := json.Unmarshal(runs[0].Summary, &summary); err != nil || summary["create"] != 3 {
		t.Fatalf("summary %s: %v", runs[0].Summary, err)
	}
	if all, err := h.SyncRuns(ctx, "", 2); err != nil || len(all) != 2 || all[0].ID != ids[2] || all[1].ID != ids[1] {
		t.Fatalf("the newest two runs: %+v, %v", all, err)
	}
	one, err := h.SyncRun(ctx, ids[1])
	if err != nil || one.Config != "b.yaml" || !json.Valid(one.Changes) || len(one.Changes) == 0 {
		t.Fatalf("one run: %+v, %v", one, err)
	}
	if _, err := h.SyncRun(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a missing run: %v", err)
	}

	// A sync's state: none, then kept, then replaced.
	if _, _, err := h.SyncState(ctx, "a.yaml"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no state yet: %v", err)
	}
	for i, state := range []string{`{"users": {"u1": {}}}`, `{"users": {"u1": {}, "u2": {}}}`} {
		saved := base.Add(time.Duration(i) * time.Hour)
		if err := h.SaveSyncState(ctx, "a.yaml", saved, json.RawMessage(state)); err != nil {
			t.Fatal(err)
		}
		got, when, err := h.SyncState(ctx, "a.yaml")
		var v map[string]map[string]any
		if err != nil || json.Unmarshal(got, &v) != nil || len(v["users"]) != i+1 || !when.Equal(saved) {
			t.Fatalf("state %d: %s at %v, %v", i, got, when, err)
		}
	}
	if _, _, err := h.SyncState(ctx, "b.yaml"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another sync's state: %v", err)
	}
}
