package locales_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"intake/flows"
	"intake/locales"
)

// fullData is every template value a message may use.
func fullData() map[string]any {
	d := map[string]any{
		"case_code": "K7Q2-M9XD", "max": 4000, "command": "/x", "passphrase": "abcd-efgh-jkmn-pqrs",
		"slot": "Tue 1 Dec 10:00, by phone", "text": "See you then.", "reply_by": "Monday 7 December at 9:00",
		"emergency": "112", "sexual_violence_centre": "0800-0188", "suicide_line": "113",
		"suicide_line_free": "0800-0113", "victim_support": "0900-0101", "police": "0900-8844",
		"session_ttl": "24 hours", "retention": "90 days", "n": 2,
	}
	for _, v := range flows.Schema {
		d[v.Name] = "value of " + v.Name
	}
	return d
}

// TestEveryMessageRenders: every text of every language renders with the data the engine
// gives, and never shows a student "<no value>" or a template error.
func TestEveryMessageRenders(t *testing.T) {
	cat, err := locales.Load(locales.Default)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range cat.Languages() {
		ids := 0
		for _, id := range allIDs(t, lang) {
			ids++
			s, err := cat.Text(lang, id, fullData())
			if err != nil {
				t.Errorf("%s %s: %v", lang, id, err)
			}
			if strings.TrimSpace(s) == "" {
				t.Errorf("%s %s renders empty", lang, id)
			}
		}
		if ids == 0 {
			t.Errorf("%s has no messages", lang)
		}
	}
}

// TestFullLanguagesHaveTheSameMessages: a text added in Dutch only would show an English
// student nothing.
func TestFullLanguagesHaveTheSameMessages(t *testing.T) {
	nl, en := allIDs(t, "nl"), allIDs(t, "en")
	if strings.Join(nl, ",") != strings.Join(en, ",") {
		t.Errorf("nl and en differ:\nonly nl: %v\nonly en: %v", minus(nl, en), minus(en, nl))
	}
}

func TestMissingDataIsRefused(t *testing.T) {
	cat := mustLoad(t, map[string]string{
		"nl.toml": `"a" = "Je code is {{.case_code}}."`,
		"en.toml": `"a" = "Your code is {{.case_code}}."`,
	})
	if _, err := cat.Text("en", "a", nil); err == nil {
		t.Fatal("a message with a missing value must be refused, not shown with <no value>")
	}
	if s, err := cat.Text("en", "a", map[string]any{"case_code": "<no value>"}); err != nil || s != "Your code is <no value>." {
		t.Fatalf("text typed by a student that contains <no value> must still render: %q %v", s, err)
	}
	if _, err := cat.Text("en", "missing", nil); err == nil {
		t.Fatal("a missing id must be an error, not another language's text")
	}
}

func TestLoadRefuses(t *testing.T) {
	cases := map[string]map[string]string{
		"no English":      {"nl.toml": `"a" = "x"`},
		"a table":         {"nl.toml": "[welcome]\nhello = \"x\"", "en.toml": `"a" = "x"`},
		"broken TOML":     {"nl.toml": `"a" = `, "en.toml": `"a" = "x"`},
		"no files at all": {},
	}
	for name, files := range cases {
		fs := fstest.MapFS{}
		for n, src := range files {
			fs[n] = &fstest.MapFile{Data: []byte(src)}
		}
		if _, err := locales.Load(fs); err == nil {
			t.Errorf("%s: loaded without error", name)
		}
	}
}

func mustLoad(t *testing.T, files map[string]string) *locales.Catalog {
	t.Helper()
	fs := fstest.MapFS{}
	for n, src := range files {
		fs[n] = &fstest.MapFile{Data: []byte(src)}
	}
	cat, err := locales.Load(fs)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func allIDs(t *testing.T, lang string) []string {
	t.Helper()
	cat, err := locales.Load(locales.Default)
	if err != nil {
		t.Fatal(err)
	}
	return cat.Messages(lang)
}

func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

// TestPlainTextsNeedNoData: a text NeedsData says is plain renders exactly the same
// without data, so the engine may skip building it; every text with a template action is
// marked as needing it.
func TestPlainTextsNeedNoData(t *testing.T) {
	cat, err := locales.Load(locales.Default)
	if err != nil {
		t.Fatal(err)
	}
	plain, templated := 0, 0
	for _, lang := range cat.Languages() {
		for _, id := range allIDs(t, lang) {
			with, err := cat.Text(lang, id, fullData())
			if err != nil {
				t.Fatalf("%s %s: %v", lang, id, err)
			}
			if cat.NeedsData(lang, id) {
				templated++
				continue
			}
			plain++
			if strings.Contains(with, "value of ") {
				t.Errorf("%s %s uses data but is marked plain", lang, id)
			}
			without, err := cat.Text(lang, id, nil)
			if err != nil || without != with {
				t.Errorf("%s %s marked plain renders differently without data: %q, %v", lang, id, without, err)
			}
		}
	}
	if plain == 0 || templated == 0 {
		t.Errorf("%d plain and %d templated texts; the catalog has both", plain, templated)
	}
	if cat.NeedsData("en", "no.such.id") {
		t.Error("an unknown id needs data")
	}
}
