package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/client/filter"
	"github.com/rosterhq/roster/server"
)

// connect starts a Roster server for an example and returns a client of
// it; a program would call client.New with its server's URL and token.
func connect() (c *client.Client, stop func()) {
	base, token, stop, err := startRoster(server.Config{})
	if err != nil {
		log.Fatal(err)
	}
	c, err = client.New(base, client.WithToken(token))
	if err != nil {
		log.Fatal(err)
	}
	return c, stop
}

func ExampleUsers_Create() {
	c, stop := connect()
	defer stop()
	ctx := context.Background()

	u, err := c.Users.Create(ctx, &client.User{
		UserName: "alice@example.com",
		Name:     &client.Name{GivenName: "Alice", FamilyName: "Ng"},
		Emails:   []client.Email{{Value: "alice@example.com", Type: "work", Primary: true}},
		Active:   client.Bool(true),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.UserName, u.Name.GivenName, u.Name.FamilyName, *u.Active, u.ID != "")

	// The same userName in other case is the same user.
	_, err = c.Users.Create(ctx, &client.User{UserName: "ALICE@example.com"})
	fmt.Println(errors.Is(err, client.ErrConflict))
	// Output:
	// alice@example.com Alice Ng true true
	// true
}

func ExampleUsers_Deactivate() {
	c, stop := connect()
	defer stop()
	ctx := context.Background()

	u, err := c.Users.Create(ctx, &client.User{UserName: "bob@example.com", Active: client.Bool(true)})
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Users.Deactivate(ctx, u.ID); err != nil {
		log.Fatal(err)
	}
	u, err = c.Users.ByUserName(ctx, "bob@example.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.UserName, "active:", *u.Active)
	// Output: bob@example.com active: false
}

func ExampleGroups_Create() {
	c, stop := connect()
	defer stop()
	ctx := context.Background()

	g, err := c.Groups.Create(ctx, &client.Group{DisplayName: "Engineering", ExternalID: "eng-1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(g.DisplayName, g.ExternalID, len(g.Members))
	// Output: Engineering eng-1 0
}

func ExampleGroups_AddMembers() {
	c, stop := connect()
	defer stop()
	ctx := context.Background()

	names := map[string]string{} // id → userName
	var ids []string
	for _, name := range []string{"ann", "ben", "cat"} {
		u, err := c.Users.Create(ctx, &client.User{UserName: name})
		if err != nil {
			log.Fatal(err)
		}
		names[u.ID] = name
		ids = append(ids, u.ID)
	}
	g, err := c.Groups.Create(ctx, &client.Group{DisplayName: "Platform"})
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Groups.AddMembers(ctx, g.ID, ids...); err != nil {
		log.Fatal(err)
	}
	if err := c.Groups.RemoveMembers(ctx, g.ID, ids[1]); err != nil {
		log.Fatal(err)
	}

	g, err = c.Groups.Get(ctx, g.ID)
	if err != nil {
		log.Fatal(err)
	}
	var members []string
	for _, m := range g.Members {
		members = append(members, names[m.Value])
	}
	slices.Sort(members)
	fmt.Println(g.DisplayName, members)
	// Output: Platform [ann cat]
}

func ExampleGroups_ByDisplayName() {
	c, stop := connect()
	defer stop()
	ctx := context.Background()

	for _, name := range []string{"Sales", "Support"} {
		if _, err := c.Groups.Create(ctx, &client.Group{DisplayName: name}); err != nil {
			log.Fatal(err)
		}
	}
	g, err := c.Groups.ByDisplayName(ctx, "support") // compared ignoring case
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(g.DisplayName)
	_, err = c.Groups.ByDisplayName(ctx, "Marketing")
	fmt.Println(errors.Is(err, client.ErrNotFound))
	// Output:
	// Support
	// true
}

// Users in a group: by a filter on the users' groups, page by page, or
// from the group's members.
func ExampleUsers_All_inAGroup() {
	c, stop := connect()
	defer stop()
	ctx := context.Background()

	var ids []string
	for _, name := range []string{"dan", "eve", "fay", "gus"} {
		u, err := c.Users.Create(ctx, &client.User{UserName: name})
		if err != nil {
			log.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	g, err := c.Groups.Create(ctx, &client.Group{DisplayName: "Ops"})
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Groups.AddMembers(ctx, g.ID, ids[1], ids[3]); err != nil {
		log.Fatal(err)
	}

	q := client.Query{Filter: filter.Eq("groups.value", g.ID).String(), SortBy: "userName"}
	for u, err := range c.Users.All(ctx, q) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("by filter:", u.UserName)
	}

	g, err = c.Groups.Get(ctx, g.ID)
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for _, m := range g.Members {
		u, err := c.Users.Get(ctx, m.Value, "userName")
		if err != nil {
			log.Fatal(err)
		}
		names = append(names, u.UserName)
	}
	slices.Sort(names)
	fmt.Println("by members:", names)
	// Output:
	// by filter: eve
	// by filter: gus
	// by members: [eve gus]
}
