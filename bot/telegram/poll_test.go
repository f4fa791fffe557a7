package telegram_test

import (
	"slices"
	"sync/atomic"
	"testing"

	"intake/bot/telegram"
)

// blockFirst makes the first handling of the update with id wait until the test ends or
// release is called; handled says how often its handling began. Later handlings pass.
func blockFirst(t *testing.T, id int64) (handled func() int, release func()) {
	t.Helper()
	var calls atomic.Int32
	gate := make(chan struct{})
	telegram.SetBeforeHandle(func(u int64) {
		if u == id && calls.Add(1) == 1 {
			<-gate
		}
	})
	var released atomic.Bool
	release = func() {
		if released.CompareAndSwap(false, true) {
			close(gate)
		}
	}
	t.Cleanup(func() { telegram.SetBeforeHandle(nil) })
	return func() int { return int(calls.Load()) }, release
}

// TestPollCrashLosesNothing: a replica stopped hard (no drain) while it holds an update it
// fetched but has not handled leaves that update with Telegram: the replica polling next
// gets it again and answers it, once. The library's own loop confirmed an update with the
// next poll, before handling it, so it was gone.
func TestPollCrashLosesNothing(t *testing.T) {
	w := newWorld(t)
	s := w.student(918273670, "en")
	update := s.message("/start", nil)
	handled, release := blockFirst(t, update.ID())
	a := w.replica("a")
	telegram.SetDrainGrace(a.ch, 0)
	t.Cleanup(release) // runs before a is stopped: its lane is stuck until then

	w.api.Push(update)
	eventually(t, "replica a taking the update in", func() bool { return handled() == 1 })
	polls := w.api.Polls("a")
	w.wait("replica a polling again", func() bool { return w.api.Polls("a") > polls+1 })
	a.cancel() // a crash, as far as the update is concerned: it is never handled there

	w.replica("b")
	s.waitCount(greeting, 1)
	s.say("/urgent", "Are you in danger right now?") // the chat is served in order
	if n := s.count(greeting); n != 1 {
		t.Errorf("greeted %d times, want once\n%s", n, w.api.Transcript())
	}
	if n := w.api.Polls("b"); n == 0 {
		t.Error("replica b never polled")
	}
}

// TestPollOffsetWaitsForTheOldest: while one chat's update is still being handled, a later
// update of another chat is answered, but no getUpdates moves the offset past the first;
// once it is answered too, both are confirmed.
func TestPollOffsetWaitsForTheOldest(t *testing.T) {
	w := newWorld(t)
	slow, quick := w.student(918273671, "en"), w.student(918273672, "en")
	first, second := slow.message("/start", nil), quick.message("/start", nil)
	handled, release := blockFirst(t, first.ID())
	w.replica("r1")
	t.Cleanup(release)

	w.api.Push(first, second)
	quick.waitCount(greeting, 1)
	eventually(t, "the first update taken in", func() bool { return handled() == 1 })
	polls := w.api.Polls("r1")
	w.wait("more polls after the quick answer", func() bool { return w.api.Polls("r1") > polls+2 })
	for _, off := range w.api.Offsets() {
		if off > first.ID() {
			t.Fatalf("a getUpdates had offset %d while update %d was unfinished: Telegram forgets it", off, first.ID())
		}
	}
	if !slices.Contains(w.api.Unconfirmed(), first.ID()) {
		t.Fatalf("update %d confirmed before it was handled; unconfirmed: %v", first.ID(), w.api.Unconfirmed())
	}

	release()
	slow.waitCount(greeting, 1)
	w.wait("both updates confirmed", func() bool { return len(w.api.Unconfirmed()) == 0 })
	if n := slow.count(greeting) + quick.count(greeting); n != 2 {
		t.Errorf("%d greetings, want one in each chat", n)
	}
	// Each poll meanwhile brought it back: it was still in hand, so not started again.
	if n := handled(); n != 1 {
		t.Errorf("the slow update was handled %d times, want once", n)
	}
}

// TestPollConversationOnce: a whole intake by polling, every update answered once; a stop
// while an update is being handled lets it finish within the drain and confirms it, so the
// replica polling next does not answer it again.
func TestPollConversationOnce(t *testing.T) {
	w := newWorld(t)
	s := w.student(918273673, "en")
	r := w.replica("r1")
	s.intake()
	for _, q := range []string{greeting, categoryQ, whoQ, whomQ, storyQ, profileQ, outcomeQ, contactQ, urgentQ, summaryQ, receipt} {
		if n := s.count(q); n != 1 {
			t.Errorf("%q sent %d times, want once\n%s", q, n, w.api.Transcript())
		}
	}
	const taps = 9 // in intake
	if n := w.api.CallCount("answerCallbackQuery"); n != taps {
		t.Errorf("%d button taps answered, want %d: a tap handled twice is answered twice", n, taps)
	}
	w.wait("every update confirmed", func() bool { return len(w.api.Unconfirmed()) == 0 })

	// A stop while an update is in hand.
	update := s.message("/help", nil)
	handled, release := blockFirst(t, update.ID())
	t.Cleanup(release)
	const helpText = "You can type these commands at any time"
	w.api.Push(update)
	eventually(t, "the update taken in", func() bool { return handled() == 1 })
	r.cancel() // no more polls: only the last getUpdates confirms what finishes now
	release()
	r.stop(t)
	if n := s.count(helpText); n != 1 {
		t.Fatalf("the update in hand at the stop was answered %d times, want once within the drain", n)
	}
	if u := w.api.Unconfirmed(); len(u) != 0 {
		t.Errorf("updates %v not confirmed at the stop: the next poller answers them again", u)
	}

	w.replica("r2")
	s.say("/urgent", "Are you in danger right now?")
	if n, h := s.count(helpText), handled(); n != 1 || h != 1 {
		t.Errorf("the help text was sent %d times and its update handled %d times, want once: an update answered before the stop came again", n, h)
	}
}
