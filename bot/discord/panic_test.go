package discord_test

import (
	"strings"
	"sync/atomic"
	"testing"

	"intake/bot"
	"intake/bot/bottest"
	"intake/bot/discord"
)

// Canaries of the forced-panic test, besides the names in every event (fake_test.go).
const (
	canaryPhone = "+31687654321"
	canaryStory = "CANARY my supervisor locked the door of room 4.021"
	canaryIP    = "203.0.113.77"
)

// TestPanicsLeakNothing: a turn that panics while the student's story is being stored
// answers them calmly with the emergency number, a panic in the channel after a turn is
// logged and the next message is served, and a panic in the event handler before the turn
// still answers the student: the 24/7 numbers for their crisis words, then the calm error.
// Each panic's value holds the student's
// Discord id, DM channel, username, names, phone number, story and an IP address; none of
// them (nor its SHA-256) is in the debug log, in what the student is sent after the
// panic, or in Redis.
func TestPanicsLeakNothing(t *testing.T) {
	w := newWorld(t)
	s := w.student("200000000000000077", "600000000000000096")
	canaries := bottest.NewCanaries(s.id, s.dm, canaryName, canaryGlob, canaryPhone, canaryStory, canaryIP)
	store := &bottest.PanickyStore{Store: w.store}
	e, err := bot.NewEngine(bot.Config{
		Sessions: store, Cases: store, Archive: store, Outbox: store, Keys: bottest.Keys(t), Logger: w.log,
	}, bottest.DefaultContent(t))
	if err != nil {
		t.Fatal(err)
	}
	d := w.deps(nil)
	d.Engine = e
	c := w.channel(w.config("replica-1"), d)
	w.run(c)
	waitFor(t, "the gateway connection", func() bool { return discord.GatewayOpen(c) && w.f.connections() == 1 })

	s.command("start")
	for _, id := range []string{"menu.report", "category.discrimination", "relation.student_student", "reporter.self"} {
		s.tap(id)
	}
	s.say(canaryStory + ". I am " + canaryName + ", call me on " + canaryPhone + ".")
	for _, id := range []string{"profile.no", "outcome.advice", "contact.chat", "urgency.no"} {
		s.tap(id)
	}

	// Sending the report panics while the story is being stored.
	store.Arm(canaries.Panic())
	r := s.tap("summary.confirm_talk")
	if !strings.Contains(r.all(), w.en("engine.error")) || !strings.Contains(r.all(), "112") {
		t.Errorf("no calm error with 112 after a panicking turn: %q", r.texts)
	}
	canaries.Check(t, "what the student was sent after the panic", r.all())

	// The channel panics after a turn.
	var panicNext atomic.Bool
	panicNext.Store(true)
	discord.OnTurnDone(c, func() {
		w.turns <- struct{}{}
		if panicNext.Swap(false) {
			panic(canaries.Panic())
		}
	})
	s.say("hello")
	if r := s.say("/urgent"); !strings.Contains(r.all(), "112") {
		t.Errorf("no answer after the panic: %q", r.texts)
	}

	// The event handler panics before the turn of crisis words is queued.
	discord.SetBeforeAdmit(t, func(text string) {
		if text == crisisText {
			panic(canaries.Panic())
		}
	})
	before := len(w.postsTo(s.dm))
	w.f.dispatch("MESSAGE_CREATE", s.message(crisisText))
	var told []string
	waitFor(t, "an answer to the message lost to a panic", func() bool {
		told = nil
		for _, p := range w.postsTo(s.dm)[before:] {
			told = append(told, content(p))
		}
		return len(told) >= 2
	})
	if !strings.Contains(told[0], crisisReply) || !strings.Contains(told[1], w.en("engine.error")) {
		t.Errorf("after a panic before the turn of crisis words the student was sent %q, want the numbers, then the calm error", told)
	}
	canaries.Check(t, "what the student was sent after the panic before the turn", strings.Join(told, "\n"))
	if r := s.say("hello again"); len(r.texts) == 0 {
		t.Error("not served after the panic before the turn")
	}

	for _, want := range []string{"turn panicked", "panic recovered", "student_told=true"} {
		if !strings.Contains(w.logs.String(), want) {
			t.Errorf("%q not logged", want)
		}
	}
	canaries.Check(t, "the log", w.logs.String())
	canaries.CheckRedis(t, w.client, w.prefix)
}
