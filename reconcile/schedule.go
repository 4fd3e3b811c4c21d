package reconcile

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule says when the daemon runs next.
type Schedule interface {
	// Next returns the first time after t to run at.
	Next(t time.Time) time.Time
}

// Every is a schedule of runs an interval apart.
type Every time.Duration

// Next implements Schedule.
func (e Every) Next(t time.Time) time.Time { return t.Add(time.Duration(e)) }

// Cron is a schedule in the five fields of crontab(5): minute hour
// day-of-month month day-of-week, each *, a number, a range a-b, a step
// */n or a-b/n, or a list of those separated by commas; day-of-week 0 or
// 7 is Sunday. When both day fields are restricted, a day matching either
// runs; when either starts with * (such as */2), a day must match both, as
// in Vixie cron. Times are in the location of the time given to Next.
type Cron struct {
	src                      string
	minute, hour, dom, month uint64 // bit i set: value i allowed
	dow                      uint64
	domStar, dowStar         bool // the field starts with *, as "*" or "*/2"
}

// ParseCron parses a cron expression such as "*/15 * * * *" or
// "0 6 * * 1-5".
func ParseCron(expr string) (*Cron, error) {
	fields := strings.Fields(expr)
	if len(fields) != 5 {
		return nil, fmt.Errorf("cron %q: want 5 fields (minute hour day-of-month month day-of-week), not %d", expr, len(fields))
	}
	c := &Cron{src: expr}
	var err error
	bounds := []struct {
		dst      *uint64
		min, max int
		name     string
	}{{&c.minute, 0, 59, "minute"}, {&c.hour, 0, 23, "hour"}, {&c.dom, 1, 31, "day of month"}, {&c.month, 1, 12, "month"}, {&c.dow, 0, 7, "day of week"}}
	for i, b := range bounds {
		if *b.dst, err = cronField(fields[i], b.min, b.max); err != nil {
			return nil, fmt.Errorf("cron %q: %s: %w", expr, b.name, err)
		}
	}
	if c.dow&(1<<7) != 0 {
		c.dow |= 1 // 7 is Sunday too
	}
	c.domStar, c.dowStar = strings.HasPrefix(fields[2], "*"), strings.HasPrefix(fields[4], "*")
	return c, nil
}

func cronField(f string, min, max int) (uint64, error) {
	var set uint64
	for _, part := range strings.Split(f, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("bad step %q", stepText)
			}
			step = n
		}
		lo, hi := min, max
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err1, err2 error
			lo, err1 = strconv.Atoi(a)
			hi, err2 = strconv.Atoi(b)
			if err1 != nil || err2 != nil {
				return 0, fmt.Errorf("bad range %q", rng)
			}
		default:
			n, err := strconv.Atoi(rng)
			if err != nil {
				return 0, fmt.Errorf("bad value %q", rng)
			}
			lo, hi = n, n
			if hasStep {
				hi = max
			}
		}
		if lo < min || hi > max || lo > hi {
			return 0, fmt.Errorf("%q is outside %d-%d", part, min, max)
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << v
		}
	}
	return set, nil
}

// String returns the expression.
func (c *Cron) String() string { return c.src }

// Next implements Schedule: the first whole minute after t that matches.
func (c *Cron) Next(t time.Time) time.Time {
	t = t.Truncate(time.Minute).Add(time.Minute)
	for limit := t.AddDate(5, 0, 0); t.Before(limit); {
		if c.month&(1<<int(t.Month())) == 0 {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, t.Location())
			continue
		}
		if !c.day(t) {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, t.Location())
			continue
		}
		if c.hour&(1<<t.Hour()) == 0 {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, t.Location())
			continue
		}
		if c.minute&(1<<t.Minute()) == 0 {
			t = t.Add(time.Minute)
			continue
		}
		return t
	}
	return time.Time{} // never, such as February 30th
}

func (c *Cron) day(t time.Time) bool {
	dom := c.dom&(1<<t.Day()) != 0
	dow := c.dow&(1<<int(t.Weekday())) != 0
	// As in Vixie cron: when either day field starts with *, a day must
	// match both ("*/2 * 1" is every other day that is a Monday); when
	// both are restricted, either ("15 * 5" is the 15th and every Friday).
	if c.domStar || c.dowStar {
		return dom && dow
	}
	return dom || dow
}
