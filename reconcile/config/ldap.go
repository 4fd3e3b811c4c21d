package config

import (
	"fmt"
	"os"
	"strings"

	"github.com/rosterhq/roster/reconcile/source"
	"github.com/rosterhq/roster/reconcile/source/ldap"
)

// LDAP is the ldap source's configuration (see package reconcile/source/ldap),
// with the bind password given in the file, from the environment or
// inline.
type LDAP struct {
	ldap.Config `yaml:",inline"`
	// BindPasswordFile and BindPasswordEnv give the bind password without
	// writing it into the configuration.
	BindPasswordFile string `yaml:"bindPasswordFile"`
	BindPasswordEnv  string `yaml:"bindPasswordEnv"`
}

func (c *Config) ldapSource() (source.Source, error) {
	lc := c.Source.LDAP.Config
	switch {
	case c.Source.LDAP.BindPasswordFile != "":
		b, err := os.ReadFile(c.rel(c.Source.LDAP.BindPasswordFile))
		if err != nil {
			return nil, fmt.Errorf("sync config: ldap bind password: %w", err)
		}
		lc.BindPassword = strings.TrimSpace(string(b))
	case c.Source.LDAP.BindPasswordEnv != "":
		lc.BindPassword = os.Getenv(c.Source.LDAP.BindPasswordEnv)
		if lc.BindPassword == "" {
			return nil, fmt.Errorf("sync config: $%s is empty", c.Source.LDAP.BindPasswordEnv)
		}
	}
	if lc.TLS.CAFile != "" {
		lc.TLS.CAFile = c.rel(lc.TLS.CAFile)
	}
	return ldap.New(lc)
}
