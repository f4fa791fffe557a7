package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"intake/bot"
	"intake/storage/redis"
)

const fixtures = "../../stats/testdata/"

// TestRegistryImportAndReport: the support officer imports the hand counts of 2025 and
// 2024 and writes the report; the bot's own records count as chat.
func TestRegistryImportAndReport(t *testing.T) {
	m := miniredis.RunT(t)
	t.Setenv("REDIS_URL", m.Addr())
	steps := []struct {
		args []string
		code int
		says []string
	}{
		{[]string{"registry", "import", fixtures + "registry-2025.csv"}, exitOK,
			[]string{"2025: imported 104 reports from registry-2025.csv\n"}},
		{[]string{"registry", "import", fixtures + "registry-2025.csv"}, exitOK,
			[]string{"2025: imported 104 reports from registry-2025.csv, replacing the 104 of its earlier import\n"}},
		{[]string{"registry", "import", fixtures + "registry-2024-counts.csv", "--year", "2024"}, exitOK,
			[]string{"2024: imported 127 reports from registry-2024-counts.csv\n"}},
		{[]string{"report", "--year", "2025", "--compare", "2024", "--min-cell", "0"}, exitOK,
			[]string{"# Meldingen, melders, aard en opvolging 2025", "In 2025 zijn er 104 meldingen geregistreerd (2024: 127).",
				"| Seksueel geweld | 25 | 24% | 20% |", "| Advies | 37 | 36% |", "staat uit (standaard 5)"}},
		{[]string{"report", "--year", "2025", "--lang", "en"}, exitOK,
			[]string{"| Bullying | <5 | × |", "Threshold 5 (default 5)."}},
		{[]string{"report", "--year", "2025", "--format", "csv", "--min-cell", "3"}, exitOK,
			[]string{"category,label,count,percent\n", "non_binary,Non-binair,<3,×\n", "min_cell,3\n"}},
		{[]string{"report", "--year", "2025", "--format", "html"}, exitOK,
			[]string{"<!DOCTYPE html>", `<html lang="nl">`, "<svg "}},
		{[]string{"report", "--year", "2023"}, exitInvalid,
			[]string{"has no reports of 2023", "intake registry import FILE.csv"}},
		{[]string{"report", "--year", "2025", "--compare", "2022"}, exitInvalid,
			[]string{"no reports of 2022 to compare with"}},
	}
	for _, s := range steps {
		code, out, errOut := call(t, s.args...)
		if code != s.code {
			t.Errorf("intake %v: exit %d, want %d\n%s%s", s.args, code, s.code, out, errOut)
		}
		for _, w := range s.says {
			if !strings.Contains(out+errOut, w) {
				t.Errorf("intake %v does not say %q:\n%s%s", s.args, w, out, errOut)
			}
		}
	}

	// A report written by the bot joins the imported ones as a chat.
	c, err := redis.Open(m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	store := redis.New(c, redis.Options{})
	created := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	cs := bot.Case{Code: "TEST-0001", IntakeID: "intake-1", Kind: bot.CaseRegistration, Status: bot.StatusRegistered,
		Channel: "telegram", Fields: map[string]string{"category": "stalking"}, Created: created}
	if _, err := store.CreateCase(t.Context(), cs, bot.Record{Year: 2025, Month: 6, Channel: "telegram", Kind: cs.Kind, Fields: cs.Fields}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := call(t, "report", "--year", "2025", "--min-cell", "0")
	if code != exitOK || !strings.Contains(out, "| Chat (intake) | 1 |") || !strings.Contains(out, "| **Totaal** | **105** |") {
		t.Errorf("with a bot record: exit %d\n%s%s", code, out, errOut)
	}

	// --out writes the files and says which.
	dir := filepath.Join(t.TempDir(), "report-2025")
	code, out, errOut = call(t, "report", "--year", "2025", "--compare", "2024", "--out", dir)
	if code != exitOK || strings.Count(out, "wrote ") != 4 {
		t.Fatalf("--out: exit %d\n%s%s", code, out, errOut)
	}
	names, _ := os.ReadDir(dir)
	var got []string
	for _, n := range names {
		got = append(got, n.Name())
	}
	if want := []string{"category.svg", "faculty.svg", "followup.svg", "report.md"}; !slices.Equal(got, want) {
		t.Errorf("--out wrote %v, want %v", got, want)
	}
}

// TestRegistryImportErrors: every bad line is named, and nothing is imported.
func TestRegistryImportErrors(t *testing.T) {
	m := miniredis.RunT(t)
	t.Setenv("REDIS_URL", m.Addr())
	src, err := os.ReadFile(fixtures + "registry-2025.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	lines[11] = strings.Replace(lines[11], ","+strings.Split(lines[11], ",")[2]+",", ",stalkng,", 1)
	lines[11] = strings.Replace(lines[11], ",physical,", ",,", 1)
	lines[11] = strings.Replace(lines[11], ",verbal_online,", ",,", 1)
	lines[20] = strings.Replace(lines[20], "2025,", "2024,", 1)
	bad := filepath.Join(t.TempDir(), "registry-2025.csv")
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := call(t, "registry", "import", bad, "--year", "2025")
	want := bad + `:12: unknown category "stalkng" (did you mean stalking?)` + "\n" +
		bad + ":21: year 2024, but --year 2025 was given; leave --year out to import every year in the file\n" +
		"intake: nothing imported; fix the 2 lines above and import the file again\n"
	if code != exitInvalid || errOut != want || out != "" {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant stderr:\n%s", code, out, errOut, want)
	}
	if keys := m.Keys(); len(keys) != 0 {
		t.Errorf("a failed import stored %v", keys)
	}
}

func TestReportUsage(t *testing.T) {
	m := miniredis.RunT(t)
	t.Setenv("REDIS_URL", m.Addr())
	cases := []struct {
		args []string
		code int
		says string
	}{
		{[]string{"report", "--help"}, exitOK, "Usage: intake report --year YEAR"},
		{[]string{"help", "report"}, exitOK, "-min-cell K"},
		{[]string{"report"}, exitUsage, "--year is required"},
		{[]string{"report", "2025"}, exitUsage, `unexpected argument "2025"`},
		{[]string{"report", "--year", "25"}, exitUsage, "take a year like 2025"},
		{[]string{"report", "--year", "2025", "--compare", "2025"}, exitUsage, "the same year"},
		{[]string{"report", "--year", "2025", "--format", "pdf"}, exitUsage, "choose md, html or csv"},
		{[]string{"report", "--year", "2025", "--lang", "de"}, exitUsage, "choose nl or en"},
		{[]string{"report", "--year", "2025", "--min-cell", "-1"}, exitUsage, "0 or more"},
		{[]string{"registry"}, exitUsage, "intake registry import FILE.csv"},
		{[]string{"registry", "export"}, exitUsage, "intake registry import FILE.csv"},
		{[]string{"registry", "import"}, exitUsage, "name one file"},
		{[]string{"registry", "--help"}, exitOK, "counts per field and value"},
		{[]string{"registry", "import", "/no/such.csv"}, exitInvalid, "cannot read the file to import"},
		{[]string{"registry", "import", "x.csv", "--year", "99"}, exitUsage, "a year like 2024"},
	}
	for _, c := range cases {
		code, out, errOut := call(t, c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.says) {
			t.Errorf("intake %v: exit %d, want %d saying %q:\n%s%s", c.args, code, c.code, c.says, out, errOut)
		}
	}
	t.Setenv("REDIS_URL", "")
	for _, args := range [][]string{{"report", "--year", "2025"}, {"registry", "import", fixtures + "registry-2025.csv"}} {
		if code, out, errOut := call(t, args...); code != exitInvalid || !strings.Contains(errOut, "REDIS_URL is not set") {
			t.Errorf("intake %v without REDIS_URL: exit %d\n%s%s", args, code, out, errOut)
		}
	}
}
