package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rosterhq/roster/server"
)

// postToken asks the token endpoint for an access token.
func postToken(t *testing.T, a *api, form url.Values, basic ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", a.root+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	resp, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestOAuthClientCredentials(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{AccessTokenTTL: 2 * time.Second})
		ctx := context.Background()
		u := a.create(t, "/Users", `{"userName":"ann"}`)
		client, secret, err := a.st.CreateClient(ctx, a.dir.ID, "entra")
		if err != nil {
			t.Fatal(err)
		}
		grant := url.Values{"grant_type": {"client_credentials"}}

		// The secret in the form, as Entra sends it, and in HTTP Basic.
		status, tok := postToken(t, a, url.Values{"grant_type": {"client_credentials"}, "client_id": {client.ID}, "client_secret": {secret}})
		if status != 200 || tok["token_type"] != "Bearer" || tok["expires_in"] != float64(2) {
			t.Fatalf("token endpoint = %d %v", status, tok)
		}
		access := tok["access_token"].(string)
		if status, _ := postToken(t, a, grant, client.ID, secret); status != 200 {
			t.Fatalf("with HTTP Basic: %d", status)
		}
		// The access token works on the SCIM API, for its directory only.
		b := a.withToken(access)
		b.must(t, 200, "GET", "/Users/"+u["id"].(string), nil)
		other := a.tenant(t, "globex")
		otherUser := other.create(t, "/Users", `{"userName":"bob"}`)
		b.mustFail(t, 404, "", "GET", "/Users/"+otherUser["id"].(string), nil)

		// Wrong credentials and grants.
		for _, c := range []struct {
			form   url.Values
			basic  []string
			status int
			code   string
		}{
			{grant, []string{client.ID, "wrong"}, 401, "invalid_client"},
			{grant, []string{"nope", secret}, 401, "invalid_client"},
			{url.Values{"grant_type": {"password"}}, []string{client.ID, secret}, 400, "unsupported_grant_type"},
			{url.Values{}, nil, 400, "unsupported_grant_type"},
		} {
			status, body := postToken(t, a, c.form, c.basic...)
			if status != c.status || body["error"] != c.code {
				t.Errorf("token endpoint with %v: %d %v, want %d %s", c.form, status, body, c.status, c.code)
			}
		}
		// A tampered token is refused.
		parts := strings.Split(access, ".")
		tampered := parts[0] + "." + parts[1] + "x." + parts[2]
		a.withToken(tampered).mustFail(t, 401, "", "GET", "/Users", nil)
		// The token expires AccessTokenTTL after it was issued, and a token
		// of the client is refused once past its expiry and the 5 s leeway
		// for clocks that differ, without the test waiting for it.
		var claims struct{ Iat, Exp int64 }
		if payload, err := base64.RawURLEncoding.DecodeString(parts[1]); err != nil || json.Unmarshal(payload, &claims) != nil {
			t.Fatalf("the access token's claims %q do not decode: %v", parts[1], err)
		}
		if claims.Exp-claims.Iat != 2 {
			t.Errorf("the access token is valid from %d to %d, want AccessTokenTTL, 2 s", claims.Iat, claims.Exp)
		}
		for _, c := range []struct {
			expired time.Duration
			status  int
		}{{time.Second, 200}, {7 * time.Second, 401}, {time.Hour, 401}} {
			tok, err := server.IssueJWT(ctx, a.st, a.dir.ID, client.ID, time.Now().Add(-c.expired))
			if err != nil {
				t.Fatal(err)
			}
			if r := a.withToken(tok).do(t, "GET", "/Users", nil); r.Status != c.status {
				t.Errorf("a token of the client that expired %v ago: %v, want %d", c.expired, r, c.status)
			}
		}

		// Revoking the client ends its tokens at once.
		status, tok = postToken(t, a, grant, client.ID, secret)
		if status != 200 {
			t.Fatal(status)
		}
		fresh := a.withToken(tok["access_token"].(string))
		fresh.must(t, 200, "GET", "/Users", nil)
		if err := a.st.RevokeClient(ctx, a.dir.ID, client.ID); err != nil {
			t.Fatal(err)
		}
		fresh.mustFail(t, 401, "", "GET", "/Users", nil)
	})
}

func TestJWTTokensStandForStoredTokens(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		ctx := context.Background()
		tok, _, err := a.st.CreateToken(ctx, a.dir.ID, "entra-jwt", time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		signed, err := server.IssueJWT(ctx, a.st, a.dir.ID, "token:"+tok.ID, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		b := a.withToken(signed)
		b.must(t, 200, "GET", "/Users", nil)
		// A JWT naming another directory than its token's is refused.
		other := a.tenant(t, "globex")
		forged, err := server.IssueJWT(ctx, a.st, other.dir.ID, "token:"+tok.ID, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		a.withToken(forged).mustFail(t, 401, "", "GET", "/Users", nil)
		// Revoking the token ends the JWT.
		if err := a.st.RevokeToken(ctx, a.dir.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		b.mustFail(t, 401, "", "GET", "/Users", nil)
	})
}

// RFC 7519 §2 makes exp, nbf and iat NumericDates: JSON numbers. A JWT
// library that reads a numeric string as one would take "exp":"9999999999"
// for an expiry; such a token is refused, whoever signed it.
func TestJWTTimesMustBeNumbers(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		ctx := context.Background()
		client, _, err := a.st.CreateClient(ctx, a.dir.ID, "entra")
		if err != nil {
			t.Fatal(err)
		}
		key, err := a.st.CurrentSigningKey(ctx, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().Unix()
		sign := func(claims jwt.MapClaims) string {
			t.Helper()
			claims["iss"], claims["aud"], claims["sub"], claims["dir"] = "roster", []string{"roster-scim"}, client.ID, a.dir.ID
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
			tok.Header["kid"] = key.ID
			s, err := tok.SignedString(key.Key)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		in := func(d time.Duration) int64 { return now + int64(d.Seconds()) }
		for _, c := range []struct {
			name   string
			claims jwt.MapClaims
			status int
		}{
			{"numeric exp", jwt.MapClaims{"exp": in(time.Hour), "iat": now}, 200},
			{"numeric exp with a fraction", jwt.MapClaims{"exp": float64(in(time.Hour)) + 0.5}, 200},
			{"exp as a string", jwt.MapClaims{"exp": strconv.FormatInt(in(time.Hour), 10)}, 401},
			{"exp as a string far ahead", jwt.MapClaims{"exp": "99999999999"}, 401},
			{"exp as a boolean", jwt.MapClaims{"exp": true}, 401},
			{"exp null", jwt.MapClaims{"exp": nil}, 401},
			{"no exp", jwt.MapClaims{"iat": now}, 401},
			{"nbf as a string", jwt.MapClaims{"exp": in(time.Hour), "nbf": strconv.FormatInt(now, 10)}, 401},
			{"iat as a string", jwt.MapClaims{"exp": in(time.Hour), "iat": strconv.FormatInt(now, 10)}, 401},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := a.withToken(sign(c.claims)).do(t, "GET", "/Users", nil)
				if c.status == 200 {
					r.must(t, 200)
				} else {
					r.mustFail(t, c.status, "")
				}
			})
		}
	})
}
