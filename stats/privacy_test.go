package stats

import (
	"bytes"
	"html"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"intake/bot"
)

// TestReportHoldsOnlyCountsAndLabels feeds records that carry what a registry record must
// never hold (a name in a field, a phone number, a platform id in the channel, free text
// under an unknown key, an e-mail address as follow-up) and checks every format in both
// languages: none of it appears, and every word of the output is a label or a text of
// the report, a coded value or a column name; the rest are numbers.
func TestReportHoldsOnlyCountsAndLabels(t *testing.T) {
	secrets := []string{"Jan de Vries", "0612345678", "987654321", "jan@example.com", "hij sloeg me", "Kamer 4.12"}
	leaky := []bot.Record{
		{Year: 2025, Month: 2, Channel: "telegram:987654321", Kind: bot.CaseHandoff, FollowUp: "jan@example.com",
			Fields: map[string]string{"category": "Jan de Vries", "story": "hij sloeg me", "faculty": "0612345678", "gender": "woman"}},
		{Year: 2025, Month: 3, Channel: "web", Kind: bot.CaseRegistration,
			Fields: map[string]string{"category": "stalking", "relation": "Kamer 4.12", "note": "Jan de Vries"}},
	}
	recs, prev := fixture(t)
	recs = append(recs, leaky...)
	for _, lang := range Languages {
		l := labels(t, lang)
		vocab := vocabulary(l)
		// The check itself would see a name.
		if w := words("x.html", "<td>Jan de Vries</td>"); vocab[w[0]] || vocab[w[2]] {
			t.Fatalf("the vocabulary has %q", w)
		}
		for _, opts := range []Options{{}, {MinCell: 1}} {
			r := Compute(2025, recs, prev, opts)
			if r.Unknown != 2 {
				t.Errorf("%d records with unknown codes, want 2", r.Unknown)
			}
			outputs := map[string]string{}
			for _, format := range Formats {
				var b bytes.Buffer
				if err := Write(&b, r, l, format); err != nil {
					t.Fatal(err)
				}
				outputs[format] = b.String()
			}
			var md bytes.Buffer
			if err := WriteMarkdown(&md, r, l, true); err != nil {
				t.Fatal(err)
			}
			outputs["md+charts"] = md.String()
			for _, id := range []string{TableFaculty, TableCategory, TableFollowUp} {
				var b bytes.Buffer
				if err := WriteSVG(&b, r, id, l); err != nil {
					t.Fatal(err)
				}
				outputs[id+".svg"] = b.String()
			}
			for name, out := range outputs {
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("%s %s (min cell %d) contains %q", lang, name, r.MinCell, s)
					}
				}
				for _, w := range words(name, out) {
					if !vocab[w] {
						t.Errorf("%s %s (min cell %d): %q is neither a label nor a number", lang, name, r.MinCell, w)
					}
				}
			}
		}
	}
}

var (
	tags       = regexp.MustCompile(`(?s)<style>.*?</style>|<[^>]*>`)
	formatVerb = regexp.MustCompile(`%(\[\d\])?[a-z]`)
)

// words returns the words (runs of letters) of a rendered report, without its markup.
func words(name, out string) []string {
	if strings.Contains(name, "html") || strings.HasSuffix(name, ".svg") {
		out = html.UnescapeString(tags.ReplaceAllString(out, " "))
	}
	return strings.FieldsFunc(strings.ToLower(out), func(r rune) bool { return !unicode.IsLetter(r) })
}

// vocabulary is every word a report may contain: its labels and texts, the coded values,
// table ids and column names, and the chart file suffix.
func vocabulary(l *Labels) map[string]bool {
	v := map[string]bool{"svg": true, "label": true, "count": true, "percent": true, "value": true,
		"report": true, "year": true, "reports": true, "compare": true, "min": true, "cell": true,
		"default": true, "language": true, "unknown": true, "codes": true, "nr": true, "open": true,
		"total": true, "kind": true, "party": true}
	add := func(s string) {
		for _, w := range strings.FieldsFunc(strings.ToLower(formatVerb.ReplaceAllString(s, " ")), func(r rune) bool { return !unicode.IsLetter(r) }) {
			v[w] = true
		}
	}
	for _, s := range l.all() {
		add(s)
	}
	for _, s := range []spec{specContact, specReporter, specThird, specGender, specFaculty, specRelation, specCategory, specSV, specAgg, specFollowUp} {
		add(s.id + " " + s.v + " " + strings.Join(s.values, " "))
	}
	add(l.Lang)
	return v
}
