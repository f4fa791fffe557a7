package flows

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The drawings of a flow are compared with reviewed copies in testdata/*.golden; after a
// deliberate change, run `go test ./flows -run TestGraph -update` and review the diff.
func TestGraphGolden(t *testing.T) {
	for _, script := range []string{"good", "bad/missing_target"} {
		src, err := os.ReadFile(filepath.Join("testdata", script+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		f, probs := Parse(filepath.Base(script)+".yaml", src)
		if len(probs) > 0 {
			t.Fatalf("%s: %s", script, probs)
		}
		for _, format := range []string{"mermaid", "dot"} {
			t.Run(script+"."+format, func(t *testing.T) {
				got, err := Graph(f, format)
				if err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", strings.ReplaceAll(script, "/", "_")+"."+format+".golden")
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if got != string(want) {
					t.Errorf("drawing differs from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
				}
			})
		}
	}
}

func TestGraphUnknownFormat(t *testing.T) {
	f, _ := Parse("t.yaml", []byte(tinyFlowSource("t")))
	_, err := Graph(f, "png")
	if err == nil || err.Error() != `unknown graph format "png": use mermaid or dot` {
		t.Errorf("err = %v", err)
	}
}

// Labels with characters that mean something in the drawing languages stay inside their
// quotes, so even a broken script draws.
func TestGraphEscapesLabels(t *testing.T) {
	src := "id: t\nversion: 1\nstart: a\nnodes:\n  a:\n    options:\n      - {label: 'say \"hi\" <b> #1', next: 'b\\c'}\n"
	f, probs := Parse("t.yaml", []byte(src))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	mermaid, _ := Graph(f, "mermaid")
	if want := `n0 -->|"say #quot;hi#quot; #lt;b#gt; #35;1"| n1`; !strings.Contains(mermaid, want) {
		t.Errorf("mermaid lacks %s:\n%s", want, mermaid)
	}
	dot, _ := Graph(f, "dot")
	if want := `n1 [label="b\\c\n(missing)", style="rounded,dashed", color=red];`; !strings.Contains(dot, want) {
		t.Errorf("dot lacks %s:\n%s", want, dot)
	}
	if want := `n0 -> n1 [label="say \"hi\" <b> #1"];`; !strings.Contains(dot, want) {
		t.Errorf("dot lacks %s:\n%s", want, dot)
	}
}

func tinyFlowSource(id string) string { return strings.Replace(tinyFlow, "%s", id, 1) }
