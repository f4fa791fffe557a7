package flows

import (
	"math/bits"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// How a message is matched against the crisis phrases. The support officer's version of
// these rules is in README.md ("Crisis phrases"); keep the two in step.
//
//  1. Text is compared as words. Case and accents do not count ("Méér" is "meer"): the text
//     is decomposed (NFKD, which also splits ligatures such as the Dutch ĳ) and accent
//     marks are dropped. Punctuation, emoji and spacing only separate words; apostrophes
//     are dropped, so "can't" is the word "cant" and "m'n" is "mn"; a hyphen separates
//     words, so "self-harm" is "self harm".
//  2. A letter typed several times in a row counts once, in the message and in the phrase
//     alike: "leeeeven" is "leven", and "zelfmoord" is compared as "zelfmord", so a
//     student who drops a doubled letter still matches.
//  3. A phrase word of five or more letters (a doubled letter counting once) also matches a
//     word one typing mistake away: one letter missing, added, changed, or two neighbours
//     swapped (Damerau–Levenshtein distance 1). Shorter words must match exactly, because
//     one mistake turns them into other common words of both languages (die/did/dye,
//     kill/will/fill, dood/door/doof, wil/wel/wij, me/my/we), while a single mistake in a
//     longer word mostly makes a non-word, and the other words of the phrase must match
//     too. Most typing mistakes are a single one of these edits (Damerau, 1964).
//  4. A word ending in * matches every word that starts with it ("zelfmoord*" matches
//     zelfmoordgedachten), exactly: Dutch glues words together, and a list of every
//     compound would never be complete. At least five letters must come before the *:
//     "dood*" would match doodmoe, doodsbang and doodnormaal.
//  5. The words of a phrase must appear in order, with at most one other word between two
//     of them: "ik wil niet meer leven" matches "ik wil echt niet meer leven", not "ik wil
//     niet meer in dat huis leven".
//  6. An exception (except:) is matched by the same rules but without typing mistakes, so
//     it cancels no more than it says. A phrase found where it shares a word of the message
//     with an exception does not count; the same phrase elsewhere in the message still
//     does.
//
// Everything that depends on the phrases is computed once, when the file is parsed: the
// normalized words; an index of the words that allow a mistake by their first two and
// their last two letters (so a message word is compared only with the few phrase words
// that share an end with it, never with all of them); and for each word the phrases that
// start with it. Matching a message is then one pass over its words with a few map
// lookups each, and a phrase is tried only where its first word is found.

// Limits of the phrase language.
const (
	maxPhraseWords = 16 // every way a phrase can match fits in a 64-bit set of offsets
	minFuzzyLen    = 5  // letters, a doubled letter counting once
	minPrefixLen   = 5  // letters before a *, as written
)

type wordMode uint8

const (
	modeExact  wordMode = iota // short phrase words and every exception word
	modeFuzzy                  // phrase words of minFuzzyLen letters or more
	modePrefix                 // words ending in *
)

// cword is one distinct word of the phrases and exceptions, as compared.
type cword struct {
	text string // normalized and collapsed, without the *
	mode wordMode
}

// fuzzyWord is a fuzzy word in the index, with its length in runes to skip most
// candidates before comparing them.
type fuzzyWord struct {
	id    int32
	runes int32
}

// cphrase is one compiled phrase or exception.
type cphrase struct {
	text  string // as written
	lang  string // the list it is in
	pos   Pos
	words []int32 // word ids, in order
}

// crisisMatcher holds everything Match needs, computed once.
type crisisMatcher struct {
	words []cword
	exact map[string][]int32 // text -> exact and fuzzy words with exactly that text
	// A word one mistake away from a fuzzy word of five or more letters has the same first
	// two or the same last two letters: one mistake cannot touch both ends. So fuzzy words
	// are indexed by both, and a message word is compared only with the few that share
	// one of its ends.
	fuzzyStart, fuzzyEnd map[uint64][]fuzzyWord
	prefixes             [256][]int32 // first byte -> prefix words
	maxFuzzy             int          // longest fuzzy word, in bytes

	phrases, excepts        []cphrase
	byFirst, exceptsByFirst [][]int32 // word id -> phrases (exceptions) starting with it

	probs Problems // what Check reports about the phrases themselves
}

// compileCrisis turns the phrases and exceptions of c into a matcher, noting what is wrong
// with any of them for Check.
func compileCrisis(c *Crisis) *crisisMatcher {
	m := &crisisMatcher{exact: map[string][]int32{}, fuzzyStart: map[uint64][]fuzzyWord{}, fuzzyEnd: map[uint64][]fuzzyWord{}}
	ids := map[cword]int32{}
	intern := func(w cword) int32 {
		if id, ok := ids[w]; ok {
			return id
		}
		id := int32(len(m.words))
		ids[w] = id
		m.words = append(m.words, w)
		switch w.mode {
		case modePrefix:
			m.prefixes[w.text[0]] = append(m.prefixes[w.text[0]], id)
		case modeFuzzy:
			m.maxFuzzy = max(m.maxFuzzy, len(w.text))
			start, end := ends(w.text)
			fw := fuzzyWord{id: id, runes: int32(utf8.RuneCountInString(w.text))}
			m.fuzzyStart[start] = append(m.fuzzyStart[start], fw)
			m.fuzzyEnd[end] = append(m.fuzzyEnd[end], fw)
			fallthrough
		default:
			m.exact[w.text] = append(m.exact[w.text], id)
		}
		return id
	}
	compile := func(lists map[string][]Phrase, kind string, fuzzy bool) []cphrase {
		var out []cphrase
		for _, lang := range sortedKeys(lists) {
			seen := map[string]Pos{}
			for _, p := range lists[lang] {
				words, key, ok := m.compileWords(p, kind, fuzzy)
				if !ok {
					continue
				}
				if at, dup := seen[key]; dup {
					m.probs.add(p.Pos, "the %s %q is already listed at line %d (they read the same once case, accents and punctuation are left out): remove one", kind, p.Text, at.Line)
					continue
				}
				seen[key] = p.Pos
				cp := cphrase{text: p.Text, lang: lang, pos: p.Pos}
				for _, w := range words {
					cp.words = append(cp.words, intern(w))
				}
				out = append(out, cp)
			}
		}
		return out
	}
	m.phrases = compile(c.Phrases, "phrase", true)
	m.excepts = compile(c.Except, "exception", false)

	m.byFirst = make([][]int32, len(m.words))
	for i, p := range m.phrases {
		m.byFirst[p.words[0]] = append(m.byFirst[p.words[0]], int32(i))
	}
	m.exceptsByFirst = make([][]int32, len(m.words))
	for i, p := range m.excepts {
		m.exceptsByFirst[p.words[0]] = append(m.exceptsByFirst[p.words[0]], int32(i))
	}
	m.checkExceptions()
	return m
}

// compileWords splits a phrase into the words it is compared by; key identifies phrases
// that read the same. It notes a phrase that can never match as it should, and returns
// ok=false for one that cannot be used at all.
func (m *crisisMatcher) compileWords(p Phrase, kind string, fuzzy bool) (words []cword, key string, ok bool) {
	var t tokens
	t.split(p.Text, true, true)
	var asWritten tokens // without collapsing, to count the letters as the officer sees them
	asWritten.split(p.Text, true, false)
	if len(t.spans) == 0 {
		m.probs.add(p.Pos, "the %s %q has no letters or digits, so it can never match: write it in words, or remove it", kind, p.Text)
		return nil, "", false
	}
	if len(t.spans) > maxPhraseWords {
		m.probs.add(p.Pos, "the %s %q has %d words; it may have at most %d: keep only the words that matter", kind, p.Text, len(t.spans), maxPhraseWords)
		return nil, "", false
	}
	keys := make([]string, len(t.spans))
	for i := range t.spans {
		w := t.word(i)
		keys[i] = w
		star := strings.IndexByte(w, '*')
		switch {
		case star < 0:
			mode := modeExact
			if fuzzy && utf8.RuneCountInString(w) >= minFuzzyLen {
				mode = modeFuzzy
			}
			words = append(words, cword{text: w, mode: mode})
		case star != len(w)-1 || star == 0:
			m.probs.add(p.Pos, "in the %s %q, * may only end a word, as in zelfmoord*: move the * to the end of the word or remove it", kind, p.Text)
			return nil, "", false
		case utf8.RuneCountInString(asWritten.word(i))-1 < minPrefixLen:
			m.probs.add(p.Pos, "in the %s %q, %q is too short to end in *: write at least %d letters before the *, or it matches too many words", kind, p.Text, asWritten.word(i), minPrefixLen)
			return nil, "", false
		default:
			words = append(words, cword{text: w[:star], mode: modePrefix})
		}
	}
	return words, strings.Join(keys, " "), true
}

// checkExceptions notes exceptions that share no word with any phrase: they can never
// cancel one, so they are most likely written wrongly.
func (m *crisisMatcher) checkExceptions() {
	used := make([]bool, len(m.words))
	for _, p := range m.phrases {
		for _, id := range p.words {
			used[id] = true
		}
	}
	var t tokens
	for _, e := range m.excepts {
		t.split(e.text, false, true)
		t.lookup(m)
		if !slices.ContainsFunc(t.ids, func(id int32) bool { return used[id] }) {
			m.probs.add(e.pos, "the exception %q shares no word with any phrase, so it can never cancel one: an exception is a harmless use of a phrase and must contain at least one of its words, as in \"die of embarrassment\" for \"i want to die\"", e.text)
		}
	}
}

// matchResult is what find found: a phrase that counts, or else the first phrase that was
// found but cancelled, with the exception that cancelled it.
type matchResult struct {
	phrase    *cphrase
	cancelled *cphrase
	by        *cphrase
}

// exceptSpan is the words of the message an exception covers.
type exceptSpan struct {
	first, last int
	except      int32
}

var tokensPool = sync.Pool{New: func() any { return new(tokens) }}

// find matches a message against the phrases.
func (m *crisisMatcher) find(text string) matchResult {
	t := tokensPool.Get().(*tokens)
	defer func() {
		if cap(t.buf) <= 64<<10 { // keep a huge message's buffers from living on in the pool
			tokensPool.Put(t)
		}
	}()
	t.split(text, false, true)
	t.lookup(m)

	var res matchResult
	excepted := false
	for i := range t.spans {
		for _, w := range t.idsOf(i) {
			for _, pi := range m.byFirst[w] {
				p := &m.phrases[pi]
				last, _, ok := t.match(p.words, i)
				if !ok {
					continue
				}
				if !excepted {
					t.findExceptions(m)
					excepted = true
				}
				by := t.overlap(i, last)
				if by < 0 {
					return matchResult{phrase: p}
				}
				if res.cancelled == nil {
					res.cancelled, res.by = p, &m.excepts[by]
				}
			}
		}
	}
	return res
}

// tokens is a message split into words, with the phrase words each one matches. It is
// reused between messages, so matching allocates nothing once warm.
type tokens struct {
	buf     []byte     // the normalized words, back to back
	str     string     // buf as a string, so words are looked up without copying
	spans   [][2]int32 // start and end of each word in buf
	ids     []int32    // the phrase words matched by each word, back to back
	idsEnd  []int32    // end of each word's ids in ids
	excepts []exceptSpan
}

// split normalizes s into words (see the rules above). With phrase set, * is kept as part
// of a word; collapse merges a letter repeated in a row.
func (t *tokens) split(s string, phrase, collapse bool) {
	t.buf, t.spans = t.buf[:0], t.spans[:0]
	if !isASCII(s) {
		s = norm.NFKD.String(s)
	}
	start, last := -1, rune(-1)
	end := func() {
		if start >= 0 {
			t.spans = append(t.spans, [2]int32{int32(start), int32(len(t.buf))})
		}
		start, last = -1, -1
	}
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			switch {
			case 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '*' && phrase:
			case r == '\'' || r == '`':
				continue
			default:
				end()
				continue
			}
		} else {
			// Lower of upper, so every case form of a letter (ſ, ı, K) becomes the same one.
			r = unicode.ToLower(unicode.ToUpper(r))
			switch {
			case unicode.Is(unicode.Mn, r), r == '’', r == '‘', r == 'ʼ', r == '′':
				continue
			case unicode.IsLetter(r), unicode.IsDigit(r):
			default:
				end()
				continue
			}
		}
		if start < 0 {
			start = len(t.buf)
		} else if collapse && r == last {
			continue
		}
		last = r
		t.buf = utf8.AppendRune(t.buf, r)
	}
	end()
	t.str = string(t.buf)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func (t *tokens) word(i int) string { return t.str[t.spans[i][0]:t.spans[i][1]] }

func (t *tokens) idsOf(i int) []int32 {
	start := int32(0)
	if i > 0 {
		start = t.idsEnd[i-1]
	}
	return t.ids[start:t.idsEnd[i]]
}

// has reports whether word i matches the phrase word id.
func (t *tokens) has(i int, id int32) bool {
	return slices.Contains(t.idsOf(i), id)
}

// lookup finds the phrase words each word of the message matches.
func (t *tokens) lookup(m *crisisMatcher) {
	t.ids, t.idsEnd = t.ids[:0], t.idsEnd[:0]
	for i := range t.spans {
		w := t.word(i)
		start := len(t.ids)
		t.ids = append(t.ids, m.exact[w]...)
		if n := len(w); n >= minFuzzyLen-1 && n <= m.maxFuzzy+utf8.UTFMax {
			if runes := int32(utf8.RuneCountInString(w)); runes >= minFuzzyLen-1 {
				first, last := ends(w)
				t.addFuzzy(m, w, runes, m.fuzzyStart[first], start)
				t.addFuzzy(m, w, runes, m.fuzzyEnd[last], start)
			}
		}
		if len(w) >= minPrefixLen {
			for _, id := range m.prefixes[w[0]] {
				if strings.HasPrefix(w, m.words[id].text) && !slices.Contains(t.ids[start:], id) {
					t.ids = append(t.ids, id)
				}
			}
		}
		t.idsEnd = append(t.idsEnd, int32(len(t.ids)))
	}
}

// addFuzzy adds the candidates one mistake away from w.
func (t *tokens) addFuzzy(m *crisisMatcher, w string, runes int32, candidates []fuzzyWord, start int) {
	for _, c := range candidates {
		if d := c.runes - runes; d <= 1 && d >= -1 && oneEditApart(m.words[c.id].text, w) && !slices.Contains(t.ids[start:], c.id) {
			t.ids = append(t.ids, c.id)
		}
	}
}

// match finds the phrase words in order from word i, with at most one other word between
// two of them. It returns the last word of the shortest and of the longest way they match.
func (t *tokens) match(words []int32, i int) (shortest, longest int, ok bool) {
	reach := uint64(1) // offsets from i at which the phrase word matched so far can end
	for _, w := range words[1:] {
		var next uint64
		for r := reach; r != 0; r &= r - 1 {
			o := bits.TrailingZeros64(r)
			for d := 1; d <= 2; d++ {
				if j := i + o + d; j < len(t.spans) && t.has(j, w) {
					next |= 1 << (o + d)
				}
			}
		}
		if next == 0 {
			return 0, 0, false
		}
		reach = next
	}
	return i + bits.TrailingZeros64(reach), i + 63 - bits.LeadingZeros64(reach), true
}

// findExceptions notes the words every exception found in the message covers, taking the
// longest way each one matches.
func (t *tokens) findExceptions(m *crisisMatcher) {
	t.excepts = t.excepts[:0]
	for i := range t.spans {
		for _, w := range t.idsOf(i) {
			for _, ei := range m.exceptsByFirst[w] {
				if _, last, ok := t.match(m.excepts[ei].words, i); ok {
					t.excepts = append(t.excepts, exceptSpan{first: i, last: last, except: ei})
				}
			}
		}
	}
}

// overlap returns the exception that shares a word with words first..last, or -1.
func (t *tokens) overlap(first, last int) int32 {
	for _, e := range t.excepts {
		if e.first <= last && first <= e.last {
			return e.except
		}
	}
	return -1
}

// oneEditApart reports whether a and b are at most one typing mistake apart: equal, or one
// letter missing, added or changed, or two neighbouring letters swapped.
func oneEditApart(a, b string) bool {
	// Skip the common start.
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	// Step back to the start of the rune the difference is in.
	for i > 0 && i < len(a) && !utf8.RuneStart(a[i]) {
		i--
	}
	ra, rb := a[i:], b[i:]
	if ra == rb {
		return true
	}
	_, na := utf8.DecodeRuneInString(ra)
	_, nb := utf8.DecodeRuneInString(rb)
	switch {
	case len(ra) > 0 && len(rb) > 0 && ra[na:] == rb[nb:]: // changed
		return true
	case len(ra) > 0 && ra[na:] == rb: // missing in b
		return true
	case len(rb) > 0 && ra == rb[nb:]: // added in b
		return true
	}
	// Swapped: the first two runes of ra are those of rb in reverse order.
	if len(ra) == 0 || len(rb) == 0 || len(ra) != len(rb) {
		return false
	}
	a1, _ := utf8.DecodeRuneInString(ra)
	b1, _ := utf8.DecodeRuneInString(rb)
	a2, ma := utf8.DecodeRuneInString(ra[na:])
	b2, mb := utf8.DecodeRuneInString(rb[nb:])
	return a1 == b2 && a2 == b1 && ra[na+ma:] == rb[nb+mb:]
}

// ends returns the first two and the last two runes of w (of at least two runes), each
// pair packed in one number.
func ends(w string) (first, last uint64) {
	r1, n1 := utf8.DecodeRuneInString(w)
	r2, _ := utf8.DecodeRuneInString(w[n1:])
	r4, n4 := utf8.DecodeLastRuneInString(w)
	r3, _ := utf8.DecodeLastRuneInString(w[:len(w)-n4])
	return uint64(r1)<<32 | uint64(r2), uint64(r3)<<32 | uint64(r4)
}
