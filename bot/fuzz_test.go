package bot_test

import (
	"context"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"intake/bot"
	"intake/bot/bottest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// The fuzzers here send forged input through real engine turns: button payloads, receipts
// and commands are what anyone can put into a Telegram callback, a Discord custom id or a
// web form. Each plays a student who forges anything, next to a victim whose case a
// counsellor claimed and proposed times for, and checks after every turn that the forger
// got a sensible reply and that the victim's conversation and case are exactly as they were.

// victimStory is the victim's story; it must never reach anyone else.
const victimStory = "FUZZVICTIM the lab assistant follows me home every evening"

// Reply bounds: the longest reply of the default flow is the summary with a long story,
// well under these.
const (
	maxReplyMessages = 12
	maxReplyBytes    = 24 << 10
)

type fuzzWorld struct {
	e     *bot.Engine
	store *redis.Store
	logs  *bottest.Screen
	// The victim and what the forger may know of their case (its code, the proposal's id),
	// and what it must never see (the passphrase, the story).
	victim               *student
	code, pass, proposal string
	before               victimState
	n                    atomic.Int64
}

// victimState is everything a forged turn could change of the victim, as stored.
type victimState struct {
	session *bot.Session
	c       *bot.Case
	entries int
}

// newFuzzWorld builds the engine and the victim once per fuzzing process. The engine has
// no account store, so receipt attempts are not rate limited: whether a receipt links
// must not depend on how many wrong ones came before (the limit has its own test).
func newFuzzWorld(f *testing.F) *fuzzWorld {
	f.Helper()
	store := redistest.New(f, redis.Options{})
	logs := &bottest.Screen{}
	cfg := bot.Config{
		Sessions: store, Cases: store, Archive: store, Outbox: store, Keys: bottest.Keys(f),
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		// A still clock: two turns with the same input give the same reply.
		Now: func() time.Time { return bottest.Night },
	}
	e, err := bot.NewEngine(cfg, bottest.DefaultContent(f))
	if err != nil {
		f.Fatal(err)
	}
	w := &fuzzWorld{e: e, store: store, logs: logs}
	v := newStudent(f, e, "en")
	v.key, v.reply = "victim", bot.Address{Outbox: "test:victim"}
	v.open()
	for _, id := range []string{"menu.report", "category.stalking", "relation.student_student", "reporter.self"} {
		v.tap(id)
	}
	v.say(victimStory)
	for _, id := range []string{"profile.no", "outcome.advice", "contact.chat", "urgency.no", "summary.confirm_talk"} {
		v.tap(id)
	}
	sess := v.session()
	w.victim, w.code, w.pass = v, sess.CaseCode, sess.Pass
	if w.code == "" || w.pass == "" {
		f.Fatal("the victim has no receipt")
	}
	ctx := context.Background()
	desk := bottest.Desk(f, e, store, "anna")
	anna, err := desk.Account(ctx, "anna")
	if err != nil {
		f.Fatal(err)
	}
	if err := desk.Claim(ctx, anna, w.code); err != nil {
		f.Fatal(err)
	}
	later := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Hour)
	slots := []bot.Slot{{Form: "phone", Start: later, Minutes: 30}, {Form: "teams", Start: later.Add(24 * time.Hour), Minutes: 45}}
	if err := desk.Propose(ctx, anna, w.code, slots); err != nil {
		f.Fatal(err)
	}
	det, err := desk.Case(ctx, anna, w.code)
	if err != nil || det.Proposal == nil {
		f.Fatalf("the victim's case has no proposal: %v", err)
	}
	w.proposal = det.Proposal.ID
	w.before = w.victimNow(f)
	return w
}

func (w *fuzzWorld) victimNow(t testing.TB) victimState {
	t.Helper()
	ctx := context.Background()
	sess, err := w.e.Session(ctx, w.victim.key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := w.store.GetCase(ctx, w.code)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := w.store.Entries(ctx, w.code)
	if err != nil {
		t.Fatal(err)
	}
	return victimState{session: sess, c: c, entries: len(entries)}
}

// forger is a new student, in its own conversation, for one fuzz input.
func (w *fuzzWorld) forger(t *testing.T) *student {
	s := newStudent(t, w.e, "en")
	s.key = "forger-" + strconv.FormatInt(w.n.Add(1), 10)
	return s
}

// expand puts what a forger could learn of the victim's case (its code, e.g. read over a
// shoulder, and the proposal's id) and the forger's own question number into a payload.
func (w *fuzzWorld) expand(s *student, payload string) string {
	seq := 0
	if sess := s.session(); sess != nil {
		seq = sess.Seq
	}
	return strings.NewReplacer("{code}", w.code, "{prop}", w.proposal, "{seq}", strconv.Itoa(seq)).Replace(payload)
}

// turn sends in as the forger and checks what every turn must be: no error, a reply with
// words in it, bounded, nothing of the victim's in it, and nothing of the input in the log.
func (w *fuzzWorld) turn(t *testing.T, s *student, in bot.Inbound) bot.Reply {
	t.Helper()
	in.Channel, in.Key, in.LangHint, in.Reply = "test", s.key, s.lang, s.reply
	logged := len(w.logs.String())
	r, err := w.e.Handle(context.Background(), in)
	if err != nil {
		t.Fatalf("turn %+v failed: %v", in, err)
	}
	s.last = r
	checkReply(t, r)
	input := in.Text + in.Data
	if in.Receipt != nil {
		input = in.Receipt.Code + in.Receipt.Pass
	}
	all := replyText(r)
	if strings.Contains(all, w.pass) || strings.Contains(all, victimStory) {
		t.Fatalf("the forger's reply shows the victim's passphrase or story:\n%s", all)
	}
	if strings.Contains(all, w.code) && !strings.Contains(input, w.code) {
		t.Fatalf("the forger's reply shows the victim's case code:\n%s", all)
	}
	if log := w.logs.String()[logged:]; distinctive(input) && strings.Contains(log, input) {
		t.Fatalf("the input %q is in the log:\n%s", input, log)
	}
	return r
}

// checkVictim fails unless the victim's conversation and case are as they were.
func (w *fuzzWorld) checkVictim(t *testing.T) {
	t.Helper()
	now := w.victimNow(t)
	if !reflect.DeepEqual(now.session, w.before.session) {
		t.Fatalf("the victim's conversation changed:\nbefore %+v\nafter  %+v", w.before.session, now.session)
	}
	if !reflect.DeepEqual(now.c, w.before.c) {
		t.Fatalf("the victim's case changed:\nbefore %+v\nafter  %+v", w.before.c, now.c)
	}
	if now.entries != w.before.entries {
		t.Fatalf("the victim's thread has %d entries, had %d", now.entries, w.before.entries)
	}
}

// checkReply: at least one message, every message with text (Telegram and Discord cannot
// send buttons without words), no broken template, and bounded.
func checkReply(t *testing.T, r bot.Reply) {
	t.Helper()
	if len(r.Messages) == 0 || len(r.Messages) > maxReplyMessages {
		t.Fatalf("reply has %d messages, want 1 to %d", len(r.Messages), maxReplyMessages)
	}
	size := 0
	for _, m := range r.Messages {
		if strings.TrimSpace(m.Text) == "" {
			t.Fatalf("a message without text (buttons %v) in %+v", m.Buttons, r.Messages)
		}
		if strings.Contains(m.Text, "<no value>") {
			t.Fatalf("broken template: %q", m.Text)
		}
		size += len(m.Text)
		for _, b := range m.Buttons {
			size += len(b.Label) + len(b.Data)
			if b.Label == "" || b.Data == "" || len(b.Data) > 64 {
				t.Fatalf("button %+v: needs a label and at most 64 bytes of data (Telegram's limit)", b)
			}
		}
	}
	if size > maxReplyBytes {
		t.Fatalf("reply of %d bytes, more than %d", size, maxReplyBytes)
	}
}

func replyText(r bot.Reply) string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString(m.Text)
		b.WriteString("\n")
		for _, x := range m.Buttons {
			b.WriteString(x.Label + " " + x.Data + "\n")
		}
	}
	return b.String()
}

// distinctive reports whether an input is long enough that finding it in a log cannot be
// chance ("en" or "1" are in any log).
func distinctive(s string) bool { return len(strings.TrimSpace(s)) >= 8 }

// FuzzButtonData: a forged button payload (one per line, the forger's own question number
// and the victim's case code and proposal id available as {seq}, {code}, {prop}) never
// fails a turn, always gets a reply in words, and never answers, books, declines or reads
// anything of the victim's case or conversation.
func FuzzButtonData(f *testing.F) {
	for _, seed := range []string{
		"{seq}:o:0", "{seq}:o:0\n{seq}:o:1\n{seq}:o:0\n{seq}:o:0\n{seq}:s", "{seq}:o:-1", "{seq}:o:99999999999999999999",
		"{seq}:h", "{seq}:hd:0", "{seq}:hd:x", "{seq}:hb", "{seq}:s", "{seq}:r", "{seq}:l:de", "0:l:en", "{seq}:zz:1",
		"c:{code}:{prop}:0", "c:{code}:{prop}:x", "c:{code}:{prop}:-1", "c:{code}::0", "c:{code}:{prop}", "c:::",
		"g:forget", "g:case", "g:urgent", "g:start@bot", "g:", "g:unsafe", "g:language nl",
		"1", ":", "::", "-1:o:0", "+1:o:0", "1:o:0:0", "\xff:o", strings.Repeat("9", 80) + ":o:1",
	} {
		f.Add(seed)
	}
	w := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, payloads string) {
		s := w.forger(t)
		w.turn(t, s, bot.Inbound{Open: true})
		for i, line := range strings.Split(payloads, "\n") {
			if i == 8 {
				break
			}
			data := w.expand(s, line)
			if data == "" {
				continue
			}
			w.turn(t, s, bot.Inbound{Data: data})
			if sess := s.session(); sess != nil && sess.CaseCode == w.code {
				t.Fatalf("the forger's conversation took the victim's case after %q", data)
			}
			w.checkVictim(t)
		}
	})
}

// FuzzReceipt: a receipt typed on any channel links the conversation to the case exactly
// when its code and passphrase are the real ones, give or take spaces around them and
// upper or lower case; anything else gets the same calm refusal and shows nothing of the
// case. {code} and {pass} stand for the victim's real ones.
func FuzzReceipt(f *testing.F) {
	for _, seed := range [][2]string{
		{"{code}", "{pass}"}, {" {code}\t", "\n{pass} "}, {"{code}", "{pass}x"}, {"{code}", ""},
		{"{code}", "{code}"}, {"K7Q2-M9XD", "abcd-efgh-jkmn-pqrs"}, {"", ""}, {"k7q2m9xd", "x"},
		{"{code}-", "{pass}"}, {"\xff\xfe", "\x00"}, {strings.Repeat("A", 64), strings.Repeat("b", 64)},
	} {
		f.Add(seed[0], seed[1], false)
		f.Add(seed[0], seed[1], true)
	}
	w := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, code, pass string, opened bool) {
		s := w.forger(t)
		if opened {
			w.turn(t, s, bot.Inbound{Open: true})
		}
		expand := strings.NewReplacer("{code}", w.code, "{pass}", w.pass)
		code, pass = expand.Replace(code), expand.Replace(pass)
		in := bot.Inbound{Receipt: &bot.Receipt{Code: code, Pass: pass}}
		in.Channel, in.Key, in.LangHint = "test", s.key, s.lang
		logged := len(w.logs.String())
		r, err := w.e.Handle(context.Background(), in)
		if err != nil {
			t.Fatalf("receipt turn failed: %v", err)
		}
		checkReply(t, r)
		if log := w.logs.String()[logged:]; (distinctive(code) && strings.Contains(log, code)) || (distinctive(pass) && strings.Contains(log, pass)) {
			t.Fatalf("the receipt is in the log:\n%s", log)
		}
		want := strings.ToUpper(strings.TrimSpace(code)) == w.code && strings.ToLower(strings.TrimSpace(pass)) == w.pass
		sess := s.session()
		linked := sess != nil && sess.CaseCode != ""
		switch {
		case linked != want:
			t.Fatalf("receipt %q / %q: linked %v, want %v", code, pass, linked, want)
		case linked && (sess.CaseCode != w.code || sess.Pass != w.pass):
			t.Fatalf("linked to %q with %q, want the victim's receipt", sess.CaseCode, sess.Pass)
		case !linked && strings.Contains(replyText(r), w.pass):
			t.Fatalf("a refused receipt shows the passphrase:\n%s", replyText(r))
		}
		w.checkVictim(t)
	})
}

// FuzzCommand: any "/..." gets an answer in words, also as the first message of a
// conversation; an unknown command is repeated back
// at most maxEcho characters long, its argument never; "/cmd@somebot" (Telegram in
// groups) does what "/cmd" does.
func FuzzCommand(f *testing.F) {
	for _, seed := range []string{
		"/start", "/help", "/back", "/stop", "/forget", "/language", "/language Nederlands", "/urgent",
		"/case", "/safe", "/unsafe", "/START@intake_bot", "/help@bot extra words", "/language@x en",
		"/", "//", "/@", "/ @bot", "/frobnicate " + strings.Repeat("secret ", 20), "/" + strings.Repeat("x", 100),
		"/\xff", "/case\u00a0now", "/forget\nnow", "/bаck", // Cyrillic а
	} {
		f.Add(seed)
	}
	w := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, text string) {
		if !strings.HasPrefix(text, "/") {
			text = "/" + text
		}
		s := w.forger(t)
		w.turn(t, s, bot.Inbound{Open: true})
		r := w.turn(t, s, bot.Inbound{Text: text})
		all := replyText(r)
		word, arg, _ := strings.Cut(strings.TrimSpace(text), " ")
		if utf8.RuneCountInString(word) > 40 && strings.Contains(all, word) {
			t.Fatalf("the whole command %q is repeated back", word)
		}
		if arg = strings.TrimSpace(arg); utf8.RuneCountInString(arg) >= 16 && strings.Contains(withoutEcho(all, word), arg) {
			// The argument may also be words the bot says anyway ("/x Sorry, I
			// don't..."): only more occurrences than the bare command gets are an echo.
			s0 := w.forger(t)
			w.turn(t, s0, bot.Inbound{Open: true})
			bare := replyText(w.turn(t, s0, bot.Inbound{Text: word}))
			if strings.Count(withoutEcho(all, word), arg) > strings.Count(withoutEcho(bare, word), arg) {
				t.Fatalf("the argument %q is repeated back", arg)
			}
		}
		w.checkVictim(t)

		// The same text, and the text without its slash, opening a conversation whose
		// platform gave no language (a typed Discord message): answered all the same.
		for _, opening := range []string{text, strings.TrimPrefix(text, "/")} {
			first := w.forger(t)
			first.lang = ""
			w.turn(t, first, bot.Inbound{Text: opening})
		}
		w.checkVictim(t)

		// "/cmd@bot rest" answers as "/cmd rest" does, for every command there is.
		name, botName, hasBot := strings.Cut(strings.TrimPrefix(word, "/"), "@")
		if !hasBot || !isCommand(strings.ToLower(name)) || !utf8.ValidString(text) || botName == "" {
			return
		}
		plain := strings.Replace(text, "@"+botName, "", 1)
		s2 := w.forger(t)
		w.turn(t, s2, bot.Inbound{Open: true})
		r2 := w.turn(t, s2, bot.Inbound{Text: plain})
		if got, want := replyText(r), replyText(r2); got != want {
			t.Fatalf("%q answered\n%s\nbut %q answered\n%s", text, got, plain, want)
		}
	})
}

// withoutEcho removes the repeated-back command word (at most maxEcho runes of it), so
// an argument that happens to be part of the word ("/xxxxxxxxxxxxxxxxx xxxx...") is not
// mistaken for the argument being repeated.
func withoutEcho(reply, word string) string {
	if r := []rune(word); len(r) > 32 {
		word = string(r[:32])
	}
	return strings.ReplaceAll(reply, word, "")
}

func isCommand(name string) bool {
	for _, c := range bot.Commands {
		if c == name {
			return true
		}
	}
	return false
}
