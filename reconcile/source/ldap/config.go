package ldap

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Defaults for the fields of Config left empty.
const (
	// DefaultUserFilter selects OpenLDAP's and 389 Directory Server's
	// people (inetOrgPerson) and Active Directory's users, but not its
	// computers, which are persons too.
	DefaultUserFilter = "(|(objectClass=inetOrgPerson)(&(objectCategory=person)(objectClass=user)))"
	// DefaultGroupFilter selects the static groups of OpenLDAP, 389
	// Directory Server and Active Directory.
	DefaultGroupFilter = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group))"
	// DefaultGroupNameAttribute is the attribute a group's name is read
	// from.
	DefaultGroupNameAttribute = "cn"
	// DefaultPageSize is the page size of searches; Active Directory
	// answers at most 1000 entries a page, OpenLDAP as many as its limits
	// allow.
	DefaultPageSize = 500
	// DefaultTimeout bounds connecting and each request.
	DefaultTimeout = 30 * time.Second
)

// IDFromDN is the value of Config.IDAttribute that takes an entry's id
// from its DN, as source.NameUUID of the DN in lower case. The id changes
// when the entry is renamed or moved.
const IDFromDN = "dn"

// Config says where a directory is and what to read from it.
type Config struct {
	// URL is the server: ldap://host[:389] or ldaps://host[:636].
	URL string `yaml:"url"`
	// StartTLS upgrades an ldap:// connection to TLS before binding.
	StartTLS bool `yaml:"startTLS"`
	// TLS configures LDAPS and StartTLS.
	TLS TLS `yaml:"tls"`
	// BindDN and BindPassword authenticate with a simple bind. With no
	// BindDN the directory is read anonymously; a BindDN with an empty
	// password is refused rather than sent as an unauthenticated bind,
	// which servers accept and then answer as for anonymous.
	BindDN       string `yaml:"bindDN"`
	BindPassword string `yaml:"bindPassword"`
	// Users says where the users are. Its BaseDN is required.
	Users Search `yaml:"users"`
	// Groups says where the groups are. Its BaseDN defaults to the
	// users'.
	Groups GroupSearch `yaml:"groups"`
	// IDAttribute is the attribute users' and groups' ids are read from.
	// Empty chooses for each entry: objectGUID (Active Directory), else
	// entryUUID (OpenLDAP, 389 Directory Server), else as IDFromDN. An
	// attribute named here must be present on every entry read; a Search
	// may name its own.
	IDAttribute string `yaml:"idAttribute"`
	// PageSize is the number of entries a search asks for at a time
	// (RFC 2696 paged results); 0 means DefaultPageSize.
	PageSize int `yaml:"pageSize"`
	// Timeout bounds connecting and each request; 0 means DefaultTimeout.
	Timeout time.Duration `yaml:"timeout"`
}

// TLS configures the TLS of LDAPS and StartTLS.
type TLS struct {
	// CAFile is a PEM file of the CAs to trust instead of the system's.
	CAFile string `yaml:"caFile"`
	// ServerName is the name the server's certificate must have; empty
	// means the URL's host.
	ServerName string `yaml:"serverName"`
	// InsecureSkipVerify accepts any certificate. For tests only: it lets
	// anyone in the middle read the bind password.
	InsecureSkipVerify bool `yaml:"insecureSkipVerify"`
}

// Search says where entries of one kind are and what to read of them.
type Search struct {
	// BaseDN is the subtree searched.
	BaseDN string `yaml:"baseDN"`
	// Filter selects the entries; empty means the kind's default
	// (DefaultUserFilter, DefaultGroupFilter).
	Filter string `yaml:"filter"`
	// Attributes are the attributes read into the snapshot; empty means
	// all user attributes. What the source needs itself (ids,
	// memberships, userAccountControl) is read as well. userPassword and
	// unicodePwd are never kept.
	Attributes []string `yaml:"attributes"`
	// IDAttribute overrides Config.IDAttribute for these entries.
	IDAttribute string `yaml:"idAttribute"`
}

// GroupSearch says where groups are and what to read of them.
type GroupSearch struct {
	Search `yaml:",inline"`
	// NameAttribute is the attribute a group's name is read from; empty
	// means DefaultGroupNameAttribute. A group without it is named by
	// the value of its DN's first RDN.
	NameAttribute string `yaml:"nameAttribute"`
}

// withDefaults returns cfg with its empty fields defaulted, or an error
// for a configuration that cannot work.
func (cfg Config) withDefaults() (Config, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return cfg, fmt.Errorf("ldap: url %q: want ldap://host or ldaps://host", cfg.URL)
	}
	switch u.Scheme {
	case "ldap":
	case "ldaps":
		if cfg.StartTLS {
			return cfg, fmt.Errorf("ldap: startTLS with %s: ldaps is TLS already", cfg.URL)
		}
	default:
		return cfg, fmt.Errorf("ldap: url %q: want ldap://host or ldaps://host", cfg.URL)
	}
	if cfg.BindDN != "" && cfg.BindPassword == "" {
		return cfg, errors.New("ldap: bindDN without bindPassword")
	}
	if strings.TrimSpace(cfg.Users.BaseDN) == "" {
		return cfg, errors.New("ldap: users: baseDN is required")
	}
	if cfg.Groups.BaseDN == "" {
		cfg.Groups.BaseDN = cfg.Users.BaseDN
	}
	if cfg.Users.Filter == "" {
		cfg.Users.Filter = DefaultUserFilter
	}
	if cfg.Groups.Filter == "" {
		cfg.Groups.Filter = DefaultGroupFilter
	}
	if cfg.Groups.NameAttribute == "" {
		cfg.Groups.NameAttribute = DefaultGroupNameAttribute
	}
	if cfg.Users.IDAttribute == "" {
		cfg.Users.IDAttribute = cfg.IDAttribute
	}
	if cfg.Groups.IDAttribute == "" {
		cfg.Groups.IDAttribute = cfg.IDAttribute
	}
	if cfg.PageSize < 0 {
		return cfg, fmt.Errorf("ldap: pageSize %d is negative", cfg.PageSize)
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.Timeout < 0 {
		return cfg, fmt.Errorf("ldap: timeout %v is negative", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	return cfg, nil
}

// tlsConfig returns the TLS configuration for the server at host.
func (t TLS) tlsConfig(host string) (*tls.Config, error) {
	c := &tls.Config{ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	if c.ServerName == "" {
		c.ServerName = host
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldap: tls: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ldap: tls: %s holds no PEM certificate", t.CAFile)
		}
	}
	return c, nil
}
