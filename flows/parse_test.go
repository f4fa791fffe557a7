package flows

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
)

// describe renders a parsed flow with every position, one node per paragraph, so a test
// can compare the whole model at once and a failure shows exactly what moved.
func describe(f *Flow) string {
	var b strings.Builder
	at := func(p Pos) string { return fmt.Sprintf("@%d:%d", p.Line, p.Col) }
	ref := func(r *MessageRef) string {
		if r == nil {
			return "-"
		}
		return r.ID + at(r.Pos)
	}
	fmt.Fprintf(&b, "flow %s version %d start %s fields", f.ID, f.Version, f.Start)
	for _, name := range flowFields {
		if p, ok := f.Fields[name]; ok {
			fmt.Fprintf(&b, " %s%s", name, at(p))
		}
	}
	b.WriteString("\n")
	for _, id := range f.Order {
		n := f.Nodes[id]
		fmt.Fprintf(&b, "node %s%s", n.ID, at(n.Pos))
		for _, s := range n.Say {
			fmt.Fprintf(&b, " say=%s", ref(&s))
		}
		if n.Set != "" {
			fmt.Fprintf(&b, " set=%s%s", n.Set, at(n.SetPos))
		}
		if n.Input != "" {
			fmt.Fprintf(&b, " input=%s%s", n.Input, at(n.InputPos))
		}
		if n.Skip != nil {
			fmt.Fprintf(&b, " skip=%s", ref(n.Skip))
		}
		if n.Help != nil {
			fmt.Fprintf(&b, " help=%s", ref(n.Help))
		}
		if n.Next != "" {
			fmt.Fprintf(&b, " next=%s%s", n.Next, at(n.NextPos))
		}
		if n.Do != "" {
			fmt.Fprintf(&b, " do=%s%s", n.Do, at(n.DoPos))
		}
		b.WriteString("\n")
		for _, o := range n.Options {
			fmt.Fprintf(&b, "  option%s label=%s", at(o.Pos), ref(&o.Label))
			if o.Value != "" {
				fmt.Fprintf(&b, " value=%s%s", o.Value, at(o.ValuePos))
			}
			if o.Help != nil {
				fmt.Fprintf(&b, " help=%s", ref(o.Help))
			}
			if o.Next != "" {
				fmt.Fprintf(&b, " next=%s%s", o.Next, at(o.NextPos))
			}
			for _, a := range o.Assign {
				fmt.Fprintf(&b, " assign=%s%s:%s%s", a.Var, at(a.Pos), a.Value, at(a.ValuePos))
			}
			if o.Return != "" {
				fmt.Fprintf(&b, " return=%s%s", o.Return, at(o.ReturnPos))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func parseFile(t *testing.T, path string) (*Flow, []byte) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, probs := Parse(path, src)
	if len(probs) > 0 {
		t.Fatalf("unexpected problems:\n%s", probs)
	}
	return f, src
}

// Every part of a script is read with the line and column an editor shows, whether it is
// written in one line {like: this} or over several lines.
func TestParseReadsEveryFieldWithItsPosition(t *testing.T) {
	f, _ := parseFile(t, "testdata/good.yaml")
	want := `flow demo version 2 start welcome fields id@2:1 version@3:1 start@4:1 nodes@5:1
node welcome@6:3 say=welcome.hello@7:11 say=welcome.privacy@7:26 next=category@8:11
node category@10:3 say=category.ask@11:11 set=category@12:10 help=category.help@13:11
  option@15:9 label=category.stalking@15:34 value=stalking@15:17 help=category.stalking.help@15:59 next=story@15:89
  option@16:9 label=category.other@17:16 value=other@16:16 next=story@18:15
node story@20:3 say=story.ask@21:11 set=story@23:10 input=text@22:12 skip=story.skip@24:11 next=profile@25:11
node profile@27:3 say=profile.ask@28:11
  option@30:9 label=profile.yes@30:17 next=faculty@30:36
  option@31:9 label=profile.no@31:17 next=summary@31:35 assign=faculty@31:53:unknown@31:62 assign=gender@31:71:not_said@31:79
node faculty@33:3 say=faculty.ask@34:11 set=faculty@35:10 next=summary@36:11
  option@38:9 label=faculty.law@38:29 value=law@38:17
  option@39:9 label=faculty.unknown@39:33 value=unknown@39:17
node summary@41:3 say=summary.text@42:11
  option@44:9 label=summary.confirm@44:17 next=registered@44:40
  option@45:9 label=summary.fix_category@45:17 next=category@45:45 return=summary@45:63
node registered@47:3 say=done.registered@49:11 next=finished@50:11 do=register@48:9
node finished@52:3 say=done.bye@53:11 do=end@54:9
`
	if got := describe(f); got != want {
		t.Errorf("parsed flow differs\ngot:\n%s\nwant:\n%s", got, want)
	}
}

// The hash pins a conversation to the exact script it started on, and the source lets
// another replica re-read that version.
func TestParseKeepsHashAndSource(t *testing.T) {
	f, src := parseFile(t, "testdata/good.yaml")
	sum := sha256.Sum256(src)
	if want := hex.EncodeToString(sum[:])[:16]; f.Hash != want {
		t.Errorf("Hash = %q, want %q", f.Hash, want)
	}
	if !bytes.Equal(f.Source, src) {
		t.Error("Source differs from the file")
	}
	src[0] = 'X'
	if bytes.Equal(f.Source, src) {
		t.Error("Source shares memory with the caller's slice")
	}
	if f.Pos != (Pos{File: "testdata/good.yaml", Line: 1, Col: 1}) {
		t.Errorf("Pos = %v", f.Pos)
	}
	other, _ := Parse("x.yaml", append(bytes.Clone(f.Source), '\n'))
	if other.Hash == f.Hash {
		t.Error("a changed file must get another hash")
	}
}

// A file saved on Windows (byte order mark, CRLF line ends) reads with the same positions.
func TestParseWindowsFile(t *testing.T) {
	unix, src := parseFile(t, "testdata/good.yaml")
	windows := append([]byte("\uFEFF"), bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n"))...)
	f, probs := Parse("testdata/good.yaml", windows)
	if len(probs) > 0 {
		t.Fatalf("unexpected problems:\n%s", probs)
	}
	if describe(f) != describe(unix) {
		t.Errorf("positions differ\nwindows:\n%s\nunix:\n%s", describe(f), describe(unix))
	}
}

// Names are read as written: a node called 12 or a value yes is text, not a number or a
// truth value, and what was left empty reads as empty rather than as a problem.
func TestParseReadsValuesAsWritten(t *testing.T) {
	src := `id: 007
version: 1
start: 12
nodes:
  12:
    say:
    options:
      - {label: yes, value: 1.50, next: empty}
  empty:
`
	f, probs := Parse("t.yaml", []byte(src))
	if len(probs) > 0 {
		t.Fatalf("unexpected problems:\n%s", probs)
	}
	want := `flow 007 version 1 start 12 fields id@1:1 version@2:1 start@3:1 nodes@4:1
node 12@5:3
  option@8:9 label=yes@8:17 value=1.50@8:29 next=empty@8:41
node empty@9:3
`
	if got := describe(f); got != want {
		t.Errorf("parsed flow differs\ngot:\n%s\nwant:\n%s", got, want)
	}
}

// An empty file is not a YAML mistake; the validator then says what is missing.
func TestParseEmptyFile(t *testing.T) {
	for _, src := range []string{"", "# just a comment\n", "---\n"} {
		f, probs := Parse("empty.yaml", []byte(src))
		if len(probs) > 0 {
			t.Errorf("%q: unexpected problems:\n%s", src, probs)
		}
		if got := Validate(f, nil); len(got) != 4 {
			t.Errorf("%q: want the four missing fields reported, got:\n%s", src, got)
		}
	}
}

// A flow comes back even when the file is broken, so callers never check for nil and a
// stored version can still be recognised by its hash.
func TestParseBrokenFileStillReturnsFlow(t *testing.T) {
	f, probs := Parse("broken.yaml", []byte("id: [unclosed\n"))
	if len(probs) != 1 {
		t.Fatalf("want one problem, got:\n%s", probs)
	}
	if f == nil || f.Hash == "" || string(f.Source) != "id: [unclosed\n" {
		t.Errorf("flow = %+v, want hash and source filled", f)
	}
}

// Files that would make the YAML reader slow or are not text are refused up front, with
// the place and a way out.
func TestParseRefusesHostileFiles(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"too big", "id: x\n# " + strings.Repeat("x", maxFileSize),
			"big.yaml:1:1: the file is larger than 128 KB; a script is normally a few KB, so check that this is the right file"},
		{"deep brackets", "id: x\nnodes: " + strings.Repeat("[", 100),
			"big.yaml:2:72: brackets are nested more than 64 deep here: check for a missing closing bracket ] or }"},
		{"not utf-8", "id: x\nstart: caf\xe9\n",
			"big.yaml:2:11: the file contains a character that is not UTF-8 text here: save the file as UTF-8 (the usual setting in any editor)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := Parse("big.yaml", []byte(tt.src))
			if probs.Error() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", probs, tt.want)
			}
		})
	}
}

// Less common mistakes in a script's form, each with the exact line the support officer
// reads.
func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"merge key", "id: x\n<<: {version: 1}\n", []string{
			`t.yaml:2:1: merging with << is not supported in scripts: write the fields out in full`,
		}},
		{"complex key", "id: x\n? start\n: welcome\n", []string{
			`t.yaml:2:1: keys starting with ? are not supported in scripts: write a plain name followed by a colon`,
		}},
		{"empty key", "id: x\n\"\": welcome\n", []string{
			`t.yaml:2:1: a name is missing before the colon here: write a plain name, like say:`,
		}},
		{"empty text", "id: \"\"\nstart:\n", []string{
			`t.yaml:1:5: "id" is empty: write a value, like id: intake, or remove the line`,
			`t.yaml:2:1: "start" is empty: write a value, like start: welcome, or remove the line`,
		}},
		{"version not whole", "version: 1.5\n", []string{
			`t.yaml:1:10: "version" must be a whole number, like version: 1`,
		}},
		{"version huge", "version: 99999999999\n", []string{
			`t.yaml:1:10: "version" must be a whole number, like version: 1`,
		}},
		{"version empty", "version:\n", []string{
			`t.yaml:1:1: "version" is empty: write a whole number, like version: 1`,
		}},
		{"empty list items", "nodes:\n  a:\n    say:\n      - hello\n      -\n      - \"\"\n", []string{
			`t.yaml:5:8: an item of "say" is empty: write a value or remove the empty item`,
			`t.yaml:6:9: an item of "say" is empty: write a value or remove the empty item`,
		}},
		{"nodes as a list", "nodes: [a, b]\n", []string{
			`t.yaml:1:8: "nodes" must list the steps of the conversation, each as its id followed by a colon on its own line, like "  welcome:"`,
		}},
		{"node as a value", "nodes:\n  a: hello\n", []string{
			`t.yaml:2:6: node "a" must be a set of fields (say, options, set, input, skip, help, next, do), each written as name: value`,
		}},
		{"script as a list", "- id: x\n", []string{
			`t.yaml:1:1: the script must be a set of fields (id, version, start, nodes), each written as name: value`,
		}},
		{"option as a value", "nodes:\n  a:\n    options: [welcome.report]\n", []string{
			`t.yaml:3:15: an option of node "a" must be a set of fields (label, value, next, help, assign, return), each written as name: value`,
		}},
		{"assign not pairs", "nodes:\n  a:\n    options:\n      - {label: l, next: a, assign: [faculty]}\n", []string{
			`t.yaml:4:37: "assign" must be pairs of name and value, like assign: {faculty: unknown}`,
		}},
		{"assign value a list", "nodes:\n  a:\n    options:\n      - {label: l, next: a, assign: {faculty: [law]}}\n", []string{
			`t.yaml:4:47: the value of "faculty" in "assign" must be a single value, like faculty: unknown`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := Parse("t.yaml", []byte(tt.src))
			if got, want := probs.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
