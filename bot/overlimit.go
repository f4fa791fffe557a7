package bot

import (
	"context"
	"strings"
	"time"

	"intake/locales"
)

// MsgSlowDown is what a chat channel tells a student, once, when their conversation goes
// over its rate limit: to slow down, and that what they sent is kept.
const MsgSlowDown = "channel.slow_down"

// Urgent reports whether in asks for help in danger: typed text with crisis words, the
// urgent command or the "I need help now" button, or "I'm not safe". It reads nothing
// stored, so a channel can ask it for every message, also one it holds back.
func (e *Engine) Urgent(in Inbound) bool { return e.urgentReply(in) != "" }

// urgentReply is the message id that answers in at once when it asks for help in danger,
// or "".
func (e *Engine) urgentReply(in Inbound) string {
	cmd := ""
	text := strings.TrimSpace(in.Text)
	switch {
	case in.Data != "":
		cmd, _ = strings.CutPrefix(in.Data, "g:")
	case strings.HasPrefix(text, "/"):
		cmd, _ = commandOf(text)
	case text != "" && e.crisisSignal(text):
		return msgCrisis
	}
	switch cmd {
	case CmdUrgent:
		return msgUrgent
	case cmdUnsafe:
		return msgCrisisCall
	}
	return ""
}

// OverLimit is what a channel says at once about a message it holds back or drops because
// the conversation is over its rate limit; the message itself, when held, gets its turn
// later. A message that asks for help in danger (see Urgent) gets the 24/7 numbers now: help
// never waits in a queue. The first time the conversation goes over the limit (first) the
// student is told, once, to slow down. OverLimit runs no turn and changes nothing stored: it
// only reads the conversation's language, and only when there is something to say.
func (e *Engine) OverLimit(ctx context.Context, in Inbound, first bool) []Message {
	urgent := e.urgentReply(in)
	if urgent == "" && !first {
		return nil
	}
	lang, hasCase := e.conversationOf(ctx, in)
	out := e.helpNow(urgent, lang, hasCase)
	if first {
		out = e.appendText(out, lang, MsgSlowDown)
	}
	return out
}

// helpNow is the answer to a message asking for help in danger (urgent, from urgentReply;
// "" gives nothing), in a full language near lang, for a conversation with or without a
// report sent.
func (e *Engine) helpNow(urgent, lang string, hasCase bool) []Message {
	var out []Message
	switch urgent {
	case "":
	case msgCrisisCall:
		out = e.appendText(out, fullLang(lang), crisisCallID(hasCase))
	case msgCrisis:
		if m, err := e.crisisReply(e.log, fullLang(lang)); err == nil {
			out = append(out, m)
		} else {
			e.log.Error("message not rendered", "id", msgCrisis, "err", err)
		}
	default:
		out = e.appendText(out, fullLang(lang), urgent)
	}
	return out
}

// conversationOf is the language of in's conversation, or the one the engine would greet
// in when it has none (or it cannot be read in time: the student must hear something), and
// whether the conversation has sent a report.
func (e *Engine) conversationOf(ctx context.Context, in Inbound) (lang string, hasCase bool) {
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if s, err := e.Session(sctx, in.Key); err == nil && s != nil && s.Lang != "" {
		return s.Lang, s.CaseCode != ""
	}
	return resolveLang(in.LangHint), false
}

// fullLang is lang when a whole conversation runs in it, else English: a student we only
// greet in their own language (German) is likelier to read English than Dutch.
func fullLang(lang string) string {
	if locales.IsFull(lang) {
		return lang
	}
	return "en"
}

// appendText renders id with the 24/7 numbers in lang, or in English when lang lacks it,
// and appends it to out; a text that cannot be rendered is logged and left out.
func (e *Engine) appendText(out []Message, lang, id string) []Message {
	cat := e.Content().Catalog
	if !cat.Has(lang, id) {
		lang = "en"
	}
	text, err := cat.Text(lang, id, e.numbersData())
	if err != nil {
		e.log.Error("message not rendered", "id", id, "lang", lang, "err", err)
		return out
	}
	return append(out, Message{Text: text})
}
