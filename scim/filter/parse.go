package filter

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/schema"
)

// maxDepth bounds the nesting of parentheses, not and brackets, so that a
// hostile filter cannot exhaust the stack.
const maxDepth = 64

// MaxComparisons bounds the attribute comparisons of one filter. Real
// clients send one to a handful; a store turns each into SQL, and
// databases bound the size of a statement.
const MaxComparisons = 200

// MaxStringBytes bounds a string literal of a filter, in bytes of UTF-8
// once its escapes are decoded. Identity data is short: a userName, an
// email address or an id takes at most a few hundred bytes, and the
// PostgreSQL store indexes names, externalIds and email addresses of at
// most 2,048 bytes. A longer literal makes a store fold and compare it
// against every row it reads, so it is refused.
const MaxStringBytes = 4096

// Parse parses a filter (RFC 7644 §3.4.2.2). When rt is not nil, every
// attribute path is resolved against it and every comparison is checked
// against the attribute's type, so the result is ready to be evaluated or
// translated to SQL; with a nil rt only the syntax is checked.
//
// Operators and the literals true, false and null are case-insensitive.
// Besides the RFC grammar, Parse accepts a value path followed by a
// sub-attribute comparison, as Microsoft Entra ID sends it:
// emails[type eq "work"].value eq "a@x.com" means
// emails[type eq "work" and value eq "a@x.com"].
//
// Every error is a *scim.Error with status 400 and scimType invalidFilter.
func Parse(s string, rt *schema.ResourceType) (Expr, error) {
	p := &parser{src: s}
	p.next()
	e, err := p.parseOr(0, nil)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.errorf(p.tok.pos, "unexpected %s", p.tok)
	}
	if rt != nil {
		if e, err = resolve(e, rt, nil); err != nil {
			return nil, err
		}
	}
	return e, nil
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokWord
	tokString
	tokNumber
	tokLParen
	tokRParen
	tokLBracket
	tokRBracket
	tokError
)

type token struct {
	kind tokKind
	pos  int
	text string // raw text
	val  any    // decoded literal for tokString and tokNumber
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of filter"
	case tokError:
		return t.text
	}
	text := t.text
	if len(text) > 40 {
		text = text[:40] + "..."
	}
	return strconv.Quote(text)
}

type parser struct {
	src         string
	off         int
	tok         token
	comparisons int
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return scim.BadRequest(scim.InvalidFilter, "invalid filter at position %d: %s", pos+1, fmt.Sprintf(format, args...))
}

// next reads the next token into p.tok.
func (p *parser) next() {
	for p.off < len(p.src) && isSpace(p.src[p.off]) {
		p.off++
	}
	start := p.off
	if p.off >= len(p.src) {
		p.tok = token{kind: tokEOF, pos: start}
		return
	}
	switch c := p.src[p.off]; c {
	case '(':
		p.off++
		p.tok = token{kind: tokLParen, pos: start, text: "("}
	case ')':
		p.off++
		p.tok = token{kind: tokRParen, pos: start, text: ")"}
	case '[':
		p.off++
		p.tok = token{kind: tokLBracket, pos: start, text: "["}
	case ']':
		p.off++
		p.tok = token{kind: tokRBracket, pos: start, text: "]"}
	case '"':
		p.lexString()
	default:
		for p.off < len(p.src) && !isDelim(p.src[p.off]) {
			p.off++
		}
		text := p.src[start:p.off]
		if c == '-' || c >= '0' && c <= '9' {
			p.tok = token{kind: tokNumber, pos: start, text: text}
			return
		}
		p.tok = token{kind: tokWord, pos: start, text: text}
	}
}

func (p *parser) lexString() {
	start := p.off
	p.off++ // opening quote
	for p.off < len(p.src) {
		switch p.src[p.off] {
		case '\\':
			p.off += 2
			continue
		case '"':
			p.off++
			text := p.src[start:p.off]
			// An escape decodes to at least one byte for every six, so a
			// literal this long is refused without decoding it.
			if len(text)-2 > 6*MaxStringBytes {
				p.tok = token{kind: tokError, pos: start, text: tooLong()}
				return
			}
			var s string
			if err := json.Unmarshal([]byte(text), &s); err != nil {
				p.tok = token{kind: tokError, pos: start, text: "malformed string literal"}
				return
			}
			if len(s) > MaxStringBytes {
				p.tok = token{kind: tokError, pos: start, text: tooLong()}
				return
			}
			p.tok = token{kind: tokString, pos: start, text: text, val: s}
			return
		}
		p.off++
	}
	p.off = len(p.src)
	p.tok = token{kind: tokError, pos: start, text: "unterminated string literal"}
}

// tooLong returns the error of a string literal longer than MaxStringBytes.
func tooLong() string {
	return fmt.Sprintf("a string longer than %d bytes: filter values are at most %d bytes", MaxStringBytes, MaxStringBytes)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDelim(c byte) bool {
	return isSpace(c) || c == '(' || c == ')' || c == '[' || c == ']' || c == '"'
}

func (p *parser) isKeyword(word string) bool {
	return p.tok.kind == tokWord && strings.EqualFold(p.tok.text, word)
}

// parseOr parses a disjunction. parent is the attribute path of the
// enclosing value path, nil at the top level.
func (p *parser) parseOr(depth int, parent *AttrPath) (Expr, error) {
	left, err := p.parseAnd(depth, parent)
	if err != nil {
		return nil, err
	}
	for p.isKeyword("or") {
		p.next()
		right, err := p.parseAnd(depth, parent)
		if err != nil {
			return nil, err
		}
		left = &Or{left, right}
	}
	return left, nil
}

func (p *parser) parseAnd(depth int, parent *AttrPath) (Expr, error) {
	left, err := p.parseUnary(depth, parent)
	if err != nil {
		return nil, err
	}
	for p.isKeyword("and") {
		p.next()
		right, err := p.parseUnary(depth, parent)
		if err != nil {
			return nil, err
		}
		left = &And{left, right}
	}
	return left, nil
}

func (p *parser) parseUnary(depth int, parent *AttrPath) (Expr, error) {
	if depth >= maxDepth {
		return nil, p.errorf(p.tok.pos, "nested more than %d levels deep", maxDepth)
	}
	switch {
	case p.tok.kind == tokLParen:
		p.next()
		e, err := p.parseOr(depth+1, parent)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			return nil, p.errorf(p.tok.pos, "expected \")\", found %s", p.tok)
		}
		p.next()
		return e, nil
	case p.isKeyword("not"):
		pos := p.tok.pos
		p.next()
		if p.tok.kind != tokLParen {
			// RFC 7644 requires parentheses after not; "not" alone could
			// also be an attribute called not, so say what was expected.
			return nil, p.errorf(pos, "expected \"(\" after not, found %s", p.tok)
		}
		x, err := p.parseUnary(depth+1, parent)
		if err != nil {
			return nil, err
		}
		return &Not{x}, nil
	case p.tok.kind == tokWord:
		return p.parseAttrExpr(depth, parent)
	case p.tok.kind == tokEOF:
		return nil, p.errorf(p.tok.pos, "expected an attribute expression, found end of filter")
	default:
		return nil, p.errorf(p.tok.pos, "expected an attribute expression, found %s", p.tok)
	}
}

func (p *parser) parseAttrExpr(depth int, parent *AttrPath) (Expr, error) {
	pathTok := p.tok
	path, err := parseAttrPath(pathTok.text)
	if err != nil {
		return nil, p.errorf(pathTok.pos, "%v", err)
	}
	if parent != nil && (path.URN != "" || path.Sub != "") {
		return nil, p.errorf(pathTok.pos, "%q inside %s[...] must be a sub-attribute name", pathTok.text, parent)
	}
	p.next()
	if p.tok.kind == tokLBracket {
		if parent != nil {
			return nil, p.errorf(p.tok.pos, "value filters cannot be nested")
		}
		if path.Sub != "" {
			return nil, p.errorf(pathTok.pos, "a value filter applies to an attribute, not to the sub-attribute %q", pathTok.text)
		}
		p.next()
		inner, err := p.parseOr(depth+1, &path)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRBracket {
			return nil, p.errorf(p.tok.pos, "expected \"]\", found %s", p.tok)
		}
		p.next()
		// Entra ID: emails[type eq "work"].value eq "x".
		if p.tok.kind == tokWord && strings.HasPrefix(p.tok.text, ".") {
			subTok := p.tok
			sub := subTok.text[1:]
			if !schema.ValidName(sub) {
				return nil, p.errorf(subTok.pos, "invalid sub-attribute name %q", sub)
			}
			p.next()
			cmp, err := p.parseComparison(AttrPath{Name: sub})
			if err != nil {
				return nil, err
			}
			inner = &And{inner, cmp}
		}
		return &ValuePath{Attr: path, Filter: inner}, nil
	}
	return p.parseComparison(path)
}

// parseComparison parses the operator and value after an attribute path.
func (p *parser) parseComparison(path AttrPath) (Expr, error) {
	if p.comparisons++; p.comparisons > MaxComparisons {
		return nil, p.errorf(p.tok.pos, "more than %d comparisons", MaxComparisons)
	}
	if p.tok.kind != tokWord {
		return nil, p.errorf(p.tok.pos, "expected an operator after %s, found %s", path, p.tok)
	}
	op, ok := ops[strings.ToLower(p.tok.text)]
	if !ok {
		return nil, p.errorf(p.tok.pos, "unknown operator %s (want eq, ne, co, sw, ew, gt, ge, lt, le or pr)", p.tok)
	}
	p.next()
	if op == Pr {
		return &Compare{Attr: path, Op: Pr}, nil
	}
	v, err := p.parseValue()
	if err != nil {
		return nil, err
	}
	return &Compare{Attr: path, Op: op, Value: v}, nil
}

func (p *parser) parseValue() (any, error) {
	t := p.tok
	switch t.kind {
	case tokString:
		p.next()
		return t.val, nil
	case tokNumber:
		p.next()
		return parseNumber(t.text, func(msg string) error { return p.errorf(t.pos, "%s %s", msg, t) })
	case tokWord:
		var v any
		switch strings.ToLower(t.text) {
		case "true":
			v = true
		case "false":
			v = false
		case "null":
			v = nil
		default:
			return nil, p.errorf(t.pos, "expected a value (a quoted string, number, true, false or null), found %s", t)
		}
		p.next()
		return v, nil
	case tokError:
		return nil, p.errorf(t.pos, "%s", t.text)
	case tokEOF:
		return nil, p.errorf(t.pos, "expected a value, found end of filter")
	}
	return nil, p.errorf(t.pos, "expected a value, found %s", t)
}

// parseNumber decodes a JSON number: int64 when it has no fraction or
// exponent and fits, float64 otherwise.
func parseNumber(text string, fail func(string) error) (any, error) {
	if !json.Valid([]byte(text)) {
		return nil, fail("malformed number")
	}
	if !strings.ContainsAny(text, ".eE") {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n, nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil, fail("number out of range")
	}
	return f, nil
}

// parseAttrPath splits "urn:...:name.sub" into its parts and checks each
// name's syntax.
func parseAttrPath(text string) (AttrPath, error) {
	var path AttrPath
	rest := text
	if len(text) >= 4 && strings.EqualFold(text[:4], "urn:") {
		i := strings.LastIndexByte(text, ':')
		path.URN, rest = text[:i], text[i+1:]
		if rest == "" {
			return path, fmt.Errorf("%q names a schema, not an attribute", text)
		}
	}
	name, sub, hasSub := strings.Cut(rest, ".")
	if !schema.ValidName(name) || hasSub && !schema.ValidName(sub) {
		return path, fmt.Errorf("invalid attribute path %q", text)
	}
	path.Name, path.Sub = name, sub
	return path, nil
}
