package store

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNewIDIsAVersion4UUID checks NewID's form, and that it does not
// repeat itself.
func TestNewIDIsAVersion4UUID(t *testing.T) {
	uuid4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !uuid4.MatchString(id) {
			t.Fatalf("NewID() = %q, want a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("NewID() returned %q twice", id)
		}
		seen[id] = true
	}
}

// TestNewResourceIDIsAVersion7UUID checks NewResourceID's form, that it
// carries the time it was made and does not repeat itself.
func TestNewResourceIDIsAVersion7UUID(t *testing.T) {
	uuid7 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		before := time.Now().UnixMilli()
		id := NewResourceID()
		after := time.Now().UnixMilli()
		if !uuid7.MatchString(id) {
			t.Fatalf("NewResourceID() = %q, want a version 7 UUID", id)
		}
		ms, err := strconv.ParseInt(strings.ReplaceAll(id[:13], "-", ""), 16, 64)
		if err != nil || ms < before || ms > after {
			t.Fatalf("NewResourceID() = %q holds the time %d ms; want %d to %d", id, ms, before, after)
		}
		if seen[id] {
			t.Fatalf("NewResourceID() returned %q twice", id)
		}
		seen[id] = true
	}
}
