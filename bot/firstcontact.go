package bot

import (
	"strings"

	"intake/locales"
)

// firstContact answers the first message of a conversation the engine has no session
// for. A chat usually opens with /start or the page load, but a student may open with
// anything: words typed before the greeting ("someone is following me"), a command from
// the app's menu (/urgent), a button of a conversation erased earlier. Each is greeted, and
// what cannot wait does not wait behind the greeting: a message asking for help in danger
// gets its answer first (and marks the conversation urgent, as it would later on). Words
// that are not a command are not kept: nothing was asked yet, and the greeting asks.
func (t *turn) firstContact() error {
	text := strings.TrimSpace(t.in.Text)
	var name, arg string
	if t.in.Data == "" && strings.HasPrefix(text, "/") {
		name, arg = commandOf(text)
	}
	if t.langUnknown && name == "" && text != "" {
		// Crisis words say which language the student writes: answer in it, at once,
		// rather than in the default language and then ask.
		if lang, ok := t.e.Content().Crisis.MatchLanguage(text); ok && locales.IsFull(lang) {
			t.s.Lang, t.langUnknown = lang, false
		}
	}
	switch name {
	case CmdStop, CmdForget:
		// Nothing is stored yet, so there is nothing to greet into: only confirm.
		return t.command(text)
	case CmdLanguage:
		if lang := languageNamed(arg); lang != "" {
			t.s.Lang = lang
			return t.enterGreeted()
		}
	}
	if err := t.greet(); err != nil {
		return err
	}
	switch t.e.urgentReply(t.in) {
	case msgCrisis:
		t.crisis()
	case msgUrgent:
		t.sayFirst(msgUrgent, t.e.numbersData())
	case msgCrisisCall:
		t.markUrgent(UrgentUnsafe)
		t.sayFirst(crisisCallID(false), t.e.numbersData())
	}
	return nil
}

// enterGreeted starts a fresh conversation in t.s.Lang, a full language the student chose.
func (t *turn) enterGreeted() error {
	t.restart()
	return t.enter(t.flow.Start)
}

// chooseAnyLanguage asks a student whose language the platform did not tell (a Discord
// message, a browser sending none) to pick one, asking in every full language so that
// whoever they are they can read the question.
func (t *turn) chooseAnyLanguage() error {
	for _, lang := range locales.Full {
		text, err := t.cat.Text(lang, msgLanguageChoose, nil)
		if err != nil {
			t.log.Error("message not rendered", "id", msgLanguageChoose, "lang", lang, "err", err)
			continue
		}
		t.out = append(t.out, Message{Text: text})
	}
	t.attach(t.languageButtons())
	return nil
}
