package bot

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"intake/flows"
)

// TranscriptStep is one input of a transcript as played: the node the conversation waited
// at, the input token ("" for opening the conversation) and the bot's reply.
type TranscriptStep struct {
	Node  string
	Input string
	Reply Reply
}

// RunTranscript plays a transcript test against the engine, as a student would, and
// returns what went differently from what the support officer wrote (nothing when it
// passes). key must be a conversation key no one else uses. observe, when not nil, sees
// every step (golden transcripts and coverage are built from it).
func (e *Engine) RunTranscript(ctx context.Context, tr flows.Transcript, key string, observe func(TranscriptStep)) ([]string, error) {
	type step struct {
		node  string
		input int // index of the input that entered it; -1 for opening the conversation
	}
	var got []step
	handle := func(in Inbound, input int, node string) error {
		in.Channel, in.Key, in.LangHint = "test", key, tr.Lang
		r, err := e.Handle(ctx, in)
		if err != nil {
			return err
		}
		if observe != nil {
			token := ""
			if input >= 0 {
				token = tr.Input[input]
			}
			observe(TranscriptStep{Node: node, Input: token, Reply: r})
		}
		for _, n := range r.Path {
			got = append(got, step{n, input})
		}
		return nil
	}
	if err := handle(Inbound{Open: true}, -1, ""); err != nil {
		return nil, err
	}
	var failures []string
	for i, token := range tr.Input {
		s, err := e.Session(ctx, key)
		if err != nil {
			return nil, err
		}
		in, problem := e.resolveToken(s, token)
		if problem != "" {
			failures = append(failures, fmt.Sprintf("input %d %q: %s", i+1, token, problem))
			break
		}
		node := ""
		if s != nil {
			node = s.Node
		}
		if err := handle(in, i, node); err != nil {
			return nil, err
		}
	}
	for i := 0; i < len(tr.Path) || i < len(got); i++ {
		switch {
		case i >= len(got):
			failures = append(failures, fmt.Sprintf("path: expected node %q at position %d, but the conversation stopped before it", tr.Path[i], i+1))
		case i >= len(tr.Path):
			failures = append(failures, fmt.Sprintf("path: the conversation went on to node %q (after %s), which the test does not list", got[i].node, describeInput(tr, got[i].input)))
		case got[i].node != tr.Path[i]:
			failures = append(failures, fmt.Sprintf("path: after %s expected node %q, got %q", describeInput(tr, got[i].input), tr.Path[i], got[i].node))
		default:
			continue
		}
		break // one path difference explains the rest
	}
	final, err := e.Session(ctx, key)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(tr.Vars))
	for name := range tr.Vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		want := tr.Vars[name]
		var have string
		var ok bool
		if final != nil {
			have, ok = final.Vars[name]
		}
		switch {
		case !ok:
			failures = append(failures, fmt.Sprintf("vars: %s was expected to be %q but was never answered", name, want))
		case have != want:
			failures = append(failures, fmt.Sprintf("vars: %s = %q, expected %q", name, have, want))
		}
	}
	return failures, nil
}

func describeInput(tr flows.Transcript, i int) string {
	if i < 0 {
		return "opening the conversation"
	}
	return "input " + strconv.Itoa(i+1) + " " + strconv.Quote(tr.Input[i])
}

// resolveToken turns a transcript token into what a student would send at the node the
// conversation waits at: a command, a button (by value or label id), or typed text.
func (e *Engine) resolveToken(s *Session, token string) (Inbound, string) {
	if strings.HasPrefix(token, "/") || s == nil || s.Done || s.Node == "" {
		return Inbound{Text: token}, ""
	}
	f := e.flowVersionFor(s)
	if f == nil {
		return Inbound{}, "the conversation's flow version is not loaded"
	}
	n := f.Nodes[s.Node]
	if n == nil {
		return Inbound{}, fmt.Sprintf("the conversation waits at unknown node %q", s.Node)
	}
	for i, o := range n.Options {
		if (o.Value != "" && o.Value == token) || o.Label.ID == token {
			return Inbound{Data: buttonData(s.Seq, kindOption, strconv.Itoa(i))}, ""
		}
	}
	switch {
	case token == "skip" && n.Skip != nil:
		return Inbound{Data: buttonData(s.Seq, kindSkip)}, ""
	case token == "help" && hasHelp(n):
		return Inbound{Data: buttonData(s.Seq, kindHelp)}, ""
	case n.Input == flows.InputText:
		return Inbound{Text: token}, ""
	}
	return Inbound{}, fmt.Sprintf("node %q has no option with this value or label (and takes no typed text)", s.Node)
}

func (e *Engine) flowVersionFor(s *Session) *flows.Flow {
	return e.flowVersion(context.Background(), s.Flow, s.FlowHash)
}
