package reconcile

import "testing"

func TestExpr(t *testing.T) {
	attrs := map[string][]string{"givenName": {"Ada"}, "sn": {"Lovelace"}, "mail": {"Ada.Lovelace@Old.example"}, "empty": {""}}
	for src, want := range map[string]string{
		`mail`:                           "Ada.Lovelace@Old.example",
		`MAIL`:                           "Ada.Lovelace@Old.example",
		`lower(mail)`:                    "ada.lovelace@old.example",
		`join(" ", givenName, sn)`:       "Ada Lovelace",
		`join(" ", givenName, nope, sn)`: "Ada Lovelace",
		`default(empty, nope, sn)`:       "Lovelace",
		`replace(lower(mail), "@old\\.example$", "@new.example")`: "ada.lovelace@new.example",
		`replace(mail, "^([^.]+)\\..*$", "$1")`:                   "Ada",
		`"lit\"eral"`:                                             `lit"eral`,
		`id`:                                                      "u-1",
		`upper(trim(" x "))`:                                      "X",
		`default()`:                                               "",
	} {
		e, err := ParseExpr(src)
		if src == `default()` {
			if err == nil {
				t.Errorf("%s: no error", src)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got := e.Eval("u-1", attrs); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
	for _, bad := range []string{``, `lower(`, `lower(a, b)`, `nope(a)`, `"open`, `replace(a, b, "c")`, `replace(a, "(", "c")`, `a b`, `join(",")`, `)`} {
		if _, err := ParseExpr(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{`mail`, `lower(mail)`, `join(" ", a, b)`, `replace(x, "a(b)", "$1")`, `"q\"uote"`, `default(a,b,c)`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseExpr(s)
		if err != nil {
			return
		}
		e.Eval("id", map[string][]string{"a": {"x"}})
	})
}
