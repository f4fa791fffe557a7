package stats

import (
	"encoding/csv"
	"io"
	"strconv"
)

// csvBlock is one CSV table: a header row, then the rows.
type csvBlock struct {
	name string
	rows [][]string
}

// csvBlocks lays the report out as CSV tables. The first is "report" (key, value: year,
// comparison year, totals, threshold), then one per table of the report, each with the
// same columns: the table id over the coded value (a breakdown row is <var>.<value>;
// nr, open and total are the extra rows), the label in the report's language, the count
// ("<K" or "×" when hidden), the percentage without "%" (percentage tables), and the
// previous year's percentage (the category table when compared).
func csvBlocks(r Report, l *Labels) []csvBlock {
	v := newView(r, l)
	meta := csvBlock{name: "report", rows: [][]string{
		{"report", "value"},
		{"year", strconv.Itoa(r.Year)},
		{"reports", strconv.Itoa(r.Total)},
	}}
	if r.CompareYear != 0 {
		meta.rows = append(meta.rows, []string{"compare_year", strconv.Itoa(r.CompareYear)},
			[]string{"compare_reports", strconv.Itoa(r.CompareTotal)})
	}
	meta.rows = append(meta.rows,
		[]string{"min_cell", strconv.Itoa(r.MinCell)},
		[]string{"min_cell_default", strconv.Itoa(DefaultMinCell)},
		[]string{"language", l.Lang},
		[]string{"unknown_codes", strconv.Itoa(r.Unknown)})
	blocks := []csvBlock{meta}
	for _, s := range v.sections {
		for _, t := range s.tables {
			head := []string{t.t.ID, "label", "count"}
			if t.t.Percent {
				head = append(head, "percent")
			}
			if t.t.Compare {
				head = append(head, "percent_"+strconv.Itoa(r.CompareYear))
			}
			b := csvBlock{name: t.t.ID, rows: [][]string{head}}
			for _, row := range t.rows {
				cells := []string{row.code, row.label, countText(row.count, v.k)}
				if t.t.Percent {
					cells = append(cells, percentText(row.percent, true))
				}
				if t.t.Compare {
					cells = append(cells, percentText(row.compare, true))
				}
				b.rows = append(b.rows, cells)
			}
			blocks = append(blocks, b)
		}
	}
	return blocks
}

// WriteCSV writes the report as CSV blocks (see csvBlocks) separated by an empty line,
// for reading into a spreadsheet; WriteDir writes each block to a file of its own.
func WriteCSV(w io.Writer, r Report, l *Labels) error {
	if l == nil {
		return errNoLabels
	}
	for i, b := range csvBlocks(r, l) {
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		if err := writeCSVBlock(w, b); err != nil {
			return err
		}
	}
	return nil
}

func writeCSVBlock(w io.Writer, b csvBlock) error {
	cw := csv.NewWriter(w)
	for _, row := range b.rows {
		safe := make([]string, len(row))
		for i, c := range row {
			safe[i] = defuse(c)
		}
		if err := cw.Write(safe); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// defuse keeps a spreadsheet from running a label from the locale files as a formula.
func defuse(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
