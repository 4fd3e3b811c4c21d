// Package config reads the YAML configuration of `roster sync`: the
// source, the target, the mapping and the policy, and builds the sync
// engine (a reconcile.Engine) from it.
//
//	source:
//	  type: file                 # ldap, file or scim
//	  file: {users: people.csv, groups: teams.csv}
//	target:
//	  url: https://app.example.com/scim/v2
//	  tokenEnv: APP_SCIM_TOKEN   # or token, or tokenFile
//	mapping:
//	  users:
//	    userName: lower(mail)
//	    name.givenName: givenName
//	policy:
//	  maxDeprovisionShare: 0.1
package config
