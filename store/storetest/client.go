package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/rosterhq/roster/store"
)

func (s *suite) testClients(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	c, secret, err := st.CreateClient(ctx, dir, "entra")
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.AuthenticateClient(ctx, c.ID, secret)
	if err != nil || got.DirectoryID != dir || got.Name != "entra" {
		t.Fatalf("AuthenticateClient = %+v, %v", got, err)
	}
	for _, bad := range [][2]string{{c.ID, secret + "x"}, {c.ID, ""}, {"nope", secret}} {
		if _, err := st.AuthenticateClient(ctx, bad[0], bad[1]); err != store.ErrUnauthorized {
			t.Errorf("AuthenticateClient(%q, %q) = %v, want ErrUnauthorized", bad[0], bad[1], err)
		}
	}
	other, err := st.CreateDirectory(ctx, "globex")
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "revoking through another directory", st.RevokeClient(ctx, other.ID, c.ID), store.ErrNotFound)
	if err := st.RevokeClient(ctx, dir, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AuthenticateClient(ctx, c.ID, secret); err != store.ErrUnauthorized {
		t.Errorf("a revoked client: %v, want ErrUnauthorized", err)
	}
	if list, err := st.Clients(ctx, dir); err != nil || len(list) != 1 || list[0].ID != c.ID || !list[0].Revoked {
		t.Errorf("Clients = %+v, %v", list, err)
	}
	if list, err := st.Clients(ctx, other.ID); err != nil || len(list) != 0 {
		t.Errorf("another directory's Clients = %+v, %v", list, err)
	}
	if got, err := st.Client(ctx, c.ID); err != nil || !got.Revoked {
		t.Errorf("Client after revoke = %+v, %v", got, err)
	}

	// Keys: the current one stays until it is too old, then a new one
	// signs while the old one still verifies.
	k1, err := st.CurrentSigningKey(ctx, time.Hour)
	if err != nil || len(k1.Key) < 32 || k1.ID == "" {
		t.Fatalf("CurrentSigningKey = %+v, %v", k1, err)
	}
	k2, err := st.CurrentSigningKey(ctx, time.Hour)
	if err != nil || k2.ID != k1.ID {
		t.Fatalf("a young key was rotated: %s → %s (%v)", k1.ID, k2.ID, err)
	}
	k3, err := st.CurrentSigningKey(ctx, 0)
	if err != nil || k3.ID == k1.ID || bytes.Equal(k3.Key, k1.Key) {
		t.Fatalf("an old key was not rotated: %+v, %v", k3, err)
	}
	if old, err := st.SigningKey(ctx, k1.ID); err != nil || !bytes.Equal(old.Key, k1.Key) {
		t.Fatalf("the rotated-out key no longer verifies: %v", err)
	}
	_, err = st.SigningKey(ctx, "nope")
	wantErr(t, "an unknown key", err, store.ErrNotFound)
}
