package client

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/rosterhq/roster/client/filter"
	"github.com/rosterhq/roster/client/patch"
	scimpatch "github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
)

// Users is the /Users endpoint.
type Users struct{ resources[User] }

// Deactivate sets a user's active to false, as identity providers do when
// someone leaves.
func (u *Users) Deactivate(ctx context.Context, id string) error {
	_, err := u.Patch(ctx, id, patch.Replace("active", false))
	return err
}

// Activate sets a user's active to true.
func (u *Users) Activate(ctx context.Context, id string) error {
	_, err := u.Patch(ctx, id, patch.Replace("active", true))
	return err
}

// ByUserName returns the user with this userName, compared ignoring case
// as servers do; ErrNotFound if there is none. Only a user whose userName
// is the one asked for is returned, so that a server that ignores the
// filter and answers every user cannot make the caller change another.
func (u *Users) ByUserName(ctx context.Context, userName string) (*User, error) {
	page, err := u.List(ctx, Query{Filter: filter.Eq("userName", userName).String(), Count: 2})
	if err != nil {
		return nil, err
	}
	for i := range page.Resources {
		if strings.EqualFold(page.Resources[i].UserName, userName) {
			return &page.Resources[i], nil
		}
	}
	return nil, &Error{Method: http.MethodGet, URL: u.c.base.String() + u.endpoint, Status: http.StatusNotFound,
		Detail: fmt.Sprintf("no user has userName %q", userName)}
}

// Groups is the /Groups endpoint.
type Groups struct{ resources[Group] }

// ByDisplayName returns the group with this displayName, compared
// ignoring case; ErrNotFound if there is none. As with ByUserName, only a
// group of that name is returned, whatever the server answers.
func (g *Groups) ByDisplayName(ctx context.Context, name string) (*Group, error) {
	page, err := g.List(ctx, Query{Filter: filter.Eq("displayName", name).String(), Count: 2, ExcludedAttributes: []string{"members"}})
	if err != nil {
		return nil, err
	}
	for i := range page.Resources {
		if strings.EqualFold(page.Resources[i].DisplayName, name) {
			return &page.Resources[i], nil
		}
	}
	return nil, &Error{Method: http.MethodGet, URL: g.c.base.String() + g.endpoint, Status: http.StatusNotFound,
		Detail: fmt.Sprintf("no group has displayName %q", name)}
}

// Rename sets a group's displayName.
func (g *Groups) Rename(ctx context.Context, id, name string) error {
	_, err := g.Patch(ctx, id, patch.Replace("displayName", name))
	return err
}

// AddMembers adds members (users' or groups' ids) to a group, in PATCH
// requests of at most the client's member batch (WithMemberBatch).
func (g *Groups) AddMembers(ctx context.Context, id string, members ...string) error {
	return g.changeMembers(ctx, id, members, func(batch []string) patch.Op {
		value := make([]Member, len(batch))
		for i, m := range batch {
			value[i] = Member{Value: m}
		}
		return patch.Add("members", value)
	})
}

// RemoveMembers removes members from a group, in PATCH requests of at
// most the client's member batch, each member by a value filter (the form
// every server takes).
func (g *Groups) RemoveMembers(ctx context.Context, id string, members ...string) error {
	if len(members) == 0 {
		return nil
	}
	for start := 0; start < len(members); start += g.c.memberBatch {
		batch := members[start:min(start+g.c.memberBatch, len(members))]
		ops := make([]patch.Op, len(batch))
		for i, m := range batch {
			ops[i] = patch.Remove(filter.Has("members", filter.Eq("value", m)).String())
		}
		if _, err := g.Patch(ctx, id, ops...); err != nil {
			return fmt.Errorf("remove members %d–%d of %d: %w", start+1, start+len(batch), len(members), err)
		}
	}
	return nil
}

// ChangeMembers removes and adds members of a group together: each PATCH
// request carries up to the client's member batch of them, removals first,
// so that a group that gains and loses members costs one request, not two.
func (g *Groups) ChangeMembers(ctx context.Context, id string, add, remove []string) error {
	total := len(add) + len(remove)
	for start := 0; start < total; start += g.c.memberBatch {
		end := min(start+g.c.memberBatch, total)
		var ops []patch.Op
		var added []Member
		for i := start; i < end; i++ {
			if i < len(remove) {
				ops = append(ops, patch.Remove(filter.Has("members", filter.Eq("value", remove[i])).String()))
			} else {
				added = append(added, Member{Value: add[i-len(remove)]})
			}
		}
		if len(added) > 0 {
			ops = append(ops, patch.Add("members", added))
		}
		if _, err := g.Patch(ctx, id, ops...); err != nil {
			return fmt.Errorf("change members %d–%d of %d: %w", start+1, end, total, err)
		}
	}
	return nil
}

func (g *Groups) changeMembers(ctx context.Context, id string, members []string, op func([]string) patch.Op) error {
	for start := 0; start < len(members); start += g.c.memberBatch {
		batch := members[start:min(start+g.c.memberBatch, len(members))]
		if _, err := g.Patch(ctx, id, op(batch)); err != nil {
			return fmt.Errorf("add members %d–%d of %d: %w", start+1, start+len(batch), len(members), err)
		}
	}
	return nil
}

// patchByReplace applies ops for a server without PATCH: it reads the
// resource, applies them here with the SCIM core (knowing the server's
// extensions from /Schemas) and replaces it, If-Match its version, so
// that a change made meanwhile is not overwritten.
func (r resources[T]) patchByReplace(ctx context.Context, id, version string, ops []patch.Op) (*T, error) {
	p := r.path(id)
	resp, err := r.c.do(ctx, request{method: http.MethodGet, path: p, idempotent: true})
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(strings.TrimPrefix(r.endpoint, "/"), "s")
	rt := r.c.registry(ctx).ResourceType(name)
	if rt == nil {
		return nil, fmt.Errorf("client: patch %s: no resource type %s", p, name)
	}
	res, err := resource.Decode(rt, resp.body, resource.Options{Response: true})
	if err != nil {
		return nil, fmt.Errorf("client: patch %s: decode the resource: %w", p, err)
	}
	if version == "" {
		version = res.Meta().Version
	}
	body, err := jsonOf(patch.NewRequest(ops...))
	if err != nil {
		return nil, err
	}
	req, err := scimpatch.Parse(rt, body, resource.Options{Response: true})
	if err != nil {
		return nil, fmt.Errorf("client: patch %s: %w", p, err)
	}
	if err := req.Apply(res); err != nil {
		return nil, fmt.Errorf("client: patch %s: %w", p, err)
	}
	out, err := r.c.do(ctx, request{method: http.MethodPut, path: p, body: rawJSON(res.AppendJSON(nil, nil)), ifMatch: version, idempotent: true})
	if err != nil {
		return nil, err
	}
	return decodeResource[T](http.MethodPut, p, out)
}
