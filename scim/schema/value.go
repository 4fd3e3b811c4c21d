package schema

import (
	"cmp"
	"strings"
	"time"
)

// ParseDateTime parses an xsd:dateTime as SCIM uses it (RFC 7643 §2.3.5):
// RFC 3339 with an optional fractional second; a value without a zone is
// taken as UTC.
func ParseDateTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		return t, nil
	}
	if t, err2 := time.Parse("2006-01-02T15:04:05.999999999", s); err2 == nil {
		return t, nil
	}
	return time.Time{}, err
}

// ParseBool parses "true" or "false" in any case, the way Microsoft Entra ID
// sends booleans as strings ("False"). ok is false for anything else.
func ParseBool(s string) (v, ok bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// Compare compares two values of attribute a three-way, as filters
// (RFC 7644 §3.4.2.2) and sortBy (§3.4.2.3) order them: strings
// case-insensitively unless a is caseExact, dateTimes (strings, or a
// time.Time on either side) as instants, numbers by value (int64 against
// int64 exactly), false before true. ok is false when the two values
// cannot be compared. a may be nil, meaning a caseless string attribute.
func Compare(a *Attribute, x, y any) (c int, ok bool) {
	if a != nil && a.Type == DateTime || isTime(x) || isTime(y) {
		tx, okx := asTime(x)
		ty, oky := asTime(y)
		if okx && oky {
			return tx.Compare(ty), true
		}
		// Not both instants: strings compare as text below.
	}
	switch x := x.(type) {
	case string:
		y, ok := y.(string)
		if !ok {
			return 0, false
		}
		if a == nil || !a.CaseExact {
			x, y = strings.ToLower(x), strings.ToLower(y)
		}
		return strings.Compare(x, y), true
	case bool:
		y, ok := y.(bool)
		if !ok {
			return 0, false
		}
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	case int64:
		switch y := y.(type) {
		case int64:
			return cmp.Compare(x, y), true
		case float64:
			return cmp.Compare(float64(x), y), true
		}
	case float64:
		switch y := y.(type) {
		case int64:
			return cmp.Compare(x, float64(y)), true
		case float64:
			return cmp.Compare(x, y), true
		}
	}
	return 0, false
}

func isTime(v any) bool { _, ok := v.(time.Time); return ok }

func asTime(v any) (time.Time, bool) {
	switch v := v.(type) {
	case time.Time:
		return v, true
	case string:
		t, err := ParseDateTime(v)
		return t, err == nil
	}
	return time.Time{}, false
}
