package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/bottest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// handoff drives a student to a handed-off case and returns its code. The student's
// channel can be reached at outbox "test:<key>".
func handoff(t *testing.T, s *student, story string) string {
	t.Helper()
	s.reply = bot.Address{Outbox: "test:" + s.key}
	toStory(t, s)
	s.say(story)
	s.tap("profile.no")
	s.tap("outcome.advice")
	s.tap("contact.chat")
	s.tap("urgency.no")
	s.tap("summary.confirm_talk")
	code := s.session().CaseCode
	if code == "" {
		t.Fatal("no case handed off")
	}
	return code
}

// inbox returns what has been delivered to the student since the last call.
func (s *student) inbox() []bot.Message {
	s.t.Helper()
	var got []bot.Message
	_, err := s.e.Deliver(context.Background(), s.reply.Outbox, "test", 0, func(_ context.Context, _ string, msgs []bot.Message) error {
		got = append(got, msgs...)
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return got
}

func account(t *testing.T, d *bot.Desk, name string) *bot.Account {
	t.Helper()
	_, acc, err := d.Login(context.Background(), name, bottest.Password(name))
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	return acc
}

// TestCaseFromHandoffToClose carries a case through claim, messages both ways, a booked
// appointment and close, checking what each side sees.
func TestCaseFromHandoffToClose(t *testing.T) {
	ctx := context.Background()
	e, store := newEngine(t)
	d := bottest.Desk(t, e, store, "anna", "bram")
	anna := account(t, d, "anna")
	s := newStudent(t, e, "en")
	code := handoff(t, s, "He keeps messaging me at night.")

	sess := s.session()
	c, _ := store.GetCase(ctx, code)
	if !bot.CheckReceipt(c.PassHash, sess.Pass) || !strings.Contains(texts(s.last), sess.Pass) {
		t.Fatalf("the passphrase shown must match the stored hash")
	}
	pending, _, err := d.Queue(ctx, anna)
	if err != nil || len(pending) != 1 || pending[0].Code != code || pending[0].Fields["contact"] != "chat" {
		t.Fatalf("queue = %+v, %v", pending, err)
	}
	det, _ := d.Case(ctx, anna, code)
	if det.Story != "" {
		t.Fatal("the story must be visible only after claiming")
	}

	if err := d.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	if got := s.inbox(); len(got) != 1 || !strings.Contains(got[0].Text, code) {
		t.Fatalf("student not told the case was picked up: %v", got)
	}
	det, _ = d.Case(ctx, anna, code)
	if det.Story != "He keeps messaging me at night." {
		t.Fatalf("claimer reads story %q", det.Story)
	}

	if err := d.Send(ctx, anna, code, "Thank you for telling us. Are you safe right now?"); err != nil {
		t.Fatal(err)
	}
	if got := s.inbox(); len(got) != 1 || !strings.Contains(got[0].Text, "Are you safe right now?") {
		t.Fatalf("counsellor message not delivered: %v", got)
	}
	r := s.say("Yes, I am at home.")
	if !strings.Contains(texts(r), s.text("engine.help.button")) && !strings.Contains(texts(r), code) {
		t.Fatalf("student reply not confirmed:\n%s", texts(r))
	}

	slot := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	if err := d.Propose(ctx, anna, code, []bot.Slot{{Form: "teams", Start: slot, Minutes: 45}, {Form: "phone", Start: slot.Add(time.Hour), Minutes: 30}}); err != nil {
		t.Fatal(err)
	}
	proposal := s.inbox()
	if len(proposal) != 1 || len(proposal[0].Buttons) != 3 {
		t.Fatalf("proposal should carry two slots and 'none of these': %+v", proposal)
	}
	r = s.send(bot.Inbound{Data: proposal[0].Buttons[0].Data})
	if !strings.Contains(texts(r), "Teams") {
		t.Fatalf("booking not confirmed:\n%s", texts(r))
	}
	r = s.send(bot.Inbound{Data: proposal[0].Buttons[1].Data}) // a second tap on the old proposal
	if !strings.Contains(texts(r), s.text("case.stale")) {
		t.Fatalf("an answered proposal must not book twice:\n%s", texts(r))
	}

	det, _ = d.Case(ctx, anna, code)
	if det.Booked == nil || !det.Booked.Start.Equal(slot) || det.Proposal != nil {
		t.Fatalf("desk does not show the booking: %+v", det)
	}
	var kinds []string
	for _, it := range det.Thread {
		kinds = append(kinds, it.From+"/"+it.Kind)
	}
	want := "/claimed counsellor/message student/message counsellor/proposal student/booked"
	if strings.Join(kinds, " ") != want {
		t.Errorf("thread = %v, want %s", kinds, want)
	}
	name, ics, err := d.ICS(ctx, anna, code)
	if err != nil || !strings.Contains(string(ics), "DTSTART:"+slot.UTC().Format("20060102T150405Z")) || !strings.HasSuffix(name, ".ics") {
		t.Fatalf("ics %s: %v\n%s", name, err, ics)
	}

	if err := d.Close(ctx, anna, code, "advice", ""); err != nil {
		t.Fatal(err)
	}
	if _, mine, _ := d.Queue(ctx, anna); len(mine) != 0 {
		t.Errorf("closed case still in my cases: %v", mine)
	}
	if got := s.inbox(); len(got) != 1 || !strings.Contains(got[0].Text, code) {
		t.Errorf("student not told of the close: %v", got)
	}
	r = s.say("One more thing")
	closed, _ := e.Content().Catalog.Text("en", "case.closed", map[string]any{"case_code": code})
	if !strings.Contains(texts(r), closed) {
		t.Errorf("writing to a closed case must say it is closed:\n%s", texts(r))
	}
}

// TestDeskRefusesWhatIsNotAllowed: every wrong action gets its error and changes nothing.
func TestDeskRefusesWhatIsNotAllowed(t *testing.T) {
	ctx := context.Background()
	e, store := newEngine(t)
	d := bottest.Desk(t, e, store, "anna", "bram")
	anna, bram, support := account(t, d, "anna"), account(t, d, "bram"), account(t, d, "support")
	code := handoff(t, newStudent(t, e, "nl"), "verhaal")
	if err := d.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	future := []bot.Slot{{Form: "phone", Start: time.Now().Add(time.Hour), Minutes: 30}}
	cases := []struct {
		name string
		do   func() error
		want error
	}{
		{"claim a claimed case", func() error { return d.Claim(ctx, bram, code) }, bot.ErrAlreadyClaimed},
		{"claim twice by the same counsellor", func() error { return d.Claim(ctx, anna, code) }, nil},
		{"message on someone else's case", func() error { return d.Send(ctx, bram, code, "hi") }, bot.ErrNotYours},
		{"release someone else's case", func() error { return d.Release(ctx, bram, code) }, bot.ErrNotYours},
		{"forged case code", func() error { return d.Claim(ctx, anna, "AAAA-AAAA") }, bot.ErrNotFound},
		{"malformed case code", func() error { return d.Claim(ctx, anna, "../../etc") }, bot.ErrNotFound},
		{"support officer reads a case", func() error { _, err := d.Case(ctx, support, code); return err }, bot.ErrForbidden},
		{"no login", func() error { return d.Claim(ctx, nil, code) }, bot.ErrForbidden},
		{"empty message", func() error { return d.Send(ctx, anna, code, "   ") }, bot.InvalidError{}},
		{"oversized message", func() error { return d.Send(ctx, anna, code, strings.Repeat("x", bot.MaxThreadText+1)) }, bot.InvalidError{}},
		{"four slots", func() error { return d.Propose(ctx, anna, code, append(future, future[0], future[0], future[0])) }, bot.InvalidError{}},
		{"slot in the past", func() error {
			return d.Propose(ctx, anna, code, []bot.Slot{{Form: "phone", Start: time.Now().Add(-time.Hour), Minutes: 30}})
		}, bot.InvalidError{}},
		{"unknown form", func() error {
			return d.Propose(ctx, anna, code, []bot.Slot{{Form: "zoom", Start: time.Now().Add(time.Hour), Minutes: 30}})
		}, bot.InvalidError{}},
		{"close without follow-up", func() error { return d.Close(ctx, anna, code, "", "") }, bot.InvalidError{}},
		{"referral without where to", func() error { return d.Close(ctx, anna, code, "referral", " ") }, bot.InvalidError{}},
		{"ics before booking", func() error { _, _, err := d.ICS(ctx, anna, code); return err }, bot.InvalidError{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, _ := store.GetCase(ctx, code)
			err := c.do()
			var inv bot.InvalidError
			switch {
			case c.want == nil && err != nil:
				t.Fatalf("got %v, want success", err)
			case c.want == (bot.InvalidError{}) && !errors.As(err, &inv):
				t.Fatalf("got %v, want an InvalidError", err)
			case c.want != nil && c.want != (bot.InvalidError{}) && !errors.Is(err, c.want):
				t.Fatalf("got %v, want %v", err, c.want)
			}
			after, _ := store.GetCase(ctx, code)
			if c.want != nil && after.Rev != before.Rev {
				t.Errorf("a refused action changed the case (rev %d -> %d)", before.Rev, after.Rev)
			}
		})
	}
	if err := d.Close(ctx, anna, code, "referral", "UM psychologists"); err != nil {
		t.Fatal(err)
	}
	if err := d.Claim(ctx, bram, code); !errors.Is(err, bot.ErrCaseClosed) {
		t.Errorf("claim a closed case: %v", err)
	}
}

// TestClaimRaceHasOneWinner: counsellors on two replicas click "claim" at the same moment.
func TestClaimRaceHasOneWinner(t *testing.T) {
	ctx := context.Background()
	client, prefix := redistest.Client(t)
	store := redis.New(client, redis.Options{Prefix: prefix})
	other := redis.New(redistest.Another(t, client), redis.Options{Prefix: prefix})
	e1 := engineOn(t, store, defaultContent(t))
	names := []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"}
	d1 := bottest.Desk(t, e1, store, names...)
	d2 := bot.NewDesk(bot.DeskConfig{Cases: other, Accounts: other, Outbox: other, Engine: e1, Keys: bottest.Keys(t)})
	code := handoff(t, newStudent(t, e1, "en"), "story")
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := []string{}
	for i, n := range names {
		acc := account(t, d1, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := []*bot.Desk{d1, d2}[i%2]
			err := d.Claim(ctx, acc, code)
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, acc.Name)
				mu.Unlock()
			case !errors.Is(err, bot.ErrAlreadyClaimed):
				t.Errorf("claim: %v", err)
			}
		}()
	}
	wg.Wait()
	c, _ := store.GetCase(ctx, code)
	if len(winners) != 1 || c.Counsellor != winners[0] {
		t.Fatalf("winners %v, case claimed by %q", winners, c.Counsellor)
	}
}

func TestLoginSlowsDownAndExpires(t *testing.T) {
	ctx := context.Background()
	e, store := newEngine(t)
	d := bottest.Desk(t, e, store, "anna")
	if _, _, err := d.Login(ctx, "anna", "wrong"); !errors.Is(err, bot.ErrBadLogin) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, _, err := d.Login(ctx, "nobody", "wrong"); !errors.Is(err, bot.ErrBadLogin) {
		t.Fatalf("unknown name must look the same as a wrong password: %v", err)
	}
	var err error
	for range 6 {
		_, _, err = d.Login(ctx, "anna", "still wrong")
	}
	if !errors.Is(err, bot.ErrSlowDown) {
		t.Fatalf("after many failures: %v", err)
	}
	if _, _, err := d.Login(ctx, "anna", bottest.Password("anna")); !errors.Is(err, bot.ErrSlowDown) {
		t.Fatalf("the right password during the wait must be refused too: %v", err)
	}

	d2 := bottest.Desk(t, e, store, "bram")
	token, _, err := d2.Login(ctx, "Bram ", bottest.Password("bram"))
	if err != nil {
		t.Fatal(err)
	}
	if acc, err := d2.Authenticate(ctx, token); err != nil || acc.Name != "bram" {
		t.Fatalf("authenticate: %v %v", acc, err)
	}
	if err := d2.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := d2.Authenticate(ctx, token); !errors.Is(err, bot.ErrLoginExpired) {
		t.Fatalf("after logout: %v", err)
	}
}

// TestCaseCommandShowsReceiptAndThread: /case repeats the code and passphrase and the
// latest messages; the student can go back to the menu and return to the thread.
func TestCaseCommandShowsReceiptAndThread(t *testing.T) {
	ctx := context.Background()
	e, store := newEngine(t)
	d := bottest.Desk(t, e, store, "anna")
	anna := account(t, d, "anna")
	s := newStudent(t, e, "nl")
	code := handoff(t, s, "verhaal")
	pass := s.session().Pass
	if err := d.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	if err := d.Send(ctx, anna, code, "Hoe gaat het nu met je?"); err != nil {
		t.Fatal(err)
	}
	s.say("/start")
	if s.node() != "menu" || s.session().Thread {
		t.Fatalf("/start should leave the thread for the menu, node %q", s.node())
	}
	r := s.say("/case")
	out := texts(r)
	for _, want := range []string{code, pass, "Hoe gaat het nu met je?"} {
		if !strings.Contains(out, want) {
			t.Errorf("/case does not show %q:\n%s", want, out)
		}
	}
	s.say("Het gaat wel, dank je.")
	det, _ := d.Case(ctx, anna, code)
	if last := det.Thread[len(det.Thread)-1]; last.From != bot.FromStudent || last.Text != "Het gaat wel, dank je." {
		t.Errorf("the reply did not reach the thread: %+v", last)
	}
	r = s.say("/case")
	s.tap("case.back_to_menu")
	if s.node() != "menu" {
		t.Errorf("back to the menu: node %q", s.node())
	}

	fresh := newStudent(t, e, "en")
	fresh.key += "-fresh"
	fresh.open()
	if r := fresh.say("/case"); !strings.Contains(texts(r), fresh.text("case.none")) {
		t.Errorf("/case without a case:\n%s", texts(r))
	}
}

// TestWaitingCasesAreAnnouncedAgain: a case still unclaimed after one working day is
// announced again, once per working day, and a claimed one never.
func TestWaitingCasesAreAnnouncedAgain(t *testing.T) {
	ctx := context.Background()
	e, store := newEngine(t)
	code := handoff(t, newStudent(t, e, "en"), "story")
	c, _ := store.GetCase(ctx, code)
	now := c.Created
	d := bot.NewDesk(bot.DeskConfig{Cases: store, Accounts: store, Outbox: store, Engine: e, Keys: bottest.Keys(t), Now: func() time.Time { return now }})
	read := func() []bot.Announcement {
		got, err := store.ReadAnnouncements(ctx, "test", "t1", 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range got {
			store.AckAnnouncement(ctx, "test", a.ID)
		}
		return got
	}
	if got := read(); len(got) != 1 || got[0].Code != code || got[0].Reason != "new" {
		t.Fatalf("new case announcement: %+v", got)
	}
	now = now.Add(2 * time.Hour)
	if n, _ := d.Reannounce(ctx, store); n != 0 {
		t.Fatalf("announced again after two hours: %d", n)
	}
	now = now.Add(7 * 24 * time.Hour)
	if n, err := d.Reannounce(ctx, store); n != 1 || err != nil {
		t.Fatalf("a week later: %d, %v", n, err)
	}
	if n, _ := d.Reannounce(ctx, store); n != 0 {
		t.Fatalf("announced twice on one day")
	}
	if got := read(); len(got) != 1 || got[0].Reason != "waiting" {
		t.Fatalf("waiting announcement: %+v", got)
	}
}

// TestUnreachableStudentMarksTheCase: when the channel says the student blocked the bot,
// the message is dropped (not retried forever) and the desk shows the student cannot be
// reached, until they write again.
func TestUnreachableStudentMarksTheCase(t *testing.T) {
	ctx := context.Background()
	e, store := newEngine(t)
	d := bottest.Desk(t, e, store, "anna")
	anna := account(t, d, "anna")
	s := newStudent(t, e, "en")
	code := handoff(t, s, "story")
	if err := d.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	blocked := func(context.Context, string, []bot.Message) error {
		return fmt.Errorf("telegram: 403 bot was blocked by the user: %w", bot.ErrUnreachable)
	}
	if _, err := e.Deliver(ctx, "test:"+s.key, "test", 0, blocked); err != nil {
		t.Fatal(err)
	}
	det, _ := d.Case(ctx, anna, code)
	if det.Reachable {
		t.Fatal("the desk must show the student cannot be reached")
	}
	if got := s.inbox(); len(got) != 0 {
		t.Fatalf("the refused message must not be retried: %v", got)
	}
	s.say("I unblocked you.")
	if det, _ = d.Case(ctx, anna, code); !det.Reachable {
		t.Error("a new message from the student makes them reachable again")
	}
}

// TestReceiptReopensTheCaseElsewhere: a student who handed off on one channel comes back on
// another (the web chat) with code and passphrase, reads the counsellor's message and
// answers; wrong receipts get the same calm answer and are limited per case code.
func TestReceiptReopensTheCaseElsewhere(t *testing.T) {
	ctx := context.Background()
	e, store := newEngine(t)
	d := bottest.Desk(t, e, store, "anna")
	anna := account(t, d, "anna")
	tg := newStudent(t, e, "en")
	code := handoff(t, tg, "story")
	pass := tg.session().Pass
	d.Claim(ctx, anna, code)
	d.Send(ctx, anna, code, "Shall we talk on Tuesday?")

	web := newStudent(t, e, "en")
	web.key += "-web"
	web.reply = bot.Address{Outbox: "web:" + web.key}
	wrong := web.send(bot.Inbound{Receipt: &bot.Receipt{Code: code, Pass: "aaaa-bbbb-cccc-dddd"}})
	if !strings.Contains(texts(wrong), web.text("receipt.wrong")) || web.session().CaseCode != "" {
		t.Fatalf("a wrong passphrase must be refused:\n%s", texts(wrong))
	}
	r := web.send(bot.Inbound{Receipt: &bot.Receipt{Code: strings.ToLower(code), Pass: strings.ToUpper(pass)}})
	if !strings.Contains(texts(r), "Shall we talk on Tuesday?") {
		t.Fatalf("the thread must show on the new device:\n%s", texts(r))
	}
	web.say("Tuesday is fine.")
	d.Send(ctx, anna, code, "See you then.")
	if got := web.inbox(); len(got) != 1 || !strings.Contains(got[0].Text, "See you then.") {
		t.Fatalf("the reply must reach the channel the student uses now: %v", got)
	}

	for range 6 {
		web.send(bot.Inbound{Receipt: &bot.Receipt{Code: code, Pass: "wrong-wrong-wrong-wrong"}})
	}
	r = web.send(bot.Inbound{Receipt: &bot.Receipt{Code: code, Pass: pass}})
	if !strings.Contains(texts(r), web.text("receipt.wait")) {
		t.Fatalf("after many wrong tries the code must be locked for a while:\n%s", texts(r))
	}
}

// TestForgetDeletesTheConversationsOwnOutbox: waiting counsellor messages for a web or
// console conversation go with /forget; nothing sealed is left behind for that student.
func TestForgetDeletesTheConversationsOwnOutbox(t *testing.T) {
	ctx := context.Background()
	e, store := newEngine(t)
	d := bottest.Desk(t, e, store, "anna")
	anna := account(t, d, "anna")
	s := newStudent(t, e, "en")
	code := handoff(t, s, "story")
	s.reply = bot.Address{Outbox: "web:" + s.key, Own: true}
	s.say("hello") // the case now answers to this conversation's own outbox
	d.Claim(ctx, anna, code)
	d.Send(ctx, anna, code, "waiting message")
	s.say("/forget")
	got, err := store.ReadOutbox(ctx, "web:"+s.key, "test", 10, 0)
	if err != nil || len(got) != 0 {
		t.Fatalf("the outbox must be gone after forget: %d left, %v", len(got), err)
	}
}
