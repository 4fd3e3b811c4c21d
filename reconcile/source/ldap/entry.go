package ldap

import (
	"context"
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	ldapv3 "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster/reconcile/source"
)

// search reads the entries of one search, page by page, with the
// attributes the configuration asks for and those named in need.
func (s *Source) search(ctx context.Context, conn *ldapv3.Conn, search Search, need []string) ([]*ldapv3.Entry, error) {
	paging := ldapv3.NewControlPaging(uint32(s.cfg.PageSize))
	req := ldapv3.NewSearchRequest(search.BaseDN, ldapv3.ScopeWholeSubtree, ldapv3.NeverDerefAliases, 0, 0, false,
		search.Filter, requestedAttributes(search, need), []ldapv3.Control{paging})
	var entries []*ldapv3.Entry
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res, err := conn.Search(req)
		if err != nil {
			// A size or time limit, or a lost connection, after some
			// entries: what was read is not the directory.
			return nil, fmt.Errorf("search %q under %q: %w", search.Filter, search.BaseDN, err)
		}
		entries = append(entries, res.Entries...)
		c, ok := ldapv3.FindControl(res.Controls, ldapv3.ControlTypePaging).(*ldapv3.ControlPaging)
		if !ok || len(c.Cookie) == 0 {
			// The last page, or a server that does not page and sent
			// everything at once.
			return entries, nil
		}
		paging.SetCookie(c.Cookie)
	}
}

// requestedAttributes returns the attributes to ask for: the configured
// ones (all user attributes by default), those the caller needs, and what
// ids, membership and a disabled account are read from. Servers ignore
// the names they do not know; entryUUID, an overlay's memberOf and
// pwdAccountLockedTime are operational and come only when named.
func requestedAttributes(search Search, need []string) []string {
	attrs := search.Attributes
	if len(attrs) == 0 {
		attrs = []string{"*"}
	}
	attrs = append(append([]string(nil), attrs...), need...)
	attrs = append(attrs, "objectGUID", "entryUUID", "memberOf", "userAccountControl", "pwdAccountLockedTime", "nsAccountLock")
	if search.IDAttribute != "" && !strings.EqualFold(search.IDAttribute, IDFromDN) {
		attrs = append(attrs, search.IDAttribute)
	}
	seen := make(map[string]bool, len(attrs))
	out := attrs[:0]
	for _, a := range attrs {
		if k := strings.ToLower(a); !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	return out
}

// searcher is the part of a connection that completeRanges uses.
type searcher interface {
	Search(*ldapv3.SearchRequest) (*ldapv3.SearchResult, error)
}

// completeRanges reads the rest of the attributes that Active Directory
// sent in part. AD returns at most MaxValRange values (1500) of an
// attribute with a search: a large group's members come as
// "member;range=0-1499", the next ones are asked for as
// "member;range=1500-*", and the last part's range ends in "*".
func completeRanges(conn searcher, e *ldapv3.Entry) error {
	for i := 0; i < len(e.Attributes); i++ {
		a := e.Attributes[i]
		name, _, end, ok := parseRange(a.Name)
		if !ok {
			continue
		}
		values, raw := a.Values, a.ByteValues
		for end != "*" {
			last, err := strconv.Atoi(end)
			if err != nil {
				return fmt.Errorf("%s: attribute %q: bad range", e.DN, a.Name)
			}
			want := fmt.Sprintf("%s;range=%d-*", name, last+1)
			res, err := conn.Search(ldapv3.NewSearchRequest(e.DN, ldapv3.ScopeBaseObject, ldapv3.NeverDerefAliases, 0, 0, false,
				"(objectClass=*)", []string{want}, nil))
			if err != nil {
				return fmt.Errorf("%s: read %s: %w", e.DN, want, err)
			}
			var part *ldapv3.EntryAttribute
			if len(res.Entries) == 1 {
				for _, pa := range res.Entries[0].Attributes {
					if n, start, _, ok := parseRange(pa.Name); ok && strings.EqualFold(n, name) && start == last+1 {
						part = pa
					}
				}
			}
			if part == nil {
				return fmt.Errorf("%s: read %s: the server sent no such range", e.DN, want)
			}
			values, raw = append(values, part.Values...), append(raw, part.ByteValues...)
			_, _, end, _ = parseRange(part.Name)
		}
		e.Attributes[i] = &ldapv3.EntryAttribute{Name: name, Values: values, ByteValues: raw}
	}
	return nil
}

// parseRange splits "member;range=0-1499" into member, 0 and "1499".
func parseRange(attr string) (name string, start int, end string, ok bool) {
	name, opt, found := strings.Cut(attr, ";")
	if !found || len(opt) < len("range=") || !strings.EqualFold(opt[:len("range=")], "range=") {
		return "", 0, "", false
	}
	lo, hi, found := strings.Cut(opt[len("range="):], "-")
	start, err := strconv.Atoi(lo)
	if !found || err != nil || hi == "" {
		return "", 0, "", false
	}
	return name, start, hi, true
}

// secrets are attributes never kept, whatever the configuration reads.
var secrets = map[string]bool{"userpassword": true, "unicodepwd": true}

// uniqueMemberUID is the optional UID that follows the DN of a
// uniqueMember value (RFC 4517 Name and Optional UID).
var uniqueMemberUID = regexp.MustCompile(`#'[01]*'B$`)

// convert turns an entry into a user or group, its id read from idAttr.
// Binary ids are written as strings: objectGUID as a GUID in Active
// Directory's byte order, objectSid as S-1-5-…. The DN is kept as the
// attribute "dn"; member and uniqueMember become members.
func (s *Source) convert(e *ldapv3.Entry, idAttr string) (entry, error) {
	dn, err := ldapv3.ParseDN(e.DN)
	if err != nil || len(dn.RDNs) == 0 {
		return entry{}, fmt.Errorf("entry %q: bad DN: %v", e.DN, err)
	}
	out := entry{
		dn:    normalizeDN(dn),
		rdn:   dn.RDNs[0].Attributes[0].Value,
		attrs: make(map[string][]string, len(e.Attributes)+1),
	}
	out.attrs["dn"] = []string{e.DN}
	for _, a := range e.Attributes {
		switch name := strings.ToLower(a.Name); {
		case secrets[name]:
		case name == "member" || name == "uniquemember":
			for _, v := range a.Values {
				if name == "uniquemember" {
					v = uniqueMemberUID.ReplaceAllString(v, "")
				}
				if m, ok := parseDN(v); ok {
					out.members = append(out.members, m)
				}
			}
		case name == "memberof":
			for _, v := range a.Values {
				if m, ok := parseDN(v); ok {
					out.memberOf = append(out.memberOf, m)
				}
			}
			out.attrs[a.Name] = a.Values
		case name == "objectguid":
			if len(a.ByteValues) != 1 || len(a.ByteValues[0]) != 16 {
				return entry{}, fmt.Errorf("%s: objectGUID is not 16 bytes", e.DN)
			}
			out.attrs[a.Name] = []string{formatGUID(a.ByteValues[0])}
		case name == "objectsid":
			sids := make([]string, len(a.ByteValues))
			for i, b := range a.ByteValues {
				if sids[i], err = formatSID(b); err != nil {
					return entry{}, fmt.Errorf("%s: objectSid: %w", e.DN, err)
				}
			}
			out.attrs[a.Name] = sids
		default:
			out.attrs[a.Name] = a.Values
		}
	}

	switch {
	case strings.EqualFold(idAttr, IDFromDN):
		out.id = source.NameUUID(out.dn)
	case idAttr != "":
		if out.id = source.Get(out.attrs, idAttr); out.id == "" {
			return entry{}, fmt.Errorf("%s has no %s to take its id from", e.DN, idAttr)
		}
	default:
		out.id = source.Get(out.attrs, "objectGUID")
		if out.id == "" {
			out.id = source.Get(out.attrs, "entryUUID")
		}
		if out.id == "" {
			out.id = source.NameUUID(out.dn)
		}
	}
	return out, nil
}

// parseDN returns the normalized form of a DN, or false for a value that is
// not one (it then matches no entry).
func parseDN(s string) (string, bool) {
	dn, err := ldapv3.ParseDN(s)
	if err != nil || len(dn.RDNs) == 0 {
		return "", false
	}
	return normalizeDN(dn), true
}

// normalizeDN returns a DN's string form with types and values in lower
// case and insignificant spaces and escapes removed, so that the DNs that
// name the same entry in member, memberOf and search results are equal
// strings.
func normalizeDN(dn *ldapv3.DN) string {
	return strings.ToLower(dn.String())
}

// formatGUID writes an objectGUID as Active Directory shows it: its first
// three fields are little-endian.
func formatGUID(b []byte) string {
	return fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%x-%x",
		b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8:10], b[10:16])
}

// formatSID writes a binary security identifier as S-R-A-S1-S2-….
func formatSID(b []byte) (string, error) {
	if len(b) < 8 || len(b) != 8+4*int(b[1]) {
		return "", fmt.Errorf("%d bytes is not a SID", len(b))
	}
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "S-%d-%d", b[0], auth)
	for i := 8; i < len(b); i += 4 {
		fmt.Fprintf(&sb, "-%d", binary.LittleEndian.Uint32(b[i:]))
	}
	return sb.String(), nil
}
