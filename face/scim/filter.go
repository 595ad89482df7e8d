// Package scim is the SCIM 2.0 face (RFC 7643, RFC 7644). This file holds the filter
// language of RFC 7644 §3.4.2.2, parsed into an expression tree over SCIM attribute
// paths; the face maps those onto canonical fields for the stores to run in SQL.
package scim

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Filter is a parsed filter expression: *Compare, *Present, *Logical, *Not or *ValuePath.
type Filter interface{ filter() }

// AttrPath names an attribute: [URN ":"] name ["." sub]. Names keep the case they were
// written in; SCIM compares them case-insensitively.
type AttrPath struct {
	URN  string // the schema URN when given, e.g. urn:ietf:params:scim:schemas:core:2.0:User
	Name string
	Sub  string // sub-attribute, e.g. "value" in emails.value
}

func (p AttrPath) String() string {
	s := p.Name
	if p.URN != "" {
		s = p.URN + ":" + s
	}
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}

// Operators of attribute comparisons, lower case.
const (
	OpEq = "eq"
	OpNe = "ne"
	OpCo = "co"
	OpSw = "sw"
	OpEw = "ew"
	OpGt = "gt"
	OpGe = "ge"
	OpLt = "lt"
	OpLe = "le"
)

var compareOps = map[string]bool{OpEq: true, OpNe: true, OpCo: true, OpSw: true, OpEw: true, OpGt: true, OpGe: true, OpLt: true, OpLe: true}

// Compare is attrPath compareOp compValue. Value is a string, a json.Number, a bool or
// nil (null).
type Compare struct {
	Attr  AttrPath
	Op    string
	Value any
}

// Present is attrPath "pr".
type Present struct{ Attr AttrPath }

// Logical is Left "and"/"or" Right.
type Logical struct {
	Op          string // "and" or "or"
	Left, Right Filter
}

// Not is "not" "(" Filter ")".
type Not struct{ Filter Filter }

// ValuePath is attrPath "[" Filter "]": the filter applies to each value of a
// multi-valued complex attribute, its attribute paths relative to that value.
type ValuePath struct {
	Attr   AttrPath
	Filter Filter
}

// String renders the filter back in SCIM syntax, every compound expression in
// parentheses, so that a test can see how it was grouped.
func (c *Compare) String() string {
	v, _ := json.Marshal(c.Value)
	return c.Attr.String() + " " + c.Op + " " + string(v)
}
func (p *Present) String() string { return p.Attr.String() + " pr" }
func (l *Logical) String() string {
	return "(" + fmt.Sprint(l.Left) + " " + l.Op + " " + fmt.Sprint(l.Right) + ")"
}
func (n *Not) String() string       { return "not (" + fmt.Sprint(n.Filter) + ")" }
func (v *ValuePath) String() string { return v.Attr.String() + "[" + fmt.Sprint(v.Filter) + "]" }

func (*Compare) filter()   {}
func (*Present) filter()   {}
func (*Logical) filter()   {}
func (*Not) filter()       {}
func (*ValuePath) filter() {}

// FilterError is a filter that does not parse: SCIM's invalidFilter.
type FilterError struct {
	Pos int // byte offset in the filter
	Msg string
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("invalid filter at character %d: %s", e.Pos+1, e.Msg)
}

// maxFilterDepth bounds nesting, so that a hostile filter cannot exhaust the stack.
const maxFilterDepth = 50

// ParseFilter parses a filter expression. "and" binds tighter than "or"; parentheses
// group; keywords and operators are case-insensitive.
func ParseFilter(s string) (Filter, error) {
	if !utf8.ValidString(s) {
		return nil, &FilterError{0, "the filter is not valid UTF-8"}
	}
	p := &parser{src: s}
	f, err := p.or(0, false)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.src) {
		return nil, p.fail("unexpected %q", p.rest(12))
	}
	return f, nil
}

type parser struct {
	src string
	pos int
}

func (p *parser) fail(format string, args ...any) error {
	return &FilterError{p.pos, fmt.Sprintf(format, args...)}
}

func (p *parser) rest(n int) string {
	r := p.src[p.pos:]
	if len(r) > n {
		r = r[:n] + "…"
	}
	return r
}

func (p *parser) space() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
}

// keyword consumes word (case-insensitively) if it comes next, followed by a space,
// "(" or the end.
func (p *parser) keyword(word string) bool {
	p.space()
	end := p.pos + len(word)
	if end > len(p.src) || !strings.EqualFold(p.src[p.pos:end], word) {
		return false
	}
	if end < len(p.src) && p.src[end] != ' ' && p.src[end] != '(' {
		return false
	}
	p.pos = end
	return true
}

// or parses Filter ("or" Filter)*; inValue is true inside a value path's brackets.
func (p *parser) or(depth int, inValue bool) (Filter, error) {
	if depth > maxFilterDepth {
		return nil, p.fail("the filter nests deeper than %d levels", maxFilterDepth)
	}
	left, err := p.and(depth, inValue)
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		right, err := p.and(depth, inValue)
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: "or", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) and(depth int, inValue bool) (Filter, error) {
	left, err := p.unary(depth, inValue)
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		right, err := p.unary(depth, inValue)
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: "and", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) unary(depth int, inValue bool) (Filter, error) {
	p.space()
	if p.keyword("not") {
		p.space()
		if p.pos >= len(p.src) || p.src[p.pos] != '(' {
			return nil, p.fail(`"not" must be followed by "("`)
		}
		inner, err := p.group(depth, inValue)
		if err != nil {
			return nil, err
		}
		return &Not{Filter: inner}, nil
	}
	if p.pos < len(p.src) && p.src[p.pos] == '(' {
		return p.group(depth, inValue)
	}
	return p.attrExp(depth, inValue)
}

// group parses "(" Filter ")".
func (p *parser) group(depth int, inValue bool) (Filter, error) {
	p.pos++ // "("
	f, err := p.or(depth+1, inValue)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos >= len(p.src) || p.src[p.pos] != ')' {
		return nil, p.fail(`expected ")"`)
	}
	p.pos++
	return f, nil
}

// attrExp parses attrPath "pr", attrPath op value, or attrPath "[" valFilter "]".
func (p *parser) attrExp(depth int, inValue bool) (Filter, error) {
	start := p.pos
	attr, err := p.attrPath()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.src) && p.src[p.pos] == '[' {
		if inValue {
			return nil, p.fail("a value filter cannot hold another")
		}
		if attr.Sub != "" {
			p.pos = start
			return nil, p.fail("a value filter applies to an attribute, not a sub-attribute")
		}
		p.pos++
		inner, err := p.or(depth+1, true)
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.src) || p.src[p.pos] != ']' {
			return nil, p.fail(`expected "]"`)
		}
		p.pos++
		return &ValuePath{Attr: attr, Filter: inner}, nil
	}
	if p.pos >= len(p.src) || p.src[p.pos] != ' ' {
		return nil, p.fail("expected an operator after %s", attr)
	}
	p.space()
	opStart := p.pos
	for p.pos < len(p.src) && p.src[p.pos] != ' ' && p.src[p.pos] != ')' && p.src[p.pos] != ']' {
		p.pos++
	}
	op := strings.ToLower(p.src[opStart:p.pos])
	if op == "pr" {
		return &Present{Attr: attr}, nil
	}
	if !compareOps[op] {
		p.pos = opStart
		return nil, p.fail("unknown operator %q", op)
	}
	if p.pos >= len(p.src) || p.src[p.pos] != ' ' {
		return nil, p.fail("expected a value after %q", op)
	}
	p.space()
	value, err := p.value()
	if err != nil {
		return nil, err
	}
	return &Compare{Attr: attr, Op: op, Value: value}, nil
}

func isNameChar(c byte) bool {
	return c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// validName is RFC 7643's ATTRNAME: ALPHA *(nameChar).
func validName(n string) bool {
	if n == "" || !isAlpha(n[0]) {
		return false
	}
	for i := 1; i < len(n); i++ {
		if !isNameChar(n[i]) {
			return false
		}
	}
	return true
}

// attrPath parses [URN ":"] ATTRNAME ["." ATTRNAME]. A URN runs to the last ":" of the
// path; it may hold dots ("…:enterprise:2.0:User").
func (p *parser) attrPath() (AttrPath, error) {
	p.space()
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == ' ' || c == '[' || c == ']' || c == '(' || c == ')' {
			break
		}
		p.pos++
	}
	text := p.src[start:p.pos]
	if text == "" {
		return AttrPath{}, p.fail("expected an attribute name")
	}
	var path AttrPath
	name := text
	if i := strings.LastIndexByte(text, ':'); i >= 0 {
		path.URN, name = text[:i], text[i+1:]
		if !strings.HasPrefix(strings.ToLower(path.URN), "urn:") {
			p.pos = start
			return AttrPath{}, p.fail("%q is not a schema URN", path.URN)
		}
	}
	var hasSub bool
	path.Name, path.Sub, hasSub = strings.Cut(name, ".")
	if !validName(path.Name) || hasSub && !validName(path.Sub) {
		p.pos = start
		return AttrPath{}, p.fail("%q is not an attribute path", text)
	}
	return path, nil
}

// value parses compValue: false / null / true / number / string (JSON syntax).
func (p *parser) value() (any, error) {
	start := p.pos
	if p.pos < len(p.src) && p.src[p.pos] == '"' {
		p.pos++
		for p.pos < len(p.src) && p.src[p.pos] != '"' {
			if p.src[p.pos] == '\\' {
				p.pos++
			}
			p.pos++
		}
		if p.pos >= len(p.src) {
			p.pos = start
			return nil, p.fail("unterminated string")
		}
		p.pos++
		var s string
		if err := json.Unmarshal([]byte(p.src[start:p.pos]), &s); err != nil {
			p.pos = start
			return nil, p.fail("invalid string %s", p.src[start:p.pos])
		}
		return s, nil
	}
	for p.pos < len(p.src) && p.src[p.pos] != ' ' && p.src[p.pos] != ')' && p.src[p.pos] != ']' {
		p.pos++
	}
	word := p.src[start:p.pos]
	switch strings.ToLower(word) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	var n json.Number
	if word != "" && json.Unmarshal([]byte(word), &n) == nil {
		return n, nil
	}
	p.pos = start
	return nil, p.fail("expected a string, number, true, false or null, not %q", word)
}
