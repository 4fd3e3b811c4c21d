package config

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster/reconcile"
)

// TestValidateTakesEveryKindOfCredentials: a target with HTTP Basic or
// OAuth 2.0 credentials validates as one with a token does, and builds a
// client; one with none, or two kinds, or an incomplete kind, does not.
func TestValidateTakesEveryKindOfCredentials(t *testing.T) {
	t.Parallel()
	const head = "source: {type: file, file: {users: people.csv}}\n"
	for name, tc := range map[string]struct {
		target string
		want   string // "" when valid
	}{
		"a token":     {"target: {url: https://app.example.com/scim/v2, tokenEnv: APP_TOKEN}\n", ""},
		"basic":       {"target:\n  url: https://app.example.com/scim/v2\n  basic: {user: sync, passwordFile: app.password}\n", ""},
		"oauth":       {"target:\n  url: https://app.example.com/scim/v2\n  oauth: {tokenURL: https://login.example.com/token, clientId: sync, clientSecret: s, scopes: [scim]}\n", ""},
		"none":        {"target: {url: https://app.example.com/scim/v2}\n", "target: no credentials"},
		"two kinds":   {"target:\n  url: https://app.example.com/scim/v2\n  token: t\n  basic: {user: sync, password: p}\n", "more than one kind of credentials"},
		"no password": {"target:\n  url: https://app.example.com/scim/v2\n  basic: {user: sync}\n", "target.basic: no password"},
		"no token url": {"target:\n  url: https://app.example.com/scim/v2\n  oauth: {clientId: sync, clientSecret: s}\n",
			"target.oauth.tokenURL is required"},
	} {
		c, err := Load(writeConfig(t, head+tc.target))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		err = c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	c, err := Load(writeConfig(t, head+"target:\n  url: https://app.example.com/scim/v2\n  basic: {user: sync, password: p}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Target.Client("test"); err != nil {
		t.Fatalf("a client with basic credentials: %v", err)
	}
}

// TestValidateChecksThePolicyAndThePrimaryGroup: policy values set other
// than through YAML (which refuses them at Load) and a primaryGroup.path
// the sync cannot map are named.
func TestValidateChecksThePolicyAndThePrimaryGroup(t *testing.T) {
	t.Parallel()
	c, err := Load(writeConfig(t, "source: {type: file, file: {users: people.csv}}\ntarget: {url: https://app.example.com/scim/v2, token: t}\n"+
		"mapping:\n  primaryGroup: {path: active}\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.Policy.RetireGroups = "archive"
	c.Policy.Adopt = "everything"
	err = c.Validate()
	for _, want := range []string{`policy.retireGroups "archive" is not keep, rename or delete`, `policy.adopt: "everything" is not none, userName or externalId`,
		"mapping of primaryGroup: mapping: active cannot be mapped"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want %q", err, want)
		}
	}
	if _, err := Load(writeConfig(t, "target: {url: http://x, token: t}\npolicy: {adopt: all}\n")); err == nil {
		t.Error("policy.adopt: all loaded")
	}
	c.Policy.Adopt = reconcile.AdoptExternalID
	c.Policy.RetireGroups = reconcile.RetireRename
	c.Mapping.PrimaryGroup.Path = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
	if err := c.Validate(); err != nil {
		t.Fatalf("fixed: %v", err)
	}
}
