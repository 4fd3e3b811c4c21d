package filter

import (
	"errors"
	"strings"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/schema"
)

// Path is the target of a PATCH operation (RFC 7644 §3.5.2):
//
//	attrPath / valuePath [subAttr]
//
// as in "title", "name.givenName", "members[value eq \"2819c223\"]",
// "emails[type eq \"work\"].value" or
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager".
type Path struct {
	// Attr is the attribute. Attr.Sub names the sub-attribute to change,
	// written either as name.sub or after the value filter.
	Attr AttrPath
	// Filter selects values of a multi-valued (or single complex) Attr;
	// nil when the path has none.
	Filter Expr
}

// String returns the path in filter syntax.
func (p *Path) String() string {
	if p.Filter == nil {
		return p.Attr.String()
	}
	s := AttrPath{URN: p.Attr.URN, Name: p.Attr.Name}.String() + "[" + p.Filter.String() + "]"
	if p.Attr.Sub != "" {
		s += "." + p.Attr.Sub
	}
	return s
}

// ParsePath parses a PATCH path. When rt is not nil the path is resolved
// against it; a path that is only an extension URN then yields a Path
// whose Attr.Ref has a nil Attr, naming the whole extension. Errors are
// *scim.Error with status 400 and scimType invalidPath; when the path names
// an attribute rt does not have, the error wraps
// schema.ErrUnknownAttribute.
func ParsePath(s string, rt *schema.ResourceType) (*Path, error) {
	if rt != nil {
		if urn, rest, err := rt.SplitURN(s); err == nil && urn != "" && rest == "" && len(s) == len(urn) {
			if ext := rt.Extension(urn); ext != nil {
				return &Path{Attr: AttrPath{URN: urn, Ref: schema.Ref{Extension: urn}}}, nil
			}
		}
	}
	p := &parser{src: s}
	p.next()
	if p.tok.kind != tokWord {
		return nil, pathError(s, p.errorf(p.tok.pos, "expected an attribute path, found %s", p.tok))
	}
	pathTok := p.tok
	attr, err := parseAttrPath(pathTok.text)
	if err != nil {
		return nil, pathError(s, p.errorf(pathTok.pos, "%v", err))
	}
	p.next()
	out := &Path{Attr: attr}
	if p.tok.kind == tokLBracket {
		if attr.Sub != "" {
			return nil, pathError(s, p.errorf(pathTok.pos, "a value filter applies to an attribute, not to the sub-attribute %q", pathTok.text))
		}
		p.next()
		if out.Filter, err = p.parseOr(1, &attr); err != nil {
			return nil, pathError(s, err)
		}
		if p.tok.kind != tokRBracket {
			return nil, pathError(s, p.errorf(p.tok.pos, "expected \"]\", found %s", p.tok))
		}
		p.next()
		if p.tok.kind == tokWord && strings.HasPrefix(p.tok.text, ".") {
			sub := p.tok.text[1:]
			if !schema.ValidName(sub) {
				return nil, pathError(s, p.errorf(p.tok.pos, "invalid sub-attribute name %q", sub))
			}
			out.Attr.Sub = sub
			p.next()
		}
	}
	if p.tok.kind != tokEOF {
		return nil, pathError(s, p.errorf(p.tok.pos, "unexpected %s", p.tok))
	}
	if rt == nil {
		return out, nil
	}
	resolved, err := resolvePath(out.Attr, rt, nil)
	if err != nil {
		return nil, pathError(s, err)
	}
	if out.Filter != nil {
		ref := resolved.Ref
		if ref.Attr.Type != schema.Complex {
			return nil, pathError(s, invalid("%s is not a complex attribute, so it cannot take a [filter]", ref.Attr.Name))
		}
		ref.Sub = nil
		if out.Filter, err = resolve(out.Filter, rt, &ref); err != nil {
			// An unknown name inside the filter is a client error even where
			// unknown target attributes are ignored: dropping the operation
			// would answer 200 and change nothing.
			perr := pathError(s, err)
			perr.Err = nil
			return nil, perr
		}
	}
	out.Attr = resolved
	return out, nil
}

// pathError turns a filter error into an invalidPath error about path s.
func pathError(s string, err error) *scim.Error {
	var serr *scim.Error
	if !errors.As(err, &serr) {
		return scim.BadRequest(scim.InvalidPath, "invalid path %q: %v", s, err)
	}
	detail := strings.TrimPrefix(strings.TrimPrefix(serr.Detail, "invalid filter: "), "invalid filter ")
	return &scim.Error{Status: serr.Status, ScimType: scim.InvalidPath, Detail: "invalid path " + quote(s) + ": " + detail, Err: serr.Err}
}
