package console_test

import (
	"context"
	"strings"
	"testing"

	"intake/bot/bottest"
	"intake/bot/console"
)

// FuzzConsoleInput: whatever bytes arrive on standard input, the console never fails, and
// every line gets an answer that is neither empty nor a broken template.
func FuzzConsoleInput(f *testing.F) {
	for _, seed := range []string{
		"1\n9\n1\n1\nhello\n", "/back\n/back\n", "\xff\xfe\n", "\n\n\n", "😢\n/language de\n",
		"99999999999999999999\n", "-1\n0\n", "1\r\n2\r\n", "/start@bot\n/stop\n1\n",
	} {
		f.Add(seed)
	}
	e, _ := bottest.Engine(f)
	n := 0
	f.Fuzz(func(t *testing.T, input string) {
		n++
		var out strings.Builder
		c := console.New(e, "fuzz-"+string(rune('a'+n%26))+strings.Repeat("x", n%7), "en", &out, true)
		c.Errors = func(err error) { t.Errorf("turn failed: %v", err) }
		if err := c.Run(context.Background(), strings.NewReader(input)); err != nil {
			t.Fatal(err)
		}
		screen := out.String()
		if strings.Contains(screen, "<no value>") {
			t.Fatalf("broken template on screen:\n%s", screen)
		}
		lines := strings.Count(input, "\n")
		if !strings.HasSuffix(input, "\n") && input != "" {
			lines++
		}
		if got := strings.Count(screen, "bot> "); got < lines+1 {
			t.Fatalf("%d input lines got %d bot messages:\n%s", lines, got, screen)
		}
	})
}
