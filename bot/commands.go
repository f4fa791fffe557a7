package bot

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"intake/locales"
)

// Commands every channel offers, whatever step the conversation is at.
const (
	CmdStart    = "start"
	CmdHelp     = "help"
	CmdBack     = "back"
	CmdStop     = "stop"
	CmdForget   = "forget"
	CmdLanguage = "language"
	CmdUrgent   = "urgent"
)

// Commands lists the global commands in the order menus show them.
var Commands = []string{CmdStart, CmdHelp, CmdBack, CmdStop, CmdForget, CmdLanguage, CmdUrgent, CmdCase}

// commandDescriptions are the short texts of the global commands in platform menus
// (Telegram's command menu, Discord's slash commands), so both platforms read the same.
var commandDescriptions = map[string]map[string]string{
	"en": {
		CmdStart: "Begin again", CmdHelp: "How this chat works", CmdBack: "Go one step back",
		CmdStop: "Stop now; nothing is sent", CmdForget: "Erase everything about this chat",
		CmdLanguage: "Switch to Dutch or English", CmdUrgent: "Numbers to call right away",
		CmdCase: "Your case code, passphrase and messages",
	},
	"nl": {
		CmdStart: "Opnieuw beginnen", CmdHelp: "Zo werkt deze chat", CmdBack: "Eén stap terug",
		CmdStop: "Nu stoppen; er wordt niets verstuurd", CmdForget: "Alles over dit gesprek wissen",
		CmdLanguage: "Nederlands of Engels kiezen", CmdUrgent: "Nummers die je meteen kunt bellen",
		CmdCase: "Je meldcode, wachtwoordzin en berichten",
	},
}

// CommandDescription is a global command's menu text in lang (English for any other
// language); a command without one is described by its name.
func CommandDescription(lang, cmd string) string {
	texts, ok := commandDescriptions[lang]
	if !ok {
		texts = commandDescriptions["en"]
	}
	if s := texts[cmd]; s != "" {
		return s
	}
	return "/" + cmd
}

// maxEcho bounds how much of an unknown command is repeated back.
const maxEcho = 32

// command handles "/name [arg]". Telegram appends "@botname" in groups; it is dropped.
func (t *turn) command(text string) error {
	name, arg := commandOf(text)
	switch name {
	case CmdStart:
		return t.greet()
	case CmdHelp:
		t.say(msgHelp, nil)
		return t.prompt(false)
	case CmdBack:
		return t.back()
	case CmdStop:
		t.erase = true
		t.say(msgStopped, nil)
		return nil
	case CmdForget:
		if t.s.CaseCode != "" {
			if err := t.e.cfg.Cases.WithdrawCase(t.ctx, t.s.CaseCode); err != nil {
				return err
			}
		}
		if t.s.Reply.Own && t.e.cfg.Outbox != nil {
			if err := t.e.cfg.Outbox.DeleteOutbox(t.ctx, t.s.Reply.Outbox); err != nil {
				return err
			}
		}
		t.erase = true
		t.say(msgForgotten, nil)
		return nil
	case CmdLanguage:
		if lang := languageNamed(arg); lang != "" {
			return t.setLanguage(lang)
		}
		return t.chooseLanguage()
	case CmdUrgent:
		t.say(msgUrgent, t.e.numbersData())
		return t.prompt(false)
	case CmdCase:
		return t.showCase()
	case cmdSafe, cmdUnsafe:
		return t.safety(name == cmdSafe)
	}
	t.say(msgUnknownCommand, map[string]any{"command": echo(text)})
	return t.prompt(false)
}

// commandOf splits "/Name@bot arg" into the command's name and argument, both lower case.
func commandOf(text string) (name, arg string) {
	name, arg, _ = strings.Cut(strings.TrimPrefix(text, "/"), " ")
	name, _, _ = strings.Cut(name, "@")
	return strings.ToLower(name), strings.ToLower(strings.TrimSpace(arg))
}

// echo shortens what the student typed before it is repeated to them.
func echo(s string) string {
	s, _, _ = strings.Cut(s, " ")
	if r := []rune(s); len(r) > maxEcho {
		return string(r[:maxEcho]) + "…"
	}
	return s
}

// back returns to the previous question. Answers stay until they are answered again, so
// going back and forth loses nothing.
func (t *turn) back() error {
	if t.s.Done || t.s.Node == "" || len(t.s.History) == 0 {
		t.say(msgBackStart, nil)
		return t.prompt(false)
	}
	prev := t.s.History[len(t.s.History)-1]
	t.s.History = t.s.History[:len(t.s.History)-1]
	t.s.Return, t.s.Retry = "", false
	t.s.Node = prev
	t.s.Seq++
	t.say(msgBackDone, nil)
	t.path = append(t.path, prev)
	return t.prompt(true)
}

// sameLabel compares what a student typed with a button label, ignoring case, accents,
// spacing and trailing punctuation, so "Eén keer." matches "een keer".
func sameLabel(a, b string) bool {
	return a != "" && fold(a) == fold(b)
}

func fold(s string) string {
	var out []rune
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsSpace(r):
			space = len(out) > 0
			continue
		}
		if space {
			out = append(out, ' ')
			space = false
		}
		out = append(out, unicode.ToLower(r))
	}
	return strings.TrimRight(string(out), ".!?")
}

// resolveLang turns a platform hint ("en-GB", "de") into the language to greet in: a full
// language, a greeting-only one, or English for anyone else (an international student is
// likelier to read English than Dutch); no hint at all means the default.
func resolveLang(hint string) string {
	if hint == "" {
		return locales.DefaultLang
	}
	base := strings.ToLower(hint)
	if i := strings.IndexAny(base, "-_"); i > 0 {
		base = base[:i]
	}
	if locales.IsFull(base) || base == "de" {
		return base
	}
	return "en"
}
