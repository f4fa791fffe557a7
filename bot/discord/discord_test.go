package discord_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/discord"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// TestDMConversation: a student runs the whole intake in a DM with slash commands, buttons
// and text, a counsellor's message from the desk arrives through the outbox, and the
// student's answer lands in the case thread.
func TestDMConversation(t *testing.T) {
	w := newWorld(t)
	w.start()
	s := w.student("200000000000000042", "600000000000000061")

	code := s.intake()

	// The global commands became slash commands, for DMs with the bot only.
	var cmds []struct {
		Name        string            `json:"name"`
		Description string            `json:"description"`
		Localized   map[string]string `json:"description_localizations"`
		Contexts    []int             `json:"contexts"`
	}
	for _, c := range w.f.since(0) {
		if c.Method == "PUT" && c.Path == "/api/v9/applications/"+appID+"/commands" {
			if err := json.Unmarshal(c.Raw, &cmds); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(cmds) != len(bot.Commands) {
		t.Fatalf("%d slash commands set, want %d", len(cmds), len(bot.Commands))
	}
	for i, c := range cmds {
		if c.Name != bot.Commands[i] || c.Description == "" || c.Localized["nl"] == "" || len(c.Contexts) != 1 || c.Contexts[0] != 1 {
			t.Errorf("slash command %d: %+v", i, c)
		}
	}

	// Typed text gets the typing indicator before the reply.
	r := s.say("/help")
	typing, reply := 0, 0
	for _, c := range r.calls {
		switch {
		case c.Path == "/api/v9/channels/"+s.dm+"/typing" && typing == 0:
			typing = c.Seq
		case c.Path == "/api/v9/channels/"+s.dm+"/messages" && reply == 0:
			reply = c.Seq
		}
	}
	if typing == 0 || reply == 0 || typing > reply {
		t.Errorf("typing indicator at call %d, first reply at call %d", typing, reply)
	}

	// Student text renders as typed: every markdown character escaped.
	summary := ""
	for _, p := range w.postsTo(s.dm) {
		if strings.Contains(content(p), "They wrote") {
			summary = content(p)
		}
	}
	want := `They wrote \*stars\*, \_under\_ \~tilde\~ \|bars\| \> quote \` + "`code\\`" + ` and \\slash`
	if !strings.Contains(summary, want) {
		t.Errorf("story in the summary not escaped as typed:\n got %q\nwant %q", summary, want)
	}

	ctx := context.Background()
	c, err := w.store.GetCase(ctx, code)
	if err != nil || c == nil {
		t.Fatalf("case %s: %v", code, err)
	}
	if c.Status != bot.StatusPending || c.Channel != "discord" {
		t.Errorf("case status %q channel %q, want pending on discord", c.Status, c.Channel)
	}

	anna, err := w.desk.Account(ctx, "anna")
	if err != nil || anna == nil {
		t.Fatalf("account anna: %v", err)
	}
	if err := w.desk.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	if err := w.desk.Send(ctx, anna, code, "Hello, I'm *Anna*. When_can we talk?"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the counsellor's message in the DM", func() bool {
		for _, p := range w.postsTo(s.dm) {
			if strings.Contains(content(p), `I'm \*Anna\*. When\_can we talk?`) {
				return true
			}
		}
		return false
	})

	s.say("Tomorrow after 2 works for me.")
	det, err := w.desk.Case(ctx, anna, code)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range det.Thread {
		found = found || (e.From == bot.FromStudent && e.Text == "Tomorrow after 2 works for me.")
	}
	if !found {
		t.Errorf("the student's answer is not in the thread: %+v", det.Thread)
	}
}

// TestGatewayDropResumes: the gateway connection breaks mid-intake; the channel resumes the
// session and the conversation goes on where it was (its state is in Redis, not in the
// connection).
func TestGatewayDropResumes(t *testing.T) {
	w := newWorld(t)
	c := w.start()
	s := w.student("200000000000000043", "600000000000000062")
	s.command("start")
	s.tap("menu.report")
	s.tap("category.stalking")

	w.f.drop()
	waitFor(t, "a resumed gateway connection", func() bool {
		_, resumes := w.f.counts()
		return resumes == 1 && w.f.connections() == 1 && discord.GatewayOpen(c)
	})

	r := s.tap("relation.student_staff")
	if !strings.Contains(r.all(), w.en("reporter.ask")) {
		t.Errorf("after the reconnect the conversation did not go on to the next question: %q", r.texts)
	}
	if identifies, _ := w.f.counts(); identifies != 1 {
		t.Errorf("%d identifies, want 1 (a drop resumes the session)", identifies)
	}
}

// TestUnreachableStudent: Discord refuses the DM (50007: the student blocked the bot), so
// the counsellor's message is dropped and the case marked, instead of being retried forever.
func TestUnreachableStudent(t *testing.T) {
	w := newWorld(t)
	w.start()
	s := w.student("200000000000000044", "600000000000000063")
	code := s.intake()

	ctx := context.Background()
	anna, _ := w.desk.Account(ctx, "anna")
	before := len(w.postsTo(s.dm))
	if err := w.desk.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the claim message to the student", func() bool { return len(w.postsTo(s.dm)) > before })
	w.f.mu.Lock()
	w.f.failWith[s.dm] = 50007
	w.f.mu.Unlock()
	if err := w.desk.Send(ctx, anna, code, "Are you still there?"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the case marked unreachable", func() bool {
		c, err := w.store.GetCase(ctx, code)
		return err == nil && c != nil && c.Unreachable
	})
	det, err := w.desk.Case(ctx, anna, code)
	if err != nil {
		t.Fatal(err)
	}
	if det.Reachable {
		t.Error("the desk still shows the student as reachable")
	}
}

// TestClaimFromCounsellorChannel: a new case is announced in the counsellor channel
// without the story or anything about the student; a stranger's Claim is politely refused
// and changes nothing; a configured counsellor's Claim claims the case for their account.
func TestClaimFromCounsellorChannel(t *testing.T) {
	w := newWorld(t)
	w.start()
	s := w.student("200000000000000045", "600000000000000064")
	s.urgent = true
	code := s.intake()

	var notice call
	waitFor(t, "the notice in the counsellor channel", func() bool {
		for _, p := range w.postsTo(staffRoom) {
			if strings.Contains(content(p), code) {
				notice = p
				return true
			}
		}
		return false
	})
	text := content(notice)
	for _, want := range []string{"New case " + code, "Urgent:** student asked for urgent help", "Category: Discrimination", "Wished outcome: Advice", "Waiting since: <t:", "https://desk.example/case/" + code} {
		if !strings.Contains(text, want) {
			t.Errorf("notice lacks %q:\n%s", want, text)
		}
	}
	for _, never := range []string{"stars", "They wrote", s.id, s.dm, canaryName} {
		if strings.Contains(string(notice.Raw), never) {
			t.Errorf("notice holds %q:\n%s", never, notice.Raw)
		}
	}
	comps, _ := json.Marshal(notice.Body["components"])
	bs := buttonsOf(comps)
	if len(bs) != 1 || bs[0].CustomID != "claim:"+code {
		t.Fatalf("notice buttons %+v, want one Claim", bs)
	}
	msgID := ""
	w.f.mu.Lock()
	for id, m := range w.f.msgs {
		if m.Channel == staffRoom && strings.Contains(m.Content, code) {
			msgID = id
		}
	}
	w.f.mu.Unlock()

	// press presses Claim as who and returns the calls until one satisfies done.
	press := func(who string, done func(call) bool) []call {
		start := w.f.last()
		id := w.id()
		w.f.dispatch("INTERACTION_CREATE", map[string]any{
			"id": id, "application_id": appID, "type": 3, "token": "itoken-" + id, "version": 1,
			"guild_id": guildID, "channel_id": staffRoom, "locale": "nl", "guild_locale": "en-US", "context": 0,
			"member":  map[string]any{"user": user(who), "nick": canaryNick, "roles": []any{}},
			"message": map[string]any{"id": msgID, "channel_id": staffRoom, "content": text, "components": json.RawMessage(comps), "type": 0},
			"data":    map[string]any{"custom_id": "claim:" + code, "component_type": 2},
		})
		var out []call
		waitFor(t, "the answer to the Claim", func() bool {
			out = w.f.since(start)
			for _, c := range out {
				if done(c) {
					return true
				}
			}
			return false
		})
		return out
	}
	ctx := context.Background()
	status := func() (string, string) {
		c, err := w.store.GetCase(ctx, code)
		if err != nil || c == nil {
			t.Fatalf("case: %v", err)
		}
		return c.Status, c.Counsellor
	}

	edited := func(c call) bool { return c.Method == "PATCH" }
	toldAlone := func(c call) bool {
		return c.Method == "POST" && (strings.HasPrefix(c.Path, "/api/v9/webhooks/") || // a follow-up
			strings.HasSuffix(c.Path, "/callback") && c.Body["type"] == float64(4)) // an immediate answer
	}
	for _, who := range []string{strangerID, ghostID} {
		calls := press(who, toldAlone)
		refused := false
		for _, c := range calls {
			data, _ := c.Body["data"].(map[string]any)
			flags, _ := data["flags"].(float64)
			if c.Body["flags"] != nil {
				flags, _ = c.Body["flags"].(float64)
			}
			refused = refused || (int(flags)&64 != 0)
			if c.Method == "PATCH" {
				t.Errorf("%s's press changed the notice", who)
			}
		}
		if !refused {
			t.Errorf("%s got no ephemeral refusal: %+v", who, calls)
		}
		if st, by := status(); st != bot.StatusPending || by != "" {
			t.Errorf("after %s's press the case is %s by %q", who, st, by)
		}
	}

	calls := press(annaID, edited)
	var edit *call
	for i, c := range calls {
		if c.Method == "PATCH" && c.Path == "/api/v9/channels/"+staffRoom+"/messages/"+msgID {
			edit = &calls[i]
		}
	}
	if edit == nil {
		t.Fatalf("the notice was not edited: %+v", calls)
	}
	if !strings.Contains(content(*edit), "Claimed by anna") {
		t.Errorf("edited notice %q does not say who claimed it", content(*edit))
	}
	if comps, _ := json.Marshal(edit.Body["components"]); len(buttonsOf(comps)) != 0 {
		t.Error("the edited notice still has a Claim button")
	}
	if st, by := status(); st != bot.StatusClaimed || by != "anna" {
		t.Errorf("after anna's press the case is %s by %q", st, by)
	}
	// A stale Claim (pressed before the notice changed) is refused, and the notice catches up.
	calls = press(bramID, toldAlone)
	told, marked := false, false
	for _, c := range calls {
		if c.Method == "POST" && strings.HasPrefix(c.Path, "/api/v9/webhooks/") {
			told = c.Body["flags"] == float64(64) && strings.Contains(content(c), "already claimed")
		}
		if c.Method == "PATCH" {
			marked = strings.Contains(content(c), "Claimed by anna")
		}
	}
	if !told || !marked {
		t.Errorf("stale claim: told %v, notice marked %v: %+v", told, marked, calls)
	}
	if st, by := status(); st != bot.StatusClaimed || by != "anna" {
		t.Errorf("after bram's press the case is %s by %q", st, by)
	}
	waitFor(t, "the student told that a counsellor took the case", func() bool {
		posts := w.postsTo(s.dm)
		return strings.Contains(content(posts[len(posts)-1]), code)
	})
}

// TestAttachmentGetsTextOnlyReply: photos, files and stickers are not opened; the student
// hears why, in the conversation's language.
func TestAttachmentGetsTextOnlyReply(t *testing.T) {
	w := newWorld(t)
	w.start()
	s := w.student("200000000000000046", "600000000000000065")
	s.command("start") // an English conversation

	m := s.message("")
	m["attachments"] = []any{map[string]any{
		"id": w.id(), "filename": "IMG_2026_me.jpg", "size": 123456, "content_type": "image/jpeg",
		"url": w.f.srv.URL + "/attachments/1/2/IMG_2026_me.jpg", "proxy_url": w.f.srv.URL + "/attachments/1/2/IMG_2026_me.jpg",
	}}
	start := w.f.last()
	w.f.dispatch("MESSAGE_CREATE", m)
	r := s.finish(start)
	want := w.en("channel.text_only")
	if len(r.texts) != 1 || r.texts[0] != want {
		t.Errorf("reply to a photo: %q, want %q", r.texts, want)
	}

	m = s.message("")
	m["sticker_items"] = []any{map[string]any{"id": w.id(), "name": "wave", "format_type": 1}}
	start = w.f.last()
	w.f.dispatch("MESSAGE_CREATE", m)
	if r := s.finish(start); len(r.texts) != 1 || r.texts[0] != want {
		t.Errorf("reply to a sticker: %q", r.texts)
	}

	w.f.mu.Lock()
	fetched := w.f.attachmentFetched
	w.f.mu.Unlock()
	if fetched {
		t.Error("the attachment was downloaded")
	}
	// The conversation is where it was.
	if r := s.tap("menu.report"); !strings.Contains(r.all(), w.en("category.ask")) {
		t.Errorf("after the photo the menu no longer works: %q", r.texts)
	}
}

// lossyLeases is a lease store that can lose the lease (another replica took it) or not
// release it (the process died).
type lossyLeases struct {
	bot.Leases
	lost      atomic.Bool
	noRelease bool
}

func (l *lossyLeases) Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if l.lost.Load() {
		return false, nil
	}
	return l.Leases.Lease(ctx, name, holder, ttl)
}

func (l *lossyLeases) ReleaseLease(ctx context.Context, name, holder string) error {
	if l.noRelease {
		return nil
	}
	return l.Leases.ReleaseLease(ctx, name, holder)
}

// TestGatewayLease: of two replicas only the lease holder connects; when it stops, the
// other connects; when the holder dies without releasing, the other connects once the
// lease has expired.
func TestGatewayLease(t *testing.T) {
	for _, crash := range []bool{false, true} {
		name := "stop"
		if crash {
			name = "crash"
		}
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			// Each replica has its own Redis connection, as two processes would.
			other := redis.New(redistest.Another(t, w.client), redis.Options{Prefix: w.prefix})
			la := &lossyLeases{Leases: w.store, noRelease: crash}
			lb := &lossyLeases{Leases: other, noRelease: crash}
			a := w.channel(w.config("replica-a"), w.deps(la))
			b := w.channel(w.config("replica-b"), w.deps(lb))
			stopA, stopB := w.run(a), w.run(b)
			waitFor(t, "one replica connected", func() bool { return discord.GatewayOpen(a) || discord.GatewayOpen(b) })
			holder, standby, stopHolder := a, b, stopA
			if discord.GatewayOpen(b) {
				holder, standby, stopHolder = b, a, stopB
			}
			// Many renewals later there is still one connection.
			time.Sleep(500 * time.Millisecond)
			if identifies, _ := w.f.counts(); identifies != 1 || w.f.connections() != 1 || discord.GatewayOpen(standby) {
				t.Fatalf("%d identifies, %d connections, standby open %v; want one holder", identifies, w.f.connections(), discord.GatewayOpen(standby))
			}

			stopHolder()
			if discord.GatewayOpen(holder) {
				t.Error("the stopped replica still has the gateway")
			}
			if crash {
				redistest.Advance(t, w.client, 1100*time.Millisecond) // the lease ttl
			}
			waitFor(t, "the other replica connected", func() bool { return discord.GatewayOpen(standby) && w.f.connections() == 1 })
			if identifies, _ := w.f.counts(); identifies != 2 {
				t.Errorf("%d identifies, want 2", identifies)
			}
		})
	}
}

// TestGatewayLeaseLost: a replica that loses its lease closes the gateway at once, so two
// replicas never handle the same events.
func TestGatewayLeaseLost(t *testing.T) {
	w := newWorld(t)
	l := &lossyLeases{Leases: w.store}
	c := w.channel(w.config("replica-1"), w.deps(l))
	w.run(c)
	waitFor(t, "the gateway connection", func() bool { return discord.GatewayOpen(c) && w.f.connections() == 1 })
	l.lost.Store(true)
	waitFor(t, "the gateway closed", func() bool { return !discord.GatewayOpen(c) && w.f.connections() == 0 })
}

// TestRateLimitDoesNotBlockOthers: Discord answers 429 to one student's DM; the reply is
// sent after retry_after, and meanwhile another student's reply goes out.
func TestRateLimitDoesNotBlockOthers(t *testing.T) {
	w := newWorld(t)
	w.start()
	a := w.student("200000000000000047", "600000000000000066")
	b := w.student("200000000000000048", "600000000000000067")
	w.f.mu.Lock()
	w.f.limited[a.dm] = 1
	w.f.mu.Unlock()

	w.f.dispatch("MESSAGE_CREATE", a.message("hallo"))
	w.f.dispatch("MESSAGE_CREATE", b.message("hallo"))
	w.waitTurn()
	w.waitTurn()

	firstOK := map[string]int{}
	limited := 0
	for _, c := range w.f.since(0) {
		for _, s := range []*student{a, b} {
			if c.Method == "POST" && c.Path == "/api/v9/channels/"+s.dm+"/messages" {
				if c.Status == 429 {
					limited++
				} else if firstOK[s.dm] == 0 {
					firstOK[s.dm] = c.Seq
				}
			}
		}
	}
	switch {
	case limited != 1:
		t.Errorf("%d rate-limited sends, want 1", limited)
	case firstOK[a.dm] == 0 || firstOK[b.dm] == 0:
		t.Errorf("replies delivered: %v", firstOK)
	case firstOK[b.dm] > firstOK[a.dm]:
		t.Error("the other student's reply waited for the rate-limited one")
	}
}

// TestPanicIsRecovered: a panic while handling an event is logged (without its value)
// and the next event is handled as usual.
func TestPanicIsRecovered(t *testing.T) {
	w := newWorld(t)
	c := w.start()
	var panicked atomic.Bool
	discord.OnTurnDone(c, func() {
		w.turns <- struct{}{}
		if !panicked.Swap(true) {
			panic("boom " + canaryName)
		}
	})
	s := w.student("200000000000000049", "600000000000000068")
	s.say("hallo")
	if r := s.say("/help"); len(r.texts) == 0 {
		t.Error("no reply after the panic")
	}
	logs := w.logs.String()
	if !strings.Contains(logs, "panic recovered") || strings.Contains(logs, canaryName) {
		t.Errorf("panic not logged, or logged with its value:\n%s", logs)
	}
}

// TestNothingPersonalStoredOrLogged plants usernames, names, avatars and e-mail in every
// event of an intake, a photo and a claim, and proves none of them, nor the platform ids,
// the token, interaction tokens or the story, is in Redis or the log.
func TestNothingPersonalStoredOrLogged(t *testing.T) {
	w := newWorld(t)
	w.start()
	s := w.student("200000000000000050", "600000000000000069")
	code := s.intake()
	m := s.message("")
	m["attachments"] = []any{map[string]any{"id": w.id(), "filename": "CANARY_file.jpg", "url": w.f.srv.URL + "/attachments/CANARY_file.jpg"}}
	start := w.f.last()
	w.f.dispatch("MESSAGE_CREATE", m)
	s.finish(start)
	waitFor(t, "the notice", func() bool { return len(w.postsTo(staffRoom)) > 0 })
	ctx := context.Background()
	anna, _ := w.desk.Account(ctx, "anna")
	if err := w.desk.Send(ctx, anna, code, "CANARY counsellor words"); err == nil {
		t.Error("anna could send without a claim")
	}
	if err := w.desk.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}

	canaries := []string{canaryName, canaryGlob, canaryNick, canaryMail, "canaryavatarhash", "CANARY_file",
		s.id, s.dm, fakeToken, "token-secret-part", "itoken-", "They wrote", "stars"}
	dump := redistest.Dump(t, w.client, w.prefix)
	if len(dump) == 0 {
		t.Fatal("nothing stored: the test would prove nothing")
	}
	for k, v := range dump {
		for _, c := range canaries {
			if strings.Contains(k, c) || strings.Contains(v, c) {
				t.Errorf("%q found in Redis key %q", c, k)
			}
		}
	}
	logs := w.logs.String()
	for _, c := range canaries {
		if strings.Contains(logs, c) {
			t.Errorf("%q found in the log", c)
		}
	}
}

// TestRefusedTokenEndsRun: a token Discord refuses ends Run with an error that says which
// variable to fix and does not show the token.
func TestRefusedTokenEndsRun(t *testing.T) {
	w := newWorld(t)
	cfg := w.config("replica-1")
	cfg.Token = "MTAwMDAwMDAwMDAwMDAwMDAy.wrong.revoked-secret-part"
	c := w.channel(cfg, w.deps(nil))
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	select {
	case err := <-done:
		if !errors.Is(err, discord.ErrTokenRefused) || strings.Contains(err.Error(), "revoked-secret-part") {
			t.Errorf("Run ended with %v, want ErrTokenRefused without the token", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run goes on with a refused token")
	}
	if strings.Contains(w.logs.String(), "revoked-secret-part") {
		t.Error("the token is in the log")
	}
}

// TestOutboxRateLimitDoesNotBlockOthers: a counsellor message to a rate-limited DM waits
// for retry_after while a message to another student goes out.
func TestOutboxRateLimitDoesNotBlockOthers(t *testing.T) {
	w := newWorld(t)
	w.start()
	a := w.student("200000000000000051", "600000000000000070")
	b := w.student("200000000000000052", "600000000000000071")
	codeA, codeB := a.intake(), b.intake()
	ctx := context.Background()
	anna, _ := w.desk.Account(ctx, "anna")
	for _, code := range []string{codeA, codeB} {
		if err := w.desk.Claim(ctx, anna, code); err != nil {
			t.Fatal(err)
		}
	}
	delivered := func(s *student, text string) int {
		for _, p := range w.postsTo(s.dm) {
			if strings.Contains(content(p), text) {
				return p.Seq
			}
		}
		return 0
	}
	waitFor(t, "the claim messages", func() bool { return delivered(a, codeA) > 0 && delivered(b, codeB) > 0 })

	w.f.mu.Lock()
	w.f.limited[a.dm] = 1
	w.f.mu.Unlock()
	if err := w.desk.Send(ctx, anna, codeA, "Message for A"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the 429", func() bool {
		for _, c := range w.f.since(0) {
			if c.Status == 429 {
				return true
			}
		}
		return false
	})
	if err := w.desk.Send(ctx, anna, codeB, "Message for B"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both messages", func() bool { return delivered(a, "Message for A") > 0 && delivered(b, "Message for B") > 0 })
	if delivered(b, "Message for B") > delivered(a, "Message for A") {
		t.Error("the message for B waited for A's rate limit")
	}
}

// TestTypedFirstMessageAsksLanguage: a message typed in a DM carries no language (only
// slash commands and buttons do), so a student who opens by typing is asked which
// language they want, in Dutch and in English, instead of being greeted in Dutch; tapping
// English goes on in English. Crisis words typed first are answered at once, in the
// language they were written in.
func TestTypedFirstMessageAsksLanguage(t *testing.T) {
	w := newWorld(t)
	w.start()
	s := w.student("200000000000000077", "600000000000000077")
	r := s.say("hello, is this the reporting chat?")
	if all := r.all(); !strings.Contains(all, "Which language would you like to use?") || !strings.Contains(all, "In welke taal wil je verder?") {
		t.Fatalf("a typed first message must be asked the language in both:\n%s", all)
	}
	english := ""
	for _, b := range buttonsOf(s.last.Components) {
		if b.Label == "English" {
			english = b.CustomID
		}
	}
	if english == "" {
		t.Fatal("no English button")
	}
	if r = s.press(english); !strings.Contains(r.all(), "What would you like to do?") {
		t.Fatalf("after tapping English, the English menu:\n%s", r.all())
	}

	c := w.student("200000000000000078", "600000000000000078")
	r = c.say("I want to kill myself")
	if len(r.texts) < 2 || !strings.HasPrefix(r.texts[0], "What you write worries me") || !strings.Contains(r.all(), "What would you like to do?") {
		t.Fatalf("crisis words first: the numbers in English, then the English greeting:\n%s", r.all())
	}
}
