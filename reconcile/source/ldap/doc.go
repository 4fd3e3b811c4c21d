// Package ldap reads users and groups from an LDAP directory (OpenLDAP,
// 389 Directory Server, Active Directory) for the sync engine: it is a
// source.Source.
//
// A Read binds (simple bind over LDAP, LDAPS or StartTLS), reads users and
// groups with paged searches (RFC 2696), and gives each entry a stable id:
// Active Directory's objectGUID, OpenLDAP's entryUUID, a configured
// attribute, or the name-based UUID of the DN. A group's members are its
// member and uniqueMember DNs together with the entries whose memberOf names
// the group, resolved to ids; members outside the users and groups read are
// left out, and nested groups stay members of their parent (the engine
// flattens them). Disabled accounts are inactive: Active Directory's
// userAccountControl, OpenLDAP's administrator lock (pwdAccountLockedTime
// 000001010000Z) and 389 Directory Server's nsAccountLock mark them. Any failure fails the whole Read: a partial directory
// never looks like a complete one.
//
// Two things are not read: Active Directory's primary group of a user
// (usually Domain Users), which AD lists neither in the group's member nor
// in the user's memberOf, and entries behind referrals, which are not
// followed (read a forest through a global catalog, port 3268 or 3269).
//
//	src, err := ldap.New(ldap.Config{
//		URL:          "ldaps://dc1.corp.example.com",
//		BindDN:       "CN=roster,OU=Service,DC=corp,DC=example,DC=com",
//		BindPassword: os.Getenv("LDAP_PASSWORD"),
//		Users:        ldap.Search{BaseDN: "OU=Staff,DC=corp,DC=example,DC=com"},
//		Groups:       ldap.GroupSearch{Search: ldap.Search{BaseDN: "OU=Teams,DC=corp,DC=example,DC=com"}},
//	})
//	if err != nil {
//		return err
//	}
//	snap, err := src.Read(ctx)
package ldap
