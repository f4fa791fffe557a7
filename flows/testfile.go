package flows

import (
	"fmt"

	"github.com/goccy/go-yaml/ast"
)

// TestFile is one transcript-test file (<flow>.test.yaml): conversations played against a
// flow, each with the nodes it must pass and the answers it must end with.
type TestFile struct {
	File string
	// Flow is the id of the flow the tests run against; FlowPos is where it is written,
	// so a test runner can point at it when no such flow exists.
	Flow    string
	FlowPos Pos
	Pos     Pos // of the file itself (line 1)
	Tests   []Transcript
}

// Transcript is one test conversation.
type Transcript struct {
	Name string
	Lang string
	// Input is what the student sends, one item per turn: a command (/back), an option's
	// value or label id, skip, help, or else free text. InputPos holds where each item is
	// written, so a runner can point at the one that went wrong.
	Input    []string
	InputPos []Pos
	// Path is every node entered, in order, including the start node and nodes passed
	// through at once; nil when the test does not check it.
	Path []string
	// Vars are the answers the conversation must end with (a subset); nil when the test
	// does not check them.
	Vars map[string]string
	Pos  Pos // of the test in its list
}

// The fields of a test file and of each test in it, in the order the guide lists them.
var (
	testFileFields = []string{"flow", "tests"}
	testFields     = []string{"name", "lang", "input", "path", "vars"}
)

// ParseTests reads one transcript-test file, as strictly as Parse reads a script: unknown
// fields, values of the wrong kind, missing fields, repeated test names and variables
// outside the schema are reported at their line and column. Whether the flow and its nodes
// exist is for the test runner, which has the flows. The returned file is never nil, and
// ParseTests never panics, whatever src holds.
func ParseTests(file string, src []byte) (*TestFile, Problems) {
	tf := &TestFile{File: file, Pos: Pos{File: file, Line: 1, Col: 1}}
	r, root, ok := readYAML(file, src)
	if ok {
		parseTestFile(r, root, tf)
	}
	r.probs.Sort()
	return tf, r.probs
}

// parseTestFile reads the top level of a test file into tf.
func parseTestFile(r *yamlReader, root ast.Node, tf *TestFile) {
	top, ok := r.fields(root, shape{name: "the test file", kind: "a test file", fields: testFileFields})
	if !ok {
		return
	}
	if e, ok := top["flow"]; ok {
		tf.Flow, tf.FlowPos, _ = r.text(e, "intake")
	} else {
		r.probs.add(tf.Pos, `the test file has no flow: add a line like "flow: intake" at the top, naming the flow it tests`)
	}
	e, ok := top["tests"]
	if !ok {
		r.probs.add(tf.Pos, `the test file has no tests: add a line "tests:" with the tests under it, each starting with "- name:"`)
		return
	}
	items, ok := r.list(e)
	if ok && len(items) == 0 {
		r.probs.add(e.keyPos, `"tests" is empty: add the tests under it, each starting with "- name:"`)
	}
	names := map[string]Pos{}
	for _, item := range items {
		t, ok := parseTranscript(r, item)
		if !ok {
			continue
		}
		if first, dup := names[t.Name]; dup {
			r.probs.add(t.Pos, "two tests are called %q (the other at line %d): give each test its own name, so a failure points at one", t.Name, first.Line)
		}
		names[t.Name] = t.Pos
		tf.Tests = append(tf.Tests, t)
	}
}

// parseTranscript reads one test; ok is false when it is not a test at all or has no
// name, so it cannot be told apart from the others.
func parseTranscript(r *yamlReader, item ast.Node) (Transcript, bool) {
	t := Transcript{Pos: r.pos(item)}
	fields, ok := r.fields(item, shape{name: "a test", kind: "a test", fields: testFields})
	if !ok {
		return t, false
	}
	name := "this test"
	if e, ok := fields["name"]; ok {
		t.Name, _, _ = r.text(e, "register stalking in English")
		name = fmt.Sprintf("test %q", t.Name)
	} else {
		r.probs.add(t.Pos, "this test has no name: add name: with a few words saying what it checks")
	}
	if e, ok := fields["lang"]; ok {
		t.Lang, _, _ = r.text(e, "en")
	} else {
		r.probs.add(t.Pos, "%s has no lang: add lang: with the language the conversation is held in, like lang: en", name)
	}
	if e, ok := fields["input"]; ok {
		t.Input, t.InputPos, _ = r.textList(e, "welcome.report", true)
	} else {
		r.probs.add(t.Pos, "%s has no input: add input: with what the student sends, like input: [welcome.report, stalking]", name)
	}
	pathEntry, hasPath := fields["path"]
	if hasPath {
		t.Path, _, _ = r.textList(pathEntry, "welcome", false)
		if t.Path == nil {
			t.Path = []string{} // written but empty: the runner compares it and fails
		}
	}
	varsEntry, hasVars := fields["vars"]
	if hasVars {
		t.Vars = parseVars(r, varsEntry)
	}
	if !hasPath && !hasVars {
		r.probs.add(t.Pos, "%s checks nothing: add path: with the nodes the conversation must pass, or vars: with the answers it must end with", name)
	}
	return t, t.Name != ""
}

// parseVars reads the expected answers of a test; every name must be a schema variable,
// since a misspelt one could never match.
func parseVars(r *yamlReader, e entry) map[string]string {
	pairs, _ := r.pairs(e, "variable", "category: stalking")
	vars := make(map[string]string, len(pairs))
	for _, p := range pairs {
		if _, known := Lookup(p.key); !known {
			r.probs.add(p.keyPos, "%s", unknownVariable(p.key))
			continue
		}
		vars[p.key] = p.value
	}
	return vars
}
