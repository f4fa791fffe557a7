package flows

import (
	"strings"
	"testing"
	"testing/fstest"

	"intake/locales"
)

const tinyFlow = "id: %s\nversion: 1\nstart: bye\nnodes:\n  bye:\n    do: end\n"

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

// Load reads the scripts of a folder in name order, reports the problems of every file
// together, and hands back only scripts that may go live.
func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"b_intake.yaml":    file(strings.Replace(tinyFlow, "%s", "intake", 1)),
		"a_other.yaml":     file(strings.Replace(tinyFlow, "%s", "other", 1)),
		"c_copy.yaml":      file(strings.Replace(tinyFlow, "%s", "intake", 1)),
		"d_broken.yaml":    file("id: broken\nnodes: [\n"),
		"intake.test.yaml": file("flow: intake\n"),    // a test file, not a script
		"notes.yml":        file("id: notes\n"),       // would silently never run
		"sub/deep.yaml":    file("id: not at root\n"), // only the folder's own files count
	}
	loaded, probs := Load(fsys)

	var ids []string
	for _, f := range loaded {
		ids = append(ids, f.ID)
	}
	if got := strings.Join(ids, ","); got != "other,intake" {
		t.Errorf("loaded flows = %s, want other,intake", got)
	}
	want := strings.Join([]string{
		`c_copy.yaml:1:1: flow id "intake" is already used by b_intake.yaml: give each flow its own id`,
		`d_broken.yaml:2:8: this is not valid YAML (sequence end token ']' not found): check the indentation, colons, quotes and brackets here`,
		`notes.yml: this file is not read: scripts and tests must end in .yaml, so rename it to notes.yaml`,
	}, "\n")
	if probs.Error() != want {
		t.Errorf("problems:\n%s\nwant:\n%s", probs, want)
	}
}

func TestLoadEmptyFolder(t *testing.T) {
	_, probs := Load(fstest.MapFS{"intake.test.yaml": file("flow: intake\n")})
	want := "no flow scripts found: a script is a file ending in .yaml in the flows folder"
	if probs.Error() != want {
		t.Errorf("problems:\n%s\nwant:\n%s", probs, want)
	}
}

// LoadTests reads only *.test.yaml, and leaves out files with problems.
func TestLoadTests(t *testing.T) {
	fsys := fstest.MapFS{
		"intake.yaml":      file(strings.Replace(tinyFlow, "%s", "intake", 1)),
		"intake.test.yaml": file("flow: intake\ntests:\n  - {name: ends, lang: en, input: [], path: [bye]}\n"),
		"other.test.yaml":  file("flow: other\ntests:\n  - {name: ends, lang: en, input: []}\n"),
	}
	files, probs := LoadTests(fsys)
	if len(files) != 1 || files[0].File != "intake.test.yaml" || len(files[0].Tests) != 1 {
		t.Errorf("files = %+v, want intake.test.yaml with one test", files)
	}
	want := `other.test.yaml:3:5: test "ends" checks nothing: add path: with the nodes the conversation must pass, or vars: with the answers it must end with`
	if probs.Error() != want {
		t.Errorf("problems:\n%s\nwant:\n%s", probs, want)
	}
}

// The scripts and tests shipped in the binary must always be fit to go live: readable,
// valid against the shipped texts in every full language.
func TestDefaultFlowsAreValid(t *testing.T) {
	cat, err := locales.Load(locales.Default)
	if err != nil {
		t.Fatal(err)
	}
	loaded, probs := Load(Default)
	for _, f := range loaded {
		probs = append(probs, Validate(f, cat.IDs())...)
	}
	_, testProbs := LoadTests(Default)
	probs = append(probs, testProbs...)
	if len(probs) > 0 {
		t.Errorf("the embedded scripts have problems:\n%s", probs)
	}
	if len(loaded) == 0 {
		t.Error("no embedded flow")
	}
}
