package flows

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// check reads a script the way `intake flows validate` does: parse, and validate only
// what parsed cleanly.
func check(t *testing.T, path string, ids MessageIDs) Problems {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, probs := Parse(path, src)
	if len(probs) > 0 {
		return probs
	}
	return Validate(f, ids)
}

// goodIDs holds every message id testdata/good.yaml uses, in two full locales.
func goodIDs() MessageIDs {
	ids := map[string]bool{}
	for _, id := range []string{
		"welcome.hello", "welcome.privacy", "category.ask", "category.help",
		"category.stalking", "category.stalking.help", "category.other", "story.ask",
		"story.skip", "profile.ask", "profile.yes", "profile.no", "faculty.ask",
		"faculty.law", "faculty.unknown", "summary.text", "summary.confirm",
		"summary.fix_category", "done.registered", "done.bye",
	} {
		ids[id] = true
	}
	return MessageIDs{"en": ids, "nl": ids}
}

func TestValidateGoodScript(t *testing.T) {
	if probs := check(t, "testdata/good.yaml", goodIDs()); len(probs) > 0 {
		t.Errorf("good.yaml should have no problems, got:\n%s", probs)
	}
}

// Every kind of mistake has a small script in testdata/bad; each must produce exactly
// these lines, in this order, so the support officer always reads the same advice.
func TestValidateBadScripts(t *testing.T) {
	categories := "sexual_violence, inappropriate, unprofessional, worrying, unequal_treatment, intimidation, discrimination, bullying, stalking, aggression, other"
	variables := "category, sv_kind, aggression_kind, when, relation, reporter, story, outcome, contact, urgent, faculty, gender"
	tests := []struct {
		file string
		ids  MessageIDs
		want []string
	}{
		{file: "syntax.yaml", want: []string{
			`testdata/bad/syntax.yaml:7:5: this is not valid YAML (',' or ']' must be specified): check the indentation, colons, quotes and brackets here`,
		}},
		{file: "unknown_field.yaml", want: []string{
			`testdata/bad/unknown_field.yaml:4:1: unknown field "author" in the script; a script can have: id, version, start, nodes`,
			`testdata/bad/unknown_field.yaml:7:5: unknown field "sya" in node "welcome" (did you mean "say"?); a node can have: say, options, set, input, skip, help, next, do`,
			`testdata/bad/unknown_field.yaml:9:10: unknown field "lable" in an option of node "welcome" (did you mean "label"?); an option can have: label, value, next, help, assign, return`,
		}},
		{file: "wrong_type.yaml", want: []string{
			`testdata/bad/wrong_type.yaml:2:10: "version" must be a whole number, like version: 1`,
			`testdata/bad/wrong_type.yaml:3:8: "start" must be a single value, like start: welcome`,
			`testdata/bad/wrong_type.yaml:6:10: "say" must be a list, even with one item: write say: [welcome.hello]`,
			`testdata/bad/wrong_type.yaml:7:14: "options" must be a list: start each item on a new line with - (a dash and a space)`,
			`testdata/bad/wrong_type.yaml:9:21: each item of "say" must be a single value, like welcome.hello`,
		}},
		{file: "duplicate_key.yaml", want: []string{
			`testdata/bad/duplicate_key.yaml:8:5: field "next" appears twice (first at line 7): remove or rename this one`,
			`testdata/bad/duplicate_key.yaml:11:3: node id "welcome" appears twice (first at line 5): remove or rename this one`,
		}},
		{file: "unsupported_yaml.yaml", want: []string{
			`testdata/bad/unsupported_yaml.yaml:6:10: anchors (&name) are not supported in scripts: write the value out in full`,
			`testdata/bad/unsupported_yaml.yaml:9:10: aliases (*name) are not supported in scripts: write the value out in full`,
			`testdata/bad/unsupported_yaml.yaml:10:9: tags (words starting with !) are not supported in scripts: remove the tag`,
		}},
		{file: "two_documents.yaml", want: []string{
			`testdata/bad/two_documents.yaml:7:1: a second document starts here (after ---): keep one script per file, so remove this part or move it to a file of its own`,
		}},
		{file: "missing_fields.yaml", want: []string{
			`testdata/bad/missing_fields.yaml:1:1: the script has no id: add a line like "id: intake" at the top`,
			`testdata/bad/missing_fields.yaml:1:1: the script has no start: add a line like "start: welcome" naming the first node`,
			`testdata/bad/missing_fields.yaml:1:1: the script has no version: add a line like "version: 1" at the top`,
		}},
		{file: "empty_nodes.yaml", want: []string{
			`testdata/bad/empty_nodes.yaml:2:1: "version" must be 1 or more: count up from 1, one step for each change you publish`,
			`testdata/bad/empty_nodes.yaml:4:1: "nodes" is empty: add the steps of the conversation under it`,
		}},
		{file: "bad_id.yaml", want: []string{
			`testdata/bad/bad_id.yaml:1:1: flow id "Intake-2" may only contain lower-case letters a-z, digits 0-9 and _: write it like intake or intake_2`,
			`testdata/bad/bad_id.yaml:5:3: node id "Welcome" may only contain lower-case letters a-z, digits 0-9 and _: rename it here and wherever it is used`,
		}},
		{file: "missing_target.yaml", want: []string{
			`testdata/bad/missing_target.yaml:3:1: start node "welcom" does not exist (did you mean "welcome"?): write the id of one of the nodes`,
			`testdata/bad/missing_target.yaml:8:39: next node "sumary" does not exist: write the id of one of the nodes`,
			`testdata/bad/missing_target.yaml:9:53: return node "summ" does not exist: write the id of one of the nodes`,
			`testdata/bad/missing_target.yaml:10:11: next node "byebye" does not exist: write the id of one of the nodes`,
		}},
		{file: "unreachable.yaml", want: []string{
			`testdata/bad/unreachable.yaml:8:3: node "forgotten" can never be reached from the start node "welcome": lead to it with a next or an option, or remove it`,
		}},
		{file: "dead_end.yaml", want: []string{
			`testdata/bad/dead_end.yaml:5:3: node "welcome" is a dead end: it has no options, no input, no next and no do; add next: to go on to another node, or do: end to finish the conversation`,
		}},
		{file: "option_without_next.yaml", want: []string{
			`testdata/bad/option_without_next.yaml:9:9: this option has no next, and node "welcome" has no next either: add next: with the node this button leads to`,
			`testdata/bad/option_without_next.yaml:10:9: this option has no label: add label: with the message id of the button's text`,
		}},
		{file: "input_rules.yaml", want: []string{
			`testdata/bad/input_rules.yaml:6:12: input "number" is not known: write input: text (the only kind of input)`,
			`testdata/bad/input_rules.yaml:11:12: node "story" has both options and input: a node either shows buttons or asks for typed text, so split it into two nodes`,
			`testdata/bad/input_rules.yaml:11:12: node "story" takes typed text but has no next: add next: with the node that comes after the answer`,
			`testdata/bad/input_rules.yaml:11:12: node "story" takes typed text but has no set: add set: with the text variable that keeps the answer, like set: story`,
			`testdata/bad/input_rules.yaml:16:11: node "bye" has a skip button but takes no typed text: skip only works together with input: text`,
		}},
		{file: "option_values.yaml", want: []string{
			`testdata/bad/option_values.yaml:9:17: value "stalkin" is not allowed for "category" (did you mean "stalking"?): use one of ` + categories,
			`testdata/bad/option_values.yaml:10:9: this option has no value, but node "category" keeps the choice in "category": add value: with one of ` + categories,
			`testdata/bad/option_values.yaml:13:17: this option has a value, but node "welcome" has no set, so the value is never kept: add set: with a variable to the node, or remove the value`,
			`testdata/bad/option_values.yaml:15:10: node "bye" has set but no options and no input, so nothing is ever stored: remove set, or add options or input`,
		}},
		{file: "unknown_variable.yaml", want: []string{
			`testdata/bad/unknown_variable.yaml:6:10: variable "catgory" does not exist (did you mean "category"?): use one of ` + variables,
			`testdata/bad/unknown_variable.yaml:11:49: variable "facutly" does not exist (did you mean "faculty"?): use one of ` + variables,
			`testdata/bad/unknown_variable.yaml:11:75: value "female" is not allowed for "gender": use one of woman, man, non_binary, not_said`,
		}},
		{file: "variable_kind.yaml", want: []string{
			`testdata/bad/variable_kind.yaml:6:10: variable "story" keeps typed text, so buttons cannot fill it: use input: text here, or a variable with fixed values`,
			`testdata/bad/variable_kind.yaml:11:10: variable "category" only takes fixed values (` + categories + `), so typed text cannot fill it: use options here, or a text variable such as story`,
		}},
		{file: "unknown_action.yaml", want: []string{
			`testdata/bad/unknown_action.yaml:7:9: action "regster" is not known (did you mean "register"?): use one of register, handoff, end`,
			`testdata/bad/unknown_action.yaml:11:9: node "bye" ends the conversation (do: end), so its options, input or next would never be used: remove them, or move do: end to a node of its own`,
		}},
		{
			file: "missing_message.yaml",
			ids: MessageIDs{
				"en": {"welcome.hello": true, "welcome.report": true, "done.bye": true},
				"nl": {"welcome.hello": true, "done.bye": true},
			},
			want: []string{
				`testdata/bad/missing_message.yaml:6:26: message id "welcome.new" is missing in locale en (add it to locales/en.toml)`,
				`testdata/bad/missing_message.yaml:6:26: message id "welcome.new" is missing in locale nl (add it to locales/nl.toml)`,
				`testdata/bad/missing_message.yaml:7:11: message id "welcome.help" is missing in locale en (add it to locales/en.toml)`,
				`testdata/bad/missing_message.yaml:7:11: message id "welcome.help" is missing in locale nl (add it to locales/nl.toml)`,
				`testdata/bad/missing_message.yaml:9:17: message id "welcome.report" is missing in locale nl (add it to locales/nl.toml)`,
			},
		},
		{file: "loop.yaml", want: []string{
			`testdata/bad/loop.yaml:9:3: nodes second -> third -> first -> second go round in a loop without ever waiting for the student: give one of them options or input, or let a next lead out of the loop`,
		}},
	}

	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			probs := check(t, filepath.Join("testdata", "bad", tt.file), tt.ids)
			got := make([]string, len(probs))
			for i, p := range probs {
				got[i] = p.String()
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems differ\ngot:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}

	// A fixture without expectations would silently test nothing.
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no expected problems in this test", f)
		}
	}
}

// Two buttons may store the same value on purpose ("no" and "skip" both meaning unknown),
// and an option may take the node's next; neither is a problem.
func TestValidateAllowsSharedValuesAndNodeNext(t *testing.T) {
	src := `id: shared
version: 1
start: faculty
nodes:
  faculty:
    set: faculty
    next: bye
    options:
      - {value: unknown, label: faculty.skip}
      - {value: unknown, label: faculty.unknown}
  bye:
    do: end
`
	f, probs := Parse("shared.yaml", []byte(src))
	probs = append(probs, Validate(f, nil)...)
	if len(probs) > 0 {
		t.Errorf("want no problems, got:\n%s", probs)
	}
}
