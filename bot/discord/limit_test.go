package discord_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/discord"
	"intake/bot/limit"
	"intake/bot/limit/limittest"
)

// Texts of the rate limit the tests look for.
const (
	slowDown    = "faster than I can answer them"
	crisisReply = "What you write worries me"
	crisisText  = "i want to die"
)

var answered = regexp.MustCompile(`the command /m(\d\d)\.`)

// answeredInOrder lists the numbers of the /mNN messages answered in dm, in the order of
// the answers.
func (w *world) answeredInOrder(dm string) []int {
	var out []int
	for _, c := range w.postsTo(dm) {
		for _, sub := range answered.FindAllStringSubmatch(content(c), -1) {
			n, _ := strconv.Atoi(sub[1])
			out = append(out, n)
		}
	}
	return out
}

// countIn counts the messages posted to dm that contain text.
func (w *world) countIn(dm, text string) int {
	n := 0
	for _, c := range w.postsTo(dm) {
		if strings.Contains(content(c), text) {
			n++
		}
	}
	return n
}

func seq(from, to int, skip ...int) []int {
	var out []int
	for i := from; i <= to; i++ {
		if !slices.Contains(skip, i) {
			out = append(out, i)
		}
	}
	return out
}

// TestFloodIsHeldNotLost: two students each send 50 DMs in one burst while the clock of
// the rate limit stands still: the first ten of each are answered at once and in order,
// each gets exactly one slow-down notice, crisis words get the numbers at once (held back,
// or beyond the backlog), and a third student is answered meanwhile. When the clock moves,
// the twenty held back are answered in order, so is the crisis beyond the backlog, and the
// rest never run.
func TestFloodIsHeldNotLost(t *testing.T) {
	w := newWorld(t)
	clock := limittest.NewClock(time.Now())
	c := w.channel(w.config("replica-1"), w.deps(nil))
	discord.SetLanes(c, limit.LanesConfig{Clock: clock}) // the production rate and backlog
	w.run(c)
	waitFor(t, "the gateway connection", func() bool { return discord.GatewayOpen(c) && w.f.connections() == 1 })
	a := w.student("200000000000000101", "600000000000000201")
	b := w.student("200000000000000102", "600000000000000202")
	calm := w.student("200000000000000103", "600000000000000203")
	a.command("start") // in English: a slash command carries the app's language
	b.command("start")
	clock.Advance(time.Minute) // both have their whole burst again

	burst, backlog := limit.PerConversation.Burst, limit.Backlog
	for i := 1; i <= 50; i++ {
		for _, s := range []*student{a, b} {
			text := fmt.Sprintf("/m%02d", i)
			if s == a && i == 40 || s == b && i == 15 { // A's crisis words beyond the backlog, B's in it
				text = crisisText
			}
			w.f.dispatch("MESSAGE_CREATE", s.message(text))
		}
	}
	waitFor(t, "the first answers, the notices and the crisis numbers", func() bool {
		return len(w.answeredInOrder(a.dm)) >= burst && len(w.answeredInOrder(b.dm)) >= burst &&
			w.countIn(a.dm, slowDown) >= 1 && w.countIn(b.dm, slowDown) >= 1 &&
			w.countIn(a.dm, crisisReply) >= 1 && w.countIn(b.dm, crisisReply) >= 1
	})
	w.f.dispatch("MESSAGE_CREATE", calm.message("/start"))
	waitFor(t, "the calm student's answer", func() bool { return w.countIn(calm.dm, "Team Sociale Veiligheid") >= 1 })
	for _, s := range []*student{a, b} {
		if got := w.answeredInOrder(s.dm); !slices.Equal(got, seq(1, burst)) {
			t.Errorf("%s: answered %v while the clock stood still, want 1..%d in order", s.dm, got, burst)
		}
	}
	if n := w.countIn(b.dm, crisisReply); n != 1 {
		t.Errorf("B's crisis words, held back: the numbers came %d times before its turn, want once", n)
	}

	total := burst + backlog
	for i := 0; len(w.answeredInOrder(a.dm)) < total || len(w.answeredInOrder(b.dm)) < total-1; i++ {
		if i == 200 {
			t.Fatalf("held messages were not answered:\nA %v\nB %v", w.answeredInOrder(a.dm), w.answeredInOrder(b.dm))
		}
		clock.Advance(time.Minute)
		time.Sleep(50 * time.Millisecond) // let the lanes take their tokens
	}
	clock.Advance(time.Hour)
	for _, s := range []*student{a, b} {
		w.f.dispatch("MESSAGE_CREATE", s.message("/m99"))
	}
	waitFor(t, "the last messages' answers", func() bool {
		return slices.Contains(w.answeredInOrder(a.dm), 99) && slices.Contains(w.answeredInOrder(b.dm), 99)
	})
	if got := w.answeredInOrder(a.dm); !slices.Equal(got, append(seq(1, total), 99)) {
		t.Errorf("A answered %v, want 1..%d in order, then 99", got, total)
	}
	if got := w.answeredInOrder(b.dm); !slices.Equal(got, append(seq(1, total, 15), 99)) {
		t.Errorf("B answered %v, want 1..%d but the crisis words in order, then 99", got, total)
	}
	for _, s := range []*student{a, b} {
		if n := w.countIn(s.dm, slowDown); n != 1 {
			t.Errorf("%s got the slow-down notice %d times, want exactly once", s.dm, n)
		}
	}
	if n := w.countIn(a.dm, crisisReply); n != 2 {
		t.Errorf("A's crisis words beyond the backlog: the numbers came %d times, want at once and with the turn", n)
	}
	if n := w.countIn(b.dm, crisisReply); n != 2 {
		t.Errorf("B's crisis words, held back: the numbers came %d times, want at once and with the turn", n)
	}
}

// TestCrisisBeyondTheBacklogRuns: a student who handed in a report floods the bot until
// their backlog is full, and then writes crisis words. The message is not dropped: the 24/7
// numbers come at once, and when its turn comes it runs like any crisis turn: the
// conversation and the open case are marked urgent, so the counsellors see it at the top
// of their queue, and the student gets the numbers with the turn's reply.
func TestCrisisBeyondTheBacklogRuns(t *testing.T) {
	w := newWorld(t)
	clock := limittest.NewClock(time.Now())
	c := w.channel(w.config("replica-1"), w.deps(nil))
	// The production backlog; a burst with room for the intake before the flood.
	rate := limit.Rate{Burst: 15, Every: limit.PerConversation.Every}
	discord.SetLanes(c, limit.LanesConfig{Rate: rate, Clock: clock})
	w.run(c)
	waitFor(t, "the gateway connection", func() bool { return discord.GatewayOpen(c) && w.f.connections() == 1 })
	s := w.student("200000000000000111", "600000000000000211")
	code := s.intake()
	ctx := context.Background()
	if n, err := w.desk.Notice(ctx, code); err != nil || len(n.Urgent) > 0 {
		t.Fatalf("the case is urgent before the crisis words (err %v)", err)
	}
	clock.Advance(time.Hour) // the whole burst again

	total := rate.Burst + limit.Backlog // run at once, or held back: the backlog is full
	for i := 1; i <= total; i++ {
		w.f.dispatch("MESSAGE_CREATE", s.message(fmt.Sprintf("/m%02d", i)))
	}
	w.f.dispatch("MESSAGE_CREATE", s.message(crisisText))
	waitFor(t, "the first answers and the numbers at once", func() bool {
		return len(w.answeredInOrder(s.dm)) >= rate.Burst && w.countIn(s.dm, crisisReply) >= 1
	})

	// Time passes: the held messages run, one token at a time, and then the crisis turn.
	for i := 0; len(w.answeredInOrder(s.dm)) < total || w.countIn(s.dm, crisisReply) < 2; i++ {
		if i == 200 {
			t.Fatalf("the crisis words never got their turn: answered %v, the numbers came %d times (want at once and with the turn)",
				w.answeredInOrder(s.dm), w.countIn(s.dm, crisisReply))
		}
		clock.Advance(time.Minute)
		time.Sleep(50 * time.Millisecond) // let the lane take its token
	}
	if got := w.answeredInOrder(s.dm); !slices.Equal(got, seq(1, total)) {
		t.Errorf("answered %v, want 1..%d in order", got, total)
	}
	sess, err := w.engine.Session(ctx, w.names.Key(discord.Name, s.id))
	if err != nil || sess == nil || !slices.Contains(sess.Urgent, bot.UrgentCrisis) {
		t.Errorf("the conversation is not marked urgent after the crisis turn (err %v)", err)
	}
	if n, err := w.desk.Notice(ctx, code); err != nil || !slices.Contains(n.Urgent, bot.UrgentCrisis) {
		t.Errorf("the case is not marked urgent for the counsellors after the crisis turn (err %v)", err)
	}
}
