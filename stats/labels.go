package stats

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"intake/locales"
)

// Labels are the words of a report in one language. Value labels come from the bot's
// locale catalog ("value.<var>.<value>"), so the report names a category as the bot
// does, and the support officer's edits of those texts reach the report too. A few
// values get the report's own words instead (reportValues), because the bot's are
// addressed to the student ("jijzelf", "hier in de chat") or have no text in the
// catalog (the follow-up, e-mail); the table titles and notes are in reportTexts.
type Labels struct {
	Lang   string
	values map[string]string // "<var>.<value>" -> label
	texts  map[string]string
}

// Languages lists the languages a report can be written in.
var Languages = []string{"nl", "en"}

// NewLabels reads the labels of lang from cat. It fails when lang has no report texts or
// the catalog lacks a value label, naming every missing id.
func NewLabels(cat *locales.Catalog, lang string) (*Labels, error) {
	texts, ok := reportTexts[lang]
	if !ok {
		return nil, fmt.Errorf("no report texts in %q; choose %s", lang, strings.Join(Languages, " or "))
	}
	l := &Labels{Lang: lang, values: map[string]string{}, texts: texts}
	var missing []string
	for _, s := range []spec{specContact, specReporter, specThird, specGender, specFaculty,
		specRelation, specCategory, specSV, specAgg, specFollowUp} {
		for _, v := range s.values {
			key := s.v + "." + v
			if own, ok := reportValues[lang][key]; ok {
				l.values[key] = own
				continue
			}
			text, err := cat.Text(lang, "value."+key, nil)
			if err != nil {
				missing = append(missing, "value."+key)
				continue
			}
			l.values[key] = text
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("the %s locale file lacks the value labels the report needs: %s", lang, strings.Join(missing, ", "))
	}
	return l, nil
}

// Value returns the label of value of variable v (the value itself when unknown, which
// Compute never produces).
func (l *Labels) Value(v, value string) string {
	if s, ok := l.values[v+"."+value]; ok {
		return s
	}
	return value
}

// text renders a report text with args.
func (l *Labels) text(id string, args ...any) string {
	f, ok := l.texts[id]
	if !ok {
		panic("stats: no report text " + id) // every id is in both languages (TestReportTexts)
	}
	return fmt.Sprintf(f, args...)
}

// all returns every label and text, for the privacy test.
func (l *Labels) all() []string {
	var out []string
	for _, s := range l.values {
		out = append(out, s)
	}
	for _, s := range l.texts {
		out = append(out, s)
	}
	return out
}

// capital returns s with its first letter upper case, as table rows start.
func capital(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// errNoLabels is returned by renderers given no labels.
var errNoLabels = errors.New("stats: no labels")

// reportValues are the value labels the report does not take from the bot's catalog.
var reportValues = map[string]map[string]string{
	"nl": {
		"contact.email":            "e-mail",
		"contact.chat":             "chat (intake)",
		"reporter.self":            "de student zelf",
		"reporter.third_party":     "via derden",
		"reporter.third_student":   "een medestudent",
		"reporter.third_staff":     "een medewerker",
		"reporter.third_other":     "iemand anders",
		"relation.student_student": "tussen studenten",
		"relation.student_staff":   "tussen student en medewerker",
		"relation.student_citizen": "tussen student en burger",
		"relation.unknown":         "niet bekend",
		"category.other":           "overige",
		"followup.registration":    "registratie",
		"followup.advice":          "advies",
		"followup.intervention":    "interventie informeel",
		"followup.referral":        "verwijzing",
		"followup.guidance":        "begeleiding",
		"followup.complaint":       "formele klacht",
		"followup.other":           "overige",
	},
	"en": {
		"contact.email":            "e-mail",
		"contact.chat":             "chat (intake)",
		"reporter.self":            "the student themselves",
		"reporter.third_party":     "via a third party",
		"reporter.third_student":   "a fellow student",
		"reporter.third_staff":     "a staff member",
		"reporter.third_other":     "someone else",
		"relation.student_student": "between students",
		"relation.student_staff":   "between a student and staff",
		"relation.student_citizen": "between a student and a citizen",
		"relation.unknown":         "not known",
		"category.other":           "other",
		"followup.registration":    "registration",
		"followup.advice":          "advice",
		"followup.intervention":    "informal intervention",
		"followup.referral":        "referral",
		"followup.guidance":        "guidance",
		"followup.complaint":       "formal complaint",
		"followup.other":           "other",
	},
}

// reportTexts are the titles, headers and notes of a report, as fmt formats.
var reportTexts = map[string]map[string]string{
	"nl": {
		"title":          "Meldingen, melders, aard en opvolging %d",
		"compared":       "Vergeleken met %d.",
		"mincell.on":     "Kleine aantallen: een aantal van 1 tot en met %[3]d staat er als „<%[1]d”, het percentage ervan als „×”. Waar dat nodig is om zo'n aantal niet uit het totaal en de andere cellen te kunnen terugrekenen, is ook een groter aantal verborgen („×”). Drempel %[1]d (standaard %[2]d).",
		"mincell.off":    "Alle aantallen staan er exact in: de drempel voor kleine aantallen staat uit (standaard %d).",
		"unknown":        "%d meldingen hebben een code die deze versie niet kent; die antwoorden tellen als niet geregistreerd.",
		"section.1":      "Aantal meldingen en melders",
		"section.2":      "Profiel melders en aandeel meldingen per faculteit",
		"section.3":      "Aard van de meldingen",
		"section.4":      "Opvolging",
		"total":          "In %d zijn er %d meldingen geregistreerd.",
		"total.compare":  "In %d zijn er %d meldingen geregistreerd (%d: %d).",
		"head.contact":   "Contactvorm",
		"head.reporter":  "Melder",
		"head.gender":    "Geslacht",
		"head.faculty":   "Faculteit",
		"head.relation":  "Ongewenst gedrag",
		"head.category":  "Aard van de melding",
		"head.followup":  "Opvolging",
		"col.count":      "Aantal",
		"col.percent":    "%%",
		"col.compare":    "%% %d",
		"row.total":      "Totaal",
		"row.nr":         "Niet geregistreerd",
		"row.open":       "Nog open",
		"row.of":         "waarvan %s",
		"row.withheld":   "waarvan: niet uitgesplitst, te weinig meldingen",
		"note.chat":      "Meldingen via de chatbot intake tellen als contactvorm chat.",
		"note.base":      "De percentages zijn van de %d meldingen waarbij dit is geregistreerd.",
		"note.followup":  "De percentages zijn van de %d afgesloten meldingen; nog open: %d.",
		"note.round":     "De percentages zijn afgerond op hele getallen; daardoor is het totaal %d%% in plaats van 100%%.",
		"note.round.cmp": "De percentages van %d zijn afgerond op hele getallen; hun totaal is %d%%.",
		"note.round.hid": "De percentages zijn afgerond op hele getallen; daardoor kan het totaal licht afwijken van 100%%.",
		"note.withheld":  "Te weinig meldingen om deze tabel te tonen zonder dat een klein aantal herleidbaar wordt.",
		"fig":            "Afbeelding %d. %s (%d)",
		"fig.faculty":    "Aandeel meldingen per faculteit",
		"fig.category":   "Aard van de meldingen",
		"fig.followup":   "Opvolging van meldingen",
		"chart.hidden":   "verborgen",
		"chart.none":     "Geen meldingen om te tonen.",
	},
	"en": {
		"title":          "Reports, reporters, nature and follow-up %d",
		"compared":       "Compared with %d.",
		"mincell.on":     "Small numbers: a count from 1 to %[3]d is shown as \"<%[1]d\" and its percentage as \"×\". Where that is needed so such a count cannot be worked out from the total and the other cells, a larger count is hidden too (\"×\"). Threshold %[1]d (default %[2]d).",
		"mincell.off":    "All counts are exact: the threshold for small numbers is off (default %d).",
		"unknown":        "%d reports have a code this version does not know; those answers count as not recorded.",
		"section.1":      "Number of reports and reporters",
		"section.2":      "Reporters' profile and share of reports by faculty",
		"section.3":      "Nature of the reports",
		"section.4":      "Follow-up",
		"total":          "In %d, %d reports were registered.",
		"total.compare":  "In %d, %d reports were registered (%d: %d).",
		"head.contact":   "Form of contact",
		"head.reporter":  "Reported by",
		"head.gender":    "Gender",
		"head.faculty":   "Faculty",
		"head.relation":  "Unwanted behaviour",
		"head.category":  "Nature of the report",
		"head.followup":  "Follow-up",
		"col.count":      "Number",
		"col.percent":    "%%",
		"col.compare":    "%% %d",
		"row.total":      "Total",
		"row.nr":         "Not recorded",
		"row.open":       "Still open",
		"row.of":         "of which %s",
		"row.withheld":   "of which: not broken down, too few reports",
		"note.chat":      "Reports made through the intake chatbot count as chat.",
		"note.base":      "Percentages are of the %d reports for which this is recorded.",
		"note.followup":  "Percentages are of the %d closed cases; still open: %d.",
		"note.round":     "Percentages are rounded to whole numbers, so they add up to %d%% instead of 100%%.",
		"note.round.cmp": "The %d percentages are rounded to whole numbers; they add up to %d%%.",
		"note.round.hid": "Percentages are rounded to whole numbers, so the total may differ slightly from 100%%.",
		"note.withheld":  "Too few reports to show this table without making a small count traceable.",
		"fig":            "Figure %d. %s (%d)",
		"fig.faculty":    "Share of reports by faculty",
		"fig.category":   "Nature of the reports",
		"fig.followup":   "Follow-up of reports",
		"chart.hidden":   "hidden",
		"chart.none":     "No reports to show.",
	},
}
