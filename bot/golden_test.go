package bot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"intake/bot"
	"intake/bot/bottest"
	"intake/flows"
)

// TestGoldenTranscripts plays every transcript test of the default flow (flows/*.test.yaml)
// and compares what the student sees, word for word, with testdata/golden/<name>.txt. A
// changed text or flow shows up as a diff to review; `go test ./bot -run Golden -update`
// accepts it. It also checks the transcripts together take every option of every node, so
// no path of the default flow goes unseen.
func TestGoldenTranscripts(t *testing.T) {
	tests, problems := flows.LoadTests(flows.Default)
	if len(problems) > 0 {
		t.Fatalf("transcript tests:\n%s", problems.Error())
	}
	e, _ := bottest.EngineAt(t, bottest.Night)
	flow := e.Content().Flows["intake"]
	taken := map[string]bool{} // "node/option index"
	langs := map[string]bool{}
	names := map[string]bool{}
	for _, tf := range tests {
		for i, tr := range tf.Tests {
			name := goldenName(tr)
			if names[name] {
				t.Fatalf("two transcript tests named %q", tr.Name)
			}
			names[name] = true
			langs[tr.Lang] = true
			var out strings.Builder
			fmt.Fprintf(&out, "# %s (%s)\n", tr.Name, tr.Lang)
			failures, err := e.RunTranscript(context.Background(), tr, fmt.Sprintf("golden-%d-%s", i, name), func(st bot.TranscriptStep) {
				if st.Input != "" {
					fmt.Fprintf(&out, "\n> %s\n", st.Input)
				}
				markTaken(flow, st, taken)
				writeReply(&out, st.Reply)
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range failures {
				t.Errorf("%s: %s", tr.Name, f)
			}
			bottest.Golden(t, filepath.Join("testdata", "golden", name+".txt"), out.String())
		}
	}
	for _, lang := range []string{"nl", "en"} {
		if !langs[lang] {
			t.Errorf("no transcript test in %s", lang)
		}
	}
	for _, id := range flow.Order {
		n := flow.Nodes[id]
		for i, o := range n.Options {
			if !taken[fmt.Sprintf("%s/%d", id, i)] {
				t.Errorf("no transcript takes option %q of node %q", o.Label.ID, id)
			}
		}
	}
}

func markTaken(f *flows.Flow, st bot.TranscriptStep, taken map[string]bool) {
	n := f.Nodes[st.Node]
	if n == nil {
		return
	}
	for i, o := range n.Options {
		if st.Input == o.Value || st.Input == o.Label.ID {
			taken[fmt.Sprintf("%s/%d", st.Node, i)] = true
			return
		}
	}
}

func writeReply(w *strings.Builder, r bot.Reply) {
	for _, m := range r.Messages {
		if m.Text != "" {
			fmt.Fprintf(w, "bot: %s\n", strings.ReplaceAll(m.Text, "\n", "\n     "))
		}
		for _, b := range m.Buttons {
			fmt.Fprintf(w, "     [%s]\n", b.Label)
		}
	}
}

func goldenName(tr flows.Transcript) string {
	name := strings.ToLower(tr.Lang + "_" + tr.Name)
	name = regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(name, "_")
	return strings.Trim(name, "_")
}
