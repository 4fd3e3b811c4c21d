package store

import (
	"strings"
	"testing"
	"unicode"
)

// TestFoldKeyIsEqualFold checks FoldKey against strings.EqualFold for
// every rune and its folding orbit, and for strings.
func TestFoldKeyIsEqualFold(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue // surrogates are not runes of valid UTF-8
		}
		s := string(r)
		k := FoldKey(s)
		if !strings.EqualFold(s, k) {
			t.Fatalf("FoldKey(%q) = %q, which does not fold with it", s, k)
		}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if FoldKey(string(f)) != k {
				t.Fatalf("FoldKey(%q) = %q but FoldKey(%q) = %q", s, k, string(f), FoldKey(string(f)))
			}
		}
	}
	pairs := [][2]string{
		{"İlkay", "ilkay"}, {"Jeſſica", "JESSICA"}, {"ΟΔΥΣΣΕΥΣ", "οδυσσευς"}, {"Straße", "STRASSE"},
		{"ǅemal", "ǆEMAL"}, {"K", "k"}, {"a\xffb", "A\xfeB"}, {"ab", "abc"}, {"", ""},
	}
	for _, p := range pairs {
		if got, want := FoldKey(p[0]) == FoldKey(p[1]), strings.EqualFold(p[0], p[1]); got != want {
			t.Errorf("FoldKey(%q) == FoldKey(%q) is %v, EqualFold is %v", p[0], p[1], got, want)
		}
	}
}
