package stats

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Output formats.
const (
	FormatMarkdown = "md"
	FormatHTML     = "html"
	FormatCSV      = "csv"
)

// Formats lists the output formats.
var Formats = []string{FormatMarkdown, FormatHTML, FormatCSV}

// Write writes the report to w in format: Markdown without charts (a stream cannot carry
// the chart files), a whole HTML page, or the CSV blocks.
func Write(w io.Writer, r Report, l *Labels, format string) error {
	switch format {
	case FormatMarkdown:
		return WriteMarkdown(w, r, l, false)
	case FormatHTML:
		return WriteHTML(w, r, l)
	case FormatCSV:
		return WriteCSV(w, r, l)
	}
	return fmt.Errorf("stats: unknown format %q; choose %s", format, strings.Join(Formats, ", "))
}

// WriteDir writes the report into dir (which must exist) and returns the paths written:
//   - md: report.md, and beside it the charts it refers to as SVG files (faculty.svg,
//     category.svg, followup.svg; a withheld table has none);
//   - html: report.html, the charts inline;
//   - csv: report.csv with the report's key figures, and one file per table
//     (contact.csv, reporter.csv, …): a spreadsheet opens one table per file, where a
//     stream (Write) has them as blocks in one.
//
// Files of the same name are overwritten; no other file is touched.
func WriteDir(dir string, r Report, l *Labels, format string) ([]string, error) {
	if l == nil {
		return nil, errNoLabels
	}
	var files []string
	put := func(name string, write func(io.Writer) error) error {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			return err
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			return err
		}
		files = append(files, p)
		return nil
	}
	var err error
	switch format {
	case FormatMarkdown:
		err = put("report.md", func(w io.Writer) error { return WriteMarkdown(w, r, l, true) })
		for _, t := range r.Tables {
			if err != nil || t.Chart == "" || t.Withheld {
				continue
			}
			err = put(t.ID+".svg", func(w io.Writer) error { return WriteSVG(w, r, t.ID, l) })
		}
	case FormatHTML:
		err = put("report.html", func(w io.Writer) error { return WriteHTML(w, r, l) })
	case FormatCSV:
		for _, b := range csvBlocks(r, l) {
			if err == nil {
				err = put(b.name+".csv", func(w io.Writer) error { return writeCSVBlock(w, b) })
			}
		}
	default:
		return nil, fmt.Errorf("stats: unknown format %q; choose %s", format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return files, fmt.Errorf("write report: %w", err)
	}
	return files, nil
}
