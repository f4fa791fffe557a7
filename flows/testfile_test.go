package flows

import (
	"reflect"
	"strings"
	"testing"
)

// The example of the spec reads into exactly the transcript a runner needs, with the
// places of the test and of each input, so a failure can point into the file.
func TestParseTestsExample(t *testing.T) {
	src := `flow: intake
tests:
  - name: register stalking, English
    lang: en
    input: [welcome.report, stalking, "", /back]
    path: [welcome, category]
    vars: {category: stalking, story: ""}
  - {name: only the path, lang: nl, input: [], path: [welcome]}
`
	tf, probs := ParseTests("intake.test.yaml", []byte(src))
	if len(probs) > 0 {
		t.Fatalf("unexpected problems:\n%s", probs)
	}
	at := func(line, col int) Pos { return Pos{File: "intake.test.yaml", Line: line, Col: col} }
	want := &TestFile{
		File:    "intake.test.yaml",
		Flow:    "intake",
		FlowPos: at(1, 7),
		Pos:     at(1, 1),
		Tests: []Transcript{
			{
				Name:     "register stalking, English",
				Lang:     "en",
				Input:    []string{"welcome.report", "stalking", "", "/back"},
				InputPos: []Pos{at(5, 13), at(5, 29), at(5, 39), at(5, 43)},
				Path:     []string{"welcome", "category"},
				Vars:     map[string]string{"category": "stalking", "story": ""},
				Pos:      at(3, 5),
			},
			{Name: "only the path", Lang: "nl", Path: []string{"welcome"}, Pos: at(8, 5)},
		},
	}
	if !reflect.DeepEqual(tf, want) {
		t.Errorf("got  %+v\nwant %+v", tf, want)
	}
}

// Test files are read as strictly as scripts, and each mistake is named at its place.
func TestParseTestsProblems(t *testing.T) {
	variables := "category, sv_kind, aggression_kind, when, relation, reporter, story, outcome, contact, urgent, faculty, gender"
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"empty file", "", []string{
			`t.yaml:1:1: the test file has no flow: add a line like "flow: intake" at the top, naming the flow it tests`,
			`t.yaml:1:1: the test file has no tests: add a line "tests:" with the tests under it, each starting with "- name:"`,
		}},
		{"no tests", "flow: intake\ntests:\n", []string{
			`t.yaml:2:1: "tests" is empty: add the tests under it, each starting with "- name:"`,
		}},
		{"unknown field", "flow: intake\ntests:\n  - {name: a, lang: en, input: [], path: [a], expect: x}\n", []string{
			`t.yaml:3:47: unknown field "expect" in a test; a test can have: name, lang, input, path, vars`,
		}},
		{"missing fields", "flow: intake\ntests:\n  - name: a\n  - lang: en\n", []string{
			`t.yaml:3:5: test "a" checks nothing: add path: with the nodes the conversation must pass, or vars: with the answers it must end with`,
			`t.yaml:3:5: test "a" has no input: add input: with what the student sends, like input: [welcome.report, stalking]`,
			`t.yaml:3:5: test "a" has no lang: add lang: with the language the conversation is held in, like lang: en`,
			`t.yaml:4:5: this test checks nothing: add path: with the nodes the conversation must pass, or vars: with the answers it must end with`,
			`t.yaml:4:5: this test has no input: add input: with what the student sends, like input: [welcome.report, stalking]`,
			`t.yaml:4:5: this test has no name: add name: with a few words saying what it checks`,
		}},
		{"same name twice", "flow: intake\ntests:\n  - {name: a, lang: en, input: [], path: [a]}\n  - {name: a, lang: nl, input: [], path: [a]}\n", []string{
			`t.yaml:4:5: two tests are called "a" (the other at line 3): give each test its own name, so a failure points at one`,
		}},
		{"unknown variable", "flow: intake\ntests:\n  - {name: a, lang: en, input: [], vars: {catgory: stalking}}\n", []string{
			`t.yaml:3:43: variable "catgory" does not exist (did you mean "category"?): use one of ` + variables,
		}},
		{"wrong kinds", "flow: [intake]\ntests:\n  - name: a\n    lang: en\n    input: welcome.report\n    path: [[a]]\n", []string{
			`t.yaml:1:7: "flow" must be a single value, like flow: intake`,
			`t.yaml:5:12: "input" must be a list, even with one item: write input: [welcome.report]`,
			`t.yaml:6:12: each item of "path" must be a single value, like welcome`,
		}},
		{"tests not a list", "flow: intake\ntests: {name: a}\n", []string{
			`t.yaml:2:8: "tests" must be a list: start each item on a new line with - (a dash and a space)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := ParseTests("t.yaml", []byte(tt.src))
			if got, want := probs.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
