package bot

import (
	"strconv"
	"strings"

	"intake/flows"
	"intake/locales"
)

// Button data is "<seq>:<kind>[:<arg>]". The sequence number of the question the button
// belongs to makes a tap on an old message recognisable, so it cannot answer the wrong
// question. Kept short: Telegram allows 64 bytes of callback data.
const (
	kindOption   = "o"  // arg: option index
	kindSkip     = "s"  // skip optional text
	kindHelp     = "h"  // "what does this mean?"
	kindHelpItem = "hd" // arg: option index whose definition to show
	kindHelpBack = "hb" // back to the question
	kindLanguage = "l"  // arg: language; valid at any time
	kindRetry    = "r"  // run the action the cap on new cases refused again
)

// languageNames are shown in their own language, so a student finds theirs whatever the
// conversation's language is.
var languageNames = map[string]string{"nl": "Nederlands", "en": "English"}

func buttonData(seq int, kind string, arg ...string) string {
	return strings.Join(append([]string{strconv.Itoa(seq), kind}, arg...), ":")
}

// buttons of a waiting node: its options, the skip button, and help when anything has one.
func (t *turn) buttons(n *flows.Node) []Button {
	var b []Button
	for i, o := range n.Options {
		b = append(b, Button{Label: t.text1(o.Label.ID), Data: buttonData(t.s.Seq, kindOption, strconv.Itoa(i))})
	}
	if n.Skip != nil {
		b = append(b, Button{Label: t.text1(n.Skip.ID), Data: buttonData(t.s.Seq, kindSkip)})
	}
	if hasHelp(n) {
		b = append(b, Button{Label: t.text1(msgHelpButton), Data: buttonData(t.s.Seq, kindHelp)})
	}
	if len(n.Options) > 0 {
		// Help in danger is one tap away on every menu, not only for those who know /urgent.
		b = append(b, Button{Label: t.text1(msgUrgentButton), Data: "g:" + CmdUrgent})
	}
	return b
}

func hasHelp(n *flows.Node) bool {
	if n.Help != nil {
		return true
	}
	for _, o := range n.Options {
		if o.Help != nil {
			return true
		}
	}
	return false
}

// button handles a tapped button.
func (t *turn) button(data string) error {
	switch {
	case strings.HasPrefix(data, "c:"):
		return t.caseButton(data)
	case strings.HasPrefix(data, "g:"):
		// A command as a button ("back to the menu"): valid at any time.
		return t.command("/" + strings.TrimPrefix(data, "g:"))
	}
	parts := strings.SplitN(data, ":", 3)
	seq, err := strconv.Atoi(parts[0])
	if err != nil || len(parts) < 2 {
		// Not ours (forged or from a much older version): treat like a stale tap.
		return t.stale()
	}
	kind, arg := parts[1], ""
	if len(parts) == 3 {
		arg = parts[2]
	}
	if kind == kindLanguage {
		if !locales.IsFull(arg) {
			return t.chooseLanguage()
		}
		return t.setLanguage(arg)
	}
	if seq != t.s.Seq || t.s.Done || t.s.Node == "" {
		return t.stale()
	}
	n := t.node()
	switch kind {
	case kindRetry:
		return t.retry()
	case kindOption:
		i, err := strconv.Atoi(arg)
		if err != nil || i < 0 || i >= len(n.Options) {
			return t.stale()
		}
		return t.choose(n, i)
	case kindSkip:
		if n.Skip == nil {
			return t.stale()
		}
		t.setVar(n.Set, "")
		return t.move(n.Next)
	case kindHelp:
		if !hasHelp(n) {
			// Only a forged tap gets here; a help menu without help would be a message
			// with a button and no words, which Telegram refuses to send.
			return t.stale()
		}
		return t.helpMenu(n)
	case kindHelpItem:
		i, err := strconv.Atoi(arg)
		if err != nil || i < 0 || i >= len(n.Options) || n.Options[i].Help == nil {
			return t.stale()
		}
		t.say(n.Options[i].Help.ID, t.data())
		return t.prompt(false)
	case kindHelpBack:
		return t.prompt(false)
	}
	return t.stale()
}

func (t *turn) stale() error {
	if t.s.Done {
		t.say(msgEnded, nil)
		return nil
	}
	t.say(msgStale, nil)
	return t.prompt(false)
}

// helpMenu shows the node's overview and one button per option that has a definition.
func (t *turn) helpMenu(n *flows.Node) error {
	if n.Help != nil {
		t.say(n.Help.ID, t.data())
	}
	var b []Button
	for i, o := range n.Options {
		if o.Help != nil {
			b = append(b, Button{Label: t.text1(o.Label.ID), Data: buttonData(t.s.Seq, kindHelpItem, strconv.Itoa(i))})
		}
	}
	if len(b) > 0 {
		t.say(msgHelpPick, nil)
	}
	b = append(b, Button{Label: t.text1(msgHelpBack), Data: buttonData(t.s.Seq, kindHelpBack)})
	t.attach(b)
	return nil
}

// chooseLanguage asks for one of the full languages.
func (t *turn) chooseLanguage() error {
	t.say(msgLanguageChoose, nil)
	t.attach(t.languageButtons())
	return nil
}

// languageButtons offers each full language, named in itself.
func (t *turn) languageButtons() []Button {
	var b []Button
	for _, lang := range locales.Full {
		b = append(b, Button{Label: languageNames[lang], Data: buttonData(t.s.Seq, kindLanguage, lang)})
	}
	return b
}

// setLanguage switches the conversation's language and shows the question again in it.
func (t *turn) setLanguage(lang string) error {
	t.s.Lang = lang
	t.say(msgLanguageSet, nil)
	if t.s.Node == "" && !t.s.Done {
		return t.enter(t.flow.Start)
	}
	return t.prompt(true)
}

// languageNamed recognises a typed language choice ("English", "nl", "nederlands").
func languageNamed(text string) string {
	for lang, name := range languageNames {
		if sameLabel(text, lang) || sameLabel(text, name) {
			return lang
		}
	}
	return ""
}
