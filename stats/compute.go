package stats

import (
	"fmt"
	"slices"

	"intake/bot"
	"intake/flows"
)

// Options tunes Compute.
type Options struct {
	// MinCell is the smallest count shown as it is (see the package doc). 0 means
	// DefaultMinCell, so a zero Options protects; 1 or less than 0 shows every count.
	MinCell int
	// CompareYear is the year of the compare records; the year before when 0.
	CompareYear int
}

// minCell is the effective threshold: 0 when small counts are shown.
func (o Options) minCell() int {
	switch {
	case o.MinCell == 0:
		return DefaultMinCell
	case o.MinCell <= 1:
		return 0
	}
	return o.MinCell
}

// Table ids, in the report's order. A table's rows are values of its Var.
const (
	TableContact  = "contact"  // first contact form (counts)
	TableReporter = "reporter" // the student self or a third party (counts)
	TableGender   = "gender"
	TableFaculty  = "faculty" // with a pie chart
	TableRelation = "relation"
	TableCategory = "category" // with the previous year and a bar chart
	TableFollowUp = "followup" // of closed cases, with a bar chart
)

// Breakdown table ids (Row.Breakdown).
const (
	BreakdownSV         = "sv_kind"
	BreakdownAggression = "aggression_kind"
	BreakdownThirdParty = "third_party"
)

// Values that are not answers of the schema.
const (
	// ThirdParty is the reporter table's row of all third-party reports.
	ThirdParty = "third_party"
	// KindImport is the Kind of records imported from an earlier year's hand count.
	KindImport = "import"
)

// ContactForms are the first contact forms of the annual report, plus chat. A record's
// Channel is how its report first reached the team: the bot's channels (telegram,
// discord, web, console) are all a chat, so they count as "chat"; imported hand counts
// carry the report's own forms. (The schema's contact answer is another question: how a
// student wants to talk to a counsellor later.)
var ContactForms = []string{"in_person", "teams", "email", "phone", "chat"}

// Chart kinds.
const (
	ChartPie  = "pie"
	ChartBars = "bars"
)

// Cell is one number of a table. Value is exact when State is Shown and 0 otherwise: a
// Report never holds what it hides.
type Cell struct {
	Value int
	State State
}

// Row is one value of a table.
type Row struct {
	Value   string // the coded value (a schema value, a contact form, ThirdParty)
	Count   Cell
	Percent Cell // Empty in count-only tables
	Compare Cell // the previous year's percentage; Empty without comparison
	// Breakdown splits the row by a follow-up question (sexual violence by kind,
	// third parties by who); nil when there is none to show.
	Breakdown *Table
}

// RoundingNote says that the rounded percentages of a column do not add up to 100.
type RoundingNote struct {
	// Compare is set for the previous year's column.
	Compare bool
	// Total is the sum of the rounded percentages, or 0 when hidden cells keep it
	// unsaid (it would tell how the hidden cells split).
	Total int
}

// Table is one table of the report.
type Table struct {
	ID      string
	Var     string // whose value labels the rows have
	Section int    // 1 to 4, the annual report's 2.1 to 2.4
	Percent bool   // shows percentages beside the counts
	Compare bool   // shows the previous year's percentages
	Chart   string // "", ChartPie or ChartBars
	Rows    []Row
	// Total is every report the table covers: Base plus NotRecorded plus Open.
	Total int
	// Base is what percentages are of: the reports with a recorded value (for the
	// follow-up: the closed cases).
	Base        int
	NotRecorded int
	Open        int // follow-up only: handoffs not closed yet
	// CompareBase is the previous year's Base.
	CompareBase int
	// HiddenSum is the sum of the hidden cells (Base minus the shown ones), for charts.
	HiddenSum int
	// Withheld is set when the table is too small to show without revealing a small
	// count: it has no rows then.
	Withheld bool
	Rounding []RoundingNote
}

// Report is section 2 of the annual report for one year.
type Report struct {
	Year         int
	CompareYear  int // 0 without comparison
	Total        int // reports in Year
	CompareTotal int
	// MinCell is the threshold applied, 0 when every count is shown.
	MinCell int
	// Unknown counts records with a code this version does not know (from a newer
	// version, or a broken import); such answers count as not recorded.
	Unknown int
	Tables  []Table
}

// Table returns the table with the id.
func (r Report) Table(id string) (Table, bool) {
	for _, t := range r.Tables {
		if t.ID == id {
			return t, true
		}
	}
	return Table{}, false
}

// spec describes a table.
type spec struct {
	id, v   string
	values  []string
	section int
	percent bool
	compare bool
	chart   string
	sorted  bool   // by count, largest first, as the report sorts these
	pinned  string // a value kept last when sorted ("unknown")
}

// schemaValues returns the values of a coded schema variable; the tables are built on
// them, so a schema without one is a programming error any test shows.
func schemaValues(name string) []string {
	v, ok := flows.Lookup(name)
	if !ok || v.Text {
		panic(fmt.Sprintf("stats: the flow schema has no coded variable %q", name))
	}
	return v.Values
}

var (
	specContact  = spec{id: TableContact, v: "contact", values: ContactForms, section: 1}
	specReporter = spec{id: TableReporter, v: "reporter", values: []string{"self", ThirdParty}, section: 1}
	specThird    = spec{id: BreakdownThirdParty, v: "reporter", values: thirdParties}
	specGender   = spec{id: TableGender, v: "gender", values: schemaValues("gender"), section: 2, percent: true}
	specFaculty  = spec{id: TableFaculty, v: "faculty", values: schemaValues("faculty"), section: 2, percent: true,
		chart: ChartPie, sorted: true, pinned: "unknown"}
	specRelation = spec{id: TableRelation, v: "relation", values: schemaValues("relation"), section: 3,
		sorted: true, pinned: "unknown"}
	specCategory = spec{id: TableCategory, v: "category", values: schemaValues("category"), section: 3,
		percent: true, compare: true, chart: ChartBars, sorted: true}
	specSV       = spec{id: BreakdownSV, v: "sv_kind", values: schemaValues("sv_kind")}
	specAgg      = spec{id: BreakdownAggression, v: "aggression_kind", values: schemaValues("aggression_kind")}
	specFollowUp = spec{id: TableFollowUp, v: "followup", values: bot.FollowUps, section: 4, percent: true,
		chart: ChartBars}
	thirdParties = []string{"third_student", "third_staff", "third_other"}
)

// dim indexes the values of one variable; counts have one more slot, for "not recorded".
type dim struct {
	values []string
	index  map[string]int
}

func newDim(values []string) dim {
	d := dim{values: values, index: make(map[string]int, len(values))}
	for i, v := range values {
		d.index[v] = i
	}
	return d
}

var (
	dimContact  = newDim(ContactForms)
	dimReporter = newDim(schemaValues("reporter"))
	dimGender   = newDim(specGender.values)
	dimFaculty  = newDim(specFaculty.values)
	dimRelation = newDim(specRelation.values)
	dimCategory = newDim(specCategory.values)
	dimSV       = newDim(specSV.values)
	dimAgg      = newDim(specAgg.values)
	dimFollowUp = newDim(bot.FollowUps)
	catSV       = dimCategory.index["sexual_violence"]
	catAgg      = dimCategory.index["aggression"]
)

// tally is one pass of counting over a year's records.
type tally struct {
	n, unknown, open int
	// One count per value of the dimension, then "not recorded".
	contact, reporter, gender, faculty, relation, category, sv, agg, followup []int
}

func newTally() *tally {
	mk := func(d dim) []int { return make([]int, len(d.values)+1) }
	return &tally{
		contact: mk(dimContact), reporter: mk(dimReporter), gender: mk(dimGender),
		faculty: mk(dimFaculty), relation: mk(dimRelation), category: mk(dimCategory),
		sv: mk(dimSV), agg: mk(dimAgg), followup: mk(dimFollowUp),
	}
}

// count adds v to counts; an empty value counts as not recorded, and so does a value
// the dimension does not know, which also returns false.
func count(d dim, counts []int, v string) bool {
	if v == "" {
		counts[len(d.values)]++
		return true
	}
	i, ok := d.index[v]
	if !ok {
		counts[len(d.values)]++
		return false
	}
	counts[i]++
	return true
}

func (t *tally) add(r bot.Record) {
	t.n++
	ok := true
	switch i, known := dimContact.index[r.Channel]; {
	case known:
		t.contact[i]++
	case r.Channel == "":
		t.contact[len(ContactForms)]++
	default:
		t.contact[dimContact.index["chat"]]++
	}
	f := r.Fields
	ok = count(dimReporter, t.reporter, f["reporter"]) && ok
	ok = count(dimGender, t.gender, f["gender"]) && ok
	ok = count(dimFaculty, t.faculty, f["faculty"]) && ok
	ok = count(dimRelation, t.relation, f["relation"]) && ok
	cat := f["category"]
	ok = count(dimCategory, t.category, cat) && ok
	switch cat {
	case "sexual_violence":
		ok = count(dimSV, t.sv, f["sv_kind"]) && ok
	case "aggression":
		ok = count(dimAgg, t.agg, f["aggression_kind"]) && ok
	}
	// A registration is only recorded, which is the follow-up "registration"; a handoff
	// gets its follow-up when a counsellor closes it.
	switch {
	case r.FollowUp != "":
		ok = count(dimFollowUp, t.followup, r.FollowUp) && ok
	case r.Kind == bot.CaseRegistration:
		t.followup[dimFollowUp.index["registration"]]++
	case r.Kind == bot.CaseHandoff:
		t.open++
	default:
		t.followup[len(bot.FollowUps)]++
	}
	if !ok {
		t.unknown++
	}
}

// Compute counts the records of year (records of other years in recs are ignored) into
// the tables of the report, with the percentages of the compare records beside the
// categories when compare is not empty, and protects small counts as opts say.
func Compute(year int, recs []bot.Record, compare []bot.Record, opts Options) Report {
	k := opts.minCell()
	cur := tallyYear(year, recs)
	rep := Report{Year: year, Total: cur.n, MinCell: k, Unknown: cur.unknown}
	var prev *tally
	if len(compare) > 0 {
		rep.CompareYear = opts.CompareYear
		if rep.CompareYear == 0 {
			rep.CompareYear = year - 1
		}
		prev = tallyYear(rep.CompareYear, compare)
		rep.CompareTotal = prev.n
	}

	// Contact forms.
	rep.Tables = append(rep.Tables, build(specContact, cur.contact, 0, k, nil))

	// Self or third parties, and the third parties by who.
	third := 0
	for _, v := range thirdParties {
		third += cur.reporter[dimReporter.index[v]]
	}
	nr := cur.reporter[len(dimReporter.values)]
	top := []int{cur.reporter[dimReporter.index["self"]], third, nr}
	rt := build(specReporter, top, 0, k, nil)
	sub := make([]int, len(thirdParties)+1)
	for i, v := range thirdParties {
		sub[i] = cur.reporter[dimReporter.index[v]]
	}
	attach(&rt, ThirdParty, specThird, sub, k)
	rep.Tables = append(rep.Tables, rt)

	rep.Tables = append(rep.Tables,
		build(specGender, cur.gender, 0, k, nil),
		build(specFaculty, cur.faculty, 0, k, nil),
		build(specRelation, cur.relation, 0, k, nil))

	var prevCat []int
	if prev != nil {
		prevCat = prev.category
	}
	ct := build(specCategory, cur.category, 0, k, prevCat)
	attach(&ct, "sexual_violence", specSV, cur.sv, k)
	attach(&ct, "aggression", specAgg, cur.agg, k)
	rep.Tables = append(rep.Tables, ct)

	rep.Tables = append(rep.Tables, build(specFollowUp, cur.followup, cur.open, k, nil))
	return rep
}

func tallyYear(year int, recs []bot.Record) *tally {
	t := newTally()
	for i := range recs {
		if recs[i].Year == year {
			t.add(recs[i])
		}
	}
	return t
}

// build makes a table of s from counts (one per value, then "not recorded"), with open
// cases beside them and the previous year's counts when prev is not nil.
func build(s spec, counts []int, open, k int, prev []int) Table {
	n := len(s.values)
	cells, nr := counts[:n], counts[n]
	t := Table{ID: s.id, Var: s.v, Section: s.section, Percent: s.percent, Chart: s.chart,
		NotRecorded: nr, Open: open}
	for _, c := range cells {
		t.Base += c
	}
	t.Total = t.Base + nr + open
	states, ok := protect(cells, k)
	if !ok {
		t.Withheld = true
		return t
	}
	pcts, sum := percents(cells, t.Base)
	hides := false
	t.Rows = make([]Row, n)
	for i, v := range s.values {
		r := Row{Value: v, Count: Cell{State: states[i]}, Percent: Cell{State: Empty}, Compare: Cell{State: Empty}}
		if states[i] == Shown {
			r.Count.Value = cells[i]
		} else {
			hides = true
			t.HiddenSum += cells[i]
		}
		if s.percent && t.Base > 0 {
			r.Percent = Cell{State: Hidden}
			if states[i] == Shown {
				r.Percent = Cell{Value: pcts[i], State: Shown}
			}
		}
		t.Rows[i] = r
	}
	if s.percent && t.Base > 0 && (hides || sum != 100) {
		note := RoundingNote{Total: sum}
		if hides {
			note.Total = 0
		}
		t.Rounding = append(t.Rounding, note)
	}
	if s.compare && prev != nil {
		t.Compare = true
		pt := build(spec{values: s.values, percent: true}, prev, 0, k, nil)
		t.CompareBase = pt.Base
		for i := range t.Rows {
			switch {
			case pt.Withheld:
				t.Rows[i].Compare = Cell{State: Hidden}
			case pt.Base > 0:
				t.Rows[i].Compare = pt.Rows[i].Percent
			}
		}
		if len(pt.Rounding) > 0 {
			t.Rounding = append(t.Rounding, RoundingNote{Compare: true, Total: pt.Rounding[0].Total})
		}
	}
	if s.sorted {
		sortRows(t.Rows, s.pinned)
	}
	return t
}

// sortRows orders shown rows by count, largest first (ties in the schema's order), then
// hidden rows in the schema's order, then the pinned value: a hidden row's place in the
// ranking would tell its size.
func sortRows(rows []Row, pinned string) {
	rank := func(r Row) int {
		switch {
		case r.Value == pinned:
			return 2
		case r.Count.State == Shown:
			return 0
		}
		return 1
	}
	slices.SortStableFunc(rows, func(a, b Row) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		if rank(a) == 0 {
			return b.Count.Value - a.Count.Value
		}
		return 0
	})
}

// attach adds the breakdown of the row with value parent, from counts of s (then "not
// recorded"). It is shown only under a parent count that is shown exactly, and only when
// some report has the follow-up answer: against a hidden parent its cells would add up
// to the hidden count.
func attach(t *Table, parent string, s spec, counts []int, k int) {
	for i := range t.Rows {
		r := &t.Rows[i]
		if r.Value != parent || r.Count.State != Shown || r.Count.Value == 0 {
			continue
		}
		recorded := 0
		for _, c := range counts[:len(s.values)] {
			recorded += c
		}
		if recorded == 0 {
			return
		}
		b := build(s, counts, 0, k, nil)
		r.Breakdown = &b
	}
}

// percents rounds each count's share of base half up to a whole percentage, in integers
// so no float rounding can differ from the report's; it returns them and their sum.
func percents(counts []int, base int) ([]int, int) {
	out := make([]int, len(counts))
	if base <= 0 {
		return out, 0
	}
	sum := 0
	for i, c := range counts {
		out[i] = (200*c + base) / (2 * base)
		sum += out[i]
	}
	return out, sum
}
