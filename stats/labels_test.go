package stats

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"intake/locales"
)

// TestReportTexts: every text is in every language, with the same format verbs.
func TestReportTexts(t *testing.T) {
	verbs := regexp.MustCompile(`%(\[\d\])?[a-z%]`)
	for _, lang := range Languages {
		if reportTexts[lang] == nil || reportValues[lang] == nil {
			t.Fatalf("no report texts in %s", lang)
		}
	}
	for id, nl := range reportTexts["nl"] {
		en, ok := reportTexts["en"][id]
		if !ok {
			t.Errorf("%s has no English text", id)
			continue
		}
		a, b := verbs.FindAllString(nl, -1), verbs.FindAllString(en, -1)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Errorf("%s: verbs %v in nl, %v in en", id, a, b)
		}
	}
	for id := range reportTexts["en"] {
		if _, ok := reportTexts["nl"][id]; !ok {
			t.Errorf("%s has no Dutch text", id)
		}
	}
	for id := range reportValues["nl"] {
		if _, ok := reportValues["en"][id]; !ok {
			t.Errorf("value %s has no English label", id)
		}
	}
}

// TestLabelsFromCatalog: value labels are the bot's words, except where the report has
// its own.
func TestLabelsFromCatalog(t *testing.T) {
	l := labels(t, "nl")
	for _, c := range []struct{ v, value, want string }{
		{"category", "sexual_violence", "seksueel geweld"}, // the bot's word
		{"faculty", "law", "Rechten (Law)"},
		{"category", "other", "overige"}, // the bot says "iets anders"
		{"reporter", "self", "de student zelf"},
		{"followup", "intervention", "interventie informeel"},
	} {
		if got := l.Value(c.v, c.value); got != c.want {
			t.Errorf("%s.%s = %q, want %q", c.v, c.value, got, c.want)
		}
	}
	if _, err := NewLabels(mustCatalog(t, nil), "de"); err == nil || !strings.Contains(err.Error(), "choose nl or en") {
		t.Errorf("German: %v", err)
	}
	broken := mustCatalog(t, map[string]string{"value.gender.man": ""})
	if _, err := NewLabels(broken, "en"); err == nil || !strings.Contains(err.Error(), "value.gender.man") {
		t.Errorf("a missing label: %v", err)
	}
}

// mustCatalog makes a catalog of the shipped value labels, with changes (an empty text
// leaves the id out).
func mustCatalog(t *testing.T, changes map[string]string) *locales.Catalog {
	t.Helper()
	base, err := locales.Load(locales.Default)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for _, lang := range []string{"nl", "en"} {
		var b strings.Builder
		for _, id := range base.Messages(lang) {
			if !strings.HasPrefix(id, "value.") {
				continue
			}
			text, _ := base.Text(lang, id, nil)
			if c, ok := changes[id]; ok {
				if c == "" {
					continue
				}
				text = c
			}
			fmt.Fprintf(&b, "%q = %q\n", id, text)
		}
		fsys[lang+".toml"] = &fstest.MapFile{Data: []byte(b.String())}
	}
	cat, err := locales.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// TestHostileLabels: labels come from files the support officer edits; whatever they
// hold is text in every format, never markup, a formula or a broken table.
func TestHostileLabels(t *testing.T) {
	evil := `<script>alert(1)</script> | **x** [a](http://e.vil) & "q" 'q'`
	cat := mustCatalog(t, map[string]string{
		"value.category.sexual_violence": evil,
		"value.faculty.law":              evil,
		"value.gender.woman":             "=HYPERLINK(\"http://e.vil\")",
	})
	l, err := NewLabels(cat, "en")
	if err != nil {
		t.Fatal(err)
	}
	recs, prev := fixture(t)
	r := Compute(2025, recs, prev, Options{MinCell: 1})
	var html, md, csv, svg bytes.Buffer
	if err := WriteHTML(&html, r, l); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, r, l, true); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(&csv, r, l); err != nil {
		t.Fatal(err)
	}
	if err := WriteSVG(&svg, r, TableFaculty, l); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html.String(), "<script") || !strings.Contains(html.String(), "&lt;script&gt;") {
		t.Error("HTML does not escape a label")
	}
	if strings.Contains(svg.String(), "<script") || strings.Contains(svg.String(), `"q"`) {
		t.Error("SVG does not escape a label")
	}
	checkXML(t, "faculty.svg", svg.Bytes())
	// The faculty table has 3 columns (4 pipes), the category table 4 (5 pipes).
	rows := 0
	for _, line := range strings.Split(md.String(), "\n") {
		if !strings.HasPrefix(line, "| ") || !strings.Contains(line, "alert(1)") {
			continue
		}
		rows++
		if n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); n != 4 && n != 5 {
			t.Errorf("a label breaks the Markdown table: %s", line)
		}
	}
	if rows != 2 {
		t.Errorf("%d table rows with the label, want 2", rows)
	}
	if plain := strings.NewReplacer(`\<`, "", `\]`, "").Replace(md.String()); strings.Contains(plain, "<script") || strings.Contains(plain, "](http") {
		t.Error("Markdown does not escape a label")
	}
	if !strings.Contains(csv.String(), `'=HYPERLINK`) {
		t.Error("CSV does not defuse a formula")
	}
}
