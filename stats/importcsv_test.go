package stats

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"intake/bot"
)

const reportHeader = "year,month,category,sv_kind,relation,reporter,outcome,faculty,gender,followup,contact\n"

// goodRows returns n valid report rows of 2025.
func goodRows(n int) string {
	return strings.Repeat("2025,3,bullying,,student_student,self,advice,fse,woman,advice,teams\n", n)
}

func TestReadCSVErrors(t *testing.T) {
	cases := []struct {
		name  string
		input string
		year  int
		want  []string // the messages, in order
	}{
		{"typo in a value", reportHeader + goodRows(10) + "2025,4,stalkng,,student_staff,self,,law,man,,phone\n", 0,
			[]string{`x.csv:12: unknown category "stalkng" (did you mean stalking?)`}},
		{"no suggestion", "year,category\n2025,teasing\n", 0,
			[]string{`x.csv:2: unknown category "teasing"; it takes sexual_violence, inappropriate, unprofessional, worrying, unequal_treatment, intimidation, discrimination, bullying, stalking, aggression, other`}},
		{"unknown column", "year,catgory,colour\n2025,other,red\n", 0,
			[]string{`x.csv:1: unknown column "catgory" (did you mean category?)`, `x.csv:1: unknown column "colour"`}},
		{"twice", "year,category,Category\n", 0, []string{`x.csv:1: column "Category" appears twice`}},
		{"nameless column", "year,,category\n", 0, []string{`x.csv:1: column 2 has no name; every column needs one (or delete the empty column)`}},
		{"sub-answer without its answer", "year,category,sv_kind\n2025,inappropriate,physical\n", 0,
			[]string{`x.csv:2: sv_kind "physical" is only recorded when category is sexual_violence`}},
		{"another year than --year", "year,category\n2025,other\n2024,other\n", 2025,
			[]string{`x.csv:3: year 2024, but --year 2025 was given; leave --year out to import every year in the file`}},
		{"no year at all", "category\nother\n", 0, []string{`x.csv:1: there is no year column: add one, or give the year with --year`}},
		{"empty year", "year,category\n,other\n", 0, []string{`x.csv:2: no year: fill it in, or give the year with --year`}},
		{"bad year", "year,category\n25,other\n", 0, []string{`x.csv:2: year "25" is not a year like 2024`}},
		{"bad month", "year,month\n2025,13\n", 0, []string{`x.csv:2: month "13" is not a month number from 1 to 12`}},
		{"too many cells", "year,category\n2025,other,extra\n", 0, []string{`x.csv:2: 3 cells, but the header names 2 columns`}},
		{"empty file", "", 0, []string{`x.csv:1: the file is empty; its first line must name the columns, e.g. year,category,relation,reporter`}},
		{"bare quote", "year,category\n2025,other\n2025,oth\"er\n", 0,
			[]string{`x.csv:3: bare " in non-quoted-field; put a cell that has quotes or the separator in it between double quotes, and double its own quotes`}},
		{"every problem at once", "year,category,gender\n2025,other,woman\n2025,bulying,wman\n2026,other,\n", 2025,
			[]string{`x.csv:3: unknown category "bulying" (did you mean bullying?)`, `x.csv:3: unknown gender "wman" (did you mean woman?)`,
				`x.csv:4: year 2026, but --year 2025 was given; leave --year out to import every year in the file`}},
		// Counts per field and value.
		{"count: unknown field", "year,field,value,count\n2025,categroy,other,3\n", 0,
			[]string{`x.csv:2: unknown field "categroy" (did you mean category?)`}},
		{"count: twice", "year,field,value,count\n2025,category,other,3\n2025,category,Other,2\n", 0,
			[]string{`x.csv:3: category other of 2025 is already counted on line 2`}},
		{"count: not a number", "year,field,value,count\n2025,category,other,three\n2025,gender,man,-1\n", 0,
			[]string{`x.csv:2: count "three" is not a whole number from 0 up`, `x.csv:3: count "-1" is not a whole number from 0 up`}},
		{"count: more than the total", "year,field,value,count\n2025,total,,10\n2025,category,other,8\n2025,category,bullying,3\n", 0,
			[]string{`x.csv:4: the category counts of 2025 add up to 11, more than the 10 reports on line 2`}},
		{"count: sub-answer over its answer", "year,field,value,count\n2025,category,sexual_violence,5\n2025,category,other,20\n2025,sv_kind,physical,4\n2025,sv_kind,verbal_online,2\n", 0,
			[]string{`x.csv:5: the sv_kind counts of 2025 add up to 6, but only 5 reports have category sexual_violence`}},
		{"count: total with a value", "year,field,value,count\n2025,total,all,10\n", 0,
			[]string{`x.csv:2: the total has no value; leave the value cell empty`}},
		{"count: missing column", "year,field,count\n", 0,
			[]string{`x.csv:1: a count file needs the columns field, value and count; "value" is missing`}},
		{"count: too big", "year,field,value,count\n2025,category,other,9999999\n", 0,
			[]string{`x.csv:2: count 9999999 is more than 50000; is it the right file?`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recs, err := ReadCSV("x.csv", strings.NewReader(c.input), c.year)
			var ie ImportErrors
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, %v; want import errors", recs, err)
			}
			if recs != nil {
				t.Errorf("records returned with errors: %v", recs)
			}
			var got []string
			for _, e := range ie {
				got = append(got, e.Error())
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// TestReadCSVSpreadsheet: what a Dutch spreadsheet saves (byte-order mark, semicolons,
// CRLF, capitals, spaces, "e-mail", empty rows at the end) reads as intended.
func TestReadCSVSpreadsheet(t *testing.T) {
	input := "\ufeffJaar;x\r\n"
	if _, err := ReadCSV("x.csv", strings.NewReader(input), 0); err == nil {
		t.Error("a Dutch header was accepted")
	}
	input = "\ufeffYear;Category;SV_kind;Gender;Contact;FollowUp\r\n" +
		"2024;Sexual violence;Verbal-online;Non-binary;E-mail;Complaint\r\n" +
		"2024; stalking ;;;in person;\r\n" +
		";;;;;\r\n;;;;;\r\n"
	recs, err := ReadCSV("x.csv", strings.NewReader(input), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []bot.Record{
		{Year: 2024, Channel: "email", Kind: KindImport, FollowUp: "complaint",
			Fields: map[string]string{"category": "sexual_violence", "sv_kind": "verbal_online", "gender": "non_binary"}},
		{Year: 2024, Channel: "in_person", Kind: KindImport, Fields: map[string]string{"category": "stalking"}},
	}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("records:\n%+v\nwant\n%+v", recs, want)
	}
	// --year fills in a file without a year column.
	recs, err = ReadCSV("x.csv", strings.NewReader("category\nother\n"), 2023)
	if err != nil || len(recs) != 1 || recs[0].Year != 2023 {
		t.Errorf("with --year: %+v, %v", recs, err)
	}
}

// TestReadCSVCounts: counts per field become records whose tables are the counts.
func TestReadCSVCounts(t *testing.T) {
	input := "year,field,value,count\n" +
		"2023,category,sexual_violence,6\n2023,category,other,4\n" +
		"2023,sv_kind,physical,5\n" +
		"2023,gender,woman,7\n" +
		"2023,contact,teams,10\n2023,followup,advice,9\n" +
		"2022,total,,3\n2022,faculty,law,2\n"
	recs, err := ReadCSV("x.csv", strings.NewReader(input), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 13 {
		t.Fatalf("%d records, want 10 of 2023 and 3 of 2022", len(recs))
	}
	r := Compute(2023, recs, recs, Options{MinCell: 1, CompareYear: 2022})
	if r.Total != 10 || r.CompareTotal != 3 {
		t.Errorf("totals %d and %d, want 10 and 3", r.Total, r.CompareTotal)
	}
	cat, _ := r.Table(TableCategory)
	sv := cat.Rows[0]
	if sv.Value != "sexual_violence" || sv.Count.Value != 6 || sv.Breakdown == nil || sv.Breakdown.Rows[0].Count.Value != 5 || sv.Breakdown.NotRecorded != 1 {
		t.Errorf("sexual violence = %+v, breakdown %+v", sv, sv.Breakdown)
	}
	g, _ := r.Table(TableGender)
	if g.Rows[0].Count.Value != 7 || g.NotRecorded != 3 || g.Rows[0].Percent.Value != 100 {
		t.Errorf("gender = %+v", g)
	}
	fu, _ := r.Table(TableFollowUp)
	if fu.Rows[1].Count.Value != 9 || fu.NotRecorded != 1 || fu.Open != 0 {
		t.Errorf("follow-up = %+v", fu)
	}
	ct, _ := r.Table(TableContact)
	if ct.Rows[1].Count.Value != 10 {
		t.Errorf("contact = %+v", ct)
	}
	f22 := Compute(2022, recs, nil, Options{MinCell: 1})
	fac, _ := f22.Table(TableFaculty)
	if f22.Total != 3 || fac.Rows[0].Count.Value != 2 || fac.NotRecorded != 1 {
		t.Errorf("2022: %d reports, faculty %+v", f22.Total, fac)
	}
}

func FuzzReadCSV(f *testing.F) {
	for _, name := range []string{"registry-2025.csv", "registry-2024-counts.csv"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, 0)
	}
	f.Add([]byte(reportHeader+goodRows(2)+"2025,4,stalkng,,student_staff,self,,law,man,,phone\n"), 2025)
	f.Add([]byte("year;field;value;count\n2025;total;;3\n2025;category;sexual_violence;2\n2025;sv_kind;physical;2\n"), 0)
	f.Add([]byte("\ufeffcategory,sv_kind\n\"sexual violence\",physical\n\"unterminated\n"), 2025)
	f.Add([]byte("year,field,value,count\n2025,total,,50000\n2026,total,,50000\n"), 0)
	f.Fuzz(func(t *testing.T, data []byte, year int) {
		if year != 0 {
			year = minYear + (year&0xffff)%(maxYear-minYear+1)
		}
		recs, err := ReadCSV("f.csv", bytes.NewReader(data), year)
		if err != nil {
			var ie ImportErrors
			if !errors.As(err, &ie) || len(ie) == 0 {
				t.Fatalf("error without lines: %v", err)
			}
			for _, e := range ie {
				if e.Line < 1 || e.Msg == "" || !strings.HasPrefix(e.Error(), "f.csv:"+strconv.Itoa(e.Line)+": ") {
					t.Fatalf("error without a line number: %q", e.Error())
				}
			}
			if recs != nil {
				t.Fatal("records beside errors")
			}
			return
		}
		for _, r := range recs {
			if r.Year < 1900 || r.Year > 2999 || (year != 0 && r.Year != year) || r.Kind != KindImport {
				t.Fatalf("record %+v", r)
			}
			for k, v := range r.Fields {
				if !slices.Contains(allowed(k), v) {
					t.Fatalf("record with %s=%q", k, v)
				}
			}
		}
		if len(recs) > 0 {
			Compute(recs[0].Year, recs, recs, Options{})
		}
	})
}
