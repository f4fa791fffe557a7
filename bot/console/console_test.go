package console_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"intake/bot/bottest"
	"intake/bot/console"
)

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
			bottest.Golden(t, strings.TrimSuffix(in, ".in")+".golden", out.String())
		})
	}
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
