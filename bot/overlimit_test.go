package bot_test

import (
	"context"
	"strings"
	"testing"

	"intake/bot"
)

// TestUrgent: what a channel must answer at once even when the conversation is over its
// rate limit, and what may wait.
func TestUrgent(t *testing.T) {
	e, _ := newEngine(t)
	cases := []struct {
		in   bot.Inbound
		want bool
	}{
		{bot.Inbound{Text: "i want to die"}, true},
		{bot.Inbound{Text: "ik wil niet meer leven"}, true},
		{bot.Inbound{Text: "  /urgent  "}, true},
		{bot.Inbound{Text: "/URGENT@intake_bot"}, true},
		{bot.Inbound{Data: "g:urgent"}, true}, // "I need help now"
		{bot.Inbound{Data: "g:unsafe"}, true}, // "I'm not safe"
		{bot.Inbound{Data: "g:safe"}, false},
		{bot.Inbound{Data: "3:o:1"}, false},
		{bot.Inbound{Text: "/help"}, false},
		{bot.Inbound{Text: "/die"}, false}, // a command is not typed text
		{bot.Inbound{Text: "this exam killed me"}, false},
		{bot.Inbound{Text: "hello"}, false},
		{bot.Inbound{}, false},
	}
	for _, c := range cases {
		if got := e.Urgent(c.in); got != c.want {
			t.Errorf("Urgent(%+v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestOverLimit: the slow-down notice comes once (first) in the conversation's language;
// help in danger comes at once, before it; anything else held back gets nothing.
func TestOverLimit(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	dutch := newStudent(t, e, "nl")
	dutch.open()

	cases := []struct {
		name  string
		in    bot.Inbound
		first bool
		want  []string // the messages' beginnings, in order
	}{
		{"held, not the first", bot.Inbound{Key: dutch.key, Text: "hallo"}, false, nil},
		{"first, in the conversation's language", bot.Inbound{Key: dutch.key, Text: "hallo", LangHint: "en"}, true,
			[]string{"Je stuurt berichten sneller"}},
		{"crisis words, then the notice", bot.Inbound{Key: dutch.key, Text: "ik wil niet meer leven"}, true,
			[]string{"Wat je schrijft, maakt me ongerust", "Je stuurt berichten sneller"}},
		{"crisis words, not the first", bot.Inbound{Key: dutch.key, Text: "ik wil niet meer leven"}, false,
			[]string{"Wat je schrijft, maakt me ongerust"}},
		{"the urgent button", bot.Inbound{Key: dutch.key, Data: "g:urgent"}, false, []string{"Ben je nu in gevaar?"}},
		{"no conversation yet: the platform's language", bot.Inbound{Key: "nobody-yet", Text: "hi", LangHint: "en-GB"}, true,
			[]string{"You’re sending messages faster"}},
		{"German is greeted in German", bot.Inbound{Key: "nobody-yet-de", Text: "hallo", LangHint: "de-DE"}, true,
			[]string{"Du schickst Nachrichten schneller"}},
		{"German in danger: the numbers in English", bot.Inbound{Key: "nobody-yet-de", Text: "i want to die", LangHint: "de"}, false,
			[]string{"What you write worries me"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msgs := e.OverLimit(ctx, c.in, c.first)
			if len(msgs) != len(c.want) {
				t.Fatalf("%d messages, want %d: %+v", len(msgs), len(c.want), msgs)
			}
			for i, m := range msgs {
				if !strings.HasPrefix(m.Text, c.want[i]) {
					t.Errorf("message %d: %q, want it to begin with %q", i+1, m.Text, c.want[i])
				}
			}
			if len(msgs) > 0 && strings.Contains(c.want[0], "ongerust") && len(msgs[0].Buttons) != 2 {
				t.Errorf("the crisis reply asks whether they are safe without its buttons: %+v", msgs[0].Buttons)
			}
		})
	}
	if s, _ := e.Session(ctx, "nobody-yet"); s != nil {
		t.Error("OverLimit started a conversation")
	}
}
