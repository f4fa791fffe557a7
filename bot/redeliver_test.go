package bot_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/bottest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// TestRepeatGetsItsReplyAgain: a platform delivering an update again whose reply is not
// known to have arrived (the process died after saving the turn) gets the same reply
// again, and the conversation is where one turn left it: the next tap works.
func TestRepeatGetsItsReplyAgain(t *testing.T) {
	defer bot.SetMarkWait(20 * time.Millisecond)()
	e, _ := newEngine(t)
	s := newStudent(t, e, "en")
	toCategory(t, s)
	tap := bot.Inbound{UpdateID: "tg:7", Data: buttons(s.last)[0].Data}
	first := s.send(tap)
	node := s.node()
	again := s.send(tap)
	if !again.Repeat || !slices.EqualFunc(first.Messages, again.Messages, sameMessage) {
		t.Fatalf("repeat got %+v, want the first reply again: %+v", again.Messages, first.Messages)
	}
	if s.node() != node {
		t.Fatalf("the repeat moved the conversation from %q to %q", node, s.node())
	}
	s.tap("sv_kind.physical") // the buttons of the repeated reply still work
}

// TestRepeatAfterDeliveryIsSilent: once the channel marked the reply delivered, a repeat
// gets nothing, also on another replica (another engine on the same store), which finds
// the mark in the store.
func TestRepeatAfterDeliveryIsSilent(t *testing.T) {
	defer bot.SetMarkWait(5 * time.Second)()
	e, store := newEngine(t)
	other := engineOn(t, store, defaultContent(t))
	s := newStudent(t, e, "en")
	toCategory(t, s)
	tap := bot.Inbound{Channel: "test", Key: s.key, UpdateID: "tg:8", Data: buttons(s.last)[0].Data, LangHint: "en"}
	r, err := e.Handle(context.Background(), tap)
	if err != nil {
		t.Fatal(err)
	}
	e.Delivered(tap, r)
	for _, engine := range []*bot.Engine{e, other} {
		again, err := engine.Handle(context.Background(), tap)
		if err != nil || len(again.Messages) != 0 || !again.Repeat {
			t.Fatalf("repeat after delivery: %+v, %v; want a silent repeat", again, err)
		}
	}
}

// TestFlushMarksWritesAtOnce: a service stopping flushes the marks still waiting for their
// batch, so another replica (which here does not wait for a mark at all) finds the reply
// delivered and stays silent on a repeat.
func TestFlushMarksWritesAtOnce(t *testing.T) {
	defer bot.SetMarkWait(0)()
	e, store := newEngine(t)
	other := engineOn(t, store, defaultContent(t))
	s := newStudent(t, e, "en")
	toCategory(t, s)
	tap := bot.Inbound{Channel: "test", Key: s.key, UpdateID: "tg:9", Data: buttons(s.last)[0].Data, LangHint: "en"}
	r, err := e.Handle(context.Background(), tap)
	if err != nil {
		t.Fatal(err)
	}
	e.Delivered(tap, r)
	e.FlushMarks()
	again, err := other.Handle(context.Background(), tap)
	if err != nil || len(again.Messages) != 0 || !again.Repeat {
		t.Fatalf("repeat on another replica after the flush: %+v, %v; want a silent repeat", again, err)
	}
	e.FlushMarks() // nothing waiting: writes nothing, and does not block
}

// TestOlderRepeatIsSilent: an update older than the conversation's latest is not answered
// again (later replies followed its own), and does not disturb the latest one's mark.
func TestOlderRepeatIsSilent(t *testing.T) {
	defer bot.SetMarkWait(20 * time.Millisecond)()
	e, _ := newEngine(t)
	s := newStudent(t, e, "en")
	in := func(id, text string) bot.Inbound {
		return bot.Inbound{Channel: "test", Key: s.key, UpdateID: id, Text: text, LangHint: "en"}
	}
	ctx := context.Background()
	for _, u := range []bot.Inbound{in("tg:1", "/start"), in("tg:2", "/help")} {
		r, err := e.Handle(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		e.Delivered(u, r)
	}
	for _, u := range []bot.Inbound{in("tg:1", "/start"), in("tg:2", "/help")} {
		r, err := e.Handle(ctx, u)
		if err != nil || len(r.Messages) != 0 {
			t.Fatalf("repeat of %s: %+v, %v; want nothing", u.UpdateID, r.Messages, err)
		}
		e.Delivered(u, r)
	}
}

func sameMessage(a, b bot.Message) bool {
	return a.Text == b.Text && slices.Equal(a.Buttons, b.Buttons)
}

// BenchmarkPlatformTurn is BenchmarkTurn as a platform channel runs it: every update has an
// id, the session keeps the reply for a repeat, and each reply is marked delivered. The
// marks of parallel turns share one write, so the round trips per turn stay near two.
func BenchmarkPlatformTurn(b *testing.B) {
	e, store := newEngine(b)
	ctx := context.Background()
	trips := store.RoundTrips()
	var id int64
	b.RunParallel(func(pb *testing.PB) {
		key := fmt.Sprint("bench-platform-", nextID(&id))
		n := 0
		in := bot.Inbound{Channel: "bench", Key: key, UpdateID: fmt.Sprint(key, ":", n), Text: "/start", LangHint: "en"}
		r, err := e.Handle(ctx, in)
		if err != nil {
			b.Error(err)
			return
		}
		e.Delivered(in, r)
		for pb.Next() {
			bs := buttons(r)
			pick := bs[len(bs)-1]
			if len(bs) == 3 {
				pick = bs[2]
			}
			n++
			in = bot.Inbound{Channel: "bench", Key: key, UpdateID: fmt.Sprint(key, ":", n), Data: pick.Data}
			if r, err = e.Handle(ctx, in); err != nil {
				b.Error(err)
				return
			}
			e.Delivered(in, r)
		}
	})
	b.StopTimer()
	time.Sleep(50 * time.Millisecond) // the last marks are written
	b.ReportMetric(float64(store.RoundTrips()-trips)/float64(b.N), "roundtrips/turn")
}

// failingSave is a store whose next session save fails, as when the process dies after a
// turn's other writes and before its session is saved.
type failingSave struct {
	*redis.Store
	fail atomic.Bool
}

func (s *failingSave) Save(ctx context.Context, l bot.Lock, data []byte) error {
	if s.fail.CompareAndSwap(true, false) {
		_ = s.Store.Unlock(ctx, l)
		return errors.New("connection lost")
	}
	return s.Store.Save(ctx, l, data)
}

// crashWorld is a student with a handed-off case, and an engine (crashy) on a store whose
// session save can be made to fail once.
type crashWorld struct {
	store  *failingSave
	e      *bot.Engine // saves normally: the student's way to the handoff
	crashy *bot.Engine
	s      *student
	code   string
}

func newCrashWorld(t *testing.T) *crashWorld {
	w := &crashWorld{store: &failingSave{Store: redistest.New(t, redis.Options{})}}
	w.e = engineOn(t, w.store.Store, defaultContent(t))
	w.crashy = bottest.LoggedEngine(t, w.store, slog.New(slog.DiscardHandler))
	w.s = newStudent(t, w.e, "en")
	w.code = handoff(t, w.s, "Someone keeps waiting for me after class.")
	return w
}

// crashThenAgain runs in with the session save failing (the turn must fail), then
// delivers it again, as the platform would, and returns that reply.
func (w *crashWorld) crashThenAgain(t *testing.T, in bot.Inbound) bot.Reply {
	t.Helper()
	w.store.fail.Store(true)
	if _, err := w.crashy.Handle(context.Background(), in); err == nil {
		t.Fatal("the turn whose save failed must fail")
	}
	r, err := w.crashy.Handle(context.Background(), in)
	if err != nil {
		t.Fatalf("delivered again: %v", err)
	}
	return r
}

// TestThreadMessageOnceAfterACrash: a student's message to their counsellor is stored,
// then the turn dies before its session is saved; the platform delivers the update again
// and the turn runs again. The counsellor reads the message once. Two messages that read
// the same are still two.
func TestThreadMessageOnceAfterACrash(t *testing.T) {
	w := newCrashWorld(t)
	in := bot.Inbound{Channel: "test", Key: w.s.key, LangHint: "en", UpdateID: "tg:41", Text: "Are you there?"}
	w.crashThenAgain(t, in)
	in.UpdateID = "tg:42" // the student writes the same words again, on purpose
	if _, err := w.crashy.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	entries, err := w.store.Entries(context.Background(), w.code)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, en := range entries {
		if en.From == bot.FromStudent && en.Kind == bot.EntryMessage {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d messages from the student in the thread, want 2 (one per update)", n)
	}
}

// TestProposalAnswerAfterACrash: a student books a proposed slot, and the turn dies after
// the booking was saved but before the session was; the tap comes again. The student gets
// "Booked" again, not "this proposal is no longer open", and the counsellor's thread shows
// the booking once. A second, real tap on the old proposal is still refused.
func TestProposalAnswerAfterACrash(t *testing.T) {
	ctx := context.Background()
	w := newCrashWorld(t)
	s, code := w.s, w.code
	d := bottest.Desk(t, w.e, w.store.Store, "anna")
	anna := account(t, d, "anna")
	if err := d.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	slot := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	if err := d.Propose(ctx, anna, code, []bot.Slot{{Form: "teams", Start: slot, Minutes: 45}, {Form: "phone", Start: slot.Add(time.Hour), Minutes: 30}}); err != nil {
		t.Fatal(err)
	}
	inbox := s.inbox()
	proposal := inbox[len(inbox)-1]

	tap := bot.Inbound{Channel: "test", Key: s.key, LangHint: "en", UpdateID: "tg:77", Data: proposal.Buttons[0].Data}
	if r := w.crashThenAgain(t, tap); !strings.Contains(texts(r), "Booked") || strings.Contains(texts(r), s.text("case.stale")) {
		t.Fatalf("the tap delivered again must be answered as booked:\n%s", texts(r))
	}
	tap.UpdateID, tap.Data = "tg:78", proposal.Buttons[1].Data
	if r, _ := w.crashy.Handle(ctx, tap); !strings.Contains(texts(r), s.text("case.stale")) {
		t.Fatalf("another tap on the answered proposal must be refused:\n%s", texts(r))
	}
	det, err := d.Case(ctx, anna, code)
	if err != nil {
		t.Fatal(err)
	}
	if det.Booked == nil || !det.Booked.Start.Equal(slot) {
		t.Fatalf("booked %+v, want the first slot", det.Booked)
	}
	booked := 0
	for _, it := range det.Thread {
		if it.Kind == bot.EntryBooked {
			booked++
		}
	}
	if booked != 1 {
		t.Errorf("%d booking lines in the thread, want 1", booked)
	}
}
