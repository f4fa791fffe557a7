package flows

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/goccy/go-yaml/ast"
)

// The fields each part of a script may have, in the order the guide (README.md) lists them.
var (
	flowFields   = []string{"id", "version", "start", "nodes"}
	nodeFields   = []string{"say", "options", "set", "input", "skip", "help", "next", "do"}
	optionFields = []string{"label", "value", "next", "help", "assign", "return"}
)

// Parse reads one flow script. It reports every problem with the file's form (YAML syntax,
// unknown fields, values of the wrong kind, repeated keys), each at its line and column.
// Whether the script makes sense as a conversation is Validate's job, and only worth
// asking when Parse found no problems.
//
// The returned flow is never nil: it holds as much as could be read, with Hash, Source
// and Pos always filled. Parse never panics, whatever src holds.
func Parse(file string, src []byte) (*Flow, Problems) {
	sum := sha256.Sum256(src)
	f := &Flow{
		Nodes:  map[string]*Node{},
		Hash:   hex.EncodeToString(sum[:])[:16],
		Source: bytes.Clone(src),
		Pos:    Pos{File: file, Line: 1, Col: 1},
		Fields: map[string]Pos{},
	}
	r, root, ok := readYAML(file, src)
	if ok {
		parseFlow(r, root, f)
	}
	r.probs.Sort()
	return f, r.probs
}

// parseFlow reads the top level of a script into f.
func parseFlow(r *yamlReader, root ast.Node, f *Flow) {
	top, _ := r.fields(root, shape{name: "the script", kind: "a script", fields: flowFields})
	for _, name := range flowFields {
		if e, ok := top[name]; ok {
			f.Fields[name] = e.keyPos
		}
	}
	if e, ok := top["id"]; ok {
		f.ID, _, _ = r.text(e, "intake")
	}
	if e, ok := top["version"]; ok {
		f.Version, _ = r.number(e, "1")
	}
	if e, ok := top["start"]; ok {
		f.Start, _, _ = r.text(e, "welcome")
	}
	if e, ok := top["nodes"]; ok {
		parseNodes(r, e, f)
	}
}

// parseNodes reads the nodes mapping, keeping the file order.
func parseNodes(r *yamlReader, e entry, f *Flow) {
	wrong := `"nodes" must list the steps of the conversation, each as its id followed by a colon on its own line, like "  welcome:"`
	es, _ := r.entries(e.value, "node id", wrong)
	for _, ne := range es {
		f.Nodes[ne.key] = parseNode(r, ne)
		f.Order = append(f.Order, ne.key)
	}
}

// parseNode reads one node; nothing written under its id reads as an empty node, which
// the validator then reports as a dead end.
func parseNode(r *yamlReader, e entry) *Node {
	n := &Node{ID: e.key, Pos: e.keyPos}
	fields, _ := r.fields(e.value, shape{name: fmt.Sprintf("node %q", e.key), kind: "a node", fields: nodeFields})

	if fe, ok := fields["say"]; ok {
		ids, positions, _ := r.textList(fe, "welcome.hello", false)
		for i, id := range ids {
			n.Say = append(n.Say, MessageRef{ID: id, Pos: positions[i]})
		}
	}
	if fe, ok := fields["options"]; ok {
		items, _ := r.list(fe)
		for _, item := range items {
			n.Options = append(n.Options, parseOption(r, e.key, item))
		}
	}
	if fe, ok := fields["set"]; ok {
		n.Set, n.SetPos, _ = r.text(fe, "category")
	}
	if fe, ok := fields["input"]; ok {
		n.Input, n.InputPos, _ = r.text(fe, InputText)
	}
	if fe, ok := fields["skip"]; ok {
		n.Skip = messageRef(r, fe, "story.skip")
	}
	if fe, ok := fields["help"]; ok {
		n.Help = messageRef(r, fe, "category.help")
	}
	if fe, ok := fields["next"]; ok {
		n.Next, n.NextPos, _ = r.text(fe, "summary")
	}
	if fe, ok := fields["do"]; ok {
		n.Do, n.DoPos, _ = r.text(fe, ActionEnd)
	}
	return n
}

// parseOption reads one option (button) of the node nodeID.
func parseOption(r *yamlReader, nodeID string, item ast.Node) *Option {
	o := &Option{Pos: r.pos(item)}
	name := fmt.Sprintf("an option of node %q", nodeID)
	fields, _ := r.fields(item, shape{name: name, kind: "an option", fields: optionFields})

	if fe, ok := fields["label"]; ok {
		if ref := messageRef(r, fe, "welcome.report"); ref != nil {
			o.Label = *ref
		}
	}
	if fe, ok := fields["value"]; ok {
		o.Value, o.ValuePos, _ = r.text(fe, "stalking")
	}
	if fe, ok := fields["next"]; ok {
		o.Next, o.NextPos, _ = r.text(fe, "category")
	}
	if fe, ok := fields["help"]; ok {
		o.Help = messageRef(r, fe, "category.stalking.help")
	}
	if fe, ok := fields["assign"]; ok {
		pairs, _ := r.pairs(fe, "variable", "faculty: unknown")
		for _, p := range pairs {
			o.Assign = append(o.Assign, Assignment{Var: p.key, Value: p.value, Pos: p.keyPos, ValuePos: p.valuePos})
		}
	}
	if fe, ok := fields["return"]; ok {
		o.Return, o.ReturnPos, _ = r.text(fe, "summary")
	}
	return o
}

// messageRef reads a single message id, or returns nil when it could not be read.
func messageRef(r *yamlReader, e entry, example string) *MessageRef {
	id, pos, ok := r.text(e, example)
	if !ok {
		return nil
	}
	return &MessageRef{ID: id, Pos: pos}
}
