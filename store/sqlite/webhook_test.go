package sqlite

import (
	"context"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlstore"
)

// storedWebhookSecret returns the secret column of a webhook as anyone
// who reads the database sees it.
func storedWebhookSecret(t *testing.T, st *Store, id string) []byte {
	t.Helper()
	var b []byte
	if err := st.d.db.QueryRow(`SELECT secret FROM webhooks WHERE id = ?`, id).Scan(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

// A webhook's secret is kept sealed with the store's secret key, as the
// signing keys are, and readable to sign only with it; one made in clear
// by a process without the key is sealed when a store with it reads it.
func TestWebhookSecretsAreSealed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "roster.db")
	key, err := sqlstore.NewSecretKey([]byte("correct horse battery staple, 32+ bytes"))
	if err != nil {
		t.Fatal(err)
	}
	withKey, err := Open(ctx, path, sqlstore.WithSecretKey(key))
	if err != nil {
		t.Fatal(err)
	}
	defer withKey.Close()
	without, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer without.Close()

	w, err := withKey.CreateWebhook(ctx, store.WebhookSpec{URL: "https://app.example.com/hooks"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(w.Secret, "whsec_"))
	if stored := storedWebhookSecret(t, withKey, w.ID); !strings.HasPrefix(string(stored), "enc1:") || strings.Contains(string(stored), string(raw)) {
		t.Errorf("the secret is stored as %q, want it sealed", stored)
	}
	if got, err := withKey.Webhook(ctx, w.ID); err != nil || got.Secret != w.Secret {
		t.Errorf("read back with the key: %q, %v", got.Secret, err)
	}
	if _, err := without.Webhook(ctx, w.ID); !errors.Is(err, sqlstore.ErrNoSecretKey) {
		t.Errorf("read without the key: %v, want ErrNoSecretKey", err)
	}

	clear, err := without.CreateWebhook(ctx, store.WebhookSpec{URL: "https://app.example.com/clear"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := withKey.Webhook(ctx, clear.ID); err != nil || got.Secret != clear.Secret {
		t.Fatalf("a secret made in clear, read with the key: %q, %v", got.Secret, err)
	}
	if stored := storedWebhookSecret(t, withKey, clear.ID); !strings.HasPrefix(string(stored), "enc1:") {
		t.Errorf("a secret made in clear is still stored as %q after a store with the key read it", stored)
	}
	if got, err := withKey.Webhook(ctx, clear.ID); err != nil || got.Secret != clear.Secret {
		t.Errorf("sealed, it reads back as %q, %v", got.Secret, err)
	}
}
