package telegram_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
	"intake/bot/bottest"
	"intake/bot/limit"
	"intake/bot/telegram"
	"intake/bot/telegram/telegramtest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

const (
	testToken  = "123456789:AAFakeTokenForTestsOnly_abcdefghijklm"
	testSecret = "webhook-secret-for-tests-0123456789"
	group      = int64(-1001234567890)
	counsellor = int64(4242)    // Telegram user id of the counsellor "anna"
	stranger   = int64(9999999) // a group member who is not a counsellor
	ghost      = int64(4343)    // configured, but "ghost" has no desk account
	deskURL    = "https://intake.example/desk/"
)

// Canaries are planted in every update: none may ever reach Redis or a log.
const (
	canaryFirst    = "Canaryfirstname"
	canaryLast     = "Canarylastname"
	canaryUsername = "canary_username"
	canaryPhone    = "+31687654321"
	canaryCaption  = "Canary caption on a photo"
)

// syncBuffer is an output read while the channel writes to it.
type syncBuffer = bottest.Screen

// world is what replicas share: the fake Telegram, one Redis, the logs.
type world struct {
	t      *testing.T
	api    *telegramtest.Server
	client goredis.UniversalClient
	prefix string
	logs   *syncBuffer
	log    *slog.Logger
	names  *bot.Pseudonyms
	// secrets and ids that must never show up in logs or Redis.
	forbidden []string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	client, prefix := redistest.Client(t)
	names, err := bot.NewPseudonyms(bytes.Repeat([]byte{7}, bot.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	api := telegramtest.NewServer(testToken)
	t.Cleanup(api.Close)
	w := &world{t: t, api: api, client: client, prefix: prefix, logs: &syncBuffer{}, names: names}
	// Tests drive a conversation faster than any student can; the rate limit has its own
	// tests (limit_test.go), which set the real one.
	telegram.SetLanes(t, limit.LanesConfig{Rate: limit.Rate{Burst: 1000, Every: time.Millisecond}})
	w.log = slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The engine and the desk log to the default logger: capture theirs too, and check it.
	old := slog.Default()
	slog.SetDefault(w.log)
	t.Cleanup(func() { slog.SetDefault(old) })
	w.forbidden = []string{testToken, strings.Split(testToken, ":")[1], testSecret, canaryFirst, canaryLast, canaryUsername, canaryPhone, "31687654321", canaryCaption}
	// Registered first, so it runs last: after every replica stopped.
	t.Cleanup(func() {
		logs := w.logs.String()
		if os.Getenv("TG_TEST_LOGS") != "" {
			t.Log(logs)
		}
		for _, s := range w.forbidden {
			if strings.Contains(logs, s) {
				t.Errorf("log contains %q:\n%s", s, logs)
			}
		}
	})
	return w
}

// wait blocks until cond holds, failing the test with what the bot sent after a while.
func (w *world) wait(what string, cond func() bool) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := w.api.Wait(ctx, cond); err != nil {
		w.t.Fatalf("timed out waiting for %s\nmessages sent:\n%s\ncalls:\n%s", what, w.api.Transcript(), w.api.CallLog())
	}
}

// tapAndAnswer pushes a callback query update and returns the bot's answer to it.
func (w *world) tapAndAnswer(update telegramtest.Update) telegramtest.Answer {
	w.t.Helper()
	id := update["callback_query"].(map[string]any)["id"].(string)
	w.api.Push(update)
	var a telegramtest.Answer
	w.wait("the answer to tap "+id, func() bool {
		for _, x := range w.api.Answers() {
			if x.ID == id {
				a = x
				return true
			}
		}
		return false
	})
	return a
}

// replica is one intake replica with its Telegram channel.
type replica struct {
	name   string
	client goredis.UniversalClient
	store  *redis.Store
	engine *bot.Engine
	desk   *bot.Desk
	ch     *telegram.Channel
	cancel context.CancelFunc
	done   chan error
}

type option func(*telegram.Config)

func webhook(c *telegram.Config) { c.Mode = telegram.ModeWebhook; c.WebhookSecret = testSecret }

func withGroup(c *telegram.Config) {
	c.CounsellorGroup = group
	c.Counsellors = map[int64]string{counsellor: "anna", ghost: "ghost"}
	c.DeskURL = deskURL
}

// replica starts a replica named name (its consumer and lease holder name).
func (w *world) replica(name string, opts ...option) *replica {
	w.t.Helper()
	client := redistest.Another(w.t, w.client)
	store := redis.New(client, redis.Options{Prefix: w.prefix})
	e := bottest.EngineOn(w.t, store, bottest.DefaultContent(w.t))
	r := &replica{name: name, client: client, store: store, engine: e, desk: bottest.Desk(w.t, e, store, "anna")}
	// "typing…" at once, so tests can count one per update; TestQuickTurnsShowNoTyping
	// tests the delay.
	cfg := telegram.Config{Token: testToken, Mode: telegram.ModePoll, ServerURL: w.api.ReplicaURL(name), Replica: name, TypingDelay: -1}
	for _, o := range opts {
		o(&cfg)
	}
	ch, err := telegram.New(cfg, telegram.Deps{Engine: e, Desk: r.desk, Names: w.names, Leases: store, Announcements: store, Logger: w.log})
	if err != nil {
		w.t.Fatal(err)
	}
	telegram.SetTiming(ch, 2*time.Second, 100*time.Millisecond, 200*time.Millisecond)
	r.ch = ch
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- ch.Run(ctx) }()
	w.t.Cleanup(func() { r.stop(w.t) })
	return r
}

// stop cancels the replica's Run and waits for it to return.
func (r *replica) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("replica %s: Run: %v", r.name, err)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("replica %s: Run did not return after its context ended", r.name)
	}
	r.cancel = nil
}

// student is someone writing to the bot in a private chat (chat id = user id), with
// canaries for names in every update.
type student struct {
	w    *world
	id   int64
	user telegramtest.User
}

func (w *world) student(id int64, lang string) *student {
	w.forbidden = append(w.forbidden, strconv.FormatInt(id, 10))
	return &student{w: w, id: id, user: member(id, lang)}
}

// member is a Telegram account with canary names.
func member(id int64, lang string) telegramtest.User {
	return telegramtest.User{ID: id, Lang: lang, FirstName: canaryFirst, LastName: canaryLast, Username: canaryUsername}
}

// message is an update with a message from the student; extra fields are added to it.
func (s *student) message(text string, extra map[string]any) telegramtest.Update {
	u := s.w.api.TextUpdate(s.user, text)
	m := u["message"].(map[string]any)
	for k, v := range extra {
		m[k] = v
	}
	return u
}

// tapUpdate is the update for tapping the button labelled label on the newest message
// that shows it.
func (s *student) tapUpdate(label string) telegramtest.Update {
	s.w.t.Helper()
	msgs := s.w.api.Messages(s.id)
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, b := range msgs[i].Buttons {
			if b.Text == label {
				return s.w.api.TapUpdate(s.user, msgs[i], b.Data)
			}
		}
	}
	s.w.t.Fatalf("no button %q in chat %d:\n%s", label, s.id, s.w.api.Transcript())
	return nil
}

// say sends text and waits until the bot sent something containing want.
func (s *student) say(text, want string) {
	s.w.t.Helper()
	s.send(s.message(text, nil), want)
}

// tap taps a button and waits until the bot sent something containing want.
func (s *student) tap(label, want string) {
	s.w.t.Helper()
	s.send(s.tapUpdate(label), want)
}

// send delivers an update by getUpdates and waits for a new message containing want.
func (s *student) send(update telegramtest.Update, want string) {
	s.w.t.Helper()
	before := s.count(want)
	s.w.api.Push(update)
	s.waitCount(want, before+1)
}

func (s *student) count(want string) int { return s.w.api.Count(s.id, want) }

func (s *student) waitCount(want string, n int) {
	s.w.t.Helper()
	s.w.wait(strconv.Itoa(n)+" messages with "+strconv.Quote(want)+" in chat "+strconv.FormatInt(s.id, 10), func() bool {
		return s.w.api.Count(s.id, want) >= n
	})
}

// English texts of the default flow the tests look for.
const (
	greeting    = "What would you like to do?"
	categoryQ   = "What was it about?"
	whoQ        = "Who did it?"
	whomQ       = "Did this happen to you"
	storyQ      = "in your own words"
	profileQ    = "Two optional questions about you"
	outcomeQ    = "What would you like to happen now?"
	contactQ    = "How would you like to talk with the counsellor?"
	urgentQ     = "Do you need to talk to someone soon"
	summaryQ    = "This is what you told me"
	receipt     = "Your case code:"
	theStory    = "In our project group they keep making jokes about my headscarf."
	textOnlyEN  = "I can only read text"
	claimedText = "has picked up your report"
)

// intake runs a whole intake through buttons and text, ending in a handoff, and returns
// the case code.
func (s *student) intake() string { return s.intakeUrgency("No, it can wait") }

// intakeUrgency is intake with the answer to "do you need someone soon?".
func (s *student) intakeUrgency(answer string) string {
	s.w.t.Helper()
	s.say("/start", greeting)
	s.tap("I want to report something", categoryQ)
	s.tap("Discrimination", whoQ)
	s.tap("Another student", whomQ)
	s.tap("It happened to me", storyQ)
	s.say(theStory, profileQ)
	s.tap("No, skip these", outcomeQ)
	s.tap("Help to talk with the other person", contactQ)
	s.tap("Here in the chat", urgentQ)
	s.tap(answer, summaryQ)
	s.tap("Yes, send it to a counsellor", receipt)
	return s.caseCode()
}

var codePattern = regexp.MustCompile(`[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}`)

func (s *student) caseCode() string {
	s.w.t.Helper()
	for _, m := range s.w.api.Messages(s.id) {
		if strings.Contains(m.Text, receipt) {
			if code := codePattern.FindString(m.Text); code != "" {
				return code
			}
		}
	}
	s.w.t.Fatal("no case code in the chat")
	return ""
}

// account returns a desk account of the replica's desk.
func (r *replica) account(t *testing.T, name string) *bot.Account {
	t.Helper()
	acc, err := r.desk.Account(context.Background(), name)
	if err != nil || acc == nil {
		t.Fatalf("account %s: %v", name, err)
	}
	return acc
}

// eventually polls cond until it holds, failing after a while.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
