package redis

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"intake/bot"
)

// decodeRecord decodes a registry record as json.Unmarshal would, several times faster
// for the records intake writes. encoding/json spends about 7 µs on one (reflection and
// a map per record), which makes a year of 100,000 records take most of a second to
// read; the statistics read whole years. The fast path understands exactly the shape
// bot.Record is stored in — an object with "y" and "m" as small unsigned integers,
// "ch", "kind" and "followup" as strings, and "f" as an object of strings (or null) —
// with strings that need no unescaping; anything else (an escape such as cjson's "\/",
// another key, a repeated key, a float) goes to json.Unmarshal, so the result is the
// same either way (FuzzDecodeRecord checks that).
//
// intern, when not nil, keeps one copy of each string: a year's records repeat a few
// dozen codes, so sharing them saves most of the allocations.
func decodeRecord(b string, r *bot.Record, intern map[string]string) error {
	if fastRecord(b, r, intern) {
		return nil
	}
	*r = bot.Record{}
	return json.Unmarshal([]byte(b), r)
}

// maxIntern bounds the intern table, should some field hold many different strings.
const maxIntern = 4096

// errSlow leaves the fast path.
var errSlow = errors.New("not on the fast path")

// fastRecord is the fast path of decodeRecord; false when the input is not its shape
// (r is then garbage).
func fastRecord(b string, r *bot.Record, intern map[string]string) bool {
	*r = bot.Record{}
	p := &scan{b: b, intern: intern}
	if p.byte('{') != nil {
		return false
	}
	var seen [6]bool
	if p.peek() == '}' {
		p.i++
		return p.end()
	}
	for {
		key, err := p.str()
		if err != nil || p.byte(':') != nil {
			return false
		}
		slot := -1
		switch key {
		case "y":
			slot = 0
			r.Year, err = p.uint()
		case "m":
			slot = 1
			r.Month, err = p.uint()
		case "ch":
			slot = 2
			r.Channel, err = p.str()
		case "kind":
			slot = 3
			r.Kind, err = p.str()
		case "followup":
			slot = 4
			r.FollowUp, err = p.str()
		case "f":
			slot = 5
			r.Fields, err = p.fields()
		}
		if slot < 0 || err != nil || seen[slot] {
			return false
		}
		seen[slot] = true
		switch p.next() {
		case ',':
			continue
		case '}':
			return p.end()
		}
		return false
	}
}

// scan reads JSON bytes.
type scan struct {
	b      string
	i      int
	intern map[string]string
}

func (p *scan) skipSpace() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

// peek returns the next byte after space, 0 at the end.
func (p *scan) peek() byte {
	p.skipSpace()
	if p.i >= len(p.b) {
		return 0
	}
	return p.b[p.i]
}

// next consumes and returns the next byte after space.
func (p *scan) next() byte {
	c := p.peek()
	if c != 0 {
		p.i++
	}
	return c
}

func (p *scan) byte(c byte) error {
	if p.next() != c {
		return errSlow
	}
	return nil
}

// end reports whether only space is left.
func (p *scan) end() bool {
	p.skipSpace()
	return p.i == len(p.b)
}

// str reads a string without escapes, in valid UTF-8.
func (p *scan) str() (string, error) {
	if p.byte('"') != nil {
		return "", errSlow
	}
	start := p.i
	ascii := true
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !ascii && !utf8.ValidString(s) {
				return "", errSlow // json.Unmarshal would replace the bad bytes
			}
			if v, ok := p.intern[s]; ok {
				return v, nil
			}
			// A copy, so the record does not keep the whole reply alive.
			v := strings.Clone(s)
			if p.intern != nil && len(p.intern) < maxIntern {
				p.intern[v] = v
			}
			return v, nil
		case c == '\\' || c < 0x20:
			return "", errSlow
		case c >= 0x80:
			ascii = false
		}
		p.i++
	}
	return "", errSlow
}

// uint reads a small unsigned integer as JSON writes it (no leading zero).
func (p *scan) uint() (int, error) {
	p.skipSpace()
	start, n := p.i, 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' && p.i-start < 9 {
		n = n*10 + int(p.b[p.i]-'0')
		p.i++
	}
	digits := p.i - start
	if digits == 0 || (digits > 1 && p.b[start] == '0') {
		return 0, errSlow
	}
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case ',', '}', ' ', '\t', '\n', '\r':
		default:
			return 0, errSlow // more digits, a fraction or an exponent
		}
	}
	return n, nil
}

// fields reads an object of strings, or null.
func (p *scan) fields() (map[string]string, error) {
	if p.peek() == 'n' {
		if strings.HasPrefix(p.b[p.i:], "null") {
			p.i += 4
			return nil, nil
		}
		return nil, errSlow
	}
	if p.byte('{') != nil {
		return nil, errSlow
	}
	m := make(map[string]string, 8)
	if p.peek() == '}' {
		p.i++
		return m, nil
	}
	for {
		k, err := p.str()
		if err != nil || p.byte(':') != nil {
			return nil, errSlow
		}
		v, err := p.str()
		if err != nil {
			return nil, errSlow
		}
		if _, dup := m[k]; dup {
			return nil, errSlow
		}
		m[k] = v
		switch p.next() {
		case ',':
			continue
		case '}':
			return m, nil
		}
		return nil, errSlow
	}
}
