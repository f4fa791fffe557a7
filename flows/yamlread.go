package flows

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Limits that keep a broken or hostile file from making the YAML reader slow or hungry: its
// cost grows much faster than the file for deeply nested brackets. Real scripts are a few
// kilobytes long and a few brackets deep.
const (
	maxFileSize = 128 << 10
	maxNesting  = 64
)

// yamlReader reads one YAML file into an AST and then reads values out of it strictly: a
// value of the wrong kind, an unknown field or a repeated key becomes a Problem at its
// place in the file. The flow parser and the test-file parser share it, so both report the
// same mistakes in the same words.
type yamlReader struct {
	file     string
	lineLens []int // characters per line, to keep every position inside the file
	probs    Problems
}

// entry is one "key: value" of a mapping.
type entry struct {
	key    string
	keyPos Pos
	value  ast.Node // nil or *ast.NullNode when nothing was written after the colon
}

// pair is one "name: value" of a mapping of names to single values (assign, vars).
type pair struct {
	key      string
	keyPos   Pos
	value    string
	valuePos Pos
}

// shape describes a mapping of named fields, for reading it and for the messages about it.
type shape struct {
	name   string   // this mapping, e.g. `node "welcome"`
	kind   string   // any mapping of its kind, e.g. "a node"
	fields []string // the fields it may have, in the order the guide lists them
}

// readYAML parses src as one YAML document. It returns the document's root (nil for an
// empty document) and ok=false when the file could not be read at all; the reader then
// holds the reason.
func readYAML(file string, src []byte) (r *yamlReader, root ast.Node, ok bool) {
	// Until the file is known to be small enough to read, line 1 is the only place known.
	r = &yamlReader{file: file, lineLens: []int{0}}
	if len(src) > maxFileSize {
		r.probs.add(r.at(1, 1), "the file is larger than %d KB; a script is normally a few KB, so check that this is the right file", maxFileSize>>10)
		return r, nil, false
	}
	// Editors on Windows may start a file with a byte order mark; editors do not count it
	// as a column, so neither do we.
	src = bytes.TrimPrefix(src, []byte("\uFEFF"))
	// The YAML parser miscounts lines and columns after a Windows line end (CR LF); an
	// editor shows the same places either way, so read every line end as LF.
	src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	r.lineLens = lineLengths(src)

	if !utf8.Valid(src) {
		r.probs.add(r.offsetPos(src, firstInvalidUTF8(src)), "the file contains a character that is not UTF-8 text here: save the file as UTF-8 (the usual setting in any editor)")
		return r, nil, false
	}
	if off := tooDeep(src); off >= 0 {
		r.probs.add(r.offsetPos(src, off), "brackets are nested more than %d deep here: check for a missing closing bracket ] or }", maxNesting)
		return r, nil, false
	}

	f, err := parseYAML(src)
	if err != nil {
		var yerr yaml.Error
		if errors.As(err, &yerr) {
			r.probs.add(r.tokenPos(yerr.GetToken()), "this is not valid YAML (%s): check the indentation, colons, quotes and brackets here", yerr.GetMessage())
		} else {
			r.probs.add(r.at(1, 1), "the file could not be read as YAML (%v): check it for unusual characters", err)
		}
		return r, nil, false
	}
	if len(f.Docs) > 1 {
		second := f.Docs[1]
		pos := r.at(len(r.lineLens), 1) // the last line, if the parser has no better place
		if second != nil && second.Start != nil {
			pos = r.tokenPos(second.Start)
		} else if second != nil && second.Body != nil {
			pos = r.pos(second.Body)
		}
		r.probs.add(pos, "a second document starts here (after ---): keep one script per file, so remove this part or move it to a file of its own")
		return r, nil, false
	}
	if len(f.Docs) == 0 || f.Docs[0] == nil {
		return r, nil, true
	}
	return r, f.Docs[0].Body, true
}

// parseYAML runs the YAML parser, turning a panic inside it into an error: the parser is
// third-party code and a broken file must never take the service down.
func parseYAML(src []byte) (f *ast.File, err error) {
	defer func() {
		if v := recover(); v != nil {
			f, err = nil, fmt.Errorf("yaml parser failed: %v", v)
		}
	}()
	// Duplicate keys are allowed here only so that we report them ourselves, in plain words
	// and together with every other problem.
	return parser.ParseBytes(src, 0, parser.AllowDuplicateMapKey())
}

// lineLengths counts the characters of each line; a file always has at least one line.
func lineLengths(src []byte) []int {
	lines := strings.Split(string(src), "\n")
	lens := make([]int, len(lines))
	for i, l := range lines {
		lens[i] = utf8.RuneCountInString(strings.TrimSuffix(l, "\r"))
	}
	return lens
}

// firstInvalidUTF8 returns the offset of the first byte that is not valid UTF-8.
func firstInvalidUTF8(src []byte) int {
	for off := 0; off < len(src); {
		r, size := utf8.DecodeRune(src[off:])
		if r == utf8.RuneError && size == 1 {
			return off
		}
		off += size
	}
	return len(src)
}

// tooDeep returns the offset where flow brackets ([ and {) nest deeper than maxNesting, or
// -1. It ignores quoting on purpose: a script has no reason to hold that many brackets even
// inside quotes, and the check must stay simple and fast.
func tooDeep(src []byte) int {
	depth := 0
	for off, c := range src {
		switch c {
		case '[', '{':
			depth++
			if depth > maxNesting {
				return off
			}
		case ']', '}':
			depth = max(0, depth-1)
		}
	}
	return -1
}

// at returns a position, moved inside the file if the YAML parser pointed past it (it
// does so for errors at the end of the file).
func (r *yamlReader) at(line, col int) Pos {
	line = max(1, min(line, len(r.lineLens)))
	col = max(1, min(col, r.lineLens[line-1]+1))
	return Pos{File: r.file, Line: line, Col: col}
}

// offsetPos returns the position of a byte offset into src.
func (r *yamlReader) offsetPos(src []byte, off int) Pos {
	before := string(src[:min(off, len(src))])
	line := strings.Count(before, "\n") + 1
	col := utf8.RuneCountInString(before[strings.LastIndex(before, "\n")+1:]) + 1
	return r.at(line, col)
}

// tokenPos returns the position of a token.
func (r *yamlReader) tokenPos(tk *token.Token) Pos {
	if tk == nil || tk.Position == nil {
		return r.at(1, 1)
	}
	return r.at(tk.Position.Line, tk.Position.Column)
}

// pos returns where a node starts as a reader sees it: a block mapping starts at its first
// key (the parser would point at the first colon), everything else at its first token.
func (r *yamlReader) pos(n ast.Node) Pos {
	if n == nil {
		return r.at(1, 1)
	}
	if m, ok := n.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 && m.Values[0] != nil && m.Values[0].Key != nil {
		return r.pos(m.Values[0].Key)
	}
	if mv, ok := n.(*ast.MappingValueNode); ok && mv.Key != nil {
		return r.pos(mv.Key)
	}
	return r.tokenPos(n.GetToken())
}

// isNull reports whether nothing (or null, or ~) was written.
func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}

// plain returns n unless it uses a YAML feature scripts do not support: anchors, aliases
// and tags make a file harder to read for the next person and let a small file expand
// into a huge one, so they are refused with a plain explanation.
func (r *yamlReader) plain(n ast.Node) (ast.Node, bool) {
	switch n.(type) {
	case *ast.AnchorNode:
		r.probs.add(r.pos(n), "anchors (&name) are not supported in scripts: write the value out in full")
		return nil, false
	case *ast.AliasNode:
		r.probs.add(r.pos(n), "aliases (*name) are not supported in scripts: write the value out in full")
		return nil, false
	case *ast.TagNode:
		r.probs.add(r.pos(n), "tags (words starting with !) are not supported in scripts: remove the tag")
		return nil, false
	}
	return n, true
}

// scalarText returns a single value as the text that was written, so "next: 12" and
// "value: yes" read as the names 12 and yes rather than a number and a truth value.
func scalarText(n ast.Node) (string, bool) {
	switch n := n.(type) {
	case *ast.StringNode:
		return n.Value, true
	case *ast.LiteralNode:
		if n.Value == nil {
			return "", true
		}
		return n.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		if tk := n.GetToken(); tk != nil {
			return tk.Value, true
		}
	}
	return "", false
}

// entries returns the "key: value" entries of a mapping in file order. Nothing written
// reads as an empty mapping. A repeated key is reported and left out; wrongKind is the
// message for a value that is not a mapping at all; keyNoun names the keys in messages.
func (r *yamlReader) entries(n ast.Node, keyNoun, wrongKind string) ([]entry, bool) {
	n, ok := r.plain(n)
	if !ok {
		return nil, false
	}
	var values []*ast.MappingValueNode
	switch m := n.(type) {
	case nil, *ast.NullNode:
		return nil, true
	case *ast.MappingNode:
		values = m.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{m}
	default:
		r.probs.add(r.pos(n), "%s", wrongKind)
		return nil, false
	}

	var out []entry
	first := map[string]Pos{}
	for _, mv := range values {
		if mv == nil || mv.Key == nil {
			continue
		}
		key, ok := r.keyText(mv.Key)
		if !ok {
			continue
		}
		keyPos := r.pos(mv.Key)
		if at, dup := first[key]; dup {
			r.probs.add(keyPos, "%s %q appears twice (first at line %d): remove or rename this one", keyNoun, key, at.Line)
			continue
		}
		first[key] = keyPos
		out = append(out, entry{key: key, keyPos: keyPos, value: mv.Value})
	}
	return out, true
}

// keyText returns a key as a plain name, reporting keys that are not one.
func (r *yamlReader) keyText(k ast.MapKeyNode) (string, bool) {
	n, ok := r.plain(k)
	if !ok {
		return "", false
	}
	switch n.(type) {
	case *ast.MergeKeyNode:
		r.probs.add(r.pos(n), "merging with << is not supported in scripts: write the fields out in full")
		return "", false
	case *ast.MappingKeyNode:
		r.probs.add(r.pos(n), "keys starting with ? are not supported in scripts: write a plain name followed by a colon")
		return "", false
	}
	if s, ok := scalarText(n); ok && s != "" {
		return s, true
	}
	r.probs.add(r.pos(n), "a name is missing before the colon here: write a plain name, like say:")
	return "", false
}

// fields reads a mapping of named fields and reports fields the shape does not have.
func (r *yamlReader) fields(n ast.Node, s shape) (map[string]entry, bool) {
	wrong := fmt.Sprintf("%s must be a set of fields (%s), each written as name: value", s.name, strings.Join(s.fields, ", "))
	es, ok := r.entries(n, "field", wrong)
	out := make(map[string]entry, len(es))
	for _, e := range es {
		if !slices.Contains(s.fields, e.key) {
			r.probs.add(e.keyPos, "unknown field %q in %s%s; %s can have: %s",
				e.key, s.name, didYouMean(e.key, s.fields), s.kind, strings.Join(s.fields, ", "))
			continue
		}
		out[e.key] = e
	}
	return out, ok
}

// text reads a single value, like "next: category"; example is a good value for messages.
func (r *yamlReader) text(e entry, example string) (string, Pos, bool) {
	v, ok := r.plain(e.value)
	if !ok {
		return "", Pos{}, false
	}
	if isNull(v) {
		r.probs.add(e.keyPos, "%q is empty: write a value, like %s: %s, or remove the line", e.key, e.key, example)
		return "", Pos{}, false
	}
	s, ok := scalarText(v)
	if !ok {
		r.probs.add(r.pos(v), "%q must be a single value, like %s: %s", e.key, e.key, example)
		return "", Pos{}, false
	}
	if s == "" {
		r.probs.add(r.pos(v), "%q is empty: write a value, like %s: %s, or remove the line", e.key, e.key, example)
		return "", Pos{}, false
	}
	return s, r.pos(v), true
}

// number reads a whole number, like "version: 3".
func (r *yamlReader) number(e entry, example string) (int, bool) {
	v, ok := r.plain(e.value)
	if !ok {
		return 0, false
	}
	if isNull(v) {
		r.probs.add(e.keyPos, "%q is empty: write a whole number, like %s: %s", e.key, e.key, example)
		return 0, false
	}
	if in, isInt := v.(*ast.IntegerNode); isInt {
		// The parser holds non-negative numbers as uint64 and negative ones as int64.
		switch n := in.Value.(type) {
		case uint64:
			if n <= math.MaxInt32 {
				return int(n), true
			}
		case int64:
			if n >= math.MinInt32 {
				return int(n), true
			}
		}
	}
	r.probs.add(r.pos(v), "%q must be a whole number, like %s: %s", e.key, e.key, example)
	return 0, false
}

// textList reads a list of single values, like "say: [welcome.hello, welcome.privacy]".
// Nothing written reads as an empty list. An item "" is refused unless allowEmpty (a test
// may send an empty message; a script never names an empty message or node). A single value is refused rather than read as a
// list of one: "say: hello" is more often a mistake than a shortcut, and one way of
// writing lists keeps scripts alike.
func (r *yamlReader) textList(e entry, example string, allowEmpty bool) ([]string, []Pos, bool) {
	v, ok := r.plain(e.value)
	if !ok {
		return nil, nil, false
	}
	seq, isSeq := v.(*ast.SequenceNode)
	switch {
	case isNull(v):
		return nil, nil, true
	case !isSeq:
		item := example
		if s, ok := scalarText(v); ok && s != "" && len(s) <= 40 && !strings.ContainsAny(s, " ,:[]{}#\"'\n") {
			item = s
		}
		r.probs.add(r.pos(v), "%q must be a list, even with one item: write %s: [%s]", e.key, e.key, item)
		return nil, nil, false
	}

	var texts []string
	var positions []Pos
	ok = true
	for _, raw := range seq.Values {
		item, plain := r.plain(raw)
		if !plain {
			ok = false
			continue
		}
		if isNull(item) {
			r.probs.add(r.itemPos(seq, item), "an item of %q is empty: write a value or remove the empty item", e.key)
			ok = false
			continue
		}
		s, isText := scalarText(item)
		if !isText {
			r.probs.add(r.pos(item), "each item of %q must be a single value, like %s", e.key, example)
			ok = false
			continue
		}
		if s == "" && !allowEmpty {
			r.probs.add(r.pos(item), "an item of %q is empty: write a value or remove the empty item", e.key)
			ok = false
			continue
		}
		texts = append(texts, s)
		positions = append(positions, r.pos(item))
	}
	return texts, positions, ok
}

// itemPos returns where an empty list item is; the parser has no token for it.
func (r *yamlReader) itemPos(seq *ast.SequenceNode, item ast.Node) Pos {
	if item != nil {
		return r.pos(item)
	}
	return r.pos(seq)
}

// list reads a list whose items the caller reads further, like options or tests. Nothing
// written reads as an empty list.
func (r *yamlReader) list(e entry) ([]ast.Node, bool) {
	v, ok := r.plain(e.value)
	if !ok {
		return nil, false
	}
	if isNull(v) {
		return nil, true
	}
	seq, isSeq := v.(*ast.SequenceNode)
	if !isSeq {
		r.probs.add(r.pos(v), "%q must be a list: start each item on a new line with - (a dash and a space)", e.key)
		return nil, false
	}
	return seq.Values, true
}

// pairs reads a mapping of names to single values, like "assign: {faculty: unknown}". A
// name with nothing after the colon reads as "" (no answer).
func (r *yamlReader) pairs(e entry, keyNoun, example string) ([]pair, bool) {
	wrong := fmt.Sprintf("%q must be pairs of name and value, like %s: {%s}", e.key, e.key, example)
	es, ok := r.entries(e.value, keyNoun, wrong)
	var out []pair
	for _, pe := range es {
		v, plain := r.plain(pe.value)
		if !plain {
			ok = false
			continue
		}
		if isNull(v) {
			out = append(out, pair{key: pe.key, keyPos: pe.keyPos, valuePos: pe.keyPos})
			continue
		}
		s, isText := scalarText(v)
		if !isText {
			r.probs.add(r.pos(v), "the value of %q in %q must be a single value, like %s", pe.key, e.key, example)
			ok = false
			continue
		}
		out = append(out, pair{key: pe.key, keyPos: pe.keyPos, value: s, valuePos: r.pos(v)})
	}
	return out, ok
}
