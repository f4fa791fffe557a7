package stats

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium is where Debian's package puts the browser (CI installs it).
const chromium = "/usr/bin/chromium"

// TestHTMLInChromium opens the HTML report of the 2025 fixture in headless Chromium, with
// the network off, and checks that it renders: the tables, and three charts drawn at a
// readable size with their slices and bars.
func TestHTMLInChromium(t *testing.T) {
	if os.Getenv("INTAKE_TEST_BROWSER") == "" {
		t.Skip("browser test: set INTAKE_TEST_BROWSER=1 to run it in headless Chromium (" + chromium + ")")
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("INTAKE_TEST_BROWSER is set but there is no Chromium: %v (apt-get install chromium)", err)
	}
	recs, prev := fixture(t)
	dir := t.TempDir()
	if _, err := WriteDir(dir, Compute(2025, recs, prev, Options{}), labels(t, "nl"), FormatHTML); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelRun := context.WithTimeout(ctx, 60*time.Second)
	defer cancelRun()

	// run does one browser step.
	run := func(what string, a func() error) {
		t.Helper()
		if err := a(); err != nil {
			t.Fatalf("browser: %s: %v", what, err)
		}
	}
	var heading string
	var charts []map[string]float64
	var shapes int
	var err error
	run("open the report", func() error {
		_, err := chromedp.Run(ctx, chromedp.Navigate("file://"+filepath.Join(dir, "report.html")))
		return err
	})
	run("heading", func() error { heading, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1"))); return err })
	run("charts", func() error {
		charts, err = chromedp.Run(ctx, chromedp.Evaluate[[]map[string]float64](
			`[...document.querySelectorAll("figure svg")].map(s => { const r = s.getBoundingClientRect(); return {w: r.width, h: r.height} })`))
		return err
	})
	run("shapes", func() error {
		shapes, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("figure svg path, figure svg rect[height='16']").length`))
		return err
	})
	if !strings.Contains(heading, "Meldingen, melders, aard en opvolging 2025") {
		t.Errorf("heading %q", heading)
	}
	if len(charts) != 3 {
		t.Fatalf("%d charts rendered, want 3", len(charts))
	}
	for i, c := range charts {
		if c["w"] < 300 || c["h"] < 150 {
			t.Errorf("chart %d is drawn %vx%v px", i+1, c["w"], c["h"])
		}
	}
	// 6 slices, the cross-hatch pattern's path in each of the 3 charts, 16 category bars
	// and 6 follow-up bars (formal complaint is 0 %, so has none): 31.
	if shapes != 6+3+16+6 {
		t.Errorf("%d slices and bars drawn, want 31", shapes)
	}
	if dir := os.Getenv("INTAKE_TEST_SHOTS"); dir != "" {
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		_ = os.WriteFile(filepath.Join(dir, "stats-report.jpg"), shot, 0o644)
	}
}
