package scim_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim"
)

// decodeObject decodes a JSON object keeping numbers apart from strings, so
// that a test can tell "400" from 400.
func decodeObject(t *testing.T, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return m
}

func TestErrorMarshalsAsAnRFC7644ErrorResponse(t *testing.T) {
	tests := []struct {
		name string
		err  *scim.Error
		want map[string]any
	}{
		{
			name: "a bad filter carries its scimType and the status as a string",
			err:  scim.BadRequest(scim.InvalidFilter, "unknown operator %q", "xx"),
			want: map[string]any{
				"schemas":  []any{scim.ErrorURN},
				"status":   "400",
				"scimType": "invalidFilter",
				"detail":   `unknown operator "xx"`,
			},
		},
		{
			name: "a not-found error has no scimType at all",
			err:  scim.Errorf(http.StatusNotFound, "", "User %s not found", "2819c223"),
			want: map[string]any{
				"schemas": []any{scim.ErrorURN},
				"status":  "404",
				"detail":  "User 2819c223 not found",
			},
		},
		{
			name: "an error without a detail omits detail",
			err:  &scim.Error{Status: http.StatusPreconditionFailed},
			want: map[string]any{
				"schemas": []any{scim.ErrorURN},
				"status":  "412",
			},
		},
		{
			name: "the underlying cause stays out of the body",
			err:  &scim.Error{Status: 500, Detail: "internal error", Err: errors.New("pq: connection refused")},
			want: map[string]any{
				"schemas": []any{scim.ErrorURN},
				"status":  "500",
				"detail":  "internal error",
			},
		},
		{
			name: "a cursor error uses the RFC 9865 scimType",
			err:  scim.BadRequest(scim.ExpiredCursor, "cursor expired"),
			want: map[string]any{
				"schemas":  []any{scim.ErrorURN},
				"status":   "400",
				"scimType": "expiredCursor",
				"detail":   "cursor expired",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := json.Marshal(tt.err)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			got := decodeObject(t, data)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Marshal = %s\nwant %v", data, tt.want)
			}
		})
	}
}

func TestErrorMarshalsTheSameWhenEmbedded(t *testing.T) {
	// Encoders see *scim.Error through an error interface or a struct field,
	// not only as a top-level value.
	var err error = scim.BadRequest(scim.InvalidPath, "bad path")
	data, mErr := json.Marshal(struct {
		Err error `json:"err"`
	}{err})
	if mErr != nil {
		t.Fatalf("Marshal: %v", mErr)
	}
	want := `{"err":{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"scimType":"invalidPath","detail":"bad path","status":"400"}}`
	if string(data) != want {
		t.Errorf("Marshal = %s\nwant %s", data, want)
	}
}

func TestErrorUnmarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		body string
		want scim.Error
	}{
		{
			name: "the status as a string, as the RFC says",
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidFilter","detail":"bad"}`,
			want: scim.Error{Status: 400, ScimType: "invalidFilter", Detail: "bad"},
		},
		{
			name: "the status as a number, as some servers send it",
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":409,"scimType":"uniqueness","detail":"taken"}`,
			want: scim.Error{Status: 409, ScimType: "uniqueness", Detail: "taken"},
		},
		{
			name: "no scimType and no detail",
			body: `{"status":"404"}`,
			want: scim.Error{Status: 404},
		},
		{
			name: "a status string written with JSON escapes",
			body: `{"status":"\u0035\u0030\u0030"}`,
			want: scim.Error{Status: 500},
		},
		{
			name: "unknown members are ignored",
			body: `{"status":"401","detail":"no token","urn:example:trace":"abc"}`,
			want: scim.Error{Status: 401, Detail: "no token"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scim.Error{Err: io.EOF} // decoding must replace every field
			if err := json.Unmarshal([]byte(tt.body), &got); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if got != tt.want {
				t.Errorf("Unmarshal = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestErrorUnmarshalJSONRejectsBadStatuses(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"a word as the status", `{"status":"Bad Request"}`},
		{"a status with a non-numeric suffix", `{"status":"400x"}`},
		{"an empty status", `{"status":""}`},
		{"a boolean status", `{"status":true}`},
		{"a null status", `{"status":null}`},
		{"a fractional status", `{"status":400.5}`},
		{"no status at all", `{"detail":"what happened?"}`},
		{"an array instead of an object", `[]`},
		{"malformed JSON", `{"status":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e scim.Error
			if err := json.Unmarshal([]byte(tt.body), &e); err == nil {
				t.Errorf("Unmarshal(%s) = %#v, want an error", tt.body, e)
			}
		})
	}
}

func TestErrorRoundTripsThroughJSON(t *testing.T) {
	for _, want := range []*scim.Error{
		scim.BadRequest(scim.InvalidValue, "emails[0].value: %q is not an email", "x"),
		scim.Errorf(http.StatusConflict, scim.Uniqueness, "userName %q is taken", "bjensen"),
		{Status: http.StatusNotFound},
	} {
		data, err := json.Marshal(want)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		got := new(scim.Error)
		if err := json.Unmarshal(data, got); err != nil {
			t.Fatalf("Unmarshal(%s): %v", data, err)
		}
		if *got != *want {
			t.Errorf("round trip of %s = %#v, want %#v", data, got, want)
		}
	}
}

func TestErrorIs(t *testing.T) {
	invalidFilter := scim.BadRequest(scim.InvalidFilter, "bad filter")
	notFound := scim.Errorf(http.StatusNotFound, "", "no such user")
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"a 404 matches any 404", notFound, &scim.Error{Status: 404}, true},
		{"a 404 with a detail matches a 404 with another", notFound, &scim.Error{Status: 404, Detail: "other"}, true},
		{"a 404 does not match a 400", notFound, &scim.Error{Status: 400}, false},
		{"a 400 with a scimType matches a bare 400", invalidFilter, &scim.Error{Status: 400}, true},
		{"a 400 matches a target naming its scimType", invalidFilter, &scim.Error{Status: 400, ScimType: scim.InvalidFilter}, true},
		{"a 400 does not match a target naming another scimType", invalidFilter, &scim.Error{Status: 400, ScimType: scim.InvalidPath}, false},
		{"a 400 without scimType does not match a target naming one", scim.BadRequest("", "x"), &scim.Error{Status: 400, ScimType: scim.InvalidPath}, false},
		{"a scimType alone does not match without the status", invalidFilter, &scim.Error{ScimType: scim.InvalidFilter}, false},
		{"a wrapped 404 still matches", fmt.Errorf("store: get user: %w", notFound), &scim.Error{Status: 404}, true},
		{"a 404 wrapped twice still matches", fmt.Errorf("server: %w", fmt.Errorf("store: %w", notFound)), &scim.Error{Status: 404}, true},
		{"a plain error matches no SCIM error", errors.New("404"), &scim.Error{Status: 404}, false},
		{"a SCIM error does not match a plain error", notFound, errors.New("no such user"), false},
		{"a SCIM error matches its cause", &scim.Error{Status: 500, Err: io.ErrUnexpectedEOF}, io.ErrUnexpectedEOF, true},
		{"a SCIM error does not match an unrelated sentinel", &scim.Error{Status: 500, Err: io.ErrUnexpectedEOF}, io.EOF, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is(%v, %v) = %t, want %t", tt.err, tt.target, got, tt.want)
			}
		})
	}
}

func TestErrorAsFindsTheSCIMErrorThroughWrapping(t *testing.T) {
	orig := scim.BadRequest(scim.Mutability, "id is readOnly")
	tests := []struct {
		name string
		err  error
	}{
		{"unwrapped", orig},
		{"wrapped once with %w", fmt.Errorf("patch: %w", orig)},
		{"wrapped twice with %w", fmt.Errorf("server: %w", fmt.Errorf("patch: %w", orig))},
		{"joined with another error", errors.Join(io.EOF, orig)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var serr *scim.Error
			if !errors.As(tt.err, &serr) {
				t.Fatalf("errors.As(%v) found no *scim.Error", tt.err)
			}
			if serr != orig {
				t.Errorf("errors.As found %#v, want the original %#v", serr, orig)
			}
		})
	}

	var serr *scim.Error
	if errors.As(fmt.Errorf("patch: %v", orig), &serr) {
		t.Errorf("errors.As found a *scim.Error through %%v formatting, which does not wrap")
	}
}

func TestErrorUnwrapReturnsTheCause(t *testing.T) {
	cause := errors.New("disk full")
	tests := []struct {
		name string
		err  *scim.Error
		want error
	}{
		{"an error with a cause", &scim.Error{Status: 500, Err: cause}, cause},
		{"an error without a cause", scim.BadRequest(scim.InvalidSyntax, "bad JSON"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Unwrap(); got != tt.want {
				t.Errorf("Unwrap() = %v, want %v", got, tt.want)
			}
			if got := errors.Unwrap(tt.err); got != tt.want {
				t.Errorf("errors.Unwrap() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *scim.Error
		want string
	}{
		{"with a scimType", scim.BadRequest(scim.TooMany, "%d results", 5000), "scim: 400 tooMany: 5000 results"},
		{"without a scimType", scim.Errorf(404, "", "not found"), "scim: 404: not found"},
		{"with a detail containing a percent sign literally", scim.Errorf(400, "", "%s", "100%"), "scim: 400: 100%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
