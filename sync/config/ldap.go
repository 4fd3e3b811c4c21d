package config

import (
	"errors"

	"github.com/rosterhq/roster/sync/source"
)

// ldapSource is replaced when the LDAP source lands.
func (c *Config) ldapSource() (source.Source, error) {
	return nil, errors.New("sync config: the ldap source is not built yet")
}
