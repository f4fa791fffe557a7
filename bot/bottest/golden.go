package bottest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files with what the tests now produce")

// caseCode and passphrase match the receipt, random by design, so golden files mask it.
var (
	caseCode   = regexp.MustCompile(`\b[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\b`)
	passphrase = regexp.MustCompile(`\b[2-9a-hj-np-z]{4}(-[2-9a-hj-np-z]{4}){3}\b`)
)

// Golden compares got, with case codes masked, to the file at path; with -update it writes
// the file instead. A difference shows the first line that changed, to review before
// accepting it with -update.
func Golden(t testing.TB, path, got string) {
	t.Helper()
	got = caseCode.ReplaceAllString(got, "[case code]")
	got = passphrase.ReplaceAllString(got, "[passphrase]")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%s: %v (run the test with -update to create it)", path, err)
		return
	}
	if string(want) != got {
		t.Errorf("%s differs from what the student now sees (review, then -update):\n%s", path, firstDiff(string(want), got))
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
			return fmt.Sprintf("line %d\n- %s\n+ %s", i+1, a, b)
		}
	}
	return "(same lines, different endings)"
}
