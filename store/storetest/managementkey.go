package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/store"
)

// testManagementKeys holds management keys and SCIM tokens apart, and
// keys to their expiry and revocation.
func (s *suite) testManagementKeys(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	k, secret, err := st.CreateManagementKey(ctx, "app", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "rmk_") || k.Name != "app" || k.ID == "" {
		t.Fatalf("CreateManagementKey = %+v, %q", k, secret)
	}
	if _, _, err := st.CreateManagementKey(ctx, "app", time.Time{}); err == nil {
		t.Fatal("a second key named app was made")
	}
	got, err := st.AuthenticateManagementKey(ctx, secret)
	if err != nil || got.ID != k.ID || got.LastUsed.IsZero() {
		t.Fatalf("AuthenticateManagementKey = %+v, %v", got, err)
	}
	_, tokenSecret, err := st.CreateToken(ctx, dir, "okta", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AuthenticateManagementKey(ctx, tokenSecret); err != store.ErrUnauthorized {
		t.Errorf("a SCIM token authenticated as a management key: %v", err)
	}
	if _, err := st.Authenticate(ctx, secret); err != store.ErrUnauthorized {
		t.Errorf("a management key authenticated as a SCIM token: %v", err)
	}
	expired, expiredSecret, err := st.CreateManagementKey(ctx, "old", time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AuthenticateManagementKey(ctx, expiredSecret); err != store.ErrUnauthorized {
		t.Errorf("an expired key authenticated: %v", err)
	}
	if err := st.RevokeManagementKey(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AuthenticateManagementKey(ctx, secret); err != store.ErrUnauthorized {
		t.Errorf("a revoked key authenticated: %v", err)
	}
	wantErr(t, "revoke an unknown key", st.RevokeManagementKey(ctx, "nobody"), store.ErrNotFound)
	keys, err := st.ManagementKeys(ctx)
	if err != nil || len(keys) != 2 || !keys[0].Revoked || keys[1].ID != expired.ID || keys[1].Expires.IsZero() {
		t.Fatalf("ManagementKeys = %+v, %v", keys, err)
	}
}
