package stats

import (
	"strconv"
	"strings"
)

// view is a report laid out in one language: what every format shows, so Markdown, HTML
// and CSV say the same.
type view struct {
	lang     string
	title    string
	intro    []string
	sections []vsection
	k        int
}

type vsection struct {
	title  string
	lead   []string
	tables []vtable
}

type vtable struct {
	t     Table
	title string // the header of the label column
	head  []string
	rows  []vrow
	notes []string
	fig   *vfigure
}

type vrow struct {
	code    string // the CSV value column: a value, "<var>.<value>" in a breakdown, nr, open, total
	label   string
	count   Cell
	percent Cell
	compare Cell
	sub     bool // a breakdown row
	total   bool
}

type vfigure struct {
	num     int
	caption string
	file    string
}

// figures numbers the charts as the annual report does.
var figures = map[string]int{TableFaculty: 1, TableCategory: 2, TableFollowUp: 3}

func newView(r Report, l *Labels) view {
	v := view{lang: l.Lang, title: l.text("title", r.Year), k: r.MinCell}
	if r.CompareYear != 0 {
		v.intro = append(v.intro, l.text("compared", r.CompareYear))
	}
	if r.MinCell > 1 {
		v.intro = append(v.intro, l.text("mincell.on", r.MinCell, DefaultMinCell, r.MinCell-1))
	} else {
		v.intro = append(v.intro, l.text("mincell.off", DefaultMinCell))
	}
	if r.Unknown > 0 {
		v.intro = append(v.intro, l.text("unknown", r.Unknown))
	}
	for s := 1; s <= 4; s++ {
		sec := vsection{title: l.text("section." + strconv.Itoa(s))}
		if s == 1 {
			if r.CompareYear != 0 {
				sec.lead = append(sec.lead, l.text("total.compare", r.Year, r.Total, r.CompareYear, r.CompareTotal))
			} else {
				sec.lead = append(sec.lead, l.text("total", r.Year, r.Total))
			}
		}
		for _, t := range r.Tables {
			if t.Section == s {
				sec.tables = append(sec.tables, newVTable(r, t, l))
			}
		}
		v.sections = append(v.sections, sec)
	}
	return v
}

func newVTable(r Report, t Table, l *Labels) vtable {
	vt := vtable{t: t, title: l.text("head." + t.ID)}
	vt.head = []string{vt.title, l.text("col.count")}
	if t.Percent {
		vt.head = append(vt.head, l.text("col.percent"))
	}
	if t.Compare {
		vt.head = append(vt.head, l.text("col.compare", r.CompareYear))
	}
	empty := Cell{State: Empty}
	exact := func(n int) Cell { return Cell{Value: n} }
	for _, row := range t.Rows {
		vt.rows = append(vt.rows, vrow{code: row.Value, label: capital(l.Value(t.Var, row.Value)),
			count: row.Count, percent: row.Percent, compare: row.Compare})
		b := row.Breakdown
		if b == nil {
			continue
		}
		if b.Withheld {
			vt.rows = append(vt.rows, vrow{code: b.ID, label: l.text("row.withheld"), sub: true,
				count: empty, percent: empty, compare: empty})
			continue
		}
		for _, br := range b.Rows {
			vt.rows = append(vt.rows, vrow{code: b.Var + "." + br.Value, sub: true,
				label: l.text("row.of", l.Value(b.Var, br.Value)), count: br.Count, percent: empty, compare: empty})
		}
		if b.NotRecorded > 0 {
			vt.rows = append(vt.rows, vrow{code: b.Var + ".nr", sub: true,
				label: l.text("row.of", lower(l.text("row.nr"))), count: exact(b.NotRecorded), percent: empty, compare: empty})
		}
	}
	if t.NotRecorded > 0 {
		vt.rows = append(vt.rows, vrow{code: "nr", label: l.text("row.nr"), count: exact(t.NotRecorded), percent: empty, compare: empty})
	}
	if t.Open > 0 {
		vt.rows = append(vt.rows, vrow{code: "open", label: l.text("row.open"), count: exact(t.Open), percent: empty, compare: empty})
	}
	vt.rows = append(vt.rows, vrow{code: "total", label: l.text("row.total"), count: exact(t.Total), percent: empty, compare: empty, total: true})

	if t.Withheld {
		vt.notes = append(vt.notes, l.text("note.withheld"))
	}
	if t.ID == TableContact {
		vt.notes = append(vt.notes, l.text("note.chat"))
	}
	if t.Percent && !t.Withheld {
		switch {
		case t.Open > 0:
			vt.notes = append(vt.notes, l.text("note.followup", t.Base, t.Open))
		case t.NotRecorded > 0:
			vt.notes = append(vt.notes, l.text("note.base", t.Base))
		}
	}
	// A column with hidden cells gets the general note only: its exact total would tell
	// how the hidden cells split.
	general := false
	for _, n := range t.Rounding {
		switch {
		case n.Total == 0:
			general = true
		case n.Compare:
			vt.notes = append(vt.notes, l.text("note.round.cmp", r.CompareYear, n.Total))
		default:
			vt.notes = append(vt.notes, l.text("note.round", n.Total))
		}
	}
	if general {
		vt.notes = append(vt.notes, l.text("note.round.hid"))
	}
	if num, ok := figures[t.ID]; ok && t.Chart != "" {
		vt.fig = &vfigure{num: num, caption: l.text("fig", num, l.text("fig."+t.ID), r.Year), file: t.ID + ".svg"}
	}
	return vt
}

// countText shows a count cell; k is the report's threshold.
func countText(c Cell, k int) string {
	switch c.State {
	case Shown:
		return strconv.Itoa(c.Value)
	case Small:
		return "<" + strconv.Itoa(k)
	case Hidden:
		return "×"
	}
	return ""
}

// percentText shows a percentage cell, with sign unless bare (CSV).
func percentText(c Cell, bare bool) string {
	switch c.State {
	case Shown:
		if bare {
			return strconv.Itoa(c.Value)
		}
		return strconv.Itoa(c.Value) + "%"
	case Small, Hidden:
		return "×"
	}
	return ""
}

// lower returns s with its first letter lower case.
func lower(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
