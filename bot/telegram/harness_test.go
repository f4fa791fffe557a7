package telegram_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
	"intake/bot/bottest"
	"intake/bot/telegram"
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

// world is what replicas share: the fake Telegram, one Redis, the logs, the ids.
type world struct {
	t      *testing.T
	api    *fakeAPI
	client goredis.UniversalClient
	prefix string
	logs   *syncBuffer
	log    *slog.Logger
	names  *bot.Pseudonyms
	nextID atomic.Int64
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
	w := &world{t: t, api: newFakeAPI(t, testToken), client: client, prefix: prefix, logs: &syncBuffer{}, names: names}
	w.nextID.Store(5000)
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
	cfg := telegram.Config{Token: testToken, Mode: telegram.ModePoll, ServerURL: w.api.url(name), Replica: name}
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

// student is someone writing to the bot in a private chat (chat id = user id).
type student struct {
	w    *world
	id   int64
	lang string
}

func (w *world) student(id int64, lang string) *student {
	w.forbidden = append(w.forbidden, strconv.FormatInt(id, 10))
	return &student{w: w, id: id, lang: lang}
}

func (s *student) user() map[string]any {
	return map[string]any{"id": s.id, "is_bot": false, "first_name": canaryFirst, "last_name": canaryLast, "username": canaryUsername, "language_code": s.lang}
}

func (s *student) chat() map[string]any {
	return map[string]any{"id": s.id, "type": "private", "first_name": canaryFirst, "last_name": canaryLast, "username": canaryUsername}
}

// message is an update with a message from the student; extra fields are added to it.
func (s *student) message(text string, extra map[string]any) map[string]any {
	id := s.w.nextID.Add(1)
	m := map[string]any{"message_id": id, "date": time.Now().Unix(), "from": s.user(), "chat": s.chat()}
	if text != "" {
		m["text"] = text
		if strings.HasPrefix(text, "/") {
			cmd, _, _ := strings.Cut(text, " ")
			m["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": len(cmd)}}
		}
	}
	for k, v := range extra {
		m[k] = v
	}
	return map[string]any{"update_id": id, "message": m}
}

// tapUpdate is the update for tapping the button labelled label on the newest message
// that shows it.
func (s *student) tapUpdate(label string) map[string]any {
	s.w.t.Helper()
	msgs := s.w.api.messages(s.id)
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, b := range msgs[i].Buttons {
			if b.Text == label {
				return s.callback(msgs[i], b.Data, s.user())
			}
		}
	}
	s.w.t.Fatalf("no button %q in chat %d:\n%s", label, s.id, s.w.api.transcript())
	return nil
}

func (s *student) callback(m sentMsg, data string, from map[string]any) map[string]any {
	id := s.w.nextID.Add(1)
	chat := s.chat()
	if m.Chat < 0 {
		chat = map[string]any{"id": m.Chat, "type": "supergroup", "title": "Counsellors"}
	}
	return map[string]any{"update_id": id, "callback_query": map[string]any{
		"id": "cb" + strconv.FormatInt(id, 10), "from": from, "chat_instance": "42", "data": data,
		"message": map[string]any{"message_id": m.ID, "date": m.At.Unix(), "chat": chat, "text": m.Text},
	}}
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
func (s *student) send(update map[string]any, want string) {
	s.w.t.Helper()
	before := s.count(want)
	s.w.api.push(update)
	s.waitCount(want, before+1)
}

func (s *student) count(want string) int {
	s.w.api.mu.Lock()
	defer s.w.api.mu.Unlock()
	return s.w.api.countLocked(s.id, want)
}

func (s *student) waitCount(want string, n int) {
	s.w.t.Helper()
	s.w.api.wait(strconv.Itoa(n)+" messages with "+strconv.Quote(want)+" in chat "+strconv.FormatInt(s.id, 10), func() bool {
		return s.w.api.countLocked(s.id, want) >= n
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
	for _, m := range s.w.api.messages(s.id) {
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
