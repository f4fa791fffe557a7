package stats

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; diff with go test -run %s -update and git diff:\n%s", name, t.Name(), got)
	}
}

// TestGolden renders the 2025 fixture in every format: in Dutch with every count shown
// (the annual report as published), and in English at the default threshold.
func TestGolden(t *testing.T) {
	recs, prev := fixture(t)
	cases := []struct {
		name string
		lang string
		opts Options
	}{
		{"report-2025-nl", "nl", Options{MinCell: 1}},
		{"report-2025-en-k5", "en", Options{}},
	}
	for _, c := range cases {
		r := Compute(2025, recs, prev, c.opts)
		l := labels(t, c.lang)
		for _, format := range Formats {
			t.Run(c.name+"."+format, func(t *testing.T) {
				var b bytes.Buffer
				var err error
				if format == FormatMarkdown {
					err = WriteMarkdown(&b, r, l, true)
				} else {
					err = Write(&b, r, l, format)
				}
				if err != nil {
					t.Fatal(err)
				}
				golden(t, c.name+"."+format+".golden", b.Bytes())
			})
		}
	}
}

// TestWriteDir: Markdown with its SVG charts beside it, one HTML page, one CSV per table.
func TestWriteDir(t *testing.T) {
	recs, prev := fixture(t)
	r := Compute(2025, recs, prev, Options{})
	l := labels(t, "nl")
	cases := []struct {
		format string
		files  []string
	}{
		{FormatMarkdown, []string{"category.svg", "faculty.svg", "followup.svg", "report.md"}},
		{FormatHTML, []string{"report.html"}},
		{FormatCSV, []string{"category.csv", "contact.csv", "faculty.csv", "followup.csv", "gender.csv", "relation.csv", "report.csv", "reporter.csv"}},
	}
	for _, c := range cases {
		dir := t.TempDir()
		paths, err := WriteDir(dir, r, l, c.format)
		if err != nil {
			t.Fatalf("%s: %v", c.format, err)
		}
		var names []string
		for _, p := range paths {
			names = append(names, filepath.Base(p))
		}
		slices.Sort(names)
		if !slices.Equal(names, c.files) {
			t.Errorf("%s wrote %v, want %v", c.format, names, c.files)
		}
		for _, name := range names {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			switch filepath.Ext(name) {
			case ".svg":
				checkXML(t, name, data)
				if !bytes.Contains(data, []byte("<title")) || !bytes.Contains(data, []byte("(2025)")) {
					t.Errorf("%s has no title naming the year", name)
				}
			case ".md":
				for _, svg := range []string{"faculty.svg", "category.svg", "followup.svg"} {
					if !bytes.Contains(data, []byte("]("+svg+")")) {
						t.Errorf("report.md does not refer to %s", svg)
					}
				}
			}
		}
		if c.format == FormatCSV {
			// Each file is one block, the same as in the stream.
			var stream bytes.Buffer
			if err := WriteCSV(&stream, r, l); err != nil {
				t.Fatal(err)
			}
			cat, _ := os.ReadFile(filepath.Join(dir, "category.csv"))
			if !bytes.Contains(stream.Bytes(), append([]byte("\n"), cat...)) {
				t.Errorf("category.csv is not a block of the CSV stream:\n%s", cat)
			}
		}
	}
	if _, err := WriteDir(t.TempDir(), r, l, "pdf"); err == nil || !strings.Contains(err.Error(), "choose md, html, csv") {
		t.Errorf("unknown format: %v", err)
	}
}

// checkXML fails unless data is well-formed XML.
func checkXML(t *testing.T, name string, data []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Errorf("%s is not well-formed: %v", name, err)
			return
		}
	}
}

// TestHTMLSelfContained: the page loads nothing from elsewhere and forbids it too.
func TestHTMLSelfContained(t *testing.T) {
	recs, prev := fixture(t)
	var b bytes.Buffer
	if err := WriteHTML(&b, Compute(2025, recs, prev, Options{}), labels(t, "en")); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script", "<link", "<img", "src=", "href=", "url(http", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page has %q", bad)
		}
	}
	if !strings.Contains(page, `content="default-src 'none'; style-src 'unsafe-inline'"`) {
		t.Error("the page has no Content-Security-Policy")
	}
	if n := strings.Count(page, "<svg "); n != 3 {
		t.Errorf("%d inline charts, want 3", n)
	}
	// Pattern ids are unique on the page, so every chart fills with its own.
	if n := strings.Count(page, `id="c-category-hatch"`); n != 1 {
		t.Errorf("c-category-hatch defined %d times", n)
	}
}

// TestChartsHideHiddenCells: a hidden count is not drawn (a bar's length or a slice's
// angle is a number too): the pie draws the hidden cells as one white slice, the bars
// none.
func TestChartsHideHiddenCells(t *testing.T) {
	recs, prev := fixture(t)
	r := Compute(2025, recs, prev, Options{})
	l := labels(t, "en")
	var pie, bars bytes.Buffer
	if err := WriteSVG(&pie, r, TableFaculty, l); err != nil {
		t.Fatal(err)
	}
	if err := WriteSVG(&bars, r, TableCategory, l); err != nil {
		t.Fatal(err)
	}
	// Faculty: Law, SBE, FSE, FHML, not said, and one slice for FASoS and FPN together
	// (the other path is the cross-hatch pattern).
	if n := strings.Count(pie.String(), "<path ") - 1; n != 6 {
		t.Errorf("pie has %d slices, want 6", n)
	}
	if !strings.Contains(pie.String(), "× (hidden)") || strings.Contains(pie.String(), "FPN") || strings.Contains(pie.String(), "FASoS") {
		t.Errorf("pie does not merge the hidden faculties:\n%s", pie.String())
	}
	// Categories: 8 shown this year, and in 2024 all but worrying, bullying, stalking
	// (the other two rects are the legend's).
	if n := strings.Count(bars.String(), "<rect x=") - 2; n != 8+8 {
		t.Errorf("bar chart has %d bars, want 16", n)
	}
	if err := WriteSVG(&bars, r, TableGender, l); err == nil {
		t.Error("a chart of the gender table, which has none")
	}
}
