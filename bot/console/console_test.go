package console_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"intake/bot/bottest"
	"intake/bot/console"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var caseCode = regexp.MustCompile(`\b[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\b`)

// TestPipedConversations pipes each testdata/<lang>_<name>.in into the console channel, the
// way `intake chat < file` does, and compares the screen with <name>.golden. The inputs
// answer by number, by a button's text and with free text, and include the mistakes a
// person makes at a keyboard.
func TestPipedConversations(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.in")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no testdata/*.in: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in")
		t.Run(name, func(t *testing.T) {
			lang, _, _ := strings.Cut(name, "_")
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			e, _ := bottest.Engine(t)
			var out strings.Builder
			c := console.New(e, "console-"+name, lang, &out, true)
			c.Errors = func(err error) { t.Errorf("turn failed: %v", err) }
			if err := c.Run(context.Background(), strings.NewReader(string(src))); err != nil {
				t.Fatal(err)
			}
			got := caseCode.ReplaceAllString(out.String(), "XXXX-XXXX")
			golden := strings.TrimSuffix(in, ".in") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run `go test ./bot/console -update` to create it)", err)
			}
			if string(want) != got {
				t.Errorf("screen differs from %s:\n%s", golden, firstDiff(string(want), got))
			}
		})
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "- " + a + "\n+ " + b
		}
	}
	return ""
}

// TestOverlongLineIsCutNotFatal: a line beyond the console's limit gets the engine's "too
// long" answer and the next line is still read.
func TestOverlongLineIsCutNotFatal(t *testing.T) {
	e, _ := bottest.Engine(t)
	var out strings.Builder
	c := console.New(e, "console-long", "en", &out, false)
	input := "1\n9\n1\n1\n" + strings.Repeat("x", 2<<20) + "\n/stop\n"
	if err := c.Run(context.Background(), strings.NewReader(input)); err != nil {
		t.Fatal(err)
	}
	tooLong, _ := e.Content().Catalog.Text("en", "engine.too_long", map[string]any{"max": 4000})
	stopped, _ := e.Content().Catalog.Text("en", "engine.stopped", nil)
	if !strings.Contains(out.String(), tooLong) || !strings.Contains(out.String(), stopped) {
		t.Fatalf("want the too-long answer and then the stop:\n%s", out.String()[max(0, len(out.String())-2000):])
	}
}
