package bot_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"intake/bot"
	"intake/bot/bottest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// Canaries of the forced-panic tests: what a student may give away about themselves.
const (
	canaryPlatformID = "918273645"
	canaryUsername   = "canary_username_q7"
	canaryPhone      = "+31687654321"
	canaryStory      = "CANARY my supervisor locked the door of room 4.021"
	canaryIP         = "203.0.113.77"
	// dangerNow is a crisis phrase: the reply must lead with the 24/7 numbers.
	dangerNow = "he is outside my door"
)

// TestPanickingTurnLeaksNothing: a turn that panics with the student's story, ids and
// contact details in hand (and in the panic's value) answers calmly with the emergency
// number, or with the crisis numbers when the student wrote about danger, frees the
// conversation for the next message, and leaves none of the canaries in the error, the
// reply, the debug log or Redis.
func TestPanickingTurnLeaksNothing(t *testing.T) {
	canaries := bottest.NewCanaries(canaryPlatformID, canaryUsername, canaryPhone, canaryStory, canaryIP, dangerNow)
	client, prefix := redistest.Client(t)
	store := &bottest.PanickyStore{Store: redis.New(client, redis.Options{Prefix: prefix})}
	logs := &bottest.Screen{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e, err := bot.NewEngine(bot.Config{
		Sessions: store, Cases: store, Archive: store, Outbox: store, Accounts: store, Keys: testKeys(t), Logger: log,
	}, defaultContent(t))
	if err != nil {
		t.Fatal(err)
	}
	names, _ := bot.NewPseudonyms(bytes.Repeat([]byte{5}, bot.KeySize))
	s := newStudent(t, e, "en")
	s.key = names.Key("telegram", canaryPlatformID)
	s.reply = bot.Address{Outbox: "telegram", To: canaryPlatformID}
	toStory(t, s)
	s.say(canaryStory + ". I am " + canaryUsername + " on Telegram, call me on " + canaryPhone + " (my IP is " + canaryIP + ").")
	for _, id := range []string{"profile.no", "outcome.advice", "contact.chat", "urgency.no"} {
		s.tap(id)
	}
	calm := s.text("engine.error")

	// Sending the report panics while the story is being stored.
	store.Arm(canaries.Panic())
	r, err := e.Handle(context.Background(), bot.Inbound{Channel: "test", Key: s.key, LangHint: "en", Reply: s.reply, Data: buttonData(t, s, "summary.confirm_talk")})
	if err == nil {
		t.Fatal("a panicking turn reported no error")
	}
	canaries.Check(t, "the error", err.Error())
	canaries.Check(t, "the reply", texts(r))
	if !strings.Contains(texts(r), calm) || !strings.Contains(texts(r), "112") {
		t.Errorf("the reply to a panicking turn is not the calm error with 112: %q", texts(r))
	}

	// The conversation is not left locked: the same tap again sends the report.
	s.tap("summary.confirm_talk")
	if s.session().CaseCode == "" {
		t.Fatal("no case after the panic")
	}

	// A message to the counsellor about danger panics while it is being stored: the
	// student still gets the crisis numbers first.
	store.Arm(canaries.Panic())
	r, err = e.Handle(context.Background(), bot.Inbound{Channel: "test", Key: s.key, LangHint: "en", Reply: s.reply, Text: dangerNow + ", " + canaryStory})
	if err == nil {
		t.Fatal("a panicking turn reported no error")
	}
	canaries.Check(t, "the error", err.Error())
	canaries.Check(t, "the reply", texts(r))
	if len(r.Messages) != 2 || !strings.Contains(r.Messages[0].Text, "0800-0188") || r.Messages[1].Text != calm {
		t.Errorf("want the crisis numbers, then the calm error; got %q", texts(r))
	}

	if !strings.Contains(logs.String(), "turn panicked") {
		t.Error("the panic was not logged")
	}
	canaries.Check(t, "the log", logs.String())
	canaries.CheckRedis(t, client, prefix)
}

// buttonData is the data of the button labelled with the text of message id in the
// student's last reply.
func buttonData(t *testing.T, s *student, id string) string {
	t.Helper()
	want := s.text(id)
	for _, b := range buttons(s.last) {
		if b.Label == want {
			return b.Data
		}
	}
	t.Fatalf("no button %q in the last reply", want)
	return ""
}
