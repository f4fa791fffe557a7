// Package locales holds the bot's texts as go-i18n message files, one per language, and the
// Catalog that renders them. The default files are embedded; the support officer's edited
// copies can be loaded from a folder instead.
package locales

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Default holds the message files shipped with the binary.
//
//go:embed *.toml
var Default embed.FS

// Full lists the languages a whole conversation can run in, the first being the default.
// Other files (German) only greet and offer these.
var Full = []string{"nl", "en"}

// DefaultLang is used when nothing says which language a student reads.
const DefaultLang = "nl"

// ErrMissing means a message id has no text in the asked language.
var ErrMissing = errors.New("message missing")

// noValue is what text/template prints for data that was not given; a rendered text with it
// would show the student a broken sentence, so Text refuses it.
const noValue = "<no value>"

// Catalog renders messages. It is immutable once loaded, so a reload builds a new one and
// swaps it in whole.
type Catalog struct {
	bundle *i18n.Bundle
	ids    map[string]map[string]bool
	// localizers holds one localizer per language, made once: making one parses its
	// language tag, which cost about as much as rendering the text (intake bench).
	localizers map[string]*i18n.Localizer
	// templated holds, per language, the ids of texts with template actions ({{...}}): only
	// those need data, and building it is a good part of a turn's work.
	templated map[string]map[string]bool
}

// Load reads every *.toml at the root of fsys; the file name is the language tag (nl.toml).
func Load(fsys fs.FS) (*Catalog, error) {
	bundle := i18n.NewBundle(language.Dutch)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	names, err := fs.Glob(fsys, "*.toml")
	if err != nil {
		return nil, fmt.Errorf("list locale files: %w", err)
	}
	if len(names) == 0 {
		return nil, errors.New("no locale files (*.toml) found")
	}
	c := &Catalog{bundle: bundle, ids: map[string]map[string]bool{}, localizers: map[string]*i18n.Localizer{},
		templated: map[string]map[string]bool{}}
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if err := checkFlat(name, src); err != nil {
			return nil, err
		}
		mf, err := bundle.ParseMessageFileBytes(src, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		lang := strings.TrimSuffix(path.Base(name), ".toml")
		set, templated := map[string]bool{}, map[string]bool{}
		for _, m := range mf.Messages {
			set[m.ID] = true
			for _, form := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
				if strings.Contains(form, "{{") {
					templated[m.ID] = true
				}
			}
		}
		c.ids[lang], c.templated[lang] = set, templated
		c.localizers[lang] = i18n.NewLocalizer(bundle, lang)
	}
	for _, lang := range Full {
		if c.ids[lang] == nil {
			return nil, fmt.Errorf("locale file %s.toml is missing: every conversation needs it", lang)
		}
	}
	return c, nil
}

// checkFlat refuses [tables]: a dotted key under a table would silently become another id
// than the one the support officer meant, and go-i18n would drop sibling messages.
func checkFlat(name string, src []byte) error {
	for i, line := range bytes.Split(src, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if bytes.HasPrefix(t, []byte("[")) && !bytes.HasPrefix(t, []byte("[[")) && bytes.HasSuffix(t, []byte("]")) {
			return fmt.Errorf("%s:%d:1: tables like %s are not used here; write each message as \"id\" = \"text\"", name, i+1, t)
		}
	}
	return nil
}

// IDs returns the message ids of each full language, for the flow validator.
func (c *Catalog) IDs() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, lang := range Full {
		out[lang] = c.ids[lang]
	}
	return out
}

// Messages lists the message ids of a language, sorted.
func (c *Catalog) Messages(lang string) []string {
	var out []string
	for id := range c.ids[lang] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Languages lists every language with a file, sorted.
func (c *Catalog) Languages() []string {
	var out []string
	for lang := range c.ids {
		out = append(out, lang)
	}
	sort.Strings(out)
	return out
}

// Has reports whether the language has a text for id.
func (c *Catalog) Has(lang, id string) bool { return c.ids[lang][id] }

// NeedsData reports whether the text id in lang has template actions, so rendering it
// needs data; a plain text renders the same with nil.
func (c *Catalog) NeedsData(lang, id string) bool { return c.templated[lang][id] }

// Text renders message id in lang with data. It never falls back to another language: a
// Dutch sentence in an English conversation is a bug the validator should have caught.
func (c *Catalog) Text(lang, id string, data map[string]any) (string, error) {
	if !c.Has(lang, id) {
		return "", fmt.Errorf("%w: %q in %s", ErrMissing, id, lang)
	}
	s, err := c.localizers[lang].Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return "", fmt.Errorf("render %q in %s: %w", id, lang, err)
	}
	if strings.Contains(s, noValue) && !dataHas(data, noValue) {
		return "", fmt.Errorf("render %q in %s: a template value is missing", id, lang)
	}
	return strings.TrimSpace(s), nil
}

// IsFull reports whether a whole conversation can run in lang.
func IsFull(lang string) bool {
	for _, l := range Full {
		if l == lang {
			return true
		}
	}
	return false
}

// dataHas reports whether a data value itself contains sub, so a student who types
// "<no value>" does not make their own summary unrenderable.
func dataHas(data map[string]any, sub string) bool {
	for _, v := range data {
		if s, ok := v.(string); ok && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
