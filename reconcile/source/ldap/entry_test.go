package ldap

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ldapv3 "github.com/go-ldap/ldap/v3"
	"go.yaml.in/yaml/v3"
)

func TestFormatGUIDUsesActiveDirectorysByteOrder(t *testing.T) {
	// The objectGUID bytes of a user whose GUID AD shows as
	// 6a7c3a4f-1d2e-4b0c-9f8e-0123456789ab.
	b := []byte{0x4f, 0x3a, 0x7c, 0x6a, 0x2e, 0x1d, 0x0c, 0x4b, 0x9f, 0x8e, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab}
	if got, want := formatGUID(b), "6a7c3a4f-1d2e-4b0c-9f8e-0123456789ab"; got != want {
		t.Fatalf("formatGUID = %q, want %q", got, want)
	}
}

func TestFormatSID(t *testing.T) {
	// S-1-5-21-1004336348-1177238915-682003330-512, Domain Admins.
	b := []byte{1, 5, 0, 0, 0, 0, 0, 5,
		21, 0, 0, 0, 0xdc, 0xf4, 0xdc, 0x3b, 0x83, 0x3d, 0x2b, 0x46, 0x82, 0x8b, 0xa6, 0x28, 0x00, 0x02, 0x00, 0x00}
	got, err := formatSID(b)
	if want := "S-1-5-21-1004336348-1177238915-682003330-512"; err != nil || got != want {
		t.Fatalf("formatSID = %q, %v; want %q", got, err, want)
	}
	if _, err := formatSID(b[:len(b)-1]); err == nil {
		t.Fatal("formatSID of a truncated SID: no error")
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		attr  string
		name  string
		start int
		end   string
		ok    bool
	}{
		{"member;range=0-1499", "member", 0, "1499", true},
		{"member;Range=1500-*", "member", 1500, "*", true},
		{"member", "", 0, "", false},
		{"cn;lang-en", "", 0, "", false},
		{"member;range=x-1", "", 0, "", false},
	}
	for _, tt := range tests {
		name, start, end, ok := parseRange(tt.attr)
		if name != tt.name || start != tt.start || end != tt.end || ok != tt.ok {
			t.Errorf("parseRange(%q) = %q, %d, %q, %v", tt.attr, name, start, end, ok)
		}
	}
}

// ranges answers the range requests of one group as Active Directory
// does: parts of at most size values of all.
type ranges struct {
	all  []string
	size int
	asks []string
	fail bool // answer without the range asked for
}

func (r *ranges) Search(req *ldapv3.SearchRequest) (*ldapv3.SearchResult, error) {
	r.asks = append(r.asks, req.Attributes...)
	_, start, _, ok := parseRange(req.Attributes[0])
	if !ok {
		return nil, errors.New("not a range request")
	}
	if r.fail {
		return &ldapv3.SearchResult{Entries: []*ldapv3.Entry{ldapv3.NewEntry(req.BaseDN, nil)}}, nil
	}
	return &ldapv3.SearchResult{Entries: []*ldapv3.Entry{r.part(req.BaseDN, start)}}, nil
}

func (r *ranges) part(dn string, start int) *ldapv3.Entry {
	end := min(start+r.size, len(r.all))
	name := "member;range=" + strconv.Itoa(start) + "-" + strconv.Itoa(end-1)
	if end == len(r.all) {
		name = "member;range=" + strconv.Itoa(start) + "-*"
	}
	return ldapv3.NewEntry(dn, map[string][]string{"cn": {"big"}, name: r.all[start:end]})
}

func TestCompleteRangesReadsEveryPartOfALargeGroup(t *testing.T) {
	r := &ranges{size: 3}
	for i := range 8 {
		r.all = append(r.all, "cn=u"+strconv.Itoa(i)+",dc=example,dc=com")
	}
	e := r.part("cn=big,dc=example,dc=com", 0)
	if err := completeRanges(r, e); err != nil {
		t.Fatal(err)
	}
	if got := e.GetAttributeValues("member"); !slices.Equal(got, r.all) {
		t.Fatalf("member = %v, want %v", got, r.all)
	}
	if want := []string{"member;range=3-*", "member;range=6-*"}; !slices.Equal(r.asks, want) {
		t.Fatalf("asked for %v, want %v", r.asks, want)
	}

	r.fail, r.asks = true, nil
	e = r.part("cn=big,dc=example,dc=com", 0)
	if err := completeRanges(r, e); err == nil {
		t.Fatal("a server that does not send the range asked for: no error")
	}
}

func TestNewChecksTheConfiguration(t *testing.T) {
	good := Config{URL: "ldap://ldap.example.com", Users: Search{BaseDN: "dc=example,dc=com"}}
	tests := []struct {
		name   string
		change func(*Config)
		err    string
	}{
		{"a URL that is not LDAP", func(c *Config) { c.URL = "https://ldap.example.com" }, "url"},
		{"no URL", func(c *Config) { c.URL = "" }, "url"},
		{"StartTLS on LDAPS", func(c *Config) { c.URL, c.StartTLS = "ldaps://ldap.example.com", true }, "startTLS"},
		{"a bind DN without a password", func(c *Config) { c.BindDN = "cn=x" }, "bindPassword"},
		{"no users' base DN", func(c *Config) { c.Users.BaseDN = "" }, "baseDN"},
		{"a bad filter", func(c *Config) { c.Groups.Filter = "(cn=x" }, "filter"},
		{"a negative page size", func(c *Config) { c.PageSize = -1 }, "pageSize"},
		{"a CA file that is missing", func(c *Config) { c.StartTLS, c.TLS.CAFile = true, "/nonexistent/ca.pem" }, "tls"},
	}
	for _, tt := range tests {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			cfg := good
			tt.change(&cfg)
			if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("New: %v; want an error about %s", err, tt.err)
			}
		})
	}

	t.Run("defaults what is left empty", func(t *testing.T) {
		s, err := New(good)
		if err != nil {
			t.Fatal(err)
		}
		c := s.cfg
		if c.Groups.BaseDN != good.Users.BaseDN || c.Users.Filter != DefaultUserFilter || c.Groups.Filter != DefaultGroupFilter ||
			c.Groups.NameAttribute != "cn" || c.PageSize != DefaultPageSize || c.Timeout != DefaultTimeout {
			t.Fatalf("defaults: %+v", c)
		}
	})
}

func TestRequestedAttributes(t *testing.T) {
	got := requestedAttributes(Search{Attributes: []string{"mail", "memberOf"}, IDAttribute: "employeeID"}, []string{"cn"})
	want := []string{"mail", "memberOf", "cn", "objectGUID", "entryUUID", "userAccountControl", "pwdAccountLockedTime", "nsAccountLock", "employeeID"}
	if !slices.Equal(got, want) {
		t.Fatalf("requestedAttributes = %v, want %v", got, want)
	}
	if got := requestedAttributes(Search{IDAttribute: IDFromDN}, nil); got[0] != "*" || slices.Contains(got, IDFromDN) {
		t.Fatalf("requestedAttributes = %v, want all user attributes and no dn", got)
	}
}

func TestConfigDecodesFromYAML(t *testing.T) {
	const doc = `
url: ldaps://dc1.corp.example.com
tls: {caFile: /etc/roster/corp-ca.pem}
bindDN: CN=roster,OU=Service,DC=corp,DC=example,DC=com
bindPassword: secret
users: {baseDN: "OU=Staff,DC=corp,DC=example,DC=com", attributes: [mail, sAMAccountName]}
groups: {baseDN: "OU=Teams,DC=corp,DC=example,DC=com", nameAttribute: sAMAccountName}
idAttribute: objectGUID
pageSize: 1000
timeout: 1m
`
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.TLS.CAFile == "" || cfg.Groups.BaseDN != "OU=Teams,DC=corp,DC=example,DC=com" || cfg.Groups.NameAttribute != "sAMAccountName" ||
		len(cfg.Users.Attributes) != 2 || cfg.PageSize != 1000 || cfg.Timeout != time.Minute || cfg.IDAttribute != "objectGUID" {
		t.Fatalf("decoded %+v", cfg)
	}
}

func TestUserActive(t *testing.T) {
	for _, c := range []struct {
		name   string
		attrs  map[string][]string
		active bool
	}{
		{"no marks", map[string][]string{"cn": {"ada"}}, true},
		{"AD enabled", map[string][]string{"userAccountControl": {"512"}}, true},
		{"AD disabled", map[string][]string{"userAccountControl": {"514"}}, false},
		{"OpenLDAP locked by an administrator", map[string][]string{"pwdAccountLockedTime": {"000001010000Z"}}, false},
		{"OpenLDAP locked after failed binds, for a while", map[string][]string{"pwdAccountLockedTime": {"20261123090000Z"}}, true},
		{"389 DS locked", map[string][]string{"nsAccountLock": {"TRUE"}}, false},
		{"389 DS unlocked", map[string][]string{"nsAccountLock": {"false"}}, true},
	} {
		got, err := userActive(entry{dn: "cn=x", attrs: c.attrs})
		if err != nil || got != c.active {
			t.Errorf("%s: active %v, %v; want %v", c.name, got, err, c.active)
		}
	}
	if _, err := userActive(entry{dn: "cn=x", attrs: map[string][]string{"userAccountControl": {"five"}}}); err == nil {
		t.Error("a userAccountControl that is not a number was read")
	}
}
