package reconcile

import (
	"testing"
	"time"
)

func TestCronNext(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04 Mon", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	from := at("2026-11-23 07:36 Mon") // a Monday
	for expr, want := range map[string]string{
		"* * * * *":        "2026-11-23 07:37 Mon",
		"*/15 * * * *":     "2026-11-23 07:45 Mon",
		"0 6 * * 1-5":      "2026-11-24 06:00 Tue",
		"30 2 1 * *":       "2026-12-01 02:30 Tue",
		"0 0 * * 0":        "2026-11-29 00:00 Sun",
		"0 0 * * 7":        "2026-11-29 00:00 Sun",
		"0 9,17 * * *":     "2026-11-23 09:00 Mon",
		"0 0 29 2 *":       "2028-02-29 00:00 Tue",
		"0 0 1 1 *":        "2027-01-01 00:00 Fri",
		"0 12 15 * 5":      "2026-11-27 12:00 Fri", // day of month or Friday
		"0 12 */2 * 2":     "2026-12-01 12:00 Tue", // an odd day and a Tuesday
		"0 12 1 * */3":     "2027-05-01 12:00 Sat", // the 1st and a Sunday, Wednesday or Saturday
		"5-10/5 8-9 * * *": "2026-11-23 08:05 Mon",
	} {
		c, err := ParseCron(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if got := c.Next(from).Format("2006-01-02 15:04 Mon"); got != want {
			t.Errorf("%s: next %s, want %s", expr, got, want)
		}
	}
	if c, _ := ParseCron("0 0 30 2 *"); !c.Next(from).IsZero() {
		t.Error("February 30th came")
	}
	for _, bad := range []string{"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "a * * * *", "5-1 * * * *"} {
		if _, err := ParseCron(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"*/15 * * * *", "0 6 * * 1-5", "1,2,3 4-5/2 * 1 0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCron(s)
		if err != nil {
			return
		}
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if n := c.Next(from); !n.IsZero() && !n.After(from) {
			t.Fatalf("%q: next %v is not after %v", s, n, from)
		}
	})
}
