package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/bottest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// toSummary answers every question of a report that wants a conversation (talk) or only
// a registration, and stops at its summary.
func toSummary(t *testing.T, s *student, talk bool) {
	t.Helper()
	toStory(t, s)
	s.say("He waits for me after every lecture.")
	s.tap("profile.no")
	want := "summary_register"
	if talk {
		s.tap("outcome.advice")
		s.tap("contact.chat")
		s.tap("urgency.yes")
		want = "summary_talk"
	} else {
		s.tap("outcome.registration")
	}
	if got := s.node(); got != want {
		t.Fatalf("node %q, want %s", got, want)
	}
}

// TestCaseCapRefusesKindly: with a cap of two new cases an hour, a registration and a
// handoff get in and the third report is refused kindly: not sent yet, the answers kept,
// the 24/7 numbers, a button to try again. Whatever the student does meanwhile, the same
// answer; after the hour the same button sends the report, urgent as it was.
func TestCaseCapRefusesKindly(t *testing.T) {
	var mu sync.Mutex
	now := bottest.Night
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	store := redistest.New(t, redis.Options{MaxCasesPerHour: 2, Now: clock})
	e := engineOn(t, store, defaultContent(t))
	ctx := context.Background()

	for i, talk := range []bool{false, true} {
		s := newStudent(t, e, "en")
		s.key += string(rune('a' + i))
		toSummary(t, s, talk)
		s.send(bot.Inbound{Data: buttons(s.last)[0].Data})
		if s.session().CaseCode == "" {
			t.Fatalf("report %d was not stored", i+1)
		}
	}

	s := newStudent(t, e, "en")
	toSummary(t, s, true)
	r := s.send(bot.Inbound{Data: buttons(s.last)[0].Data})
	got := texts(r)
	for _, want := range []string{"not been sent yet", "unusually many reports", "kept here", "112", "0800-0188", "0800-0113"} {
		if !strings.Contains(got, want) {
			t.Errorf("the refusal lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Your case code") {
		t.Errorf("a refused report shows a case code:\n%s", got)
	}
	if b := buttons(r); len(b) != 1 || b[0].Label != "Try again" {
		t.Fatalf("buttons %+v, want only Try again", b)
	}
	retry := buttons(r)[0].Data
	sess := s.session()
	if sess.CaseCode != "" || sess.Vars["story"] != "He waits for me after every lecture." || sess.Vars["outcome"] != "advice" {
		t.Errorf("after the refusal: case %q, answers %v", sess.CaseCode, sess.Vars)
	}
	if pending, _ := store.PendingCases(ctx); len(pending) != 1 {
		t.Errorf("pending %v, want only the earlier handoff", pending)
	}

	// Typed text, the page opened again, a tap on the old summary: the same answer, nothing
	// sent, the answers still there. Trying again within the hour: refused again.
	for _, in := range []bot.Inbound{{Text: "hello?"}, {Open: true}, {Data: retry}} {
		if r := s.send(in); !strings.Contains(texts(r), "unusually many reports") {
			t.Errorf("after %+v:\n%s", in, texts(r))
		}
	}
	if s.session().Vars["story"] == "" {
		t.Fatal("the story was lost while waiting")
	}

	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	r = s.send(bot.Inbound{Data: buttons(s.last)[0].Data})
	sess = s.session()
	if sess.CaseCode == "" || !strings.Contains(texts(r), sess.CaseCode) {
		t.Fatalf("after the hour the report was not sent:\n%s", texts(r))
	}
	c, err := store.GetCase(ctx, sess.CaseCode)
	if err != nil || c == nil || c.Status != bot.StatusPending || len(c.Urgent) == 0 || c.Fields["category"] != "stalking" {
		t.Errorf("the case sent after the hour: %+v %v", c, err)
	}
}

// TestCaseCapBackToSummary: a refused student can go back to the summary and change an
// answer; nothing of the refusal sticks.
func TestCaseCapBackToSummary(t *testing.T) {
	store := redistest.New(t, redis.Options{MaxCasesPerHour: 1})
	e := engineOn(t, store, defaultContent(t))
	other := newStudent(t, e, "en")
	other.key += "-other"
	toSummary(t, other, false)
	other.send(bot.Inbound{Data: buttons(other.last)[0].Data})

	s := newStudent(t, e, "en")
	toSummary(t, s, true)
	s.send(bot.Inbound{Data: buttons(s.last)[0].Data})
	if s.node() != "handoff" {
		t.Fatalf("refused at node %q", s.node())
	}
	r := s.say("/back")
	if s.node() != "summary_talk" || !strings.Contains(strings.Join(labels(buttons(r)), "|"), s.text("summary.confirm_talk")) {
		t.Fatalf("/back from the refusal: node %q\n%s", s.node(), texts(r))
	}
}
