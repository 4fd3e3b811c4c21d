package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/store"
)

func (s *suite) testTokens(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	tok, secret, err := st.CreateToken(ctx, dir, "okta-prod", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) < 40 || tok.DirectoryID != dir || tok.Name != "okta-prod" || !tok.Expires.IsZero() {
		t.Fatalf("token %+v secret %q: want a long secret for the directory, not expiring", tok, secret)
	}
	got, err := st.Authenticate(ctx, secret)
	if err != nil || got.ID != tok.ID || got.DirectoryID != dir {
		t.Fatalf("Authenticate = %+v, %v; want the token of the directory", got, err)
	}
	for _, bad := range []string{"", "rst_", secret + "x", strings.ToUpper(secret), secret[:len(secret)-1]} {
		if _, err := st.Authenticate(ctx, bad); err != store.ErrUnauthorized {
			t.Errorf("Authenticate(%q) = %v, want ErrUnauthorized", bad, err)
		}
	}
	if byID, err := st.Token(ctx, tok.ID); err != nil || byID.Name != "okta-prod" || byID.DirectoryID != dir {
		t.Fatalf("Token(id) = %+v, %v", byID, err)
	}
	_, err = st.Token(ctx, "nope")
	wantErr(t, "Token of an unknown id", err, store.ErrNotFound)
	list, err := st.Tokens(ctx, dir)
	if err != nil || len(list) != 1 || list[0].LastUsed.IsZero() {
		t.Fatalf("Tokens = %+v, %v; want the one token, used", list, err)
	}
	_, expired, err := st.CreateToken(ctx, dir, "old", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(ctx, expired); err != store.ErrUnauthorized {
		t.Errorf("an expired token: %v, want ErrUnauthorized", err)
	}
	if err := st.RevokeToken(ctx, dir, "okta-prod"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(ctx, secret); err != store.ErrUnauthorized {
		t.Errorf("a revoked token: %v, want ErrUnauthorized", err)
	}
	other, err := st.CreateDirectory(ctx, "globex")
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "revoking another directory's token", st.RevokeToken(ctx, other.ID, "old"), store.ErrNotFound)
}
