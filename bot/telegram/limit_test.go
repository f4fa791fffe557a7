package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/limit"
	"intake/bot/limit/limittest"
	"intake/bot/telegram"
	"intake/bot/telegram/telegramtest"
)

// Texts of the rate limit the tests look for.
const (
	slowDown    = "faster than I can answer them"
	crisisReply = "What you write worries me"
	crisisText  = "i want to die"
)

// floodPlan is what one student sends in a burst: /m01 ... /m50, with crisis words in
// place of one of them. Each unknown command is answered with its own name, so the replies
// show which message was answered, and in which order.
func floodPlan(n, crisisAt int) []string {
	var out []string
	for i := 1; i <= n; i++ {
		if i == crisisAt {
			out = append(out, crisisText)
			continue
		}
		out = append(out, fmt.Sprintf("/m%02d", i))
	}
	return out
}

var answered = regexp.MustCompile(`the command /m(\d\d)\.`)

// answeredInOrder lists the numbers of the messages answered in chat, in the order of the
// answers.
func (w *world) answeredInOrder(chat int64) []int {
	var out []int
	for _, m := range w.api.Messages(chat) {
		for _, sub := range answered.FindAllStringSubmatch(m.Text, -1) {
			n, _ := strconv.Atoi(sub[1])
			out = append(out, n)
		}
	}
	return out
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

// TestFloodIsHeldNotLost: two students each send 50 messages in one burst, while the
// clock of the rate limit stands still. Each gets the first ten answered at once and in
// order, exactly one polite slow-down notice, and crisis words answered with the numbers at
// once, whether that message is held back or beyond the backlog. A third student is
// answered at once meanwhile. When the clock moves, the twenty held back are answered, in
// order, and so are the crisis words beyond the backlog; none is lost, and the rest, over
// the backlog, never run.
func TestFloodIsHeldNotLost(t *testing.T) {
	clock := limittest.NewClock(time.Now())
	w := newWorld(t)
	telegram.SetLanes(t, limit.LanesConfig{Clock: clock}) // the production rate and backlog
	w.replica("r1")
	a, b, calm := w.student(918273661, "en"), w.student(918273662, "en"), w.student(918273663, "en")
	a.say("/start", greeting)
	b.say("/start", greeting)
	clock.Advance(time.Minute) // both have their whole burst again

	burst, backlog := limit.PerConversation.Burst, limit.Backlog
	planA, planB := floodPlan(50, 40), floodPlan(50, 15) // A's crisis beyond the backlog, B's in it
	var updates []telegramtest.Update
	for i := range planA {
		updates = append(updates, a.message(planA[i], nil), b.message(planB[i], nil))
	}
	w.api.Push(updates...)

	w.wait("the first answers, the notices and the crisis numbers", func() bool {
		return len(w.answeredInOrder(a.id)) >= burst && len(w.answeredInOrder(b.id)) >= burst &&
			a.count(slowDown) >= 1 && b.count(slowDown) >= 1 && a.count(crisisReply) >= 1 && b.count(crisisReply) >= 1
	})
	calm.say("/start", greeting) // not held up by the two floods
	for _, s := range []*student{a, b} {
		if got := w.answeredInOrder(s.id); !slices.Equal(got, seq(1, burst)) {
			t.Errorf("chat %d: answered %v while the clock stood still, want 1..%d in order", s.id, got, burst)
		}
	}
	if n := b.count(crisisReply); n != 1 {
		t.Errorf("B's crisis words, held back: the numbers came %d times before its turn, want once", n)
	}

	// Time passes: the held messages are answered, one token at a time.
	total := burst + backlog
	for i := 0; len(w.answeredInOrder(a.id)) < total || len(w.answeredInOrder(b.id)) < total-1; i++ {
		if i == 40 {
			t.Fatalf("held messages were not answered:\nA %v\nB %v", w.answeredInOrder(a.id), w.answeredInOrder(b.id))
		}
		clock.Advance(time.Minute)
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		_ = w.api.Wait(ctx, func() bool { return len(w.answeredInOrder(a.id)) >= total && len(w.answeredInOrder(b.id)) >= total-1 })
		cancel()
	}
	// The clock moves on: anything still on its way would arrive now.
	clock.Advance(time.Hour)
	b.say("/m99", "the command /m99.")
	a.say("/m99", "the command /m99.")
	if got := w.answeredInOrder(a.id); !slices.Equal(got, append(seq(1, total), 99)) {
		t.Errorf("A answered %v, want 1..%d in order, then 99: nothing held lost, nothing over the backlog run", got, total)
	}
	if got := w.answeredInOrder(b.id); !slices.Equal(got, append(seq(1, total, 15), 99)) {
		t.Errorf("B answered %v, want 1..%d but the crisis words in order, then 99", got, total)
	}
	for _, s := range []*student{a, b} {
		if n := s.count(slowDown); n != 1 {
			t.Errorf("chat %d got the slow-down notice %d times, want exactly once", s.id, n)
		}
	}
	if n := a.count(crisisReply); n != 2 {
		t.Errorf("A's crisis words beyond the backlog: the numbers came %d times, want at once and with the turn", n)
	}
	if n := b.count(crisisReply); n != 2 {
		t.Errorf("B's crisis words, held back: the numbers came %d times, want at once and with the turn", n)
	}
	if n := calm.count(slowDown); n != 0 {
		t.Errorf("the calm student was told to slow down")
	}
}

// TestCrisisBeyondTheBacklogRuns: a student who handed in a report floods the bot until
// their backlog is full, and then writes crisis words. The update is not dropped: the 24/7
// numbers come at once, and when its turn comes it runs like any crisis turn: the
// conversation and the open case are marked urgent, so the counsellors see it at the top
// of their queue, and the student gets the numbers with the turn's reply.
func TestCrisisBeyondTheBacklogRuns(t *testing.T) {
	clock := limittest.NewClock(time.Now())
	w := newWorld(t)
	// The production backlog; a burst with room for the intake before the flood.
	rate := limit.Rate{Burst: 15, Every: limit.PerConversation.Every}
	telegram.SetLanes(t, limit.LanesConfig{Rate: rate, Clock: clock})
	r := w.replica("r1")
	s := w.student(918273664, "en")
	code := s.intake()
	ctx := context.Background()
	if n, err := r.desk.Notice(ctx, code); err != nil || len(n.Urgent) > 0 {
		t.Fatalf("the case is urgent before the crisis words (err %v)", err)
	}
	clock.Advance(time.Hour) // the whole burst again

	total := rate.Burst + limit.Backlog // run at once, or held back: the backlog is full
	plan := floodPlan(total+1, total+1)
	var updates []telegramtest.Update
	for _, text := range plan {
		updates = append(updates, s.message(text, nil))
	}
	w.api.Push(updates...)
	w.wait("the first answers and the numbers at once", func() bool {
		return len(w.answeredInOrder(s.id)) >= rate.Burst && s.count(crisisReply) >= 1
	})

	// Time passes: the held updates run, one token at a time, and then the crisis turn.
	for i := 0; len(w.answeredInOrder(s.id)) < total || s.count(crisisReply) < 2; i++ {
		if i == 40 {
			t.Fatalf("the crisis words never got their turn: answered %v, the numbers came %d times (want at once and with the turn)",
				w.answeredInOrder(s.id), s.count(crisisReply))
		}
		clock.Advance(time.Minute)
		wctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		_ = w.api.Wait(wctx, func() bool { return len(w.answeredInOrder(s.id)) >= total && s.count(crisisReply) >= 2 })
		cancel()
	}
	if got := w.answeredInOrder(s.id); !slices.Equal(got, seq(1, total)) {
		t.Errorf("answered %v, want 1..%d in order", got, total)
	}
	sess, err := r.engine.Session(ctx, w.names.Key(telegram.Name, strconv.FormatInt(s.id, 10)))
	if err != nil || sess == nil || !slices.Contains(sess.Urgent, bot.UrgentCrisis) {
		t.Errorf("the conversation is not marked urgent after the crisis turn (err %v)", err)
	}
	if n, err := r.desk.Notice(ctx, code); err != nil || !slices.Contains(n.Urgent, bot.UrgentCrisis) {
		t.Errorf("the case is not marked urgent for the counsellors after the crisis turn (err %v)", err)
	}
}

// TestWebhookBodyCap: a webhook body over 1 MB is refused with 413 and changes nothing.
func TestWebhookBodyCap(t *testing.T) {
	w := newWorld(t)
	r := w.replica("r1", webhook)
	srv := httptest.NewServer(r.ch.WebhookHandler())
	defer srv.Close()
	s := w.student(918273651, "en")

	post := func(update telegramtest.Update) int {
		t.Helper()
		body, err := json.Marshal(update)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(telegramtest.SecretHeader, testSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(s.message("/start "+strings.Repeat("x", 1<<20), nil)); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("a body over 1 MB: status %d, want 413", code)
	}
	// The chat is served in order: once the next update is answered, the refused one
	// would have been too.
	if code := post(s.message("/start", nil)); code != http.StatusOK {
		t.Fatalf("the next update: status %d", code)
	}
	s.waitCount(greeting, 1)
	if n := s.count(greeting); n != 1 {
		t.Errorf("greeted %d times: the refused update was processed\n%s", n, w.api.Transcript())
	}
}
