package bot_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"intake/bot"
	"intake/bot/bottest"
)

// TestFirstContact: whatever a student's very first message is, they are greeted, and what
// cannot wait comes first — a student who opens with "I want to die" or /urgent gets the
// numbers before the greeting, and the conversation is marked urgent where a later
// message would mark it; /stop and /forget store nothing; a student whose platform gave no
// language is asked in both languages instead of being greeted in Dutch.
func TestFirstContact(t *testing.T) {
	e, _ := newEngine(t)
	// reference runs a message on a conversation that was opened first (in lang), and
	// returns the first message of its reply: what the same message says mid-conversation.
	reference := func(t *testing.T, lang string, in bot.Inbound) string {
		s := newStudent(t, e, lang)
		s.key += "-reference"
		s.open()
		return s.send(in).Messages[0].Text
	}
	greeting := func(t *testing.T, lang string) []string {
		s := newStudent(t, e, lang)
		s.key += "-greeting-" + lang
		return textsOf(s.open())
	}
	choice := func(t *testing.T) []string {
		s := newStudent(t, e, "nl")
		s.key += "-choice"
		s.open()
		r := s.say("/language")
		en := newStudent(t, e, "en")
		en.key += "-choice-en"
		en.open()
		return []string{r.Messages[0].Text, en.say("/language").Messages[0].Text}
	}

	tests := []struct {
		name   string
		hint   string
		in     bot.Inbound
		first  bool     // the reply starts with what in says mid-conversation
		then   string   // "greeting" in hint's language, "choice" of language, "english", "dutch", or "" (nothing)
		urgent []string // reasons the session is marked urgent with
		stored bool
	}{
		{"crisis words", "en", bot.Inbound{Text: "I want to kill myself"}, true, "greeting", []string{bot.UrgentCrisis}, true},
		{"crisis words in Dutch", "nl", bot.Inbound{Text: "ik wil niet meer leven"}, true, "greeting", []string{bot.UrgentCrisis}, true},
		{"urgent command", "en", bot.Inbound{Text: "/urgent"}, true, "greeting", nil, true},
		{"urgent command of another bot", "nl", bot.Inbound{Text: "/urgent@intake_bot"}, true, "greeting", nil, true},
		{"not safe button of an erased conversation", "nl", bot.Inbound{Data: "g:unsafe"}, true, "greeting", []string{bot.UrgentUnsafe}, true},
		{"other words", "en", bot.Inbound{Text: "hello, is anyone there?"}, false, "greeting", nil, true},
		{"start", "en", bot.Inbound{Text: "/start"}, false, "greeting", nil, true},
		{"help", "nl", bot.Inbound{Text: "/help"}, false, "greeting", nil, true},
		{"stop", "en", bot.Inbound{Text: "/stop"}, true, "", nil, false},
		{"forget", "nl", bot.Inbound{Text: "/forget"}, true, "", nil, false},
		{"language named", "", bot.Inbound{Text: "/language English"}, false, "english", nil, true},
		{"no language hint", "", bot.Inbound{Text: "/start"}, false, "choice", nil, true},
		{"no language hint, opened", "", bot.Inbound{Open: true}, false, "choice", nil, true},
		{"no language hint, crisis words", "", bot.Inbound{Text: "I want to kill myself"}, true, "english", []string{bot.UrgentCrisis}, true},
		{"no language hint, Dutch crisis words", "", bot.Inbound{Text: "hij staat voor mijn deur"}, true, "dutch", []string{bot.UrgentCrisis}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStudent(t, e, tt.hint)
			got := textsOf(s.send(tt.in))
			var want []string
			if tt.first {
				refLang := tt.hint
				switch {
				case tt.then == "english":
					refLang = "en"
				case refLang == "":
					refLang = "nl"
				}
				want = append(want, reference(t, refLang, tt.in))
			}
			switch tt.then {
			case "greeting":
				want = append(want, greeting(t, tt.hint)...)
			case "english":
				want = append(want, greeting(t, "en")...)
			case "dutch":
				want = append(want, greeting(t, "nl")...)
			case "choice":
				want = append(want, choice(t)...)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("reply:\n%s\nwant:\n%s", strings.Join(got, "\n--\n"), strings.Join(want, "\n--\n"))
			}
			sess := s.session()
			if (sess != nil) != tt.stored {
				t.Fatalf("session stored = %v, want %v", sess != nil, tt.stored)
			}
			if sess != nil && !slices.Equal(sess.Urgent, tt.urgent) {
				t.Errorf("urgent = %v, want %v", sess.Urgent, tt.urgent)
			}
		})
	}

	// What such a first contact looks like, word for word, for review.
	for _, g := range []struct {
		name, hint string
		inputs     []bot.Inbound
	}{
		{"first_contact_crisis_words_without_language", "", []bot.Inbound{{Text: "I want to kill myself"}, {Data: "g:unsafe"}}},
		{"first_contact_urgent_command_en", "en", []bot.Inbound{{Text: "/urgent"}}},
	} {
		s := newStudent(t, e, g.hint)
		s.key += "-" + g.name
		var out strings.Builder
		for _, in := range g.inputs {
			fmt.Fprintf(&out, "\n> %s%s\n", in.Text, in.Data)
			writeReply(&out, s.send(in))
		}
		bottest.Golden(t, filepath.Join("testdata", "golden", "first_contact", g.name+".txt"), out.String())
	}

	// The choice works: the student taps English and is greeted in English.
	s := newStudent(t, e, "")
	s.say("/start")
	var english bot.Button
	for _, b := range buttons(s.last) {
		if b.Label == "English" {
			english = b
		}
	}
	if got, want := textsOf(s.send(bot.Inbound{Data: english.Data})), greeting(t, "en"); len(got) < 2 || !slices.Equal(got[1:], want) {
		t.Errorf("after tapping English:\n%s\nwant a confirmation, then:\n%s", strings.Join(got, "\n--\n"), strings.Join(want, "\n--\n"))
	}
}

func textsOf(r bot.Reply) []string {
	var out []string
	for _, m := range r.Messages {
		out = append(out, m.Text)
	}
	return out
}
