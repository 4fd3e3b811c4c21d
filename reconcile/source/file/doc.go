// Package file reads a directory from files, as HR systems export it: a
// users file and an optional groups file, each CSV or JSON, with group
// membership given by a group's members column, by a user's groups column,
// or both, and a hierarchy by each group's parent column.
//
// Read is strict: a missing file, a malformed row, a duplicate id, a
// member, parent or group that names nothing in the files, or groups
// nested in a cycle make it return an error and no snapshot, so that the
// sync changes nothing. A typo in a member list is an error rather than a
// dropped member, because dropping it would silently remove someone from a
// group. An empty users file is not an error here: the sync engine's safety
// checks decide what an empty source means.
//
// A users.csv and groups.csv:
//
//	id,userName,mail,active,groups
//	1001,ada,ada@example.com,yes,eng;all
//	1002,bob,bob@example.com,disabled,all
//
//	id,name,parent
//	all,Everyone,
//	eng,Engineering,all
//
// are read with:
//
//	src, err := file.New(file.Config{
//		Users:       "users.csv",
//		Groups:      "groups.csv",
//		UserColumns: file.UserColumns{Groups: "groups"},
//	})
//	snap, err := src.Read(ctx)
package file
