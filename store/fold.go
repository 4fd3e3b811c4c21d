package store

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// FoldKey returns a key for s such that foldKey(s) == foldKey(t) exactly
// when strings.EqualFold(s, t). EqualFold compares rune by rune under
// Unicode simple case folding; the key maps each rune to one member of its
// folding orbit (the lower case of the orbit's smallest rune when that is in
// the orbit, else the smallest rune). It is not strings.ToLower: "İ" and "i"
// have the same lower case but do not fold together, "ſ" and "s" fold
// together but have different lower cases.
func FoldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s) // an ASCII letter's key is its lower case
	}
	return strings.Map(foldRune, s)
}

func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	if l := unicode.ToLower(least); l != least && inOrbit(l, least) {
		return l
	}
	return least
}

// inOrbit reports whether r and s fold together.
func inOrbit(r, s rune) bool {
	for f := unicode.SimpleFold(s); f != s; f = unicode.SimpleFold(f) {
		if f == r {
			return true
		}
	}
	return r == s
}
