package file_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/rosterhq/roster/reconcile/source"
	"github.com/rosterhq/roster/reconcile/source/file"
)

func Example() {
	dir, err := os.MkdirTemp("", "roster-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			log.Fatal(err)
		}
		return path
	}
	users := write("users.csv", "id,userName,active,groups\n"+
		"1001,ada,yes,eng;all\n"+
		"1002,bob,disabled,all\n")
	groups := write("groups.csv", "id,name,parent\n"+
		"all,Everyone,\n"+
		"eng,Engineering,all\n")

	src, err := file.New(file.Config{
		Users:       users,
		Groups:      groups,
		UserColumns: file.UserColumns{Groups: "groups"},
	})
	if err != nil {
		log.Fatal(err)
	}
	snap, err := src.Read(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, u := range snap.Users {
		fmt.Println("user", u.ID, source.Get(u.Attributes, "userName"), u.Active)
	}
	for _, g := range snap.Groups {
		fmt.Printf("group %s %q members %v parent %q\n", g.ID, g.Name, g.Members, g.Parent)
	}
	// Output:
	// user 1001 ada true
	// user 1002 bob false
	// group all "Everyone" members [1001 1002] parent ""
	// group eng "Engineering" members [1001] parent "all"
}
