package schema_test

import (
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/schema"
)

func TestParseDateTimeAccepts(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		name string
		in   string
		want time.Time
		// offset is the zone offset the result keeps, in seconds east of UTC.
		offset int
	}{
		{"a UTC time as RFC 7643 writes it", "2011-05-13T04:42:34Z", utc(2011, 5, 13, 4, 42, 34, 0), 0},
		{"a positive offset", "2011-05-13T04:42:34+02:00", utc(2011, 5, 13, 2, 42, 34, 0), 2 * 3600},
		{"a negative offset with minutes", "2011-05-13T04:42:34-07:30", utc(2011, 5, 13, 12, 12, 34, 0), -(7*3600 + 30*60)},
		{"a zero offset written out", "2011-05-13T04:42:34+00:00", utc(2011, 5, 13, 4, 42, 34, 0), 0},
		{"an offset that changes the date", "2011-05-13T23:30:00-05:00", utc(2011, 5, 14, 4, 30, 0, 0), -5 * 3600},
		{"a tenth of a second", "2011-05-13T04:42:34.5Z", utc(2011, 5, 13, 4, 42, 34, 500_000_000), 0},
		{"milliseconds with an offset", "2011-05-13T04:42:34.123+01:00", utc(2011, 5, 13, 3, 42, 34, 123_000_000), 3600},
		{"nanoseconds", "2011-05-13T04:42:34.123456789Z", utc(2011, 5, 13, 4, 42, 34, 123_456_789), 0},
		{"no zone, taken as UTC", "2011-05-13T04:42:34", utc(2011, 5, 13, 4, 42, 34, 0), 0},
		{"no zone with fractional seconds", "2011-05-13T04:42:34.25", utc(2011, 5, 13, 4, 42, 34, 250_000_000), 0},
		{"a leap day", "2012-02-29T00:00:00Z", utc(2012, 2, 29, 0, 0, 0, 0), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := schema.ParseDateTime(tt.in)
			if err != nil {
				t.Fatalf("ParseDateTime(%q): %v", tt.in, err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("ParseDateTime(%q) = %v, want %v", tt.in, got, tt.want.UTC())
			}
			if _, off := got.Zone(); off != tt.offset {
				t.Errorf("ParseDateTime(%q) has offset %ds, want %ds", tt.in, off, tt.offset)
			}
		})
	}
}

func TestParseDateTimeTakesAValueWithoutAZoneAsUTC(t *testing.T) {
	got, err := schema.ParseDateTime("2011-05-13T04:42:34")
	if err != nil {
		t.Fatal(err)
	}
	if got.Location() != time.UTC {
		t.Errorf("location = %v, want UTC", got.Location())
	}
}

func TestParseDateTimeRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"a date without a time", "2011-05-13"},
		{"a word", "yesterday"},
		{"the empty string", ""},
		{"a time without seconds", "2011-05-13T04:42Z"},
		{"a space instead of T", "2011-05-13 04:42:34Z"},
		{"an offset without a colon", "2011-05-13T04:42:34+0200"},
		{"a month out of range", "2011-13-13T04:42:34Z"},
		{"a day out of range", "2011-02-30T04:42:34Z"},
		{"an hour out of range", "2011-05-13T25:00:00Z"},
		{"a Unix timestamp", "1305261754"},
		{"an RFC 1123 date", "Fri, 13 May 2011 04:42:34 GMT"},
		{"a trailing dot without digits", "2011-05-13T04:42:34.Z"},
		{"trailing text", "2011-05-13T04:42:34Z extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := schema.ParseDateTime(tt.in); err == nil {
				t.Errorf("ParseDateTime(%q) = %v, want an error", tt.in, got)
			}
		})
	}
}

func TestParseBool(t *testing.T) {
	tests := []struct {
		in     string
		want   bool
		wantOK bool
	}{
		{"true", true, true},
		{"false", false, true},
		{"True", true, true},
		{"False", false, true},
		{"FALSE", false, true},
		{"TRUE", true, true},
		{"tRuE", true, true},
		{"yes", false, false},
		{"no", false, false},
		{"1", false, false},
		{"0", false, false},
		{"t", false, false},
		{"", false, false},
		{" true", false, false},
		{"true ", false, false},
		{`"true"`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := schema.ParseBool(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseBool(%q) = %t, %t; want %t, %t", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
