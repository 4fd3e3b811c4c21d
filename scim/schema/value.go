package schema

import (
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
