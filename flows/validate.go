package flows

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// MessageIDs holds, per language, the message ids of each full locale (one that must have
// every text). Validate reports every id a script uses that a full locale lacks.
type MessageIDs map[string]map[string]bool

// idPattern is the form of flow and node ids: lower-case and safe in file names,
// graph drawings and button data.
var idPattern = regexp.MustCompile(`^[a-z0-9_]+$`)

// Validate checks that a parsed script makes sense as a conversation: every node can be
// reached and leads somewhere, every link points to a node that exists, every answer is
// stored in a known variable with an allowed value, and every text exists in every full
// locale. It returns all problems, sorted by place, so a script with none can go live.
//
// Validate expects a flow that Parse read without problems; on a flow Parse complained
// about it may repeat those complaints in other words.
func Validate(f *Flow, ids MessageIDs) Problems {
	v := &validator{f: f}
	v.header()
	for _, id := range f.Order {
		v.node(f.Nodes[id])
	}
	v.unreachable()
	v.loops()
	v.messages(ids)
	v.probs.Sort()
	return v.probs
}

// validator collects the problems of one flow.
type validator struct {
	f     *Flow
	probs Problems
}

// header checks the top-level fields.
func (v *validator) header() {
	f := v.f
	if pos, ok := f.Fields["id"]; !ok {
		v.probs.add(f.Pos, `the script has no id: add a line like "id: intake" at the top`)
	} else if !idPattern.MatchString(f.ID) {
		v.probs.add(pos, "flow id %q may only contain lower-case letters a-z, digits 0-9 and _: write it like intake or intake_2", f.ID)
	}
	if pos, ok := f.Fields["version"]; !ok {
		v.probs.add(f.Pos, `the script has no version: add a line like "version: 1" at the top`)
	} else if f.Version < 1 {
		v.probs.add(pos, `"version" must be 1 or more: count up from 1, one step for each change you publish`)
	}
	if pos, ok := f.Fields["start"]; !ok {
		v.probs.add(f.Pos, `the script has no start: add a line like "start: welcome" naming the first node`)
	} else if f.Nodes[f.Start] == nil && len(f.Nodes) > 0 {
		v.probs.add(pos, "start node %q does not exist%s: write the id of one of the nodes", f.Start, didYouMean(f.Start, f.Order))
	}
	if pos, ok := f.Fields["nodes"]; !ok {
		v.probs.add(f.Pos, `the script has no nodes: add a line "nodes:" with the steps of the conversation under it`)
	} else if len(f.Nodes) == 0 {
		v.probs.add(pos, `"nodes" is empty: add the steps of the conversation under it`)
	}
}

// node checks one node and its options.
func (v *validator) node(n *Node) {
	if !idPattern.MatchString(n.ID) {
		v.probs.add(n.Pos, "node id %q may only contain lower-case letters a-z, digits 0-9 and _: rename it here and wherever it is used", n.ID)
	}
	v.link(n.NextPos, "next", n.Next)
	v.action(n)
	v.input(n)
	v.set(n)

	waits := len(n.Options) > 0 || n.Input != ""
	if !waits && n.Next == "" && n.Do == "" {
		v.probs.add(n.Pos, "node %q is a dead end: it has no options, no input, no next and no do; add next: to go on to another node, or do: end to finish the conversation", n.ID)
	}

	// Two options may share a value on purpose (two ways of saying "unknown"), so that is
	// not checked.
	for _, o := range n.Options {
		v.option(n, o)
	}
}

// link checks that a next, option next or return names an existing node.
func (v *validator) link(pos Pos, field, target string) {
	if target == "" || v.f.Nodes[target] != nil {
		return
	}
	v.probs.add(pos, "%s node %q does not exist%s: write the id of one of the nodes", field, target, didYouMean(target, v.f.Order))
}

// action checks the node's do.
func (v *validator) action(n *Node) {
	switch {
	case n.Do == "":
	case !slices.Contains(Actions, n.Do):
		v.probs.add(n.DoPos, "action %q is not known%s: use one of %s", n.Do, didYouMean(n.Do, Actions), strings.Join(Actions, ", "))
	case n.Do == ActionEnd && (len(n.Options) > 0 || n.Input != "" || n.Next != ""):
		v.probs.add(n.DoPos, "node %q ends the conversation (do: end), so its options, input or next would never be used: remove them, or move do: end to a node of its own", n.ID)
	}
}

// input checks a node that takes typed text.
func (v *validator) input(n *Node) {
	if n.Input == "" {
		if n.Skip != nil {
			v.probs.add(n.Skip.Pos, "node %q has a skip button but takes no typed text: skip only works together with input: text", n.ID)
		}
		return
	}
	if n.Input != InputText {
		v.probs.add(n.InputPos, "input %q is not known: write input: text (the only kind of input)", n.Input)
	}
	if len(n.Options) > 0 {
		v.probs.add(n.InputPos, "node %q has both options and input: a node either shows buttons or asks for typed text, so split it into two nodes", n.ID)
	}
	if n.Set == "" {
		v.probs.add(n.InputPos, "node %q takes typed text but has no set: add set: with the text variable that keeps the answer, like set: %s", n.ID, strings.Join(textVariableNames(), " or set: "))
	}
	if n.Next == "" {
		v.probs.add(n.InputPos, "node %q takes typed text but has no next: add next: with the node that comes after the answer", n.ID)
	}
}

// set checks the variable a node stores its answer in, and the option values that go
// into it.
func (v *validator) set(n *Node) {
	if n.Set == "" {
		for _, o := range n.Options {
			if o.Value != "" {
				v.probs.add(o.ValuePos, "this option has a value, but node %q has no set, so the value is never kept: add set: with a variable to the node, or remove the value", n.ID)
			}
		}
		return
	}
	variable, known := Lookup(n.Set)
	switch {
	case !known:
		v.probs.add(n.SetPos, "%s", unknownVariable(n.Set))
		return
	case len(n.Options) == 0 && n.Input == "":
		v.probs.add(n.SetPos, "node %q has set but no options and no input, so nothing is ever stored: remove set, or add options or input", n.ID)
		return
	case len(n.Options) > 0 && n.Input != "":
		return // which kind of variable fits is unclear until options or input goes
	case len(n.Options) > 0 && variable.Text:
		v.probs.add(n.SetPos, "variable %q keeps typed text, so buttons cannot fill it: use input: text here, or a variable with fixed values", n.Set)
		return
	case n.Input != "" && !variable.Text:
		v.probs.add(n.SetPos, "variable %q only takes fixed values (%s), so typed text cannot fill it: use options here, or a text variable such as %s",
			n.Set, strings.Join(variable.Values, ", "), strings.Join(textVariableNames(), ", "))
		return
	}
	for _, o := range n.Options {
		switch {
		case o.Value == "":
			v.probs.add(o.Pos, "this option has no value, but node %q keeps the choice in %q: add value: with one of %s", n.ID, n.Set, strings.Join(variable.Values, ", "))
		case !variable.Allows(o.Value):
			v.probs.add(o.ValuePos, "%s", notAllowed(variable, o.Value))
		}
	}
}

// option checks one button of node n.
func (v *validator) option(n *Node, o *Option) {
	if o.Label.ID == "" {
		v.probs.add(o.Pos, "this option has no label: add label: with the message id of the button's text")
	}
	if o.Next == "" && n.Next == "" {
		v.probs.add(o.Pos, "this option has no next, and node %q has no next either: add next: with the node this button leads to", n.ID)
	}
	v.link(o.NextPos, "next", o.Next)
	v.link(o.ReturnPos, "return", o.Return)
	for _, a := range o.Assign {
		variable, known := Lookup(a.Var)
		switch {
		case !known:
			v.probs.add(a.Pos, "%s", unknownVariable(a.Var))
		case !variable.Allows(a.Value):
			v.probs.add(a.ValuePos, "%s", notAllowed(variable, a.Value))
		}
	}
}

// successors lists the nodes a conversation can go to from n: by next, by an option's
// next and by an option's return. Targets that do not exist are left out.
func (v *validator) successors(n *Node) []string {
	var out []string
	add := func(id string) {
		if v.f.Nodes[id] != nil {
			out = append(out, id)
		}
	}
	add(n.Next)
	for _, o := range n.Options {
		add(o.Next)
		add(o.Return)
	}
	return out
}

// unreachable reports nodes no conversation can get to from the start node.
func (v *validator) unreachable() {
	if v.f.Nodes[v.f.Start] == nil {
		return // every node would be reported; the missing start is the one problem
	}
	seen := map[string]bool{v.f.Start: true}
	queue := []string{v.f.Start}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, next := range v.successors(v.f.Nodes[id]) {
			if !seen[next] {
				seen[next] = true
				queue = append(queue, next)
			}
		}
	}
	for _, id := range v.f.Order {
		if !seen[id] {
			v.probs.add(v.f.Nodes[id].Pos, "node %q can never be reached from the start node %q: lead to it with a next or an option, or remove it", id, v.f.Start)
		}
	}
}

// loops reports rings of nodes that move on at once (no options, no input) and so would
// pass the conversation round forever without waiting for the student.
func (v *validator) loops() {
	passOn := func(id string) string { // the node id moves on to at once, or ""
		n := v.f.Nodes[id]
		if n == nil || len(n.Options) > 0 || n.Input != "" || n.Do == ActionEnd || v.f.Nodes[n.Next] == nil {
			return ""
		}
		return n.Next
	}
	done := map[string]bool{}
	for _, start := range v.f.Order {
		// Follow the chain from start; each node has at most one way on, so the chain
		// either ends, joins a chain already walked, or closes a ring.
		var chain []string
		onChain := map[string]int{}
		for id := start; id != "" && !done[id]; id = passOn(id) {
			if at, seen := onChain[id]; seen {
				v.reportLoop(chain[at:])
				break
			}
			onChain[id] = len(chain)
			chain = append(chain, id)
		}
		for _, id := range chain {
			done[id] = true
		}
	}
}

// reportLoop reports one ring, at the node that comes first in the file, so it is
// reported once and the same way every time.
func (v *validator) reportLoop(ring []string) {
	first := 0
	for i, id := range ring {
		if slices.Index(v.f.Order, id) < slices.Index(v.f.Order, ring[first]) {
			first = i
		}
	}
	ordered := append(slices.Clone(ring[first:]), ring[:first]...)
	path := strings.Join(append(ordered, ordered[0]), " -> ")
	v.probs.add(v.f.Nodes[ordered[0]].Pos, "nodes %s go round in a loop without ever waiting for the student: give one of them options or input, or let a next lead out of the loop", path)
}

// messages reports every message id the script uses that a full locale lacks, once per
// id and language, at its first use.
func (v *validator) messages(ids MessageIDs) {
	langs := make([]string, 0, len(ids))
	for lang := range ids {
		langs = append(langs, lang)
	}
	slices.Sort(langs)
	refs := messageRefs(v.f)
	for _, lang := range langs {
		reported := map[string]bool{}
		for _, ref := range refs {
			if ref.ID == "" || ids[lang][ref.ID] || reported[ref.ID] {
				continue
			}
			reported[ref.ID] = true
			v.probs.add(ref.Pos, "message id %q is missing in locale %s (add it to locales/%s.toml)", ref.ID, lang, lang)
		}
	}
}

// messageRefs lists every message id a flow uses (say, help, skip, option labels and
// help), in file order.
func messageRefs(f *Flow) []MessageRef {
	var refs []MessageRef
	addRef := func(r *MessageRef) {
		if r != nil {
			refs = append(refs, *r)
		}
	}
	for _, id := range f.Order {
		n := f.Nodes[id]
		refs = append(refs, n.Say...)
		addRef(n.Help)
		addRef(n.Skip)
		for _, o := range n.Options {
			refs = append(refs, o.Label)
			addRef(o.Help)
		}
	}
	slices.SortStableFunc(refs, func(a, b MessageRef) int {
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		return a.Pos.Col - b.Pos.Col
	})
	return refs
}

// unknownVariable is the message for a variable name that is not in the schema.
func unknownVariable(name string) string {
	names := variableNames()
	return fmt.Sprintf("variable %q does not exist%s: use one of %s", name, didYouMean(name, names), strings.Join(names, ", "))
}

// notAllowed is the message for a value the variable does not allow.
func notAllowed(variable Variable, value string) string {
	return fmt.Sprintf("value %q is not allowed for %q%s: use one of %s",
		value, variable.Name, didYouMean(value, variable.Values), strings.Join(variable.Values, ", "))
}

// variableNames lists the names of every variable in the schema.
func variableNames() []string {
	names := make([]string, len(Schema))
	for i, variable := range Schema {
		names[i] = variable.Name
	}
	return names
}

// textVariableNames lists the variables that keep typed text.
func textVariableNames() []string {
	var names []string
	for _, variable := range Schema {
		if variable.Text {
			names = append(names, variable.Name)
		}
	}
	return names
}
