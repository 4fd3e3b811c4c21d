// Package scimserver is a source that reads the users and groups of
// another SCIM 2.0 server through package client, to migrate one directory
// into another (`type: scim` in a sync configuration's source).
//
//	from, err := client.New("https://old.example.com/scim/v2", client.WithToken(token))
//	if err != nil {
//		return err
//	}
//	src := scimserver.New(from, `userType eq "Employee"`) // "" for every user
//	snap, err := src.Read(ctx)
package scimserver
