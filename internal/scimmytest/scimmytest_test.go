package scimmytest_test

import (
	"net/http"
	"testing"

	"github.com/rosterhq/roster/internal/scimmytest"
)

func TestStartServesSCIMToTheToken(t *testing.T) {
	t.Parallel()
	base, token := scimmytest.Start(t)
	for _, tc := range []struct {
		auth string
		want int
	}{{"Bearer " + token, http.StatusOK}, {"Bearer wrong", http.StatusUnauthorized}} {
		req, err := http.NewRequest(http.MethodGet, base+"/Users", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", tc.auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET /Users with %q answered %d, want %d", tc.auth, resp.StatusCode, tc.want)
		}
	}
}
