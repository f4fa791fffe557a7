package telegram_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"intake/bot/bottest"
	"intake/bot/telegram"
	"intake/bot/telegram/telegramtest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// More canaries of the forced-panic test: what a student may write about themselves.
const (
	canaryStory = "CANARY my supervisor locked the door of room 4.021"
	canaryIP    = "203.0.113.77"
	// calmError begins the engine's answer to a turn that failed.
	calmError = "Sorry, something went wrong on our side"
)

// TestPanicsLeakNothing: a turn that panics while the student's story is being stored
// answers them calmly with the emergency number (and runs again, as the update comes
// again), and so does an update whose handling
// panics before its turn, in its lane or while it is queued in the library's worker; for
// crisis words the 24/7 numbers come first. Each panic's value holds the student's
// Telegram id, name, username, phone number, story and an IP address; none of them (nor
// its SHA-256, nor the id as a stack-trace word) is in the debug log, in what the student
// is sent after the panic, or in Redis, and the student is served on.
func TestPanicsLeakNothing(t *testing.T) {
	w := newWorld(t)
	const id = 918273666
	s := w.student(id, "en")
	canaries := bottest.NewCanaries(strconv.FormatInt(id, 10), canaryFirst, canaryUsername, canaryPhone, canaryStory, canaryIP)
	store := w.panickyReplica("r1")

	s.say("/start", greeting)
	s.tap("I want to report something", categoryQ)
	s.tap("Discrimination", whoQ)
	s.tap("Another student", whomQ)
	s.tap("It happened to me", storyQ)
	s.say(canaryStory+". I am "+canaryUsername+", call me on "+canaryPhone+".", profileQ)
	s.tap("No, skip these", outcomeQ)
	s.tap("Help to talk with the other person", contactQ)
	s.tap("Here in the chat", urgentQ)
	s.tap("No, it can wait", summaryQ)

	// Sending the report panics while the story is being stored.
	before := len(w.api.Messages(id))
	store.Arm(canaries.Panic())
	s.tap("Yes, send it to a counsellor", calmError)
	var after strings.Builder
	for _, m := range w.api.Messages(id)[before:] {
		after.WriteString(m.Text + "\n")
	}
	if !strings.Contains(after.String(), "112") {
		t.Errorf("the calm error after a panicking turn has no 112:\n%s", after.String())
	}
	canaries.Check(t, "what the student was sent after the panic", after.String())
	// The update was not confirmed, so it comes again: the conversation was not left
	// locked, and the report goes out as the student asked, once.
	s.waitCount(receipt, 1)
	if n := s.count(calmError); n != 1 {
		t.Errorf("the calm error was sent %d times, want once", n)
	}

	// Handling an update panics in its lane, before its turn.
	bad := s.message("hello", nil)
	badID := bad.ID()
	telegram.SetBeforeHandle(func(id int64) {
		if id == badID {
			panic(canaries.Panic())
		}
	})
	t.Cleanup(func() { telegram.SetBeforeHandle(nil) })
	before = len(w.api.Messages(id))
	s.send(bad, calmError)
	told := texts(w.api.Messages(id)[before:])
	if last := told[len(told)-1]; !strings.Contains(last, calmError) || !strings.Contains(last, "112") {
		t.Errorf("after a panic before the turn the student was sent %q, want the calm error with 112", told)
	}
	canaries.Check(t, "what the student was sent after the panic in the lane", strings.Join(told, "\n"))

	// Queueing crisis words panics in the library's worker.
	crisis := s.message(crisisText, nil)
	crisisID := crisis.ID()
	telegram.SetBeforeQueue(t, func(id int64) {
		if id == crisisID {
			panic(canaries.Panic())
		}
	})
	before = len(w.api.Messages(id))
	s.send(crisis, calmError)
	told = texts(w.api.Messages(id)[before:])
	if n := len(told); n < 2 || !strings.Contains(told[n-2], crisisReply) || !strings.Contains(told[n-1], calmError) {
		t.Errorf("after a panic while crisis words were queued the student was sent %q, want the numbers, then the calm error", told)
	}
	canaries.Check(t, "what the student was sent after the panic in the worker", strings.Join(told, "\n"))
	s.say("/urgent", "112") // served on

	for _, want := range []string{"turn panicked", "telegram handler panicked", "where=update student_told=true", "where=queue student_told=true"} {
		if !strings.Contains(w.logs.String(), want) {
			t.Errorf("%q not logged", want)
		}
	}
	canaries.Check(t, "the log", w.logs.String())
	canaries.CheckRedis(t, w.client, w.prefix)
}

// texts are the texts of msgs.
func texts(msgs []telegramtest.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Text)
	}
	return out
}

// panickyReplica starts a replica whose engine stores cases in a PanickyStore, and
// returns the store to arm.
func (w *world) panickyReplica(name string) *bottest.PanickyStore {
	w.t.Helper()
	client := redistest.Another(w.t, w.client)
	store := &bottest.PanickyStore{Store: redis.New(client, redis.Options{Prefix: w.prefix})}
	e := bottest.LoggedEngine(w.t, store, w.log)
	r := &replica{name: name, client: client, store: store.Store, engine: e, desk: bottest.Desk(w.t, e, store.Store, "anna")}
	cfg := telegram.Config{Token: testToken, Mode: telegram.ModePoll, ServerURL: w.api.ReplicaURL(name), Replica: name}
	var err error
	r.ch, err = telegram.New(cfg, telegram.Deps{Engine: e, Names: w.names, Leases: store, Logger: w.log})
	if err != nil {
		w.t.Fatal(err)
	}
	telegram.SetTiming(r.ch, 2*time.Second, 100*time.Millisecond, 200*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- r.ch.Run(ctx) }()
	w.t.Cleanup(func() { r.stop(w.t) })
	return store
}
