package discord_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
	"intake/bot/bottest"
	"intake/bot/discord"
	"intake/bot/limit"
	"intake/locales"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// Discord user ids of the people in the tests.
const (
	annaID     = "200000000000000021" // counsellor with a desk account
	ghostID    = "200000000000000022" // configured, but without a desk account
	bramID     = "200000000000000024" // counsellor with a desk account
	strangerID = "200000000000000023" // in the guild, not a counsellor
)

// world is one test's Discord, Redis, engine, desk and channel.
type world struct {
	t      *testing.T
	f      *fakeDiscord
	client goredis.UniversalClient
	prefix string
	store  *redis.Store
	engine *bot.Engine
	desk   *bot.Desk
	names  *bot.Pseudonyms
	cat    *locales.Catalog
	logs   *syncBuffer
	log    *slog.Logger
	turns  chan struct{}
	ids    atomic.Int64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, f: newFake(t), logs: &syncBuffer{}, turns: make(chan struct{}, 100)}
	w.log = slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w.client, w.prefix = redistest.Client(t)
	w.store = redis.New(w.client, redis.Options{Prefix: w.prefix})
	content := bottest.DefaultContent(t)
	e, err := bot.NewEngine(bot.Config{Sessions: w.store, Cases: w.store, Archive: w.store, Outbox: w.store, Keys: bottest.Keys(t), Logger: w.log}, content)
	if err != nil {
		t.Fatal(err)
	}
	w.engine = e
	w.cat = content.Catalog
	w.desk = bottest.Desk(t, e, w.store, "anna", "bram")
	w.names, err = bot.NewPseudonyms(bytes.Repeat([]byte{7}, bot.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	w.ids.Store(700000000000000000)
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("log:\n%s", w.logs.String())
		}
	})
	return w
}

func (w *world) config(replica string) discord.Config {
	return discord.Config{
		Token:             fakeToken,
		CounsellorChannel: staffRoom,
		Counsellors:       map[string]string{annaID: "anna", ghostID: "ghost", bramID: "bram"},
		DeskURL:           "https://desk.example/",
		Replica:           replica,
	}
}

func (w *world) deps(leases bot.Leases) discord.Deps {
	if leases == nil {
		leases = w.store
	}
	return discord.Deps{Engine: w.engine, Desk: w.desk, Names: w.names, Leases: leases, Announcements: w.store, Logger: w.log}
}

// channel makes a channel whose turns signal w.turns.
func (w *world) channel(cfg discord.Config, d discord.Deps) *discord.Channel {
	w.t.Helper()
	c, err := discord.New(cfg, d)
	if err != nil {
		w.t.Fatal(err)
	}
	discord.SetTimings(c, time.Second, 100*time.Millisecond, 200*time.Millisecond)
	// Tests drive a conversation faster than any student can; the rate limit has its own
	// tests (limit_test.go), which set the real one.
	discord.SetLanes(c, limit.LanesConfig{Rate: limit.Rate{Burst: 1000, Every: time.Millisecond}})
	discord.OnTurnDone(c, func() { w.turns <- struct{}{} })
	return c
}

// run runs c until the returned stop is called (or the test ends).
func (w *world) run(c *discord.Channel) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := c.Run(ctx); err != nil {
			w.t.Errorf("run: %v", err)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	w.t.Cleanup(stop)
	return stop
}

// start runs the usual channel and waits until it is connected.
func (w *world) start() *discord.Channel {
	w.t.Helper()
	c := w.channel(w.config("replica-1"), w.deps(nil))
	w.run(c)
	waitFor(w.t, "the gateway connection", func() bool { return discord.GatewayOpen(c) && w.f.connections() == 1 })
	return c
}

func (w *world) id() string { return fmt.Sprint(w.ids.Add(1)) }

func (w *world) waitTurn() {
	w.t.Helper()
	select {
	case <-w.turns:
	case <-time.After(15 * time.Second):
		w.t.Fatal("timed out waiting for a turn to finish")
	}
}

// en renders an English text by message id.
func (w *world) en(id string) string {
	w.t.Helper()
	s, err := w.cat.Text("en", id, map[string]any{})
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

// student is a Discord user writing to the bot in their DM channel.
type student struct {
	w      *world
	id, dm string
	locale string
	last   *fakeMsg // the latest bot message with buttons
	urgent bool     // the intake asks for urgent help
}

func (w *world) student(id, dm string) *student {
	return &student{w: w, id: id, dm: dm, locale: "en-GB"}
}

// turn is what the bot did in answer to one event.
type turn struct {
	calls    []call
	texts    []string // contents posted to the DM, in order
	callback *call    // the interaction response, if any
}

func (t turn) all() string { return strings.Join(t.texts, "\n") }

// finish waits for the turn and collects its calls.
func (s *student) finish(start int) turn {
	s.w.t.Helper()
	s.w.waitTurn()
	var r turn
	r.calls = s.w.f.since(start)
	for i := range r.calls {
		c := &r.calls[i]
		switch {
		case c.Status != 200 && c.Status != 204:
		case c.Method == "POST" && strings.HasPrefix(c.Path, "/api/v9/interactions/"):
			r.callback = c
		case c.Method == "POST" && c.Path == "/api/v9/channels/"+s.dm+"/messages",
			c.Method == "PATCH" && strings.HasPrefix(c.Path, "/api/v9/webhooks/"):
			content, _ := c.Body["content"].(string)
			r.texts = append(r.texts, content)
			if comps, _ := json.Marshal(c.Body["components"]); len(buttonsOf(comps)) > 0 {
				s.last = &fakeMsg{ID: s.w.id(), Channel: s.dm, Content: content, Components: comps}
			}
		}
	}
	return r
}

// say types text in the DM.
func (s *student) say(text string) turn {
	s.w.t.Helper()
	start := s.w.f.last()
	s.w.f.dispatch("MESSAGE_CREATE", s.message(text))
	return s.finish(start)
}

func (s *student) message(text string) map[string]any {
	return map[string]any{
		"id": s.w.id(), "channel_id": s.dm, "type": 0, "content": text, "author": user(s.id),
		"attachments": []any{}, "timestamp": "2026-12-05T03:00:00.000000+00:00",
	}
}

// command runs a slash command in the DM.
func (s *student) command(name string) turn {
	s.w.t.Helper()
	start := s.w.f.last()
	id := s.w.id()
	s.w.f.dispatch("INTERACTION_CREATE", map[string]any{
		"id": id, "application_id": appID, "type": 2, "token": "itoken-" + id, "version": 1,
		"channel_id": s.dm, "locale": s.locale, "user": user(s.id), "context": 1,
		"data": map[string]any{"id": "800000000000000008", "name": name, "type": 1},
	})
	r := s.finish(start)
	// Answered at once with "thinking", which the turn's first message then replaces.
	if r.callback == nil || r.callback.Body["type"] != float64(5) {
		s.w.t.Fatalf("slash command answered with %+v, want a deferred response (5)", r.callback)
	}
	for _, c := range r.calls {
		if (c.Method == "PATCH" || c.Method == "POST" && strings.Contains(c.Path, "/messages")) && c.Seq < r.callback.Seq {
			s.w.t.Errorf("a reply (call %d) went out before the interaction response (call %d)", c.Seq, r.callback.Seq)
		}
	}
	return r
}

// tap presses the button labelled with the English text of id on the latest message with
// buttons.
func (s *student) tap(id string) turn {
	s.w.t.Helper()
	want := s.w.en(id)
	if s.last == nil {
		s.w.t.Fatalf("tap %q: no message with buttons yet", want)
	}
	var data string
	var labels []string
	for _, b := range buttonsOf(s.last.Components) {
		labels = append(labels, b.Label)
		if b.Label == want {
			data = b.CustomID
		}
	}
	if data == "" {
		s.w.t.Fatalf("tap %q: no such button; buttons: %q", want, labels)
	}
	return s.press(data)
}

// press sends a button interaction for the latest message with buttons.
func (s *student) press(data string) turn {
	s.w.t.Helper()
	start := s.w.f.last()
	id := s.w.id()
	s.w.f.dispatch("INTERACTION_CREATE", map[string]any{
		"id": id, "application_id": appID, "type": 3, "token": "itoken-" + id, "version": 1,
		"channel_id": s.dm, "locale": s.locale, "user": user(s.id), "context": 1,
		"message": map[string]any{"id": s.last.ID, "channel_id": s.dm, "content": s.last.Content, "components": s.last.Components, "type": 0},
		"data":    map[string]any{"custom_id": data, "component_type": 2},
	})
	r := s.finish(start)
	s.w.checkAnsweredFirst(r)
	return r
}

// checkAnsweredFirst: a button press is answered (buttons disabled, the pressed one
// marked) before anything the turn sends.
func (w *world) checkAnsweredFirst(r turn) {
	w.t.Helper()
	if r.callback == nil {
		w.t.Fatal("button press not answered")
	}
	if typ, _ := r.callback.Body["type"].(float64); typ != 7 {
		w.t.Errorf("button press answered with type %v, want 7 (update message)", r.callback.Body["type"])
	}
	for _, c := range r.calls {
		if c.Method == "POST" && strings.Contains(c.Path, "/messages") && c.Seq < r.callback.Seq {
			w.t.Errorf("a reply (call %d) went out before the interaction response (call %d)", c.Seq, r.callback.Seq)
		}
	}
	data, _ := r.callback.Body["data"].(map[string]any)
	comps, _ := json.Marshal(data["components"])
	marked := 0
	for _, b := range buttonsOf(comps) {
		if !b.Disabled {
			w.t.Errorf("button %q still enabled after the press", b.Label)
		}
		if b.Style == 3 {
			marked++
		}
	}
	if marked != 1 {
		w.t.Errorf("%d buttons marked as pressed, want 1", marked)
	}
}

type button struct {
	Label    string `json:"label"`
	Style    int    `json:"style"`
	CustomID string `json:"custom_id"`
	Disabled bool   `json:"disabled"`
}

func buttonsOf(components []byte) []button {
	var rows []struct {
		Components []button `json:"components"`
	}
	_ = json.Unmarshal(components, &rows)
	var out []button
	for _, r := range rows {
		out = append(out, r.Components...)
	}
	return out
}

var caseCode = regexp.MustCompile(`\b[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\b`)

// story has every character Discord's markdown would act on.
const story = "They wrote *stars*, _under_ ~tilde~ |bars| > quote `code` and \\slash in the group chat."

// intake runs a whole intake in English to a handoff and returns the case code.
func (s *student) intake() string {
	s.w.t.Helper()
	r := s.command("start")
	if !strings.Contains(r.all(), "Social Safety Team") {
		s.w.t.Fatalf("no English greeting after /start: %q", r.texts)
	}
	for _, id := range []string{"menu.report", "category.discrimination", "relation.student_student", "reporter.self"} {
		s.tap(id)
	}
	s.say(story)
	urgency := "urgency.no"
	if s.urgent {
		urgency = "urgency.yes"
	}
	for _, id := range []string{"profile.no", "outcome.advice", "contact.chat", urgency} {
		s.tap(id)
	}
	r = s.tap("summary.confirm_talk")
	code := caseCode.FindString(r.all())
	if code == "" {
		s.w.t.Fatalf("no case code in the receipt: %q", r.texts)
	}
	return code
}

// postsTo returns the messages posted to a channel so far.
func (w *world) postsTo(channel string) []call {
	var out []call
	for _, c := range w.f.since(0) {
		if c.Method == "POST" && c.Path == "/api/v9/channels/"+channel+"/messages" && c.Status == 200 {
			out = append(out, c)
		}
	}
	return out
}

func content(c call) string {
	s, _ := c.Body["content"].(string)
	return s
}

// syncBuffer is an output read while the channel writes to it.
type syncBuffer = bottest.Screen
