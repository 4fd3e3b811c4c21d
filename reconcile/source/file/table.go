package file

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// What a file holds, and the keys of a JSON object that holds both.
const (
	kindUsers  = "users"
	kindGroups = "groups"
)

// table is the rows of one kind that a file holds.
type table struct {
	name string // the file's path, for messages
	// columns is a CSV file's header; nil for JSON, where each row has
	// its own fields.
	columns []string
	records []record
}

// record is one row: its fields by name as the file spells them. A field
// that is present but empty (an empty cell, "", null) has no values.
type record struct {
	where  string // file and line, for messages
	fields map[string][]string
}

// get returns a field's values, the name compared ignoring case, and
// whether the row has the field at all.
func (r record) get(name string) ([]string, bool) {
	if vs, ok := r.fields[name]; ok {
		return vs, true
	}
	for k, vs := range r.fields {
		if strings.EqualFold(k, name) {
			return vs, true
		}
	}
	return nil, false
}

// parser turns a file's bytes into tables.
type parser struct {
	delim rune
	sep   string
	// lists holds the lowercased names of the columns split by sep.
	lists map[string]bool
}

func (p *parser) isList(column string) bool {
	return p.lists[strings.ToLower(column)]
}

// values returns a field's values: v trimmed, split by the separator if
// the column is a list, with empty values left out.
func (p *parser) values(v string, list bool) []string {
	if !list {
		if v = strings.TrimSpace(v); v == "" {
			return nil
		}
		return []string{v}
	}
	var out []string
	for part := range strings.SplitSeq(v, p.sep) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

var bom = []byte("\uFEFF")

// csv parses a CSV file. A file with nothing but spaces in it is a file
// with no rows.
func (p *parser) csv(name string, data []byte) (*table, error) {
	data = bytes.TrimPrefix(data, bom)
	t := &table{name: name}
	if len(bytes.TrimSpace(data)) == 0 {
		return t, nil
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%s line %d: not UTF-8", name, lineAt(data, invalidUTF8(data)))
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = p.delim
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	line, _ := r.FieldPos(0)
	seen := make(map[string]int, len(header))
	list := make([]bool, len(header))
	for i, c := range header {
		c = strings.TrimSpace(c)
		if c == "" {
			return nil, fmt.Errorf("%s line %d: column %d has no name", name, line, i+1)
		}
		if j, ok := seen[strings.ToLower(c)]; ok {
			return nil, fmt.Errorf("%s line %d: columns %d and %d are both %q", name, line, j+1, i+1, c)
		}
		seen[strings.ToLower(c)] = i
		header[i] = c
		list[i] = p.isList(c)
	}
	t.columns = header
	for {
		row, err := r.Read()
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := r.FieldPos(0)
		fields := make(map[string][]string, len(header))
		for i, v := range row {
			fields[header[i]] = p.values(v, list[i])
		}
		t.records = append(t.records, record{where: fmt.Sprintf("%s line %d", name, line), fields: fields})
	}
}

// json parses a JSON file: an array of objects of the given kind, or an
// object with an array of users, of groups or of both. A file with
// nothing but spaces in it holds no rows.
func (p *parser) json(name string, data []byte, kind string) (map[string]*table, error) {
	data = bytes.TrimPrefix(data, bom)
	if len(bytes.TrimSpace(data)) == 0 {
		return map[string]*table{kind: {name: name}}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	j := &jsonFile{parser: p, name: name, data: data, dec: dec}
	out := map[string]*table{}
	tok, err := j.token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('['):
		if out[kind], err = j.array(kind); err != nil {
			return nil, err
		}
	case json.Delim('{'):
		for dec.More() {
			tok, err := j.token()
			if err != nil {
				return nil, err
			}
			key, _ := tok.(string)
			k := strings.ToLower(key)
			if k != kindUsers && k != kindGroups {
				return nil, j.errorf("%q: want users or groups", key)
			}
			if out[k] != nil {
				return nil, j.errorf("%s given twice", k)
			}
			if tok, err := j.token(); err != nil {
				return nil, err
			} else if tok != json.Delim('[') {
				return nil, j.errorf("%s: want an array of objects", k)
			}
			if out[k], err = j.array(k); err != nil {
				return nil, err
			}
		}
		if _, err := j.token(); err != nil { // '}'
			return nil, err
		}
	default:
		return nil, j.errorf("want an array of objects, or an object holding users and groups")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, j.errorf("more after the end of the data")
	}
	return out, nil
}

// jsonFile is the state of parsing one JSON file.
type jsonFile struct {
	*parser
	name string
	data []byte
	dec  *json.Decoder
}

func (j *jsonFile) errorf(format string, args ...any) error {
	return fmt.Errorf("%s line %d: %s", j.name, lineAt(j.data, int(j.dec.InputOffset())), fmt.Sprintf(format, args...))
}

func (j *jsonFile) token() (json.Token, error) {
	tok, err := j.dec.Token()
	if err != nil {
		return nil, j.fail(err)
	}
	return tok, nil
}

func (j *jsonFile) fail(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Errorf("%s line %d: %w", j.name, lineAt(j.data, int(syntax.Offset)), err)
	}
	return j.errorf("%v", err)
}

// array reads the objects of an array whose '[' has been read, and its ']'.
func (j *jsonFile) array(kind string) (*table, error) {
	t := &table{name: j.name}
	for i := 0; j.dec.More(); i++ {
		tok, err := j.token()
		if err != nil {
			return nil, err
		}
		if tok != json.Delim('{') {
			return nil, j.errorf("%s[%d]: want an object", kind, i)
		}
		r := record{
			where:  fmt.Sprintf("%s line %d (%s[%d])", j.name, lineAt(j.data, int(j.dec.InputOffset())), kind, i),
			fields: map[string][]string{},
		}
		seen := map[string]string{}
		for j.dec.More() {
			tok, err := j.token()
			if err != nil {
				return nil, err
			}
			key, _ := tok.(string)
			var v any
			if err := j.dec.Decode(&v); err != nil {
				return nil, j.fail(err)
			}
			if strings.TrimSpace(key) == "" {
				return nil, j.errorf("%s[%d]: a field with no name", kind, i)
			}
			if prev, ok := seen[strings.ToLower(key)]; ok {
				return nil, j.errorf("%s[%d]: fields %q and %q are one", kind, i, prev, key)
			}
			seen[strings.ToLower(key)] = key
			vs, err := j.values(v, j.isList(key))
			if err != nil {
				return nil, j.errorf("%s[%d]: %s: %v", kind, i, key, err)
			}
			r.fields[key] = vs
		}
		if _, err := j.token(); err != nil { // '}'
			return nil, err
		}
		t.records = append(t.records, r)
	}
	if _, err := j.token(); err != nil { // ']'
		return nil, err
	}
	return t, nil
}

// values returns a JSON value's values; an array is several whether or
// not the column is a list.
func (j *jsonFile) values(v any, list bool) ([]string, error) {
	if a, ok := v.([]any); ok {
		var out []string
		for _, e := range a {
			s, ok := scalar(e)
			if !ok {
				return nil, errors.New("an array may hold strings, numbers and booleans only")
			}
			out = append(out, j.parser.values(s, false)...)
		}
		return out, nil
	}
	s, ok := scalar(v)
	if !ok {
		return nil, errors.New("an object; want a string, number, boolean or array")
	}
	return j.parser.values(s, list), nil
}

// scalar returns a string, number or boolean as text, null as "".
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// lineAt returns the line number of a byte offset.
func lineAt(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// invalidUTF8 returns the offset of the first byte that is not UTF-8.
func invalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// validDelim reports whether encoding/csv accepts r as a delimiter.
func validDelim(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' && utf8.ValidRune(r) && r != utf8.RuneError
}
