package flows

import (
	"strings"
	"testing"
)

// longReport is a 4000-character report, the longest message the bot takes, with nothing
// in it that should trigger: the matcher has to read all of it. It mixes both languages
// and the words the phrases are made of, so many words are looked up in earnest.
func longReport() string {
	const part = "Last year a staff member of my faculty kept sending me messages at night. " +
		"Ik voel me niet veilig bij hem in de werkgroep en ik wil niet meer naar dat vak, " +
		"maar mijn scriptie moet af. He said my essay was killing him and that the deadline " +
		"is going to kill me, which I found strange. Ik was doodsbang voor het tentamen en " +
		"ik ben dood moe. Eerlijk gezegd ligt het allemaal niet aan mij. "
	var b strings.Builder
	for b.Len() < 4000 {
		b.WriteString(part)
	}
	return b.String()[:4000]
}

func BenchmarkMatch(b *testing.B) {
	c, probs := LoadCrisis(Default)
	if len(probs) > 0 {
		b.Fatal(probs)
	}
	long := longReport()
	for _, bm := range []struct{ name, text string }{
		{"short", "ik wil niet meer leven"},
		{"short-none", "Hij stuurde me berichten na het college."},
		{"4000-chars", long},
		{"4000-chars-crisis-at-end", long[:3950] + " i want to die"},
		// Every word starts or continues a phrase that never completes: the most work a
		// message of this length can cause.
		{"4000-chars-near-misses", strings.Repeat("ik wil niet meer hij gaat me zelfmoordactie ", 100)[:4000]},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bm.text)))
			for b.Loop() {
				c.Match(bm.text)
			}
		})
	}
}
