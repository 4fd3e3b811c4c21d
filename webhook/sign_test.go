package webhook

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The Standard Webhooks specification's published test vector (also in
// Svix's libraries' tests).
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignMatchesTheStandardWebhooksTestVector(t *testing.T) {
	t.Parallel()
	got, err := Sign(vectorSecret, vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody))
	if err != nil || got != vectorSignature {
		t.Fatalf("Sign: %q, %v; want %q", got, err, vectorSignature)
	}
}

func headers(id string, ts int64, sig string) http.Header {
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, sig)
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(vectorTimestamp, 0)
	other := "whsec_" + strings.Repeat("QUJD", 8)
	otherSig, _ := Sign(other, vectorID, now, []byte(vectorBody))
	for _, tc := range []struct {
		name    string
		secrets []string
		h       http.Header
		body    string
		at      time.Time
		want    error
	}{
		{"the test vector verifies", []string{vectorSecret}, headers(vectorID, vectorTimestamp, vectorSignature), vectorBody, now, nil},
		{"a secret without its prefix verifies", []string{strings.TrimPrefix(vectorSecret, "whsec_")}, headers(vectorID, vectorTimestamp, vectorSignature), vectorBody, now, nil},
		{"either of two signatures verifies", []string{vectorSecret}, headers(vectorID, vectorTimestamp, otherSig+" "+vectorSignature), vectorBody, now, nil},
		{"either of two secrets verifies", []string{other, vectorSecret}, headers(vectorID, vectorTimestamp, vectorSignature), vectorBody, now, nil},
		{"unknown versions are skipped", []string{vectorSecret}, headers(vectorID, vectorTimestamp, "v1a,abc v2,Zm9v "+vectorSignature), vectorBody, now, nil},
		{"within the tolerance", []string{vectorSecret}, headers(vectorID, vectorTimestamp, vectorSignature), vectorBody, now.Add(4 * time.Minute), nil},
		{"another secret does not", []string{other}, headers(vectorID, vectorTimestamp, vectorSignature), vectorBody, now, ErrSignature},
		{"a changed body does not", []string{vectorSecret}, headers(vectorID, vectorTimestamp, vectorSignature), `{"test": 2432232315}`, now, ErrSignature},
		{"a changed id does not", []string{vectorSecret}, headers("msg_other", vectorTimestamp, vectorSignature), vectorBody, now, ErrSignature},
		{"a v2 entry with the right bytes does not", []string{vectorSecret}, headers(vectorID, vectorTimestamp, "v2"+vectorSignature[2:]), vectorBody, now, ErrSignature},
		{"a replay too late does not", []string{vectorSecret}, headers(vectorID, vectorTimestamp, vectorSignature), vectorBody, now.Add(6 * time.Minute), ErrTimestamp},
		{"a timestamp from the future does not", []string{vectorSecret}, headers(vectorID, vectorTimestamp, vectorSignature), vectorBody, now.Add(-6 * time.Minute), ErrTimestamp},
		{"a missing signature does not", []string{vectorSecret}, headers(vectorID, vectorTimestamp, ""), vectorBody, now, ErrMissingHeaders},
		{"a timestamp that is no number does not", []string{vectorSecret}, func() http.Header {
			h := headers(vectorID, vectorTimestamp, vectorSignature)
			h.Set(HeaderTimestamp, "yesterday")
			return h
		}(), vectorBody, now, ErrMissingHeaders},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := verifyAt(tc.secrets, tc.h, []byte(tc.body), 0, tc.at)
			if (tc.want == nil) != (err == nil) || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("verify: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSignatureHeaderSignsWithEachSecret(t *testing.T) {
	t.Parallel()
	other := "whsec_" + strings.Repeat("QUJD", 8)
	h, err := SignatureHeader([]string{vectorSecret, other}, vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, " ")
	if len(parts) != 2 || parts[0] != vectorSignature {
		t.Fatalf("header %q, want the vector's signature and another, separated by a space", h)
	}
	if _, err := SignatureHeader([]string{"whsec_not base64!"}, vectorID, time.Now(), nil); err == nil {
		t.Error("signed with a secret that is no base64")
	}
}

// FuzzParseSignatures holds the parser of webhook-signature headers to
// never panicking, and to reading back every entry it could have written.
func FuzzParseSignatures(f *testing.F) {
	for _, seed := range []string{
		vectorSignature,
		vectorSignature + " " + vectorSignature,
		"v1,", ",", "v1", "v1,====", "  v1,Zm9v\tv2,YmFy  ", "v1,Zm9v,YmFy", "v1a,abc",
		strings.Repeat("v1,Zm9v ", 100),
	} {
		f.Add(seed, []byte(vectorBody))
	}
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		for _, s := range parseSignatures(header) {
			if s.version == "" {
				t.Fatalf("an entry without a version from %q", header)
			}
		}
		h := headers(vectorID, vectorTimestamp, header)
		err := verifyAt([]string{vectorSecret}, h, body, 0, time.Unix(vectorTimestamp, 0))
		if err == nil && !strings.Contains(header, "v1,") {
			t.Fatalf("verified %q without a v1 entry", header)
		}
		sig, _ := Sign(vectorSecret, vectorID, time.Unix(vectorTimestamp, 0), body)
		if err := verifyAt([]string{vectorSecret}, headers(vectorID, vectorTimestamp, header+" "+sig), body, 0, time.Unix(vectorTimestamp, 0)); err != nil {
			t.Fatalf("a valid signature after %q: %v", header, err)
		}
	})
}
