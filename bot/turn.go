package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"intake/flows"
	"intake/locales"
)

// maxHops bounds how many nodes one turn may pass through; the validator already refuses
// loops that never wait, this only keeps a bad archived version from spinning.
const maxHops = 64

// seenUpdates is how many recent update ids a session remembers for deduplication.
const seenUpdates = 16

// turn is the work of one inbound message on one loaded session.
type turn struct {
	e    *Engine
	ctx  context.Context
	in   Inbound
	s    *Session
	flow *flows.Flow
	cat  *locales.Catalog
	out  []Message
	path []string
	// erase deletes the session instead of saving it (stop, forget).
	erase bool
	// repeated is set when the update was handled before (see repeat).
	repeated bool
	// langUnknown is set for a new conversation whose platform gave no language hint: it
	// is greeted with a choice of language instead of in the default one.
	langUnknown bool
	// log is the engine's logger with this turn's random id.
	log *slog.Logger
}

func (e *Engine) newTurn(ctx context.Context, in Inbound, s *Session) *turn {
	return &turn{e: e, ctx: ctx, in: in, s: s, cat: e.Content().Catalog, log: e.log}
}

func (t *turn) lang() string {
	if t.s != nil && t.s.Lang != "" {
		return t.s.Lang
	}
	return resolveLang(t.in.LangHint)
}

// run decides what the inbound message means and does it.
func (t *turn) run() error {
	if t.s == nil {
		t.s = &Session{Lang: resolveLang(t.in.LangHint), Channel: t.in.Channel}
		t.remember()
		if t.in.Receipt != nil {
			t.restart()
			return t.reclaim(*t.in.Receipt)
		}
		t.langUnknown = t.in.LangHint == ""
		return t.firstContact()
	}
	if t.in.UpdateID != "" && t.seen() {
		return t.repeat() // handled before: at most its reply again
	}
	t.remember()
	if err := t.pinFlow(); err != nil {
		return err
	}
	switch {
	case t.in.Receipt != nil:
		return t.reclaim(*t.in.Receipt)
	case t.in.Open:
		if t.s.Done && t.s.Thread && t.s.CaseCode != "" {
			return t.showCase() // back at their case, not at the start of a new report
		}
		if t.s.Done {
			return t.greet()
		}
		return t.prompt(true)
	case t.in.Data != "":
		return t.button(t.in.Data)
	default:
		return t.text(t.in.Text)
	}
}

// remember records the update id and the newest return address.
func (t *turn) remember() {
	if t.in.Reply.Outbox != "" {
		t.s.Reply = t.in.Reply
	}
	if t.in.UpdateID == "" {
		return
	}
	t.s.Seen = append(t.s.Seen, t.in.UpdateID)
	if len(t.s.Seen) > seenUpdates {
		t.s.Seen = t.s.Seen[len(t.s.Seen)-seenUpdates:]
	}
}

// pinFlow loads the flow version the session runs on. When that version is gone (no
// archive, or archived elsewhere) the conversation continues at the same node in the live
// version if it still exists, and otherwise starts again with an apology.
func (t *turn) pinFlow() error {
	if t.s.Flow == "" {
		return nil
	}
	if f := t.e.flowVersion(t.ctx, t.s.Flow, t.s.FlowHash); f != nil {
		t.flow = f
		return nil
	}
	live := t.e.Content().Flows[t.e.cfg.FlowID]
	if live.Nodes[t.s.Node] != nil && live.ID == t.s.Flow {
		t.flow = live
		t.s.FlowHash, t.s.FlowVersion = live.Hash, live.Version
		return nil
	}
	t.log.Warn("pinned flow version unavailable; restarting conversation", "flow", t.s.Flow, "version", t.s.FlowVersion)
	t.say(msgFlowChanged, nil)
	t.restart()
	return nil
}

// greet opens a fresh conversation: straight into the flow in a full language, or a
// choice between the full languages for a student we can only greet (German) or whose
// language we were not told.
func (t *turn) greet() error {
	t.restart()
	if t.langUnknown {
		return t.chooseAnyLanguage()
	}
	if !locales.IsFull(t.s.Lang) {
		err := t.chooseLanguage()
		t.privacyFirst()
		return err
	}
	return t.enter(t.flow.Start)
}

// restart begins a new intake on the live flow, keeping only the language and channel.
func (t *turn) restart() {
	live := t.e.Content().Flows[t.e.cfg.FlowID]
	*t.s = Session{
		Lang: t.s.Lang, Channel: t.s.Channel, Reply: t.s.Reply, Seen: t.s.Seen,
		CaseCode: t.s.CaseCode, Pass: t.s.Pass,
		Flow: live.ID, FlowHash: live.Hash, FlowVersion: live.Version,
		IntakeID: randomID(), Seq: t.s.Seq,
	}
	t.flow = live
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}

// text handles typed text.
func (t *turn) text(raw string) error {
	if !utf8.ValidString(raw) {
		t.say(msgInvalidText, nil)
		return t.prompt(false)
	}
	text := strings.TrimSpace(raw)
	if text == "" {
		t.say(msgEmpty, nil)
		return t.prompt(false)
	}
	if strings.HasPrefix(text, "/") {
		return t.command(text)
	}
	signal := t.e.crisisSignal(text)
	err := t.textStep(text)
	if signal && err == nil {
		t.crisis()
	}
	return err
}

// textStep is what typed text means at the step the conversation is at.
func (t *turn) textStep(text string) error {
	if t.s.Thread && t.s.CaseCode != "" {
		return t.toCounsellor(text)
	}
	if t.s.Done {
		return t.greet()
	}
	if t.s.Node == "" {
		if lang := languageNamed(text); lang != "" {
			return t.setLanguage(lang)
		}
		return t.chooseLanguage()
	}
	if t.waitsToRetry() {
		return t.retryPrompt()
	}
	node := t.node()
	if node.Input == flows.InputText {
		if n := utf8.RuneCountInString(text); n > t.e.cfg.MaxText {
			t.say(msgTooLong, map[string]any{"max": t.e.cfg.MaxText})
			return t.prompt(false)
		}
		t.setVar(node.Set, text)
		return t.move(node.Next)
	}
	for i, o := range node.Options {
		if sameLabel(t.text1(o.Label.ID), text) {
			return t.choose(node, i)
		}
	}
	t.say(msgChoose, nil)
	return t.prompt(false)
}

// node is the node the conversation waits at.
func (t *turn) node() *flows.Node { return t.flow.Nodes[t.s.Node] }

// choose takes option i of node.
func (t *turn) choose(node *flows.Node, i int) error {
	o := node.Options[i]
	if node.Set != "" {
		t.setVar(node.Set, o.Value)
	}
	for _, a := range o.Assign {
		t.setVar(a.Var, a.Value)
	}
	next := o.Next
	if next == "" {
		next = node.Next
	}
	if o.Return != "" {
		// The option starts (or redirects) a correction: its own next node is the question
		// being corrected, so it is asked even though it has an answer.
		t.s.Return = o.Return
		t.rememberStep(t.s.Node)
		return t.walk(next, true)
	}
	return t.move(next)
}

func (t *turn) setVar(name, value string) {
	if t.s.Vars == nil {
		t.s.Vars = map[string]string{}
	}
	t.s.Vars[name] = value
	for _, dep := range flows.Dependents(name) {
		delete(t.s.Vars, dep)
	}
}

// answer returns a variable's answer as it counts: a follow-up question whose condition
// no longer holds (sv_kind after the category changed) counts as not asked.
func (t *turn) answer(v flows.Variable) (string, bool) {
	val, ok := t.s.Vars[v.Name]
	if !ok || !v.When.Holds(t.s.Vars) {
		return "", false
	}
	return val, true
}

// move leaves the waiting node for target, remembering it for the back command.
func (t *turn) move(target string) error {
	t.rememberStep(t.s.Node)
	return t.enter(target)
}

// maxHistory bounds how many steps /back can undo. Without a bound a student going back
// and forth between two menus would make the session (and every turn's load and save)
// grow without end; nobody goes back fifty steps one at a time.
const maxHistory = 50

// rememberStep records node as a step /back returns to, forgetting the oldest beyond maxHistory.
func (t *turn) rememberStep(node string) {
	t.s.History = append(t.s.History, node)
	if over := len(t.s.History) - maxHistory; over > 0 {
		t.s.History = append(t.s.History[:0], t.s.History[over:]...)
	}
}

// enter walks from target through nodes that do not wait, running their actions and
// showing their messages, and stops at the first node that waits or ends the flow.
func (t *turn) enter(target string) error { return t.walk(target, false) }

// walk is enter; with ask, the first node is entered even during a correction.
func (t *turn) walk(target string, ask bool) error {
	t.s.Retry = false
	for hop := 0; hop < maxHops; hop++ {
		if ret := t.s.Return; ret != "" && target != ret && !(ask && hop == 0) {
			// During a correction, a question that was answered before is not asked again:
			// the student goes straight back to the summary.
			if n := t.flow.Nodes[target]; n != nil && n.Set != "" {
				if _, answered := t.s.Vars[n.Set]; answered {
					target = ret
				}
			}
		}
		if target == t.s.Return {
			t.s.Return = ""
		}
		n := t.flow.Nodes[target]
		if n == nil {
			return fmt.Errorf("flow %s: node %q does not exist", t.flow.ID, target)
		}
		t.path = append(t.path, target)
		t.s.Node = target
		if n.Do != "" {
			if err := t.action(n.Do); errors.Is(err, ErrTooManyCases) {
				return t.casesBusy()
			} else if err != nil {
				return err
			}
		}
		t.sayAll(n.Say)
		if len(n.Options) > 0 || n.Input != "" {
			t.s.Seq++
			t.attach(t.buttons(n))
			return nil
		}
		if n.Next == "" {
			t.s.Done = true
			return nil
		}
		target = n.Next
	}
	return fmt.Errorf("flow %s: more than %d steps without a question", t.flow.ID, maxHops)
}

// prompt shows the waiting question again: all of it (full) or its last message.
func (t *turn) prompt(full bool) error {
	if t.s.Done {
		if !t.s.Thread {
			t.say(msgEnded, nil)
		}
		return nil
	}
	if t.s.Node == "" {
		return t.chooseLanguage()
	}
	if t.waitsToRetry() {
		return t.retryPrompt()
	}
	n := t.node()
	say := n.Say
	if !full && len(say) > 1 {
		say = say[len(say)-1:]
	}
	t.sayAll(say)
	t.attach(t.buttons(n))
	return nil
}

// say appends a rendered message. A message that cannot be rendered is left out and
// logged, never shown as a raw id or a broken sentence.
func (t *turn) say(id string, data map[string]any) {
	if m, ok := t.render(id, data); ok {
		t.out = append(t.out, m)
	}
}

// sayFirst puts a message before everything else the turn says.
func (t *turn) sayFirst(id string, data map[string]any) {
	if m, ok := t.render(id, data); ok {
		t.out = append([]Message{m}, t.out...)
	}
}

// render is the message id says in the conversation's language; a text that cannot be
// rendered is logged and left out (ok false), never shown broken.
func (t *turn) render(id string, data map[string]any) (m Message, ok bool) {
	text, err := t.cat.Text(t.lang(), id, data)
	if err != nil {
		t.log.Error("message not rendered", "id", id, "lang", t.lang(), "err", err)
		return Message{}, false
	}
	return Message{Text: text}, true
}

// sayAll renders a node's messages. The data map renders every answer's label, office
// hours and privacy durations, so it is made once for all of them, and only when one of
// them is a template: most texts are plain (intake bench: building it for every message
// was a third of a browsing turn's CPU, once per node still about a quarter).
func (t *turn) sayAll(msgs []flows.MessageRef) {
	var data map[string]any
	for _, m := range msgs {
		if data == nil && t.cat.NeedsData(t.lang(), m.ID) {
			data = t.data()
		}
		t.say(m.ID, data)
	}
}

// text1 renders a label (no data).
func (t *turn) text1(id string) string {
	s, err := t.cat.Text(t.lang(), id, nil)
	if err != nil {
		t.log.Error("label not rendered", "id", id, "lang", t.lang(), "err", err)
		return ""
	}
	return s
}

// attach puts buttons on the last message, or on a new one when there is none.
func (t *turn) attach(b []Button) {
	if len(b) == 0 {
		return
	}
	if len(t.out) == 0 {
		t.out = append(t.out, Message{})
	}
	last := &t.out[len(t.out)-1]
	last.Buttons = append(last.Buttons, b...)
}

// data is the template data of the flow's texts: every schema variable, localized.
func (t *turn) data() map[string]any {
	d := t.e.numbersData()
	none := t.text1(msgValueNone)
	for _, v := range flows.Schema {
		val, ok := t.answer(v)
		d["has_"+v.Name] = ok && val != ""
		switch {
		case !ok || val == "":
			d[v.Name] = none
		case v.Text:
			d[v.Name] = val
		default:
			d[v.Name] = t.text1(valueID(v.Name, val))
		}
	}
	d["case_code"] = t.s.CaseCode
	d["passphrase"] = t.s.Pass
	now := t.e.cfg.Now()
	d["office_open"] = t.e.cfg.Hours.IsOpen(now)
	d["reply_by"] = t.e.when(t.lang(), t.e.cfg.Hours.NextOpen(now))
	for k, v := range t.e.PrivacyData(t.lang()) {
		d[k] = v
	}
	return d
}

func (e *Engine) numbersData() map[string]any {
	n := e.cfg.Numbers
	if c := e.Content().Crisis; c != nil {
		n = c.Numbers
	}
	return map[string]any{
		"emergency": n.Emergency, "sexual_violence_centre": n.SexualViolenceCentre,
		"suicide_line": n.SuicideLine, "suicide_line_free": n.SuicideLineFree,
		"victim_support": n.VictimSupport, "police": n.Police,
	}
}
