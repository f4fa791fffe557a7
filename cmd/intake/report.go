package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"intake/bot"
	"intake/locales"
	"intake/stats"
	"intake/storage/redis"
)

const reportUsage = `report --year YEAR [--compare YEAR] [--format md|html|csv] [--out DIR] [--lang nl|en] [--min-cell K]

Writes section 2 of the annual report (reports, reporters, nature and follow-up) from the
anonymous registry in the Redis at REDIS_URL: to stdout, or with --out into DIR:
  md    report.md, with the charts beside it as faculty.svg, category.svg, followup.svg
        (on stdout: the tables only)
  html  report.html, one self-contained page with the charts inline
  csv   report.csv (key figures) and one file per table; on stdout the same tables as
        blocks separated by an empty line
Counts below K are shown as "<K" (and whatever would give them away as "×"); the report
says which K it used. Earlier years counted by hand: intake registry import FILE.csv.`

func runReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", reportUsage, stderr)
	year := fs.Int("year", 0, "the `year` to report (required)")
	compare := fs.Int("compare", 0, "show the categories of this `year` beside them (usually the year before)")
	format := fs.String("format", stats.FormatMarkdown, "md, html or csv")
	out := fs.String("out", "", "write the files into this `folder` (made when missing) instead of to stdout")
	lang := fs.String("lang", locales.DefaultLang, "the report's language: nl or en")
	minCell := fs.Int("min-cell", stats.DefaultMinCell, "show counts below `K` as \"<K\"; 0 or 1 shows every count")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Sprintf("unexpected argument %q; the year goes in --year (see `intake report --help`)", fs.Arg(0))}
	case *year == 0:
		return usageError{"--year is required, e.g. intake report --year 2025 (see `intake report --help`)"}
	case *year < 1900 || *year > 2999 || (*compare != 0 && (*compare < 1900 || *compare > 2999)):
		return usageError{"--year and --compare take a year like 2025"}
	case *compare == *year:
		return usageError{"--compare names the same year as --year; compare with another year, e.g. the one before"}
	case !slices.Contains(stats.Formats, *format):
		return usageError{fmt.Sprintf("--format %q: choose md, html or csv", *format)}
	case !slices.Contains(stats.Languages, *lang):
		return usageError{fmt.Sprintf("--lang %q: choose nl or en", *lang)}
	case *minCell < 0:
		return usageError{"--min-cell is a count: 0 or more (0 or 1 shows every count)"}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	_, lfs := defaultSource(cfg.flowsDir, cfg.localesDir).fs()
	cat, err := locales.Load(lfs)
	if err != nil {
		return fmt.Errorf("load locales: %w", err)
	}
	labels, err := stats.NewLabels(cat, *lang)
	if err != nil {
		return err
	}
	store, closeStore, err := registryStore(cfg, stdout)
	if err != nil {
		return err
	}
	defer closeStore()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	recs, err := store.Records(ctx, *year)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return fmt.Errorf("the registry at REDIS_URL has no reports of %d; check the year, or import the hand count of that year with `intake registry import FILE.csv`", *year)
	}
	var prev []bot.Record
	if *compare != 0 {
		if prev, err = store.Records(ctx, *compare); err != nil {
			return err
		}
		if len(prev) == 0 {
			return fmt.Errorf("the registry at REDIS_URL has no reports of %d to compare with; import that year's hand count first with `intake registry import FILE.csv`, or leave out --compare", *compare)
		}
	}
	// Options treats 0 as "the default"; on the command line 0 means "show all".
	k := *minCell
	if k <= 1 {
		k = 1
	}
	rep := stats.Compute(*year, recs, prev, stats.Options{MinCell: k, CompareYear: *compare})
	if *out == "" {
		return stats.Write(stdout, rep, labels, *format)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("make the --out folder: %w", err)
	}
	files, err := stats.WriteDir(*out, rep, labels, *format)
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "wrote %s\n", f)
	}
	return nil
}

// registryStore opens the Redis at REDIS_URL; the registry is never in a throwaway one.
func registryStore(cfg config, stdout io.Writer) (*redis.Store, func(), error) {
	if cfg.redisURL == "" {
		return nil, nil, errors.New("REDIS_URL is not set: the registry lives in the service's Redis (for `intake dev`, use the REDIS_URL it prints)")
	}
	store, _, closeStore, err := openStore(cfg, false, stdout)
	return store, closeStore, err
}

const registryUsage = `Usage: intake registry import FILE.csv [--year YEAR]

Imports an earlier year's hand count into the anonymous registry in the Redis at
REDIS_URL, so that intake report can show it and compare with it. The first line names
the columns; a comma or a semicolon separates them. Two forms:

  one row per report: any of the columns year, month, category, sv_kind,
  aggression_kind, relation, reporter, outcome, faculty, gender, followup and contact
  (the first contact: in_person, teams, email, phone or chat); an empty cell is "not
  recorded". Values are the registry's codes (sexual_violence, student_staff, ...).

      year,month,category,sv_kind,relation,reporter,faculty,gender,followup,contact
      2024,3,sexual_violence,physical,student_student,self,law,woman,advice,teams

  counts per field and value: the columns year, field, value and count; the field
  "total" with an empty value gives the number of reports.

      year,field,value,count
      2024,total,,127
      2024,category,sexual_violence,25

Every problem is listed with its line, and then nothing is imported. Importing the same
file (by its name) again replaces its earlier import, so it never counts twice. --year
gives the year of a file without a year column, and refuses rows of another year.`

func runRegistry(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
		fmt.Fprintln(stderr, registryUsage)
		return errHelp
	}
	if len(args) == 0 || args[0] != "import" {
		return usageError{"usage: intake registry import FILE.csv [--year YEAR] (see `intake registry --help`)"}
	}
	fs := newFlags("registry import", strings.TrimPrefix(registryUsage, "Usage: intake "), stderr)
	year := fs.Int("year", 0, "the `year` of rows without one; rows of another year are refused")
	// The file may come before the flags: "import 2024.csv --year 2024".
	rest := args[1:]
	var files []string
	for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		files, rest = append(files, rest[0]), rest[1:]
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	files = append(files, fs.Args()...)
	if len(files) != 1 {
		return usageError{"usage: intake registry import FILE.csv [--year YEAR]: name one file"}
	}
	if *year != 0 && (*year < 1900 || *year > 2999) {
		return usageError{"--year takes a year like 2024"}
	}
	file := files[0]
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("cannot read the file to import: %w", err)
	}
	recs, err := stats.ReadCSV(file, f, *year)
	f.Close()
	if problems, ok := errors.AsType[stats.ImportErrors](err); ok {
		for _, p := range problems {
			fmt.Fprintln(stderr, p.Error())
		}
		fmt.Fprintf(stderr, "intake: nothing imported; fix the %s above and import the file again\n", reportCount(len(problems), "line", "lines"))
		return errInvalid
	}
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return fmt.Errorf("%s has no reports, only the header; nothing imported", file)
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	store, closeStore, err := registryStore(cfg, stdout)
	if err != nil {
		return err
	}
	defer closeStore()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// One atomic import per year, in the order the file has them.
	var years []int
	byYear := map[int][]bot.Record{}
	for _, r := range recs {
		if byYear[r.Year] == nil {
			years = append(years, r.Year)
		}
		byYear[r.Year] = append(byYear[r.Year], r)
	}
	source := filepath.Base(file)
	for _, y := range years {
		replaced, err := store.ImportRecords(ctx, y, source, byYear[y])
		if err != nil {
			return fmt.Errorf("%w (the years before %d are imported; importing the file again is safe)", err, y)
		}
		fmt.Fprintf(stdout, "%d: imported %s from %s", y, reportCount(len(byYear[y]), "report", "reports"), source)
		if replaced > 0 {
			fmt.Fprintf(stdout, ", replacing the %d of its earlier import", replaced)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

// reportCount says n thing or n things.
func reportCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
