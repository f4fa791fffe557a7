package console_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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
			e, _ := bottest.EngineAt(t, bottest.Night)
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

// TestCounsellorMessageReachesTheTerminal: a student hands off in the console; a message
// the counsellor writes meanwhile is printed in the same terminal, and the student's answer
// reaches the case thread.
func TestCounsellorMessageReachesTheTerminal(t *testing.T) {
	ctx := context.Background()
	e, store := bottest.Engine(t)
	d := bottest.Desk(t, e, store, "anna")
	pr, pw := io.Pipe()
	out := &syncBuffer{}
	c := console.New(e, "console-thread", "en", out, true)
	c.Errors = func(err error) { t.Errorf("turn failed: %v", err) }
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, pr) }()
	fmt.Fprint(pw, "1\n9\n1\n1\nIt keeps happening.\n2\n2\n1\n2\n1\n")
	code := waitFor(t, out, regexp.MustCompile(`[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}`))

	_, anna, err := d.Login(ctx, "anna", bottest.Password("anna"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	if err := d.Send(ctx, anna, code, "Thank you. Are you safe now?"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, regexp.MustCompile(`Are you safe now\?`))
	fmt.Fprint(pw, "Yes, thank you.\n")
	waitFor(t, out, regexp.MustCompile(`Sent to your counsellor`))
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	det, err := d.Case(ctx, anna, code)
	if err != nil {
		t.Fatal(err)
	}
	if last := det.Thread[len(det.Thread)-1]; last.Text != "Yes, thank you." {
		t.Errorf("the answer did not reach the thread: %+v", last)
	}
}

// waitFor waits until out matches re (at most 10 s) and returns the first match.
func waitFor(t *testing.T, out *syncBuffer, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindString(out.String()); m != "" {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("never saw %s on screen:\n%s", re, out.String())
	return ""
}

// syncBuffer is an output read while the channel writes to it.
type syncBuffer = bottest.Screen

// TestMessageWaitsWhileTerminalIsClosed: a counsellor writes while the student's terminal
// is closed; the message is printed, once, when the student comes back to the same
// conversation.
func TestMessageWaitsWhileTerminalIsClosed(t *testing.T) {
	ctx := context.Background()
	e, store := bottest.Engine(t)
	d := bottest.Desk(t, e, store, "anna")
	var first strings.Builder
	c := console.New(e, "console-away", "en", &first, true)
	if err := c.Run(ctx, strings.NewReader("1\n9\n1\n1\nIt keeps happening.\n2\n2\n1\n2\n1\n")); err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}`).FindString(first.String())
	_, anna, _ := d.Login(ctx, "anna", bottest.Password("anna"))
	if err := d.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	if err := d.Send(ctx, anna, code, "I am here when you are ready."); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		out := &syncBuffer{}
		back := console.New(e, "console-away", "en", out, true)
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() { done <- back.Run(ctx, pr) }()
		// Coming back shows the case with its thread; the delivery itself must come once.
		if round == 0 {
			waitFor(t, out, regexp.MustCompile(`Message from your counsellor`))
		} else {
			time.Sleep(time.Second) // several delivery waits: time enough to see a repeat
			if strings.Contains(out.String(), "Message from your counsellor") {
				t.Errorf("the message was delivered twice:\n%s", out.String())
			}
		}
		pw.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
