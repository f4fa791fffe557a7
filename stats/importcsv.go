package stats

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"intake/bot"
	"intake/flows"
)

// LineError is a problem on one line of an imported file.
type LineError struct {
	File string
	Line int
	Msg  string
}

func (e LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// ImportErrors are the problems found in a file, in line order.
type ImportErrors []LineError

func (e ImportErrors) Error() string {
	lines := make([]string, len(e))
	for i, le := range e {
		lines[i] = le.Error()
	}
	return strings.Join(lines, "\n")
}

// Limits of ReadCSV: a year of hand counts is a few hundred lines.
const (
	maxImportBytes   = 32 << 20
	maxImportErrors  = 50
	maxImportRecords = 200_000 // a year has a few hundred reports; this is a wrong file
	maxCount         = 50_000  // per value and per year, likewise
	minYear, maxYear = 1900, 2999
)

// Column names besides the schema's coded variables.
const (
	colYear     = "year"
	colMonth    = "month"
	colContact  = "contact"  // the first contact form: the record's Channel
	colFollowUp = "followup" // the follow-up category
	colField    = "field"
	colValue    = "value"
	colCount    = "count"
	fieldTotal  = "total"
)

// importFields are the columns (one row per report) or fields (counts) a hand count may
// have besides year and month: every coded variable of the schema, with contact being the
// report's first contact form (ContactForms) rather than the bot's question of the same
// name, and the follow-up.
func importFields() []string {
	var out []string
	for _, v := range flows.Schema {
		if !v.Text && v.Name != colContact {
			out = append(out, v.Name)
		}
	}
	return append(out, colContact, colFollowUp)
}

// allowed returns the values of an import field.
func allowed(field string) []string {
	switch field {
	case colContact:
		return ContactForms
	case colFollowUp:
		return bot.FollowUps
	}
	v, _ := flows.Lookup(field)
	return v.Values
}

// condition returns the condition under which field is recorded (sv_kind only for
// sexual violence), nil when always.
func condition(field string) *flows.Condition {
	if field == colContact || field == colFollowUp {
		return nil
	}
	v, _ := flows.Lookup(field)
	return v.When
}

// ReadCSV reads an earlier year's hand count, named name in errors, in either of two
// forms told apart by the header (which is required):
//
//   - one row per report, with any of the columns year, month, the coded variables of
//     the schema (category, sv_kind, aggression_kind, relation, reporter, outcome,
//     faculty, gender, …), contact (the first contact form: in_person, teams, email,
//     phone, chat) and followup; an empty cell is "not recorded";
//   - counts per field and value, with the columns year, field, value and count (field
//     "total" with an empty value gives the number of reports when no field covers them
//     all). The counts become as many records as there are reports, each field's values
//     dealt out over them in turn: every table of the report is then exactly the counted
//     one, but combinations of fields mean nothing (the report shows none).
//
// year, when not 0, is the year of rows without one, and rows of another year are an
// error; without it every row needs a year. Values are matched ignoring case, with
// spaces and hyphens read as "_". Either a comma or a semicolon (as a Dutch spreadsheet
// writes) separates the cells, and a leading byte-order mark is skipped.
//
// The error, when the file has problems, is ImportErrors: every problem with its line
// (at most 50), and no records: an import is all or nothing.
func ReadCSV(name string, r io.Reader, year int) ([]bot.Record, error) {
	if year != 0 && (year < minYear || year > maxYear) {
		return nil, fmt.Errorf("%d is not a year like 2024", year)
	}
	data, err := io.ReadAll(io.LimitReader(r, maxImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	p := &importer{file: name, year: year}
	if len(data) > maxImportBytes {
		p.fail(1, "the file is larger than %d MiB; a year's hand count is far smaller: is it the right file?", maxImportBytes>>20)
		return nil, p.errs
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = delimiter(data)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			p.fail(1, "the file is empty; its first line must name the columns, e.g. year,category,relation,reporter")
		} else {
			p.parseError(err)
		}
		return nil, p.errs
	}
	var recs []bot.Record
	if cols := p.header(head); cols != nil {
		if cols.index(colField) >= 0 || cols.index(colCount) >= 0 {
			recs = p.counts(cr, cols)
		} else {
			recs = p.reports(cr, cols)
		}
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return recs, nil
}

// delimiter guesses the cell separator from the first line.
func delimiter(data []byte) rune {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		return ';'
	}
	return ','
}

type importer struct {
	file string
	year int
	errs ImportErrors
}

// fail records a problem; false once there are too many to go on.
func (p *importer) fail(line int, format string, args ...any) bool {
	if len(p.errs) >= maxImportErrors {
		return false
	}
	p.errs = append(p.errs, LineError{File: p.file, Line: max(line, 1), Msg: fmt.Sprintf(format, args...)})
	if len(p.errs) == maxImportErrors {
		p.errs = append(p.errs, LineError{File: p.file, Line: max(line, 1), Msg: "too many problems; stopped here, fix these first"})
		return false
	}
	return true
}

func (p *importer) parseError(err error) {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		p.fail(pe.Line, "%v; put a cell that has quotes or the separator in it between double quotes, and double its own quotes", pe.Err)
		return
	}
	p.fail(1, "%v", err)
}

// columns are the header's names, in order.
type columns []string

func (c columns) index(name string) int { return slices.Index(c, name) }

// header checks the column names; nil when they are wrong.
func (p *importer) header(head []string) columns {
	cols := make(columns, len(head))
	for i, h := range head {
		cols[i] = norm(h)
	}
	counts := cols.index(colField) >= 0 || cols.index(colCount) >= 0
	known := append([]string{colYear, colMonth}, importFields()...)
	if counts {
		known = []string{colYear, colField, colValue, colCount}
	}
	ok := true
	for i, c := range cols {
		switch {
		case c == "":
			p.fail(1, "column %d has no name; every column needs one (or delete the empty column)", i+1)
			ok = false
		case !slices.Contains(known, c):
			hint := didYouMean(c, known)
			if hint == "" && counts {
				hint = " (a count file has the columns year, field, value and count)"
			}
			p.fail(1, "unknown column %q%s", head[i], hint)
			ok = false
		case slices.Index(cols, c) != i:
			p.fail(1, "column %q appears twice", head[i])
			ok = false
		}
	}
	if !ok {
		return nil
	}
	if counts {
		for _, need := range []string{colField, colValue, colCount} {
			if cols.index(need) < 0 {
				p.fail(1, "a count file needs the columns field, value and count; %q is missing", need)
				ok = false
			}
		}
	}
	if cols.index(colYear) < 0 && p.year == 0 {
		p.fail(1, "there is no year column: add one, or give the year with --year")
		ok = false
	}
	if !ok {
		return nil
	}
	return cols
}

// rows calls f with each non-empty row and its line; it stops after a parse error or
// when f returns false.
func (p *importer) rows(cr *csv.Reader, cols columns, f func(line int, cells map[string]string) bool) {
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			p.parseError(err)
			return
		}
		line, _ := cr.FieldPos(0)
		if isBlank(rec) {
			continue // spreadsheets leave empty rows at the end
		}
		if len(rec) > len(cols) && !isBlank(rec[len(cols):]) {
			if !p.fail(line, "%d cells, but the header names %d columns", len(rec), len(cols)) {
				return
			}
			continue
		}
		cells := make(map[string]string, len(cols))
		for i, c := range cols {
			if i < len(rec) {
				cells[c] = strings.TrimSpace(rec[i])
			}
		}
		if !f(line, cells) {
			return
		}
	}
}

func isBlank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// rowYear reads the year of a row; 0 after a problem.
func (p *importer) rowYear(line int, cell string) int {
	if cell == "" {
		if p.year == 0 {
			p.fail(line, "no year: fill it in, or give the year with --year")
		}
		return p.year
	}
	y, err := strconv.Atoi(cell)
	if err != nil || y < minYear || y > maxYear {
		p.fail(line, "year %q is not a year like 2024", cell)
		return 0
	}
	if p.year != 0 && y != p.year {
		p.fail(line, "year %d, but --year %d was given; leave --year out to import every year in the file", y, p.year)
		return 0
	}
	return y
}

// value reads the value of field in a cell ("" stays not recorded); ok false after a
// problem.
func (p *importer) value(line int, field, cell string) (string, bool) {
	if cell == "" {
		return "", true
	}
	v := norm(cell)
	if field == colContact && v == "e_mail" {
		v = "email"
	}
	vals := allowed(field)
	if !slices.Contains(vals, v) {
		if hint := didYouMean(v, vals); hint != "" {
			p.fail(line, "unknown %s %q%s", field, cell, hint)
		} else {
			p.fail(line, "unknown %s %q; it takes %s", field, cell, strings.Join(vals, ", "))
		}
		return "", false
	}
	return v, true
}

// reports reads one row per report.
func (p *importer) reports(cr *csv.Reader, cols columns) []bot.Record {
	var recs []bot.Record
	fields := importFields()
	p.rows(cr, cols, func(line int, cells map[string]string) bool {
		before := len(p.errs)
		r := bot.Record{Year: p.rowYear(line, cells[colYear]), Kind: KindImport, Fields: map[string]string{}}
		if m := cells[colMonth]; m != "" {
			n, err := strconv.Atoi(m)
			if err != nil || n < 1 || n > 12 {
				p.fail(line, "month %q is not a month number from 1 to 12", m)
			}
			r.Month = n
		}
		for _, f := range fields {
			v, ok := p.value(line, f, cells[f])
			if !ok || v == "" {
				continue
			}
			switch f {
			case colContact:
				r.Channel = v
			case colFollowUp:
				r.FollowUp = v
			default:
				r.Fields[f] = v
			}
		}
		for f, v := range r.Fields {
			if c := condition(f); c != nil && !c.Holds(r.Fields) {
				p.fail(line, "%s %q is only recorded when %s is %s", f, v, c.Var, strings.Join(c.Values, " or "))
			}
		}
		if len(r.Fields) == 0 {
			r.Fields = nil
		}
		if len(p.errs) == before {
			recs = append(recs, r)
		}
		if len(recs) > maxImportRecords {
			p.fail(line, "more than %d reports; a year's hand count is far smaller: is it the right file?", maxImportRecords)
			return false
		}
		return len(p.errs) < maxImportErrors
	})
	return recs
}

// counted is one field's counts in a count file.
type counted struct {
	values map[string]int
	line   int // the line of its last row, for messages
}

// counts reads counts per field and value and deals them out into records.
func (p *importer) counts(cr *csv.Reader, cols columns) []bot.Record {
	type key struct {
		year         int
		field, value string
	}
	seen := map[key]int{}
	var years []int
	byYear := map[int]map[string]*counted{}
	fields := importFields()
	p.rows(cr, cols, func(line int, cells map[string]string) bool {
		y := p.rowYear(line, cells[colYear])
		field := norm(cells[colField])
		var value string
		ok := y != 0
		switch {
		case field == fieldTotal:
			if cells[colValue] != "" {
				p.fail(line, "the total has no value; leave the value cell empty")
				ok = false
			}
		case field == "":
			p.fail(line, "no field: name one of %s, or total", strings.Join(fields, ", "))
			ok = false
		case !slices.Contains(fields, field):
			p.fail(line, "unknown field %q%s", cells[colField], didYouMean(field, append(fields, fieldTotal)))
			ok = false
		case cells[colValue] == "":
			p.fail(line, "no value for %s: name one of %s", field, strings.Join(allowed(field), ", "))
			ok = false
		default:
			var vok bool
			value, vok = p.value(line, field, cells[colValue])
			ok = ok && vok
		}
		n, err := strconv.Atoi(cells[colCount])
		switch {
		case err != nil || n < 0:
			p.fail(line, "count %q is not a whole number from 0 up", cells[colCount])
			ok = false
		case n > maxCount:
			p.fail(line, "count %d is more than %d; is it the right file?", n, maxCount)
			ok = false
		}
		if !ok {
			return len(p.errs) < maxImportErrors
		}
		k := key{y, field, value}
		if first, dup := seen[k]; dup {
			return p.fail(line, "%s %s of %d is already counted on line %d", field, value, y, first)
		}
		seen[k] = line
		if byYear[y] == nil {
			byYear[y] = map[string]*counted{}
			years = append(years, y)
		}
		c := byYear[y][field]
		if c == nil {
			c = &counted{values: map[string]int{}}
			byYear[y][field] = c
		}
		c.values[value] += n
		c.line = line
		return true
	})
	if len(p.errs) > 0 {
		return nil
	}
	var recs []bot.Record
	for _, y := range years {
		recs = append(recs, p.deal(y, byYear[y])...)
		if len(recs) > maxImportRecords {
			p.fail(byYear[y][fieldTotal].lineOr(1), "more than %d reports; a year's hand count is far smaller: is it the right file?", maxImportRecords)
			return nil
		}
	}
	return recs
}

// lineOr returns the line of c, or def when there is no c.
func (c *counted) lineOr(def int) int {
	if c == nil {
		return def
	}
	return c.line
}

// deal makes the records of one year from its counts.
func (p *importer) deal(year int, fields map[string]*counted) []bot.Record {
	sum := func(c *counted) int {
		s := 0
		for _, n := range c.values {
			s += n
		}
		return s
	}
	total, totalLine := 0, 0
	if t := fields[fieldTotal]; t != nil {
		total, totalLine = t.values[""], t.line
	} else {
		for _, c := range fields {
			total = max(total, sum(c))
		}
	}
	if total > maxImportRecords {
		p.fail(totalLine, "%d reports in %d; a year's hand count is far smaller: is it the right file?", total, year)
		return nil
	}
	recs := make([]bot.Record, total)
	for i := range recs {
		recs[i] = bot.Record{Year: year, Kind: KindImport}
	}
	for _, f := range importFields() { // parents before the questions that depend on them
		c := fields[f]
		if c == nil {
			continue
		}
		s := sum(c)
		if s > total {
			p.fail(c.line, "the %s counts of %d add up to %d, more than the %d reports on line %d", f, year, s, total, totalLine)
			continue
		}
		// Deal the values out, in the schema's order, over the records the field applies
		// to (sv_kind: those of sexual violence).
		cond := condition(f)
		var slots []int
		for i := range recs {
			if cond.Holds(recs[i].Fields) {
				slots = append(slots, i)
			}
		}
		if s > len(slots) {
			p.fail(c.line, "the %s counts of %d add up to %d, but only %d reports have %s %s", f, year, s, len(slots), cond.Var, strings.Join(cond.Values, " or "))
			continue
		}
		next := 0
		for _, v := range allowed(f) {
			for range c.values[v] {
				r := &recs[slots[next]]
				next++
				switch f {
				case colContact:
					r.Channel = v
				case colFollowUp:
					r.FollowUp = v
				default:
					if r.Fields == nil {
						r.Fields = map[string]string{}
					}
					r.Fields[f] = v
				}
			}
		}
	}
	return recs
}

// norm is how names and values are matched: trimmed, lower case, spaces and hyphens as
// underscores.
func norm(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, s)
}

// didYouMean returns " (did you mean x?)" when a candidate is a likely typing mistake
// for word (the same rule as the flow validator's), "" otherwise.
func didYouMean(word string, candidates []string) string {
	if best := flows.Closest(word, candidates); best != "" {
		return " (did you mean " + best + "?)"
	}
	return ""
}
