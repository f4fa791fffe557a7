package web_test

import (
	"context"
	"html"
	stdlog "log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/bottest"
	"intake/bot/web"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// Canaries of the forced-panic test: what a student may give away about themselves.
const (
	canaryIP       = "203.0.113.77"
	canaryUsername = "canary_username_q7"
	canaryPhone    = "+31687654321"
	canaryStory    = "CANARY my supervisor locked the door of room 4.021"
)

// TestPanicsLeakNothing: a chat turn that panics with the story in hand, a chat request
// whose handler panics with the student's address in hand, and a desk page that panics
// while a case's thread is read all answer with a calm page (the chat's with the
// emergency number), and none of the canaries (the address, a username, a phone number,
// the story, the session secret) is in the pages, the service's log at debug level, the
// HTTP server's own log, or Redis.
func TestPanicsLeakNothing(t *testing.T) {
	client, prefix := redistest.Client(t)
	store := &bottest.PanickyStore{Store: redis.New(client, redis.Options{Prefix: prefix})}
	log, logs := bottest.DebugLog()
	e := bottest.LoggedEngine(t, store, log)
	d := bot.NewDesk(bot.DeskConfig{Cases: store, Accounts: store, Outbox: store, Engine: e, Keys: bottest.Keys(t), Logger: log})
	if err := d.AddAccount(context.Background(), "anna", bot.RoleCounsellor, bottest.Password("anna")); err != nil {
		t.Fatal(err)
	}
	names, err := bot.NewPseudonyms([]byte("a pepper for the chat tests, 32+ bytes"))
	if err != nil {
		t.Fatal(err)
	}
	var panicNext atomic.Pointer[string]
	mux := http.NewServeMux()
	mux.Handle("/desk/", web.NewDesk(d, web.DeskOptions{Logger: log}))
	mux.Handle("/", web.NewChat(e, names, web.ChatOptions{
		Logger: log, ReceiptDelay: time.Millisecond,
		PerIP:           web.Limit{Burst: 1000, Every: time.Millisecond},
		PerConversation: web.Limit{Burst: 1000, Every: time.Millisecond},
		ClientIP: func(*http.Request) string {
			if v := panicNext.Swap(nil); v != nil {
				panic(*v) // a bug in the proxy-header parsing, with the address in hand
			}
			return canaryIP
		},
	}))
	srv := httptest.NewUnstartedServer(mux)
	serverLog := &bottest.Screen{}
	srv.Config.ErrorLog = stdlog.New(serverLog, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	f := &chatFixture{t: t, e: e, store: store.Store, client: client, prefix: prefix, d: d, srv: srv, logs: logs}

	v := f.visitor("en")
	v.open()
	canaries := bottest.NewCanaries(canaryIP, canaryUsername, canaryPhone, canaryStory, v.cookie())
	for _, id := range []string{"menu.report", "category.stalking", "relation.student_student", "reporter.self"} {
		v.tap(id)
	}
	v.say(canaryStory + ". I am " + canaryUsername + ", call me on " + canaryPhone + ".")
	for _, id := range []string{"profile.no", "outcome.advice", "contact.chat", "urgency.no"} {
		v.tap(id)
	}
	calm := v.text("engine.error")
	pages := map[string]string{}

	// The turn that sends the report panics while the story is being stored.
	store.Arm(canaries.Panic())
	pages["the page after a panicking turn"] = v.tap("summary.confirm_talk")
	if !strings.Contains(html.UnescapeString(pages["the page after a panicking turn"]), calm) {
		t.Errorf("no calm error with 112 after a panicking turn:\n%s", v.page)
	}
	v.say("/help") // the conversation is not left locked, and the report can be sent
	if page := v.tap("summary.confirm_talk"); !strings.Contains(page, `class="code"`) {
		t.Errorf("no receipt after the panic:\n%s", page)
	}

	// A request whose handler panics with the address in hand.
	boom := canaries.Panic()
	panicNext.Store(&boom)
	resp, page := v.get("/")
	pages["the page of a panicking request"] = page
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(html.UnescapeString(page), calm) {
		t.Errorf("a panicking request got status %d and no calm error with 112:\n%s", resp.StatusCode, page)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/chat/say", strings.NewReader("text=x"))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	panicNext.Store(&boom)
	resp, page = v.do(req)
	pages["the script's answer to a panicking request"] = page
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(page, "112") {
		t.Errorf("a panicking request from the script got status %d and no 112: %s", resp.StatusCode, page)
	}

	// A counsellor's case page panics while the thread of her case is read.
	df := &deskFixture{t: t, e: e, store: store.Store, d: d, srv: srv}
	b := df.login("anna")
	code := caseCodeOf(t, f)
	if err := d.Claim(context.Background(), f.anna(), code); err != nil {
		t.Fatal(err)
	}
	store.Arm(canaries.Panic())
	status, page := b.get("/desk/case/" + code)
	pages["the desk page of a panicking request"] = page
	if status != http.StatusInternalServerError || !strings.Contains(page, "Something went wrong") {
		t.Errorf("a panicking desk page got status %d:\n%s", status, page)
	}

	for where, page := range pages {
		canaries.Check(t, where, page)
	}
	for _, want := range []string{"turn panicked", "chat request panicked", "desk request panicked"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("%q not logged", want)
		}
	}
	canaries.Check(t, "the service's log", logs.String())
	canaries.Check(t, "the HTTP server's log", serverLog.String())
	canaries.CheckRedis(t, client, prefix)
}

// caseCodeOf returns the code of the one case waiting in the queue.
func caseCodeOf(t *testing.T, f *chatFixture) string {
	t.Helper()
	codes, err := f.store.PendingCases(context.Background())
	if err != nil || len(codes) != 1 {
		t.Fatalf("pending cases %v, %v; want one", codes, err)
	}
	return codes[0]
}
