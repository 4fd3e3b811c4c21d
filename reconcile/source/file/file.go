package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/rosterhq/roster/reconcile/source"
)

// Format is a file's format.
type Format string

// The formats Read knows.
const (
	// CSV is a header row and one row per user or group, UTF-8 (a byte
	// order mark is skipped), with fields quoted as RFC 4180 says.
	CSV Format = "csv"
	// JSON is an array of objects, one per user or group, or an object
	// {"users": [...], "groups": [...]} holding both in one file. A
	// field's value is a string, a number (as written: 1.50 stays 1.50),
	// a boolean, null (no value) or an array of those; an object is an
	// error.
	JSON Format = "json"
)

// Config says where a file source's files are and how to read them.
// Column names compare ignoring case; in JSON a column is an object's
// field. Every column of a row becomes an attribute of its user or group
// (see source.User.Attributes), by its name in the file; values are
// trimmed of surrounding spaces and empty ones are left out.
type Config struct {
	// Users is the path of the users file. Required.
	Users string `yaml:"users"`
	// Groups is the path of the groups file: "" for none, or when Users
	// is a JSON object that holds the groups too.
	Groups string `yaml:"groups"`
	// Format is the format of both files; "" picks each file's by its
	// extension, .csv or .json.
	Format Format `yaml:"format"`
	// Delimiter separates a CSV row's fields: one character, such as ";"
	// or "\t". Default ",".
	Delimiter string `yaml:"delimiter"`
	// Separator separates the values within a field that holds several:
	// members, a user's groups and the MultiValued columns. In a CSV file
	// whose Delimiter is the same, such fields are quoted. Default ";".
	Separator string `yaml:"separator"`
	// MultiValued names the other columns whose values are split by
	// Separator into several attribute values. A JSON array is several
	// values whatever this says.
	MultiValued []string `yaml:"multiValued"`
	// UserColumns names the users file's columns that Read interprets.
	UserColumns UserColumns `yaml:"userColumns"`
	// GroupColumns names the groups file's columns that Read interprets.
	GroupColumns GroupColumns `yaml:"groupColumns"`
}

// UserColumns names the columns of the users file that have a meaning.
type UserColumns struct {
	// ID is the column of the user's stable id. Default "id". A row
	// without one is an error, unless IDFrom is set.
	ID string `yaml:"id"`
	// IDFrom names a column from which a row without an id gets one: the
	// name-based UUID of its value (see source.NameUUID), stable as long
	// as that value is. A group's member list may name such a user by
	// that value as well as by the UUID.
	IDFrom string `yaml:"idFrom"`
	// Active is the column that says whether the account is enabled:
	// true, false, yes, no, 1, 0, enabled or disabled, in any case.
	// Default "active". A file without the column has only active users;
	// a row whose value is empty or another word is an error, so that a
	// leaver's blank cell does not keep an account open.
	Active string `yaml:"active"`
	// Groups, if set, is a column listing the ids of the groups the user
	// is a direct member of, separated by Separator: membership given by
	// user rather than (or as well as) by group.
	Groups string `yaml:"groups"`
}

// GroupColumns names the columns of the groups file that have a meaning.
type GroupColumns struct {
	// ID is the column of the group's stable id. Default "id". A row
	// without one is an error, unless IDFrom is set.
	ID string `yaml:"id"`
	// IDFrom names a column from which a row without an id gets one, as
	// UserColumns.IDFrom does: set it to Name's column to identify groups
	// by name, and to refer to them by name in member lists, parents and
	// users' groups.
	IDFrom string `yaml:"idFrom"`
	// Name is the column of the group's name, required in every row.
	// Default "name".
	Name string `yaml:"name"`
	// Members is the column listing the ids of the group's direct members,
	// users and groups, separated by Separator. Default "members".
	Members string `yaml:"members"`
	// Parent is the column of the id of the group this one is nested in;
	// an empty value for none. Default "parent".
	Parent string `yaml:"parent"`
}

// Source reads users and groups from files. Read reads the files afresh
// each time; a Source is safe for concurrent use.
type Source struct {
	cfg         Config
	usersFormat Format
	// groupsFormat is "" when Groups is "" or the users file itself.
	groupsFormat Format
	parser       parser
}

var _ source.Source = (*Source)(nil)

// New returns a Source for cfg, with its defaults filled in, or an error
// if cfg is unusable. It does not open the files: Read does, every time.
func New(cfg Config) (*Source, error) {
	fill := func(s *string, def string) {
		if *s == "" {
			*s = def
		}
	}
	fill(&cfg.Delimiter, ",")
	fill(&cfg.Separator, ";")
	fill(&cfg.UserColumns.ID, "id")
	fill(&cfg.UserColumns.Active, "active")
	fill(&cfg.GroupColumns.ID, "id")
	fill(&cfg.GroupColumns.Name, "name")
	fill(&cfg.GroupColumns.Members, "members")
	fill(&cfg.GroupColumns.Parent, "parent")

	if cfg.Users == "" {
		return nil, fmt.Errorf("file source: no users file")
	}
	delim, size := utf8.DecodeRuneInString(cfg.Delimiter)
	if size != len(cfg.Delimiter) || !validDelim(delim) {
		return nil, fmt.Errorf("file source: delimiter %q: want one character, not a quote or a line break", cfg.Delimiter)
	}
	s := &Source{cfg: cfg}
	var err error
	if s.usersFormat, err = formatOf(cfg.Users, cfg.Format); err != nil {
		return nil, err
	}
	if cfg.Groups != "" && samePath(cfg.Groups, cfg.Users) && s.usersFormat != JSON {
		return nil, fmt.Errorf("file source: users and groups in one file %s: only a JSON file can hold both", cfg.Users)
	}
	if cfg.Groups != "" && !samePath(cfg.Groups, cfg.Users) {
		if s.groupsFormat, err = formatOf(cfg.Groups, cfg.Format); err != nil {
			return nil, err
		}
	}
	lists := map[string]bool{
		strings.ToLower(cfg.GroupColumns.Members): true,
	}
	if cfg.UserColumns.Groups != "" {
		lists[strings.ToLower(cfg.UserColumns.Groups)] = true
	}
	for _, c := range cfg.MultiValued {
		lists[strings.ToLower(c)] = true
	}
	s.parser = parser{delim: delim, sep: cfg.Separator, lists: lists}
	return s, nil
}

func formatOf(path string, f Format) (Format, error) {
	switch f {
	case CSV, JSON:
		return f, nil
	case "":
	default:
		return "", fmt.Errorf("file source: format %q: want csv or json", f)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return CSV, nil
	case ".json":
		return JSON, nil
	}
	return "", fmt.Errorf("file source: %s: cannot tell its format from its extension; set format to csv or json", path)
}

func samePath(a, b string) bool {
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return filepath.Clean(p)
	}
	return abs(a) == abs(b)
}

// Read reads the files and returns their users and groups, in file order,
// with each group's Members being the ids of its direct members (those
// its members column lists, then the users whose groups column names it)
// and its Parent the id of its parent group. It returns an error, and no
// snapshot, for a file it cannot read or parse and for every problem
// listed in the package documentation; the error lists up to 20 of them,
// each with its file and line.
func (s *Source) Read(ctx context.Context) (*source.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	users, err := s.readFile(s.cfg.Users, s.usersFormat, kindUsers)
	if err != nil {
		return nil, err
	}
	groups := users.other
	if s.groupsFormat != "" {
		if groups != nil {
			return nil, fmt.Errorf("file source: %s holds groups, and so does %s", s.cfg.Users, s.cfg.Groups)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		g, err := s.readFile(s.cfg.Groups, s.groupsFormat, kindGroups)
		if err != nil {
			return nil, err
		}
		if g.other != nil {
			return nil, fmt.Errorf("file source: %s holds users; they belong in %s", s.cfg.Groups, s.cfg.Users)
		}
		groups = g.own
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.build(users.own, groups)
}

// files is what one file holds: the records of the kind it was named for,
// and the other kind's when it is a JSON object holding both (nil if not).
type files struct {
	own, other *table
}

func (s *Source) readFile(path string, f Format, kind string) (files, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return files{}, fmt.Errorf("file source: read %s: %w", kind, err)
	}
	if f == CSV {
		t, err := s.parser.csv(path, data)
		if err != nil {
			return files{}, fmt.Errorf("file source: %w", err)
		}
		return files{own: t}, nil
	}
	byKind, err := s.parser.json(path, data, kind)
	if err != nil {
		return files{}, fmt.Errorf("file source: %w", err)
	}
	out := files{own: byKind[kind]}
	if out.own == nil {
		out.own = &table{name: path}
	}
	for k, t := range byKind {
		if k != kind {
			out.other = t
		}
	}
	return out, nil
}
