package flows

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// CrisisFile is the name of the crisis phrase list at the root of a flows folder. It is not
// a flow: Load leaves it out, LoadCrisis reads it.
const CrisisFile = "crisis.yaml"

// The parts of the crisis file, in the order the guide (README.md) lists them.
var (
	crisisFields     = []string{"numbers", "phrases", "except", "tests"}
	crisisTestFields = []string{"trigger", "ignore"}
	// crisisLangs are the languages phrases and examples are listed under. Matching does
	// not depend on them: every message is checked against the phrases of every language.
	crisisLangs = []string{"nl", "en"}
	// numberFields are the 24/7 numbers the crisis reply shows (DESIGN.md §5).
	numberFields = []string{"emergency", "sexual_violence_centre", "suicide_line", "suicide_line_free", "victim_support", "police"}
)

// numberExamples are the shipped numbers, used as examples in messages.
var numberExamples = map[string]string{
	"emergency": "112", "sexual_violence_centre": "0800-0188", "suicide_line": "113",
	"suicide_line_free": "0800-0113", "victim_support": "0900-0101", "police": "0900-8844",
}

// Crisis is the parsed crisis file: the phrases that signal acute danger or suicidal
// thoughts, harmless uses that cancel them, the numbers the crisis reply shows, and the
// file's own test examples. It is made by ParseCrisis or LoadCrisis, which compile the
// phrases once; treat it as read-only afterwards. Match and Check are safe for concurrent
// use.
type Crisis struct {
	File    string
	Pos     Pos // of the file itself (line 1)
	Numbers Numbers
	// Phrases by language (nl, en); a message matches when it contains a phrase of any
	// language, since a Dutch student may well write English.
	Phrases map[string][]Phrase
	// Except holds harmless phrases by language ("die of embarrassment"): a phrase found
	// where it shares a word of the message with one of these does not count.
	Except map[string][]Phrase
	// Triggers must match and Ignores must not; Check runs them.
	Triggers, Ignores map[string][]Example

	m *crisisMatcher
}

// Numbers are the 24/7 numbers the crisis reply shows, as written in the file.
type Numbers struct {
	Emergency            string
	SexualViolenceCentre string
	SuicideLine          string
	SuicideLineFree      string
	VictimSupport        string
	Police               string
	// Pos holds where each number is written, by its name in the file (emergency,
	// sexual_violence_centre, suicide_line, suicide_line_free, victim_support, police).
	Pos map[string]Pos
}

// field returns the number with the given name in the file.
func (n *Numbers) field(name string) *string {
	switch name {
	case "emergency":
		return &n.Emergency
	case "sexual_violence_centre":
		return &n.SexualViolenceCentre
	case "suicide_line":
		return &n.SuicideLine
	case "suicide_line_free":
		return &n.SuicideLineFree
	case "victim_support":
		return &n.VictimSupport
	case "police":
		return &n.Police
	}
	return nil
}

// Phrase is one phrase (or exception) as written, with its place in the file.
type Phrase struct {
	Text string
	Lang string
	Pos  Pos
}

// Example is one test message of the crisis file.
type Example struct {
	Text string
	Lang string
	Pos  Pos
}

// ParseCrisis reads a crisis file as strictly as Parse reads a script: unknown fields,
// values of the wrong kind, repeated keys, unknown languages and missing numbers are
// reported at their line and column. Whether the phrases make sense and the file's tests
// pass is Check's job. The phrases are compiled here, once, so Match is fast. The returned
// Crisis is never nil, and ParseCrisis never panics, whatever src holds.
func ParseCrisis(file string, src []byte) (*Crisis, Problems) {
	c := &Crisis{
		File:     file,
		Pos:      Pos{File: file, Line: 1, Col: 1},
		Numbers:  Numbers{Pos: map[string]Pos{}},
		Phrases:  map[string][]Phrase{},
		Except:   map[string][]Phrase{},
		Triggers: map[string][]Example{},
		Ignores:  map[string][]Example{},
	}
	r, root, ok := readYAML(file, src)
	if ok {
		parseCrisis(r, root, c)
	}
	c.m = compileCrisis(c)
	r.probs.Sort()
	return c, r.probs
}

// LoadCrisis reads CrisisFile at the root of fsys. A missing or unreadable file is a
// problem that says what to do; the Crisis returned then matches nothing, so a caller must
// not use it when there are problems. Run Check before using the list, as Validate before
// using a flow.
func LoadCrisis(fsys fs.FS) (*Crisis, Problems) {
	src, err := fs.ReadFile(fsys, CrisisFile)
	if err != nil {
		c, _ := ParseCrisis(CrisisFile, nil)
		var probs Problems
		if errors.Is(err, fs.ErrNotExist) {
			probs.add(Pos{File: CrisisFile}, "the crisis phrase list is missing: the bot needs it to recognise a student in danger, so copy crisis.yaml from the shipped flows folder (flows/crisis.yaml in the intake source) into this folder and adapt it")
		} else {
			probs.add(Pos{File: CrisisFile}, "the file could not be read: %v", err)
		}
		return c, probs
	}
	return ParseCrisis(CrisisFile, src)
}

// parseCrisis reads the top level of the crisis file into c.
func parseCrisis(r *yamlReader, root ast.Node, c *Crisis) {
	top, ok := r.fields(root, shape{name: "the crisis file", kind: "the crisis file", fields: crisisFields})
	if !ok {
		return
	}
	if e, ok := top["numbers"]; ok {
		parseNumbers(r, e, &c.Numbers)
	} else {
		r.probs.add(c.Pos, `the crisis file has no numbers: add "numbers:" with the 24/7 numbers the bot shows under it (%s)`, strings.Join(numberFields, ", "))
	}
	if e, ok := top["phrases"]; ok {
		for lang, items := range parseLangLists(r, e, "phrases") {
			for _, it := range items {
				c.Phrases[lang] = append(c.Phrases[lang], Phrase(it))
			}
		}
	} else {
		r.probs.add(c.Pos, `the crisis file has no phrases: add "phrases:" with a list for each language under it (nl:, en:)`)
	}
	if e, ok := top["except"]; ok {
		for lang, items := range parseLangLists(r, e, "harmless phrases") {
			for _, it := range items {
				c.Except[lang] = append(c.Except[lang], Phrase(it))
			}
		}
	}
	if e, ok := top["tests"]; ok {
		parseCrisisTests(r, e, c)
	}
}

// parseNumbers reads the numbers; every one is required, since the crisis reply shows
// them all.
func parseNumbers(r *yamlReader, e entry, n *Numbers) {
	fields, ok := r.fields(e.value, shape{name: `"numbers"`, kind: `"numbers"`, fields: numberFields})
	if !ok {
		return
	}
	for _, name := range numberFields {
		fe, ok := fields[name]
		if !ok {
			r.probs.add(e.keyPos, `"numbers" has no %s: add a line like "%s: %s" under numbers`, name, name, numberExamples[name])
			continue
		}
		if v, pos, ok := r.text(fe, `"`+numberExamples[name]+`"`); ok {
			*n.field(name) = v
			n.Pos[name] = pos
		}
	}
}

// langItem is one phrase or example read from a language list.
type langItem struct {
	Text string
	Lang string
	Pos  Pos
}

// parseLangLists reads a mapping of languages to lists of texts, like phrases or
// tests.trigger; what names the texts in messages.
func parseLangLists(r *yamlReader, e entry, what string) map[string][]langItem {
	wrong := fmt.Sprintf("%q must have a list of %s for each language, each under nl: or en: on a line of its own", e.key, what)
	es, _ := r.entries(e.value, "language", wrong)
	out := map[string][]langItem{}
	for _, le := range es {
		if !slices.Contains(crisisLangs, le.key) {
			r.probs.add(le.keyPos, "language %q is not known here%s: list the %s under %s", le.key, didYouMean(le.key, crisisLangs), what, strings.Join(crisisLangs, " or "))
			continue
		}
		example := "i want to die"
		if le.key == "nl" {
			example = "ik wil dood"
		}
		texts, positions, _ := r.textList(le, example, false)
		for i, t := range texts {
			out[le.key] = append(out[le.key], langItem{Text: t, Lang: le.key, Pos: positions[i]})
		}
	}
	return out
}

// parseCrisisTests reads the examples that must and must not trigger.
func parseCrisisTests(r *yamlReader, e entry, c *Crisis) {
	fields, _ := r.fields(e.value, shape{name: `"tests"`, kind: `"tests"`, fields: crisisTestFields})
	for name, dst := range map[string]map[string][]Example{"trigger": c.Triggers, "ignore": c.Ignores} {
		fe, ok := fields[name]
		if !ok {
			continue
		}
		for lang, items := range parseLangLists(r, fe, "examples") {
			for _, it := range items {
				dst[lang] = append(dst[lang], Example(it))
			}
		}
	}
}

// Match reports whether text signals a crisis: it contains a phrase of any language, found
// by the rules in crisismatch.go, that overlaps no exception. It takes well under a
// millisecond for a 4000-character message (BenchmarkMatch).
func (c *Crisis) Match(text string) bool {
	if c == nil {
		return false
	}
	return c.matcher().find(text).phrase != nil
}

// MatchLanguage is Match that also tells the language of the list the phrase was found in:
// a hint of the student's language when nothing else tells it. A phrase can read the same
// in two languages; the hint is then one of them.
func (c *Crisis) MatchLanguage(text string) (lang string, ok bool) {
	if c == nil {
		return "", false
	}
	p := c.matcher().find(text).phrase
	if p == nil {
		return "", false
	}
	return p.lang, true
}

// matcher returns the compiled phrases; a Crisis not made by ParseCrisis is compiled on
// each call, which is correct but slow.
func (c *Crisis) matcher() *crisisMatcher {
	if c.m != nil {
		return c.m
	}
	return compileCrisis(c)
}

// Check reports what is wrong with the crisis list beyond its form: phrases that can never
// match or are listed twice, exceptions that can cancel nothing, numbers that are not phone
// numbers, and every test example that does not behave as written, each at its line and
// column with what to do.
func (c *Crisis) Check() Problems {
	m := c.matcher()
	probs := slices.Clone(m.probs)
	for _, name := range numberFields {
		pos, written := c.Numbers.Pos[name]
		if v := *c.Numbers.field(name); written && !validNumber(v) {
			probs.add(pos, "the number %q for %s may only contain digits, spaces, dashes and +, like %s", v, name, numberExamples[name])
		}
	}
	for _, lang := range sortedKeys(c.Triggers) {
		for _, ex := range c.Triggers[lang] {
			res := m.find(ex.Text)
			switch {
			case res.phrase != nil:
			case res.cancelled != nil:
				probs.add(ex.Pos, "%q must trigger, but the phrase %q (line %d) is cancelled by the exception %q (line %d): make the exception more precise",
					ex.Text, res.cancelled.text, res.cancelled.pos.Line, res.by.text, res.by.pos.Line)
			default:
				probs.add(ex.Pos, "%q must trigger, but matches no phrase: add a phrase under phrases: that covers it", ex.Text)
			}
		}
		probs = append(probs, duplicateExamples(c.Triggers[lang])...)
	}
	for _, lang := range sortedKeys(c.Ignores) {
		for _, ex := range c.Ignores[lang] {
			if res := m.find(ex.Text); res.phrase != nil {
				probs.add(ex.Pos, "%q must not trigger, but matches the phrase %q (line %d): make the phrase more precise, or add an exception under except:",
					ex.Text, res.phrase.text, res.phrase.pos.Line)
			}
		}
		probs = append(probs, duplicateExamples(c.Ignores[lang])...)
	}
	probs.Sort()
	return probs
}

// validNumber reports whether s reads as a phone number: digits, spaces, dashes and +, with
// at least one digit.
func validNumber(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '-' || r == '+':
		default:
			return false
		}
	}
	return digits > 0
}

// duplicateExamples reports an example written twice in one list; it tests nothing new and
// makes the list look longer than it is.
func duplicateExamples(exs []Example) Problems {
	var probs Problems
	first := map[string]Pos{}
	for _, ex := range exs {
		text := strings.TrimSpace(ex.Text)
		if at, dup := first[text]; dup {
			probs.add(ex.Pos, "the example %q is already listed at line %d: remove one", ex.Text, at.Line)
			continue
		}
		first[text] = ex.Pos
	}
	return probs
}

// sortedKeys returns the languages of a list in a stable order, so problems never flicker.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
