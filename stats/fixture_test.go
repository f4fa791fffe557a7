package stats

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"intake/bot"
	"intake/locales"
)

// The fixture is the 2025 registry of the annual report (section 2), one row per report
// in testdata/registry-2025.csv, and the 2024 comparison as counts per field in
// testdata/registry-2024-counts.csv, both read through the importer.
//
// The report's faculty shares (24/20/16/14/8/4/14 %) cannot come from all 104 reports:
// rounded from 104 they would need 25+21+17+15+8+4+15 = 105 reports. They are exactly
// the shares of 100, so the fixture records a faculty for 100 reports and none for 4
// (percentages are of the recorded answers). Likewise the report names 88 reports by the
// student and 6+1+1+7 = 15 via third parties, one short of 104: one report has no
// reporter recorded. The 2024 counts are the smallest that give the report's 2024
// percentages.

func readFixture(t testing.TB, name string) []bot.Record {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := ReadCSV(name, f, 0)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return recs
}

func fixture(t testing.TB) (recs2025, recs2024 []bot.Record) {
	return readFixture(t, "registry-2025.csv"), readFixture(t, "registry-2024-counts.csv")
}

func labels(t testing.TB, lang string) *Labels {
	t.Helper()
	cat, err := locales.Load(locales.Default)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLabels(cat, lang)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// want is one expected row: count and percentage (-1: none), previous year's percentage
// (-1: none).
type want struct {
	value          string
	count, pct, py int
}

func checkTable(t *testing.T, r Report, id string, rows []want) Table {
	t.Helper()
	tab, ok := r.Table(id)
	if !ok {
		t.Fatalf("no table %s", id)
	}
	if len(tab.Rows) != len(rows) {
		t.Fatalf("%s: %d rows, want %d", id, len(tab.Rows), len(rows))
	}
	for i, w := range rows {
		got := tab.Rows[i]
		if got.Value != w.value {
			t.Errorf("%s row %d is %s, want %s (the report's order)", id, i+1, got.Value, w.value)
		}
		check := func(what string, c Cell, n int) {
			switch {
			case n < 0 && c.State != Empty:
				t.Errorf("%s %s %s = %+v, want none", id, w.value, what, c)
			case n >= 0 && (c.State != Shown || c.Value != n):
				t.Errorf("%s %s %s = %+v, want %d", id, w.value, what, c, n)
			}
		}
		check("count", got.Count, w.count)
		check("percent", got.Percent, w.pct)
		check("2024", got.Compare, w.py)
	}
	return tab
}

// TestFixture2025 reproduces the figures of section 2 of the annual report 2025.
func TestFixture2025(t *testing.T) {
	recs, prev := fixture(t)
	r := Compute(2025, recs, prev, Options{MinCell: 1})
	if r.Total != 104 || r.CompareYear != 2024 || r.CompareTotal != 127 || r.MinCell != 0 || r.Unknown != 0 {
		t.Errorf("report: %d reports (2024: %d, year %d), min cell %d, unknown %d; want 104 (2024: 127), 0, 0",
			r.Total, r.CompareTotal, r.CompareYear, r.MinCell, r.Unknown)
	}
	// 2.1: 57 in person, 27 Teams, 8 e-mail, 12 by phone.
	checkTable(t, r, TableContact, []want{
		{"in_person", 57, -1, -1}, {"teams", 27, -1, -1}, {"email", 8, -1, -1}, {"phone", 12, -1, -1}, {"chat", 0, -1, -1},
	})
	// 88 by the student, the others via third parties: 6 staff, 1 CCP, 1 citizen, 7
	// boards or confidential contacts (the last three are "someone else" to the bot).
	rep := checkTable(t, r, TableReporter, []want{{"self", 88, -1, -1}, {ThirdParty, 15, -1, -1}})
	if rep.NotRecorded != 1 || rep.Total != 104 {
		t.Errorf("reporter: %d not recorded of %d, want 1 of 104", rep.NotRecorded, rep.Total)
	}
	third := rep.Rows[1].Breakdown
	if third == nil {
		t.Fatal("no breakdown of the third parties")
	}
	for i, n := range []int{0, 6, 9} {
		if c := third.Rows[i].Count; c.State != Shown || c.Value != n {
			t.Errorf("third parties %s = %+v, want %d", third.Rows[i].Value, c, n)
		}
	}
	// 2.2: 66 % women, 30 % men, one non-binary student.
	checkTable(t, r, TableGender, []want{
		{"woman", 69, 66, -1}, {"man", 31, 30, -1}, {"non_binary", 1, 1, -1}, {"not_said", 3, 3, -1},
	})
	fac := checkTable(t, r, TableFaculty, []want{
		{"law", 24, 24, -1}, {"sbe", 20, 20, -1}, {"fse", 16, 16, -1}, {"fhml", 14, 14, -1},
		{"fasos", 8, 8, -1}, {"fpn", 4, 4, -1}, {"unknown", 14, 14, -1},
	})
	if fac.Base != 100 || fac.NotRecorded != 4 || len(fac.Rounding) != 0 || fac.Chart != ChartPie {
		t.Errorf("faculty: base %d, not recorded %d, rounding %v, chart %q", fac.Base, fac.NotRecorded, fac.Rounding, fac.Chart)
	}
	// 2.3: 40 between students, 35 with staff, 12 with citizens, the rest unknown.
	checkTable(t, r, TableRelation, []want{
		{"student_student", 40, -1, -1}, {"student_staff", 35, -1, -1}, {"student_citizen", 12, -1, -1}, {"unknown", 17, -1, -1},
	})
	cat := checkTable(t, r, TableCategory, []want{
		{"sexual_violence", 25, 24, 20}, {"inappropriate", 17, 16, 8}, {"unprofessional", 16, 15, 12},
		{"other", 12, 12, 18}, {"worrying", 9, 9, 3}, {"unequal_treatment", 6, 6, 8},
		{"intimidation", 5, 5, 10}, {"discrimination", 5, 5, 5}, {"bullying", 3, 3, 3},
		{"stalking", 3, 3, 4}, {"aggression", 3, 3, 9},
	})
	// "De percentages zijn afgerond op hele getallen; daardoor kan het totaal licht
	// afwijken": 101 % this year, 100 % in 2024.
	if !slices.Equal(cat.Rounding, []RoundingNote{{Total: 101}}) {
		t.Errorf("category rounding notes = %+v, want one of 101%%", cat.Rounding)
	}
	sv := cat.Rows[0].Breakdown
	if sv == nil || sv.Rows[0].Count.Value != 16 || sv.Rows[1].Count.Value != 9 || sv.NotRecorded != 0 {
		t.Errorf("sexual violence breakdown = %+v, want 16 physical and 9 verbal or online", sv)
	}
	if cat.Rows[10].Breakdown != nil {
		t.Errorf("aggression has a breakdown without any kind recorded: %+v", cat.Rows[10].Breakdown)
	}
	// 2.4: 10/36/16/12/11/0/16 %.
	fu := checkTable(t, r, TableFollowUp, []want{
		{"registration", 10, 10, -1}, {"advice", 37, 36, -1}, {"intervention", 17, 16, -1},
		{"referral", 12, 12, -1}, {"guidance", 11, 11, -1}, {"complaint", 0, 0, -1}, {"other", 17, 16, -1},
	})
	if fu.Open != 0 || fu.Base != 104 || !slices.Equal(fu.Rounding, []RoundingNote{{Total: 101}}) {
		t.Errorf("follow-up: open %d, base %d, rounding %+v", fu.Open, fu.Base, fu.Rounding)
	}
}

// TestFollowUpOpen: the follow-up is of closed cases; a registration is its own
// follow-up, an open handoff is counted apart.
func TestFollowUpOpen(t *testing.T) {
	recs := []bot.Record{
		{Year: 2026, Channel: "telegram", Kind: bot.CaseRegistration},
		{Year: 2026, Channel: "web", Kind: bot.CaseHandoff, FollowUp: "advice"},
		{Year: 2026, Channel: "discord", Kind: bot.CaseHandoff, FollowUp: "advice"},
		{Year: 2026, Channel: "web", Kind: bot.CaseHandoff},
		{Year: 2026, Channel: "teams", Kind: KindImport},
		{Year: 2025, Channel: "web", Kind: bot.CaseHandoff}, // another year: ignored
	}
	r := Compute(2026, recs, nil, Options{MinCell: 1})
	fu, _ := r.Table(TableFollowUp)
	if fu.Base != 3 || fu.Open != 1 || fu.NotRecorded != 1 || fu.Total != 5 || r.Total != 5 {
		t.Errorf("follow-up: base %d, open %d, not recorded %d, total %d, report %d; want 3, 1, 1, 5, 5",
			fu.Base, fu.Open, fu.NotRecorded, fu.Total, r.Total)
	}
	if fu.Rows[0].Percent.Value != 33 || fu.Rows[1].Percent.Value != 67 {
		t.Errorf("registration %d%%, advice %d%%; want 33 and 67", fu.Rows[0].Percent.Value, fu.Rows[1].Percent.Value)
	}
	ct, _ := r.Table(TableContact)
	if chat := ct.Rows[4]; chat.Value != "chat" || chat.Count.Value != 4 {
		t.Errorf("chat = %+v, want the 4 bot reports", chat)
	}
	var sb strings.Builder
	if err := WriteMarkdown(&sb, r, labels(t, "en"), false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), "Percentages are of the 3 closed cases; still open: 1.") {
		t.Errorf("the report does not say how many are open:\n%s", sb.String())
	}
}
