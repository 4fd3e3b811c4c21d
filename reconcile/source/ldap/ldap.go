package ldap

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	ldapv3 "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster/reconcile/source"
)

// Source reads a directory. It is safe for concurrent use: each Read has a
// connection of its own.
type Source struct {
	cfg Config
	tls *tls.Config
}

var _ source.Source = (*Source)(nil)

// New returns a Source for cfg, with the defaults of its empty fields. It
// checks the configuration but does not connect.
func New(cfg Config) (*Source, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	for _, s := range []struct{ kind, filter string }{{"users", cfg.Users.Filter}, {"groups", cfg.Groups.Filter}} {
		if _, err := ldapv3.CompileFilter(s.filter); err != nil {
			return nil, fmt.Errorf("ldap: %s: filter %q: %w", s.kind, s.filter, err)
		}
	}
	s := &Source{cfg: cfg}
	u, _ := url.Parse(cfg.URL) // checked by withDefaults
	if u.Scheme == "ldaps" || cfg.StartTLS {
		if s.tls, err = cfg.TLS.tlsConfig(u.Hostname()); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Read binds, reads the users and groups in scope and resolves the groups'
// members. It fails as a whole on any error, including a search the server
// cut short (a size or time limit) and a base DN that does not exist.
func (s *Source) Read(ctx context.Context) (*source.Snapshot, error) {
	snap, err := s.readAll(ctx)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("ldap: read %s: %w", s.cfg.URL, err)
	}
	return snap, nil
}

func (s *Source) readAll(ctx context.Context) (*source.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: s.cfg.Timeout}
	if deadline, ok := ctx.Deadline(); ok {
		dialer.Deadline = deadline
	}
	opts := []ldapv3.DialOpt{ldapv3.DialWithDialer(dialer)}
	if s.tls != nil && !s.cfg.StartTLS {
		opts = append(opts, ldapv3.DialWithTLSConfig(s.tls))
	}
	conn, err := ldapv3.DialURL(s.cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	// go-ldap's requests take no context: closing the connection is what
	// interrupts one.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	conn.SetTimeout(s.cfg.Timeout)
	if s.cfg.StartTLS {
		if err := conn.StartTLS(s.tls); err != nil {
			return nil, fmt.Errorf("StartTLS: %w", err)
		}
	}
	if s.cfg.BindDN != "" {
		if err := conn.Bind(s.cfg.BindDN, s.cfg.BindPassword); err != nil {
			return nil, fmt.Errorf("bind as %q: %w", s.cfg.BindDN, err)
		}
	}
	return s.read(ctx, conn)
}

// entry is a user or group as read, before its members are resolved.
type entry struct {
	dn    string // normalized, see normalizeDN
	rdn   string // the value of the DN's first RDN
	id    string
	attrs map[string][]string
	// members are the normalized DNs of the group's member and
	// uniqueMember values; memberOf those of its memberOf values.
	members  []string
	memberOf []string
}

func (s *Source) read(ctx context.Context, conn *ldapv3.Conn) (*source.Snapshot, error) {
	userEntries, err := s.search(ctx, conn, s.cfg.Users, nil)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	groupEntries, err := s.search(ctx, conn, s.cfg.Groups.Search, []string{"member", "uniqueMember", s.cfg.Groups.NameAttribute})
	if err != nil {
		return nil, fmt.Errorf("groups: %w", err)
	}
	for _, e := range groupEntries {
		if err := completeRanges(conn, e); err != nil {
			return nil, fmt.Errorf("groups: %w", err)
		}
	}

	snap := &source.Snapshot{Users: make([]source.User, 0, len(userEntries)), Groups: make([]source.Group, 0, len(groupEntries))}
	users := make([]entry, 0, len(userEntries))
	for _, e := range userEntries {
		u, err := s.convert(e, s.cfg.Users.IDAttribute)
		if err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		users = append(users, u)
	}
	groups := make([]entry, 0, len(groupEntries))
	for _, e := range groupEntries {
		g, err := s.convert(e, s.cfg.Groups.IDAttribute)
		if err != nil {
			return nil, fmt.Errorf("groups: %w", err)
		}
		groups = append(groups, g)
	}
	members, err := resolveMembers(users, groups)
	if err != nil {
		return nil, err
	}

	for _, u := range users {
		active, err := userActive(u)
		if err != nil {
			return nil, err
		}
		snap.Users = append(snap.Users, source.User{ID: u.id, Active: active, Attributes: u.attrs})
	}
	for i, g := range groups {
		snap.Groups = append(snap.Groups, source.Group{
			ID:         g.id,
			Name:       groupName(g, s.cfg.Groups.NameAttribute),
			Members:    members[i],
			Attributes: g.attrs,
		})
	}
	slices.SortFunc(snap.Users, func(a, b source.User) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(snap.Groups, func(a, b source.Group) int { return strings.Compare(a.ID, b.ID) })
	return snap, nil
}

// resolveMembers returns the ids of each group's members: the union of its
// member DNs that are users or groups read and of the users and groups
// whose memberOf names it, without the group itself, sorted. Nothing here
// follows nesting, so a cycle of groups is data like any other.
func resolveMembers(users, groups []entry) ([][]string, error) {
	type ref struct {
		id    string
		group int // index in groups, or -1 for a user
	}
	byDN := make(map[string]ref, len(users)+len(groups))
	ids := make(map[string]string, len(users)+len(groups)) // id -> DN
	add := func(e entry, group int) error {
		if _, dup := byDN[e.dn]; dup {
			return fmt.Errorf("%s is both a user and a group: make the filters exclusive", e.dn)
		}
		if other, dup := ids[e.id]; dup {
			return fmt.Errorf("%s and %s have the same id %q", other, e.dn, e.id)
		}
		byDN[e.dn] = ref{e.id, group}
		ids[e.id] = e.dn
		return nil
	}
	for _, u := range users {
		if err := add(u, -1); err != nil {
			return nil, err
		}
	}
	for i, g := range groups {
		if err := add(g, i); err != nil {
			return nil, err
		}
	}

	sets := make([]map[string]bool, len(groups))
	for i, g := range groups {
		sets[i] = make(map[string]bool, len(g.members))
		for _, dn := range g.members {
			if r, ok := byDN[dn]; ok && r.id != g.id {
				sets[i][r.id] = true
			}
		}
	}
	for _, e := range slices.Concat(users, groups) {
		for _, dn := range e.memberOf {
			if r, ok := byDN[dn]; ok && r.group >= 0 && r.id != e.id {
				sets[r.group][e.id] = true
			}
		}
	}
	members := make([][]string, len(groups))
	for i, set := range sets {
		members[i] = make([]string, 0, len(set))
		for id := range set {
			members[i] = append(members[i], id)
		}
		slices.Sort(members[i])
	}
	return members, nil
}

// userActive says whether a user's account is enabled, as the directories
// mark disabled ones: Active Directory's userAccountControl bit 0x2
// (ACCOUNTDISABLE); OpenLDAP's password policy pwdAccountLockedTime of
// 000001010000Z, an administrator's lock (a lock after failed binds has
// a time and lifts by itself, so it does not deprovision anyone); 389
// Directory Server's and FreeIPA's nsAccountLock TRUE. Entries with none
// of these are active.
func userActive(u entry) (bool, error) {
	if strings.TrimSpace(source.Get(u.attrs, "pwdAccountLockedTime")) == "000001010000Z" {
		return false, nil
	}
	if strings.EqualFold(strings.TrimSpace(source.Get(u.attrs, "nsAccountLock")), "true") {
		return false, nil
	}
	v := source.Get(u.attrs, "userAccountControl")
	if v == "" {
		return true, nil
	}
	uac, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		// Guessing either way could enable a disabled account.
		return false, fmt.Errorf("users: %s: userAccountControl %q is not a number", u.dn, v)
	}
	return uac&0x2 == 0, nil
}

func groupName(g entry, attr string) string {
	if name := source.Get(g.attrs, attr); name != "" {
		return name
	}
	return g.rdn
}
