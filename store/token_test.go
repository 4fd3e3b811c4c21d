package store

import "testing"

// TestSecretMatches checks that a secret matches the hash of itself, with
// the spaces HashSecret ignores, and no other hash.
func TestSecretMatches(t *testing.T) {
	secret, hash := NewSecret()
	other, _ := NewSecret()
	tests := []struct {
		hash, secret string
		want         bool
	}{
		{hash, secret, true},
		{hash, " " + secret + "\n", true},
		{hash, other, false},
		{hash, "", false},
		{"", secret, false},
	}
	for _, tt := range tests {
		if got := SecretMatches(tt.hash, tt.secret); got != tt.want {
			t.Errorf("SecretMatches(%q, %q) = %v, want %v", tt.hash, tt.secret, got, tt.want)
		}
	}
}
