package scimserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/reconcile/source"
)

// Source reads the users and groups of a SCIM server.
type Source struct {
	c *client.Client
	// Filter, when set, selects the users read (a SCIM filter).
	filter string
}

// New returns a source reading through c the users filter selects ("" for
// all) and every group.
func New(c *client.Client, filter string) *Source { return &Source{c: c, filter: filter} }

// Read implements source.Source. A user's stable id is its id on the
// source server. Its attributes are its SCIM attributes by path
// (userName, name.givenName, emails.work, and an extension's attributes
// by name and by URN-qualified name), plus the leaf names of name's
// sub-attributes (givenName, familyName) and "email", its primary (or
// first) email, so that the default mapping applies.
func (s *Source) Read(ctx context.Context) (*source.Snapshot, error) {
	snap := &source.Snapshot{}
	users := map[string]bool{}
	for u, err := range s.c.Users.All(ctx, client.Query{Filter: s.filter, ExcludedAttributes: []string{"groups"}}) {
		if err != nil {
			return nil, fmt.Errorf("scim source: users: %w", err)
		}
		su, err := toUser(u)
		if err != nil {
			return nil, err
		}
		users[su.ID] = true
		snap.Users = append(snap.Users, su)
	}
	var groups []*client.Group
	ids := map[string]bool{}
	for g, err := range s.c.Groups.All(ctx, client.Query{}) {
		if err != nil {
			return nil, fmt.Errorf("scim source: groups: %w", err)
		}
		groups = append(groups, g)
		ids[g.ID] = true
	}
	for _, g := range groups {
		sg := source.Group{ID: g.ID, Name: g.DisplayName, Attributes: map[string][]string{"externalId": {g.ExternalID}}}
		for _, m := range g.Members {
			if users[m.Value] || ids[m.Value] {
				sg.Members = append(sg.Members, m.Value)
			}
		}
		snap.Groups = append(snap.Groups, sg)
	}
	return snap, nil
}

func toUser(u *client.User) (source.User, error) {
	su := source.User{ID: u.ID, Active: u.Active == nil || *u.Active, Attributes: map[string][]string{}}
	raw, err := json.Marshal(u)
	if err != nil {
		return su, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return su, err
	}
	add := func(k string, v any) {
		if s, ok := v.(string); ok && s != "" {
			su.Attributes[k] = append(su.Attributes[k], s)
		}
	}
	for k, v := range m {
		switch v := v.(type) {
		case string:
			add(k, v)
		case map[string]any:
			for sub, sv := range v {
				add(k+"."+sub, sv)
				if k == "name" || strings.HasPrefix(strings.ToLower(k), "urn:") {
					add(sub, sv)
				}
			}
		case []any:
			for _, e := range v {
				if em, ok := e.(map[string]any); ok {
					typ, _ := em["type"].(string)
					if typ != "" {
						add(k+"."+typ, em["value"])
					}
					add(k, em["value"])
				}
			}
		}
	}
	for _, e := range u.Emails {
		if e.Primary {
			su.Attributes["email"] = []string{e.Value}
		}
	}
	if su.Attributes["email"] == nil && len(u.Emails) > 0 {
		su.Attributes["email"] = []string{u.Emails[0].Value}
	}
	delete(su.Attributes, "id")
	return su, nil
}
