// Package flows is the language the support officer writes conversations in: the model of a
// flow script, its strict YAML parser, the validator that keeps broken scripts from going
// live, and the graph drawer; and the crisis phrase list (crisis.yaml, see Crisis), which
// recognises a student in danger at any step. The defaults are embedded from this folder.
//
// A flow is a set of nodes. Entering a node shows its `say` messages; the node then waits for
// the student: a button (options), free text (input), or nothing (next, taken at once).
// Every text is a message id resolved in the locales, so one script serves every language.
package flows

import "fmt"

// Pos is a place in a script file, 1-based, as editors show it.
type Pos struct {
	File string
	Line int
	Col  int
}

// String renders the place as "file:line:col", the form editors and terminals turn into a
// link; a place without a line (a whole file) is just the file name.
func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Flow is one parsed script.
type Flow struct {
	ID      string
	Version int
	Start   string
	// Nodes by id; Order keeps the file order so messages and graphs are stable.
	Nodes map[string]*Node
	Order []string
	// Hash identifies the exact content (sha256 of the source, hex, first 16 chars): two
	// files with the same declared version but other content are two versions to a session.
	Hash string
	// Source is the file as read, kept so a published version can be stored and re-parsed by
	// another replica or after a restart.
	Source []byte
	Pos    Pos // of the file itself (line 1)
	// Fields holds the position of every top-level key that was present (id, version, start,
	// nodes), so the validator can tell a missing field from a wrong one and point at it.
	Fields map[string]Pos
}

// Node is one step of a conversation.
type Node struct {
	ID  string
	Pos Pos // of the node's key in the nodes map

	Say     []MessageRef
	Options []*Option
	// Set names the variable that receives the chosen option's value or the typed text.
	Set    string
	SetPos Pos
	// Input is "text" when the node takes free text, "" otherwise.
	Input    string
	InputPos Pos
	// Skip is the label of a button that skips optional text input (the variable becomes "").
	Skip *MessageRef
	// Help is the overview shown by the "what does this mean?" button.
	Help *MessageRef
	// Next is taken after text input, or at once when the node has no options and no input.
	Next    string
	NextPos Pos
	// Do names an action run on entering the node, before its messages are shown.
	Do    string
	DoPos Pos
}

// Option is one button of a node.
type Option struct {
	Pos   Pos
	Label MessageRef
	// Value goes into the node's Set variable when the option is chosen.
	Value    string
	ValuePos Pos
	Next     string
	NextPos  Pos
	// Help explains this option (a definition) when the student asks what it means.
	Help *MessageRef
	// Assign sets further variables, e.g. skipping the profile sets faculty and gender.
	Assign []Assignment
	// Return starts a correction: after this option the conversation goes back to the named
	// node as soon as it reaches a question that was already answered.
	Return    string
	ReturnPos Pos
}

// Assignment is one variable set by an option.
type Assignment struct {
	Var   string
	Value string
	Pos   Pos // of the variable name
	// ValuePos is where the value is written, so a value that is not allowed is shown
	// exactly; it equals Pos when nothing was written after the colon.
	ValuePos Pos
}

// MessageRef is a message id used in a script, with where it was used.
type MessageRef struct {
	ID  string
	Pos Pos
}

// Actions a node may run with `do`.
const (
	ActionRegister = "register" // record the report in the registry only
	ActionHandoff  = "handoff"  // store a case for a counsellor
	ActionEnd      = "end"      // the conversation is over; the session ends
)

// Actions lists every known action, for the validator.
var Actions = []string{ActionRegister, ActionHandoff, ActionEnd}

// InputText is the only kind of free input a node takes today.
const InputText = "text"
