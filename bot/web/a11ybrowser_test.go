package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axeScript is axe-core's axe.min.js, installed from the npm registry once per test run
// into a temporary directory (never into the repository).
var axeScript struct {
	once sync.Once
	src  string
	err  error
}

// loadAxe installs axe-core@4 with npm and returns axe.min.js. Without npm or network it
// skips the test, except in CI (CI=true), where the check must run.
func loadAxe(t *testing.T) string {
	t.Helper()
	axeScript.once.Do(func() {
		dir, err := os.MkdirTemp("", "intake-axe-")
		if err != nil {
			axeScript.err = err
			return
		}
		// The directory outlives the test that installed it (the script is kept in
		// memory); remove it right after reading.
		defer os.RemoveAll(dir)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", dir, "axe-core@4")
		cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			axeScript.err = fmt.Errorf("npm install axe-core@4: %v\n%s", err, out)
			return
		}
		b, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
		if err != nil {
			axeScript.err = err
			return
		}
		axeScript.src = string(b)
	})
	if axeScript.err != nil {
		msg := "accessibility check: could not install axe-core from the npm registry (needs node, npm and network): " + axeScript.err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return axeScript.src
}

// axeRun checks the page against the rule sets of WCAG 2.2 AA (axe tags each rule with the
// version that introduced it) and returns the violations.
const axeRun = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
	.then(r => r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
		targets: v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ' — ' + n.failureSummary.replace(/\s+/g, ' ') : ''))})))`

type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// checkA11y runs axe-core on the page the tab shows and fails the test on any serious or
// critical violation of WCAG 2.2 AA, listing every violation found. The script goes in
// through the DevTools protocol (Runtime.evaluate), which the page's Content-Security-
// Policy does not govern; the check asserts that axe really loaded.
func checkA11y(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	src := loadAxe(t)
	if !within(t, ctx, page+": load axe", chromedp.Evaluate[bool](src+"\n;typeof window.axe === 'object' && typeof axe.run === 'function'")) {
		t.Fatalf("%s: axe-core did not load into the page", page)
	}
	actx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	vs, err := chromedp.Run(actx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", page, err)
	}
	var all, bad strings.Builder
	nbad := 0
	for _, v := range vs {
		line := fmt.Sprintf("  %s [%s] %s\n", v.ID, v.Impact, v.Help)
		for _, tg := range v.Targets {
			line += "      " + tg + "\n"
		}
		all.WriteString(line)
		if v.Impact == "serious" || v.Impact == "critical" {
			nbad++
			bad.WriteString(line)
		}
	}
	if nbad > 0 {
		t.Errorf("%s: %d serious or critical accessibility violations (axe-core, WCAG 2.2 AA); all violations:\n%s", page, nbad, all.String())
	} else if len(vs) > 0 {
		t.Logf("%s: minor accessibility findings (axe-core):\n%s", page, all.String())
	}
}

// readmeShot writes what the screen shows, at width×height after scrolling sel into view,
// to $INTAKE_SCREENSHOTS/name.png (the README's pictures; see docs/). Without the variable
// it does nothing. The viewport goes back to the desktop size afterwards.
func readmeShot(t *testing.T, ctx context.Context, name, sel, block string, width, height int64) {
	t.Helper()
	dir := os.Getenv("INTAKE_SCREENSHOTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	within(t, ctx, "viewport", chromedp.EmulateViewport(width, height))
	within(t, ctx, "scroll", chromedp.Evaluate[bool](fmt.Sprintf(`(document.querySelector(%q).scrollIntoView({block: %q}), true)`, sel, block)))
	// No caret or focus ring in a picture for the README.
	within(t, ctx, "blur", chromedp.Evaluate[bool](`(document.activeElement && document.activeElement.blur && document.activeElement.blur(), true)`))
	shot := within(t, ctx, "screenshot "+name, chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join(dir, name+".png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	within(t, ctx, "desktop viewport", chromedp.EmulateViewport(1280, 900))
}
