package bot_test

import (
	"context"
	"strings"
	"testing"

	"intake/bot"
)

// TestFailedBeforeTurn: what a channel sends a student whose update it could not take to a
// turn: the calm error in the conversation's language, after the 24/7 numbers when the
// update asks for help in danger, also when the channel did not know the conversation yet.
func TestFailedBeforeTurn(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	dutch := newStudent(t, e, "nl")
	dutch.open()

	cases := []struct {
		name string
		in   bot.Inbound
		want []string // the messages' beginnings, in order
	}{
		{"in the conversation's language", bot.Inbound{Key: dutch.key, Text: "hallo", LangHint: "en"},
			[]string{"Sorry, er ging bij ons iets mis"}},
		{"crisis words: the numbers first", bot.Inbound{Key: dutch.key, Text: "ik wil niet meer leven"},
			[]string{"Wat je schrijft, maakt me ongerust", "Sorry, er ging bij ons iets mis"}},
		{"the urgent button: the numbers first", bot.Inbound{Key: dutch.key, Data: "g:urgent"},
			[]string{"Ben je nu in gevaar?", "Sorry, er ging bij ons iets mis"}},
		{"conversation unknown: the platform's language", bot.Inbound{Text: "i want to die", LangHint: "en-GB"},
			[]string{"What you write worries me", "Sorry, something went wrong"}},
		{"nothing known", bot.Inbound{}, []string{"Sorry, er ging bij ons iets mis"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msgs := e.FailedBeforeTurn(ctx, c.in)
			if len(msgs) != len(c.want) {
				t.Fatalf("%d messages, want %d: %+v", len(msgs), len(c.want), msgs)
			}
			for i, m := range msgs {
				if !strings.HasPrefix(m.Text, c.want[i]) {
					t.Errorf("message %d: %q, want it to begin with %q", i+1, m.Text, c.want[i])
				}
			}
			if last := msgs[len(msgs)-1].Text; !strings.Contains(last, "112") {
				t.Errorf("the calm error has no 112: %q", last)
			}
		})
	}
}
