package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/bottest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// TestCrisisAtThreeOnSaturday is issue 7's "done when": a student typing a crisis phrase at
// 3 a.m. on a Saturday gets the emergency numbers first, an honest "a counsellor will read
// this on Monday morning", and the case leads the desk queue, marked urgent, with the
// reason (the rule, not the words).
func TestCrisisAtThreeOnSaturday(t *testing.T) {
	ctx := context.Background()
	e, store := bottest.EngineAt(t, bottest.Night)
	d := bottest.Desk(t, e, store, "anna")
	anna := account(t, d, "anna")

	earlier := newStudent(t, e, "en")
	earlier.key += "-earlier"
	handoff(t, earlier, "Someone keeps sending me messages.")

	s := newStudent(t, e, "nl")
	s.reply = bot.Address{Outbox: "test:" + s.key}
	toStory(t, s)
	r := s.say("ik wil niet meer leven")
	crisis, _ := e.Content().Catalog.Text("nl", "crisis.reply", map[string]any{
		"emergency": "112", "suicide_line": "113", "suicide_line_free": "0800-0113", "sexual_violence_centre": "0800-0188",
	})
	if len(r.Messages) < 2 || r.Messages[0].Text != crisis {
		t.Fatalf("the crisis reply must come first:\n%s", texts(r))
	}
	if got := labels(r.Messages[0].Buttons); len(got) != 2 {
		t.Fatalf("the crisis reply asks whether they are safe: %v", got)
	}
	if s.session().Vars["story"] != "ik wil niet meer leven" || s.node() != "profile_ask" {
		t.Fatalf("the text must still count as the story and the conversation go on: node %q", s.node())
	}
	r = s.send(bot.Inbound{Data: r.Messages[0].Buttons[1].Data}) // "I am not safe"
	if !strings.Contains(texts(r), "112") || s.node() != "profile_ask" {
		t.Fatalf("not safe: call 112, then back where we were:\n%s", texts(r))
	}
	s.tap("profile.no")
	s.tap("outcome.advice")
	s.tap("contact.chat")
	s.tap("urgency.no")
	r = s.tap("summary.confirm_talk")
	if !strings.Contains(texts(r), "maandag 7 december om 9.00 uur") {
		t.Errorf("the student must hear when a counsellor will read it:\n%s", texts(r))
	}
	code := s.session().CaseCode

	pending, _, err := d.Queue(ctx, anna)
	if err != nil || len(pending) != 2 {
		t.Fatalf("queue: %v %v", pending, err)
	}
	top := pending[0]
	if top.Code != code || strings.Join(top.Urgent, ",") != bot.UrgentCrisis+","+bot.UrgentUnsafe {
		t.Fatalf("the urgent case must lead the queue with its reasons: %+v", top)
	}
	if len(pending[1].Urgent) != 0 {
		t.Errorf("the earlier case is not urgent: %+v", pending[1])
	}
}

// TestUrgencyRules: the answers that make a case urgent without any crisis words.
func TestUrgencyRules(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		taps []string
		want string
	}{
		{"sexual violence in the last days", []string{"category.sexual_violence", "sv_kind.physical", "sv_when.recent"}, bot.UrgentRecentSV},
		{"sexual violence longer ago", []string{"category.sexual_violence", "sv_kind.physical", "sv_when.earlier"}, ""},
		{"the student says it is urgent", []string{"category.bullying"}, bot.UrgentStudentAnswer},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, store := newEngine(t)
			s := newStudent(t, e, "en")
			toCategory(t, s)
			for _, id := range c.taps {
				s.tap(id)
			}
			s.tap("relation.student_student")
			s.tap("reporter.self")
			s.tap("story.skip")
			s.tap("profile.no")
			s.tap("outcome.advice")
			s.tap("contact.chat")
			if c.want == bot.UrgentStudentAnswer {
				s.tap("urgency.yes")
			} else {
				s.tap("urgency.no")
			}
			s.tap("summary.confirm_talk")
			got, _ := store.GetCase(ctx, s.session().CaseCode)
			if strings.Join(got.Urgent, ",") != c.want {
				t.Errorf("urgent = %v, want %q", got.Urgent, c.want)
			}
		})
	}
}

// TestCrisisAfterHandoffFlagsTheCase: a crisis signal in the thread marks the open case
// urgent and announces it at once.
func TestCrisisAfterHandoffFlagsTheCase(t *testing.T) {
	ctx := context.Background()
	e, store := newEngine(t)
	s := newStudent(t, e, "en")
	code := handoff(t, s, "It was at a party.")
	first, _ := store.ReadAnnouncements(ctx, "t", "t", 100, 0) // the "new" one
	for _, a := range first {
		store.AckAnnouncement(ctx, "t", a.ID)
	}
	r := s.say("I want to kill myself")
	if !strings.Contains(r.Messages[0].Text, "113") {
		t.Fatalf("crisis reply first:\n%s", texts(r))
	}
	c, _ := store.GetCase(ctx, code)
	if len(c.Urgent) != 1 || c.Urgent[0] != bot.UrgentCrisis {
		t.Fatalf("case urgent = %v", c.Urgent)
	}
	got, _ := store.ReadAnnouncements(ctx, "t", "t", 100, 0)
	if len(got) != 1 || got[0].Reason != "urgent" || got[0].Code != code {
		t.Fatalf("urgent announcement: %+v", got)
	}
	entries, _ := store.Entries(ctx, code)
	if entries[len(entries)-1].From != bot.FromStudent {
		t.Errorf("the message itself must still reach the thread")
	}
}

// TestCrisisReplySurvivesAFailedTurn: when the turn cannot run (the conversation is locked
// by a stuck turn), a crisis message still gets the numbers.
func TestCrisisReplySurvivesAFailedTurn(t *testing.T) {
	ctx := context.Background()
	store := redistest.New(t, redis.Options{})
	e, err := bot.NewEngine(bot.Config{Sessions: store, Cases: store, Keys: bottest.Keys(t), LockWait: 50 * time.Millisecond}, defaultContent(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Lock(ctx, "stuck"); err != nil {
		t.Fatal(err)
	}
	r, err := e.Handle(ctx, bot.Inbound{Channel: "test", Key: "stuck", Text: "I want to die", LangHint: "en"})
	if err == nil {
		t.Fatal("the turn should have failed on the held lock")
	}
	if len(r.Messages) < 2 || !strings.Contains(r.Messages[0].Text, "113") {
		t.Fatalf("crisis numbers must come first even on failure:\n%s", texts(r))
	}
}

// TestNotSafePromisesOnlyWhatIsTrue: a student who taps "I'm not safe" hears that a
// counsellor sees their report first only when they sent one; before that, that nobody
// watches the chat live — also when the message waits behind the rate limit.
func TestNotSafePromisesOnlyWhatIsTrue(t *testing.T) {
	e, _ := newEngine(t)
	cat := e.Content().Catalog
	numbers := map[string]any{"emergency": "112"}
	noCase, _ := cat.Text("en", "crisis.call_no_case", numbers)
	withCase, _ := cat.Text("en", "crisis.call", numbers)
	if noCase == "" || withCase == "" || noCase == withCase {
		t.Fatal("both texts must exist and differ")
	}
	unsafe := bot.Inbound{Data: "g:unsafe"}

	s := newStudent(t, e, "en")
	s.open()
	s.tap("menu.report")
	if r := s.send(unsafe); r.Messages[0].Text != noCase {
		t.Errorf("before a report:\n%s\nwant:\n%s", texts(r), noCase)
	}
	in := unsafe
	in.Channel, in.Key, in.LangHint = "test", s.key, "en"
	if m := e.OverLimit(context.Background(), in, false); len(m) == 0 || m[0].Text != noCase {
		t.Errorf("held back, before a report: %+v", m)
	}

	s = newStudent(t, e, "en")
	s.key += "-reported"
	handoff(t, s, "He waits for me outside the library every evening.")
	in.Key = s.key
	if r := s.send(unsafe); r.Messages[0].Text != withCase {
		t.Errorf("after the report:\n%s\nwant:\n%s", texts(r), withCase)
	}
	if m := e.OverLimit(context.Background(), in, false); len(m) == 0 || m[0].Text != withCase {
		t.Errorf("held back, after the report: %+v", m)
	}
}
