package reconcile

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/rosterhq/roster/reconcile/source"
)

// An Expr computes a value from a source record's fields. Its syntax:
//
//	mail                          a field (its first value; "" if absent)
//	"text"                        a literal, with \" and \\ escapes
//	lower(x) upper(x) trim(x)     case and spaces
//	join(sep, x, y, …)            the non-empty values joined with sep
//	default(x, y, …)              the first non-empty value
//	replace(x, regexp, repl)      regexp.ReplaceAllString, with $1 groups
//
// Fields are compared ignoring case. A field "id" means the record's
// stable id unless the record has a field of that name.
type Expr struct {
	src  string
	root node
}

type node interface {
	eval(fields func(string) string) string
}

type field string

func (f field) eval(get func(string) string) string { return get(string(f)) }

type literal string

func (l literal) eval(func(string) string) string { return string(l) }

type call struct {
	name string
	args []node
	re   *regexp.Regexp // replace's, compiled once
}

func (c *call) eval(get func(string) string) string {
	arg := func(i int) string { return c.args[i].eval(get) }
	switch c.name {
	case "lower":
		return strings.ToLower(arg(0))
	case "upper":
		return strings.ToUpper(arg(0))
	case "trim":
		return strings.TrimSpace(arg(0))
	case "join":
		var parts []string
		for i := 1; i < len(c.args); i++ {
			if v := arg(i); v != "" {
				parts = append(parts, v)
			}
		}
		return strings.Join(parts, arg(0))
	case "default":
		for i := range c.args {
			if v := arg(i); v != "" {
				return v
			}
		}
		return ""
	case "replace":
		return c.re.ReplaceAllString(arg(0), arg(2))
	}
	return ""
}

// arity is each function's number of arguments: exact, or at least -n.
var arity = map[string]int{"lower": 1, "upper": 1, "trim": 1, "join": -2, "default": -1, "replace": 3}

// ParseExpr parses an expression.
func ParseExpr(s string) (*Expr, error) {
	p := &exprParser{s: s}
	n, err := p.expr()
	if err == nil {
		p.space()
		if p.pos < len(p.s) {
			err = p.errorf("unexpected %q", p.s[p.pos:])
		}
	}
	if err != nil {
		return nil, err
	}
	return &Expr{src: s, root: n}, nil
}

// String returns the expression as written.
func (e *Expr) String() string { return e.src }

// Eval computes the expression for a record.
func (e *Expr) Eval(id string, attrs map[string][]string) string {
	return e.root.eval(func(name string) string {
		if v := source.Values(attrs, name); len(v) > 0 {
			return v[0]
		}
		if strings.EqualFold(name, "id") {
			return id
		}
		return ""
	})
}

type exprParser struct {
	s   string
	pos int
}

func (p *exprParser) errorf(format string, args ...any) error {
	return fmt.Errorf("expression %q at %d: %s", p.s, p.pos+1, fmt.Sprintf(format, args...))
}

func (p *exprParser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func (p *exprParser) expr() (node, error) {
	p.space()
	if p.pos >= len(p.s) {
		return nil, p.errorf("an expression is missing")
	}
	if p.s[p.pos] == '"' {
		return p.str()
	}
	start := p.pos
	for p.pos < len(p.s) {
		r := rune(p.s[p.pos])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-.:;", r) || r >= 0x80) {
			break
		}
		p.pos++
	}
	name := p.s[start:p.pos]
	if name == "" {
		return nil, p.errorf("unexpected %q", p.s[p.pos:p.pos+1])
	}
	p.space()
	if p.pos >= len(p.s) || p.s[p.pos] != '(' {
		return field(name), nil
	}
	n, ok := arity[name]
	if !ok {
		return nil, p.errorf("no function %s (there are lower, upper, trim, join, default, replace)", name)
	}
	p.pos++
	c := &call{name: name}
	for {
		p.space()
		if p.pos < len(p.s) && p.s[p.pos] == ')' && len(c.args) == 0 {
			p.pos++
			break
		}
		a, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, a)
		p.space()
		if p.pos >= len(p.s) {
			return nil, p.errorf("%s( is not closed", name)
		}
		if p.s[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.s[p.pos] != ')' {
			return nil, p.errorf("expected , or ) in %s(", name)
		}
		p.pos++
		break
	}
	if n >= 0 && len(c.args) != n || n < 0 && len(c.args) < -n {
		return nil, p.errorf("%s takes %s arguments, not %d", name, arityText(n), len(c.args))
	}
	if name == "replace" {
		lit, ok := c.args[1].(literal)
		if !ok {
			return nil, p.errorf("replace's pattern must be a \"literal\"")
		}
		re, err := regexp.Compile(string(lit))
		if err != nil {
			return nil, p.errorf("replace: %v", err)
		}
		c.re = re
	}
	return c, nil
}

func arityText(n int) string {
	if n < 0 {
		return fmt.Sprintf("at least %d", -n)
	}
	return fmt.Sprint(n)
}

func (p *exprParser) str() (node, error) {
	p.pos++ // the opening quote
	var b strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch c {
		case '"':
			p.pos++
			return literal(b.String()), nil
		case '\\':
			if p.pos+1 >= len(p.s) {
				return nil, p.errorf("a string ends in \\")
			}
			b.WriteByte(p.s[p.pos+1])
			p.pos += 2
			continue
		}
		b.WriteByte(c)
		p.pos++
	}
	return nil, p.errorf("a string is not closed")
}

// required returns the fields the expression reads outside default(…):
// those a source must have for the mapping to mean anything. A field read
// only inside default(…) may be missing from every record on purpose.
func (e *Expr) required() []string {
	var out []string
	var walk func(n node)
	walk = func(n node) {
		switch n := n.(type) {
		case field:
			if !strings.EqualFold(string(n), "id") {
				out = append(out, string(n))
			}
		case *call:
			if n.name == "default" {
				return
			}
			for _, a := range n.args {
				walk(a)
			}
		}
	}
	walk(e.root)
	return out
}
