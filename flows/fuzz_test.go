package flows

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// seedFiles adds every script or test file we have as a starting point for the fuzzer.
func seedFiles(f *testing.F, match func(name string) bool) {
	f.Helper()
	paths, _ := filepath.Glob("testdata/*.yaml")
	bad, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, p := range append(paths, bad...) {
		if src, err := os.ReadFile(p); err == nil && match(p) {
			f.Add(src)
		}
	}
	shipped, _ := fs.Glob(Default, "*.yaml")
	for _, name := range shipped {
		if src, err := fs.ReadFile(Default, name); err == nil && match(name) {
			f.Add(src)
		}
	}
}

// requireInside fails when a position is not a place in src that an editor could show:
// a line of the file, and a column on it or just after its end.
func requireInside(t *testing.T, src []byte, file string, pos Pos, what string) {
	t.Helper()
	text := strings.ReplaceAll(strings.TrimPrefix(string(src), "\uFEFF"), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	if pos.File != file || pos.Line < 1 || pos.Line > len(lines) {
		t.Fatalf("%s at %v is outside the %d-line file", what, pos, len(lines))
	}
	if width := utf8.RuneCountInString(strings.TrimSuffix(lines[pos.Line-1], "\r")); pos.Col < 1 || pos.Col > width+1 {
		t.Fatalf("%s at %v is outside line %d of %d characters", what, pos, pos.Line, width)
	}
}

func requireProblemsInside(t *testing.T, src []byte, file string, probs Problems) {
	t.Helper()
	for _, p := range probs {
		if p.Msg == "" {
			t.Fatalf("problem without a message at %v", p.Pos)
		}
		requireInside(t, src, file, p.Pos, "problem "+p.Msg)
	}
}

// Whatever a file holds, Parse must not panic, must point every problem at a real place,
// and a script it accepts must validate and draw without panicking either.
func FuzzParse(f *testing.F) {
	seedFiles(f, func(name string) bool { return !strings.HasSuffix(name, testSuffix) })
	f.Add([]byte("id: x\nnodes:\n  a: {options: [{label: b, assign: {c: d}}]}\n---\n"))
	f.Add([]byte("\uFEFFid: x\r\nversion: 1\r\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		const file = "fuzz.yaml"
		flow, probs := Parse(file, src)
		if flow == nil {
			t.Fatal("Parse returned no flow")
		}
		requireProblemsInside(t, src, file, probs)
		if len(probs) > 0 {
			return
		}
		requireProblemsInside(t, src, file, Validate(flow, MessageIDs{"en": {}}))
		for _, format := range []string{"mermaid", "dot"} {
			if _, err := Graph(flow, format); err != nil {
				t.Fatalf("Graph(%s): %v", format, err)
			}
		}
	})
}

// The same for transcript-test files; the place of every test and input must be real too,
// since a test runner points at them.
func FuzzParseTests(f *testing.F) {
	seedFiles(f, func(name string) bool { return strings.HasSuffix(name, testSuffix) })
	f.Add([]byte("flow: intake\ntests:\n  - {name: a, lang: en, input: [x, \"\", /back], path: [a], vars: {story: }}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		const file = "fuzz.test.yaml"
		tf, probs := ParseTests(file, src)
		if tf == nil {
			t.Fatal("ParseTests returned no file")
		}
		requireProblemsInside(t, src, file, probs)
		for _, tr := range tf.Tests {
			requireInside(t, src, file, tr.Pos, "test "+tr.Name)
			if len(tr.InputPos) != len(tr.Input) {
				t.Fatalf("test %q has %d inputs but %d input positions", tr.Name, len(tr.Input), len(tr.InputPos))
			}
			for _, p := range tr.InputPos {
				requireInside(t, src, file, p, "an input of test "+tr.Name)
			}
		}
	})
}
