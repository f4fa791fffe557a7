package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"

	"intake/bot"
	"intake/bot/telegram"
	"intake/bot/telegram/telegramtest"
	"intake/storage/redis/redistest"
)

// TestQuickTurnsShowNoTyping: "typing…" is only shown when a turn takes longer than the
// typing delay, so a whole intake of quick turns costs no chat-action calls at all (with
// a delay no turn here comes near).
func TestQuickTurnsShowNoTyping(t *testing.T) {
	w := newWorld(t)
	w.replica("r1", func(c *telegram.Config) { c.TypingDelay = time.Hour })
	s := w.student(918273646, "en-GB")
	s.intake()
	if n := len(w.api.Calls("sendChatAction")); n != 0 {
		t.Errorf("%d typing indicators for turns far quicker than the delay, want none", n)
	}
}

// TestIntakeThroughButtonsAndText: a student completes the default intake in Telegram,
// tapping buttons and typing their story, and it ends in a handoff to the queue.
func TestIntakeThroughButtonsAndText(t *testing.T) {
	w := newWorld(t)
	r := w.replica("r1")
	s := w.student(918273645, "en-GB")
	code := s.intake()

	pending, _, err := r.desk.Queue(context.Background(), r.account(t, "anna"))
	if err != nil || len(pending) != 1 || pending[0].Code != code || pending[0].Channel != telegram.Name {
		t.Fatalf("queue = %+v, %v; want the one case %s from telegram", pending, err, code)
	}
	det, err := r.desk.Case(context.Background(), r.account(t, "anna"), code)
	if err != nil || !det.Reachable {
		t.Fatalf("case %s: %+v, %v: want it reachable (a sealed return address)", code, det, err)
	}

	msgs := w.api.Messages(s.id)
	taps := 0
	for _, m := range msgs {
		if m.ParseMode != "" {
			t.Errorf("message %d sent with parse mode %q; texts go as plain text", m.ID, m.ParseMode)
		}
		if m.Keyboardless {
			taps++
		}
	}
	// Every tapped message lost its buttons, so a stale tap cannot confuse the flow.
	if taps != 9 {
		t.Errorf("%d messages had their buttons removed, want the 9 tapped ones", taps)
	}
	if n := len(w.api.Answers()); n != 9 {
		t.Errorf("%d button taps answered, want 9", n)
	}
	if n := len(w.api.Calls("sendChatAction")); n != 11 {
		t.Errorf("%d typing indicators, want one per update (11)", n)
	}
	// The command menu: English by default, Dutch and English by language code.
	langs := map[string]bool{}
	for _, c := range w.api.Calls("setMyCommands") {
		langs[c.Form["language_code"]] = true
		var cmds []struct{ Command, Description string }
		if err := json.Unmarshal([]byte(c.Form["commands"]), &cmds); err != nil || len(cmds) != len(bot.Commands) {
			t.Errorf("setMyCommands %q: %s (%v)", c.Form["language_code"], c.Form["commands"], err)
		}
		for _, cmd := range cmds {
			if cmd.Description == "" || strings.HasPrefix(cmd.Description, "/") {
				t.Errorf("command %s has no description", cmd.Command)
			}
		}
	}
	if !langs[""] || !langs["nl"] || !langs["en"] {
		t.Errorf("command menus set for %v, want default, nl and en", langs)
	}
}

// TestCounsellorMessageReachesTheChat: what a counsellor writes on the desk reaches the
// student's chat through the outbox, as typed (plain text: *_[< are not markup).
func TestCounsellorMessageReachesTheChat(t *testing.T) {
	w := newWorld(t)
	r := w.replica("r1")
	s := w.student(918273646, "en")
	code := s.intake()

	anna := r.account(t, "anna")
	ctx := context.Background()
	if err := r.desk.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	s.waitCount(claimedText, 1)
	const typed = "Hi! I read your report. *Not bold*, _not italic_, [not a link](x) and <b>no tag</b>."
	if err := r.desk.Send(ctx, anna, code, typed); err != nil {
		t.Fatal(err)
	}
	s.waitCount(typed, 1)

	// The student answers in the chat; it lands in the case thread.
	s.say("Thank you, Tuesday suits me.", "")
	eventually(t, "the student's reply in the thread", func() bool {
		det, err := r.desk.Case(ctx, anna, code)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range det.Thread {
			if e.From == bot.FromStudent && e.Text == "Thank you, Tuesday suits me." {
				return true
			}
		}
		return false
	})
}

// TestDuplicateAndOutOfOrderUpdates: an update delivered again, and updates in a
// shuffled order, are each processed exactly once. No "highest id" rule: ids going down
// are processed too.
func TestDuplicateAndOutOfOrderUpdates(t *testing.T) {
	w := newWorld(t)
	w.replica("r1")
	s := w.student(918273647, "en")

	start := s.message("/start", nil)
	s.send(start, greeting)
	report := s.tapUpdate("I want to report something")
	help := s.message("/help", nil)
	// Out of order: the later id first.
	report["update_id"], help["update_id"] = int64(9002), int64(9001)
	w.api.Push(report, help)
	s.waitCount(categoryQ, 1)
	s.waitCount("You can type these commands at any time", 1)

	// Every one of them again (a crash before the offset moved on, a webhook retry), then
	// a new update; the chat is served in order, so once it is answered the repeats are done.
	w.api.Push(start, report, help, start)
	s.say("/urgent", "Are you in danger right now?")

	for text, want := range map[string]int{greeting: 1, "You can type these commands at any time": 1, "Are you in danger right now?": 1} {
		if n := s.count(text); n != want {
			t.Errorf("%q sent %d times, want %d", text, n, want)
		}
	}
	// /help shows the question again, so the category question is there twice: once
	// for the tap, once after help. A repeat of either would make it three.
	if n := s.count(categoryQ); n != 2 {
		t.Errorf("category question sent %d times, want 2\n%s", n, w.api.Transcript())
	}
}

// TestWebhookSecret: an update without the right secret token is refused where it can be
// seen (401/403, not the library's silent 200) and never processed.
func TestWebhookSecret(t *testing.T) {
	w := newWorld(t)
	r := w.replica("r1", webhook)
	srv := httptest.NewServer(r.ch.WebhookHandler())
	defer srv.Close()
	s := w.student(918273648, "en")

	post := func(update any, secret string) int {
		t.Helper()
		body, _ := json.Marshal(update)
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(s.message("/start", nil), "wrong-secret-of-enough-length"); code != http.StatusForbidden {
		t.Errorf("wrong secret: status %d, want 403", code)
	}
	if code := post(s.message("/start", nil), ""); code != http.StatusUnauthorized {
		t.Errorf("no secret: status %d, want 401", code)
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", resp.StatusCode)
	}

	// The right secret works; the refused updates were never processed (one chat is
	// served in order, so once this one is answered, nothing else is on its way).
	update := s.message("/start", nil)
	if code := post(update, testSecret); code != http.StatusOK {
		t.Fatalf("right secret: status %d, want 200", code)
	}
	s.waitCount(greeting, 1)
	// Telegram retries a webhook delivery it thinks failed: processed once.
	if code := post(update, testSecret); code != http.StatusOK {
		t.Fatalf("repeat: status %d, want 200", code)
	}
	s.say2webhook(post, "/urgent", "Are you in danger right now?")
	// The welcome, not the menu question: /urgent shows the question again.
	if n := s.count("good that you’re here"); n != 1 {
		t.Errorf("welcome sent %d times, want 1 (refused and repeated updates must not be processed)\n%s", n, w.api.Transcript())
	}
	if !strings.Contains(w.logs.String(), "wrong secret token") {
		t.Error("a refused webhook request is not logged")
	}
	if n := w.api.CallCount("getUpdates"); n != 0 {
		t.Errorf("webhook mode polled %d times", n)
	}
	// A replica that stopped refuses updates, so Telegram delivers them elsewhere.
	r.stop(t)
	if code := post(s.message("/help", nil), testSecret); code != http.StatusServiceUnavailable {
		t.Errorf("after Run ended: status %d, want 503", code)
	}
}

func (s *student) say2webhook(post func(any, string) int, text, want string) {
	s.w.t.Helper()
	before := s.count(want)
	if code := post(s.message(text, nil), testSecret); code != http.StatusOK {
		s.w.t.Fatalf("status %d", code)
	}
	s.waitCount(want, before+1)
}

// TestRateLimit: a 429 for one chat is waited out for that chat (retry_after), while
// another chat is served meanwhile; the message still arrives.
func TestRateLimit(t *testing.T) {
	w := newWorld(t)
	w.replica("r1")
	slow, other := w.student(918273649, "en"), w.student(918273650, "en")
	rule := w.api.Fail("sendMessage", slow.id, 429, "Too Many Requests: retry after 1", 1, 1)

	w.api.Push(slow.message("/start", nil))
	w.wait("the 429", func() bool { return len(rule.Served()) == 1 })
	other.say("/start", greeting)
	slow.waitCount(greeting, 1)

	slowMsgs, otherMsgs := w.api.Messages(slow.id), w.api.Messages(other.id)
	if len(slowMsgs) != len(otherMsgs) {
		t.Errorf("the limited chat got %d messages, the other %d; want the whole greeting in both", len(slowMsgs), len(otherMsgs))
	}
	if waited := slowMsgs[0].At.Sub(rule.Served()[0]); waited < 900*time.Millisecond {
		t.Errorf("retried after %v; Telegram asked for 1 s", waited)
	}
	if !otherMsgs[0].At.Before(slowMsgs[0].At) {
		t.Error("the other chat waited for the limited one")
	}
}

// TestBlockedStudent: a student who blocked the bot cannot get the counsellor's message;
// the case is marked so the counsellor sees it, and the outbox is not stuck.
func TestBlockedStudent(t *testing.T) {
	w := newWorld(t)
	r := w.replica("r1")
	s := w.student(918273651, "en")
	code := s.intake()
	w.api.Fail("sendMessage", s.id, 403, "Forbidden: bot was blocked by the user", 0, -1)

	ctx := context.Background()
	anna := r.account(t, "anna")
	if err := r.desk.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the case marked unreachable", func() bool {
		det, err := r.desk.Case(ctx, anna, code)
		if err != nil {
			t.Fatal(err)
		}
		return !det.Reachable
	})
	// The next student is served as ever: the blocked one holds nothing up.
	other := w.student(918273652, "en")
	other.say("/start", greeting)
}

// TestClaimFromGroup: a new case is announced in the counsellor group without its
// content; a stranger's tap on Claim is refused and changes nothing; a counsellor's tap
// claims it and the notice says so.
func TestClaimFromGroup(t *testing.T) {
	w := newWorld(t)
	r := w.replica("r1", withGroup)
	s := w.student(918273653, "en")
	code := s.intakeUrgency("Yes, it's urgent")

	var notice telegramtest.Message
	w.wait("the notice in the group", func() bool {
		if ms := w.api.Messages(group); len(ms) > 0 {
			notice = ms[0]
			return true
		}
		return false
	})
	for _, want := range []string{"URGENT: case " + code, "Urgent: student asked for urgent help", "Category: Discrimination", "Wished outcome: Informal intervention", "Waiting since: ", deskURL + "case/" + code} {
		if !strings.Contains(notice.Text, want) {
			t.Errorf("notice lacks %q:\n%s", want, notice.Text)
		}
	}
	for _, never := range []string{theStory, "headscarf", fmt.Sprint(s.id)} {
		if strings.Contains(notice.Text, never) {
			t.Errorf("notice shows %q:\n%s", never, notice.Text)
		}
	}
	if len(notice.Buttons) != 1 || notice.Buttons[0].Data != "claim:"+code {
		t.Fatalf("notice buttons = %+v, want one Claim", notice.Buttons)
	}

	ctx := context.Background()
	anna := r.account(t, "anna")

	a := w.tapAndAnswer(w.api.TapUpdate(member(stranger, "nl"), notice, notice.Buttons[0].Data))
	if !strings.Contains(a.Text, "only the team’s counsellors") || !a.Alert {
		t.Errorf("stranger's answer = %+v, want a polite refusal", a)
	}
	det, err := r.desk.Case(ctx, anna, code)
	if err != nil || det.Status != bot.StatusPending {
		t.Fatalf("after a stranger's tap: %+v, %v; want still pending", det, err)
	}
	if m := w.api.Messages(group)[0]; m.Text != notice.Text || len(m.Buttons) != 1 {
		t.Errorf("a stranger's tap changed the notice: %q %+v", m.Text, m.Buttons)
	}

	a = w.tapAndAnswer(w.api.TapUpdate(member(ghost, "nl"), notice, notice.Buttons[0].Data))
	if !strings.Contains(a.Text, "not a counsellor") || !a.Alert {
		t.Errorf("answer to a configured id without a desk account = %+v", a)
	}
	if det, err := r.desk.Case(ctx, anna, code); err != nil || det.Status != bot.StatusPending {
		t.Fatalf("after a tap by an id without an account: %+v, %v; want still pending", det, err)
	}

	a = w.tapAndAnswer(w.api.TapUpdate(member(counsellor, "nl"), notice, notice.Buttons[0].Data))
	if !strings.Contains(a.Text, "You have claimed case "+code) {
		t.Errorf("counsellor's answer = %+v", a)
	}
	det, err = r.desk.Case(ctx, anna, code)
	if err != nil || det.Status != bot.StatusClaimed || det.Counsellor != "anna" {
		t.Fatalf("after the counsellor's tap: %+v, %v; want claimed by anna", det, err)
	}
	w.wait("the notice saying who claimed", func() bool {
		m := w.api.Messages(group)[0]
		return strings.Contains(m.Text, "claimed by anna") && len(m.Buttons) == 0
	})
	s.waitCount(claimedText, 1) // the student hears of it
}

// TestMediaGetsTextOnlyReply: photos, files, stickers, voice, locations and contacts get
// the friendly "text only, and why" reply; nothing of them is read or kept.
func TestMediaGetsTextOnlyReply(t *testing.T) {
	w := newWorld(t)
	w.replica("r1")
	s := w.student(918273654, "en")
	photo := []map[string]any{{"file_id": "AgACPhoto", "file_unique_id": "u1", "width": 90, "height": 90}}
	for i, extra := range []map[string]any{
		{"photo": photo, "caption": canaryCaption},
		{"document": map[string]any{"file_id": "BQACDoc", "file_unique_id": "u2", "file_name": "Canary.pdf"}},
		{"sticker": map[string]any{"file_id": "CAACSticker", "file_unique_id": "u3", "type": "regular", "width": 512, "height": 512, "is_animated": false, "is_video": false}},
		{"voice": map[string]any{"file_id": "AwACVoice", "file_unique_id": "u4", "duration": 3}},
		{"location": map[string]any{"latitude": 50.8466, "longitude": 5.6883}},
		{"contact": map[string]any{"phone_number": canaryPhone, "first_name": canaryFirst, "user_id": s.id}},
	} {
		s.send(s.message("", extra), textOnlyEN)
		if n := s.count(textOnlyEN); n != i+1 {
			t.Fatalf("after %d media messages, %d text-only replies", i+1, n)
		}
	}
	// In Dutch for a Dutch app.
	nl := w.student(918273655, "nl")
	nl.send(nl.message("", map[string]any{"photo": photo}), "Ik kan alleen tekst lezen")
	if n := w.api.CallCount("getFile"); n != 0 {
		t.Errorf("getFile called %d times: media must not be downloaded", n)
	}
}

// TestCanariesNeverStored: names, usernames, a phone number and a caption planted in every
// update appear nowhere in Redis after an intake, media and a claim (the logs are checked
// by every test).
func TestCanariesNeverStored(t *testing.T) {
	w := newWorld(t)
	r := w.replica("r1", withGroup)
	s := w.student(918273656, "en")
	code := s.intake()
	w.wait("the notice of the new case", func() bool {
		ms := w.api.Messages(group)
		return len(ms) > 0 && strings.HasPrefix(ms[0].Text, "New case "+code+" is waiting")
	})
	s.send(s.message("", map[string]any{"contact": map[string]any{"phone_number": canaryPhone, "first_name": canaryFirst}}), textOnlyEN)
	if err := r.desk.Claim(context.Background(), r.account(t, "anna"), code); err != nil {
		t.Fatal(err)
	}
	s.waitCount(claimedText, 1)

	dump := redistest.Dump(t, w.client, w.prefix)
	if len(dump) == 0 {
		t.Fatal("nothing stored: the test would prove nothing")
	}
	for k, v := range dump {
		for _, c := range append(w.forbidden, theStory, "headscarf") {
			if strings.Contains(k, c) || strings.Contains(v, c) {
				t.Errorf("%q found in Redis key %q", c, k)
			}
		}
	}
}

// TestPanickingHandler: a panic while handling an update is logged (without the update's
// content) and the channel goes on.
func TestPanickingHandler(t *testing.T) {
	w := newWorld(t)
	s := w.student(918273657, "en")
	bad := s.message("/start", nil)
	badID := bad.ID()
	telegram.SetBeforeHandle(func(id int64) {
		if id == badID {
			panic("boom while handling " + canaryFirst)
		}
	})
	t.Cleanup(func() { telegram.SetBeforeHandle(nil) })
	w.replica("r1")

	w.api.Push(bad)
	s.say("/start", greeting)
	if !strings.Contains(w.logs.String(), "panicked") {
		t.Error("the panic was not logged")
	}
}

// TestOneReplicaPolls: two replicas against one Redis; only the lease holder polls. When
// it stops, the other takes over within seconds and students are served on.
func TestOneReplicaPolls(t *testing.T) {
	w := newWorld(t)
	reps := map[string]*replica{"r1": w.replica("r1"), "r2": w.replica("r2")}
	w.wait("a replica polling", func() bool { return w.api.Polls("r1")+w.api.Polls("r2") >= 1 })
	holder, other := "r1", "r2"
	if w.api.Polls("r2") > 0 {
		holder, other = "r2", "r1"
	}
	// Several lease renewals (every 100 ms in tests) later, still only the holder polls.
	s := w.student(918273658, "en")
	s.say("/start", greeting)
	w.wait("more polls by the holder", func() bool { return w.api.Polls(holder) >= 5 })
	if w.api.Polls(other) != 0 || w.api.PollOverlap() {
		t.Errorf("polls %d by %s, %d by %s (overlap %v): only %s may poll", w.api.Polls(holder), holder, w.api.Polls(other), other, w.api.PollOverlap(), holder)
	}

	reps[holder].stop(t)
	stopped := time.Now()
	w.wait(other+" taking over", func() bool { return w.api.Polls(other) > 0 })
	t.Logf("%s took over %v after %s stopped", other, time.Since(stopped).Round(time.Millisecond), holder)
	s.tap("I want to report something", categoryQ)
	if w.api.PollOverlap() {
		t.Error("two replicas polled at the same time")
	}
}

// TestLeaseHolderCutOff: a holder that can no longer reach Redis stops polling before its
// lease expires; once it has, the other replica takes over. Nobody polls twice.
func TestLeaseHolderCutOff(t *testing.T) {
	w := newWorld(t)
	reps := map[string]*replica{"r1": w.replica("r1"), "r2": w.replica("r2")}
	w.wait("a replica polling", func() bool { return w.api.Polls("r1")+w.api.Polls("r2") >= 1 })
	holder, other := "r1", "r2"
	if w.api.Polls("r2") > 0 {
		holder, other = "r2", "r1"
	}

	// The holder loses Redis (it cannot renew, nor release): like a crash, seen from Redis.
	if err := reps[holder].client.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, holder+" to stop polling", func() bool {
		return strings.Contains(w.logs.String(), "polling stops before it expires")
	})
	if w.api.Polls(other) != 0 {
		t.Errorf("%s polled while %s's lease was still valid", other, holder)
	}
	redistest.Advance(t, w.client, 2*time.Second) // the lease's ttl in tests
	w.wait(other+" taking over", func() bool { return w.api.Polls(other) > 0 })
	s := w.student(918273659, "en")
	s.say("/start", greeting)
	if w.api.PollOverlap() {
		t.Error("two replicas polled at the same time")
	}
}

// TestConfigFromEnv: configuration is validated with clear errors that never contain the
// token or the webhook secret.
func TestConfigFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	if _, ok, err := telegram.ConfigFromEnv(env()); ok || err != nil {
		t.Errorf("no token: ok %v, err %v; want not configured", ok, err)
	}
	cfg, ok, err := telegram.ConfigFromEnv(env("INTAKE_TELEGRAM_TOKEN", testToken, "INTAKE_TELEGRAM_GROUP", "-100123", "INTAKE_TELEGRAM_COUNSELLORS", "123456:Anna, 789:bram"))
	if !ok || err != nil || cfg.Mode != telegram.ModePoll || cfg.CounsellorGroup != -100123 || cfg.Counsellors[123456] != "anna" || cfg.Counsellors[789] != "bram" {
		t.Errorf("valid poll config: %+v %v %v", cfg, ok, err)
	}
	if s := cfg.String(); strings.Contains(s, testToken) || strings.Contains(fmt.Sprintf("%v %+v", cfg, cfg), testToken) {
		t.Errorf("config printed with its token: %s", s)
	}
	cfg, _, err = telegram.ConfigFromEnv(env("INTAKE_TELEGRAM_TOKEN", testToken, "INTAKE_TELEGRAM_MODE", "webhook", "INTAKE_TELEGRAM_WEBHOOK_SECRET", testSecret))
	if err != nil || cfg.Mode != telegram.ModeWebhook {
		t.Errorf("valid webhook config: %+v %v", cfg, err)
	}
	cfg, _, err = telegram.ConfigFromEnv(env("INTAKE_TELEGRAM_TOKEN", testToken, "INTAKE_TELEGRAM_SERVER_URL", " http://127.0.0.1:8081/ "))
	if err != nil || cfg.ServerURL != "http://127.0.0.1:8081" {
		t.Errorf("local Bot API server: ServerURL %q, err %v; want http://127.0.0.1:8081", cfg.ServerURL, err)
	}

	badToken := "123456:has a space and the secret part"
	for name, tc := range map[string]struct {
		env  func(string) string
		want string
	}{
		"malformed token": {env("INTAKE_TELEGRAM_TOKEN", badToken), "does not look like a bot token"},
		"unknown mode":    {env("INTAKE_TELEGRAM_TOKEN", testToken, "INTAKE_TELEGRAM_MODE", "push"), `"push"`},
		"webhook, no secret": {env("INTAKE_TELEGRAM_TOKEN", testToken, "INTAKE_TELEGRAM_MODE", "webhook"),
			"needs INTAKE_TELEGRAM_WEBHOOK_SECRET"},
		"short secret": {env("INTAKE_TELEGRAM_TOKEN", testToken, "INTAKE_TELEGRAM_MODE", "webhook", "INTAKE_TELEGRAM_WEBHOOK_SECRET", "short-secret"),
			"is 12 characters; use at least 16"},
		"secret with odd characters": {env("INTAKE_TELEGRAM_TOKEN", testToken, "INTAKE_TELEGRAM_MODE", "webhook", "INTAKE_TELEGRAM_WEBHOOK_SECRET", "a secret with spaces in it"),
			"may hold only"},
		"group not a number":   {env("INTAKE_TELEGRAM_TOKEN", testToken, "INTAKE_TELEGRAM_GROUP", "counsellors"), "is not a chat id"},
		"group is a user":      {env("INTAKE_TELEGRAM_TOKEN", testToken, "INTAKE_TELEGRAM_GROUP", "12345"), "group chat ids are negative"},
		"counsellor malformed": {env("INTAKE_TELEGRAM_TOKEN", testToken, "INTAKE_TELEGRAM_GROUP", "-1", "INTAKE_TELEGRAM_COUNSELLORS", "anna"), "entry 1"},
		"counsellor twice": {env("INTAKE_TELEGRAM_TOKEN", testToken, "INTAKE_TELEGRAM_GROUP", "-1", "INTAKE_TELEGRAM_COUNSELLORS", "1:anna,1:bram"),
			"listed twice"},
		"counsellors without group": {env("INTAKE_TELEGRAM_TOKEN", testToken, "INTAKE_TELEGRAM_COUNSELLORS", "1:anna"), "INTAKE_TELEGRAM_GROUP is not"},
		"server not a URL":          {env("INTAKE_TELEGRAM_TOKEN", testToken, "INTAKE_TELEGRAM_SERVER_URL", "127.0.0.1:8081"), "INTAKE_TELEGRAM_SERVER_URL is not an http(s) address"},
		"server not http":           {env("INTAKE_TELEGRAM_TOKEN", testToken, "INTAKE_TELEGRAM_SERVER_URL", "ftp://bots.example"), "INTAKE_TELEGRAM_SERVER_URL is not an http(s) address"},
	} {
		_, ok, err := telegram.ConfigFromEnv(tc.env)
		if !ok || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ok %v, err %v; want an error with %q", name, ok, err, tc.want)
			continue
		}
		for _, secret := range []string{testToken, strings.Split(testToken, ":")[1], badToken, "secret part", testSecret, "short-secret", "a secret with spaces"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error shows a secret: %v", name, err)
			}
		}
	}
}

// TestNewRefusesIncompleteSetup: New says what is missing.
func TestNewRefusesIncompleteSetup(t *testing.T) {
	names, _ := bot.NewPseudonyms(bytes.Repeat([]byte{7}, bot.KeySize))
	cfg := telegram.Config{Token: testToken, Mode: telegram.ModePoll, Replica: "r1"}
	if _, err := telegram.New(cfg, telegram.Deps{Names: names}); err == nil {
		t.Error("New without an engine succeeded")
	}
	cfg.Replica = ""
	if _, err := telegram.New(cfg, telegram.Deps{Names: names}); err == nil || !strings.Contains(err.Error(), "replica") {
		t.Errorf("New without a replica name: %v", err)
	}
}

// TestSplitText: long messages are cut at line breaks into parts Telegram accepts.
func TestSplitText(t *testing.T) {
	line := strings.TrimSpace(strings.Repeat("word ", 100)) // 499 characters
	long := strings.TrimSpace(strings.Repeat(line+"\n", 20))
	emoji := strings.Repeat("😀", telegram.MaxMessage) // 2 UTF-16 units each
	oneLine := strings.Repeat("abc ", 2000)
	for name, text := range map[string]string{"lines": long, "emoji": emoji, "one long line": oneLine, "short": "hello\nthere"} {
		parts := telegram.SplitText(text, telegram.MaxMessage)
		var joined []string
		for _, p := range parts {
			if n := len(utf16(p)); n > telegram.MaxMessage || strings.TrimSpace(p) == "" {
				t.Errorf("%s: a part of %d units", name, n)
			}
			joined = append(joined, p)
		}
		if name == "lines" {
			for _, p := range parts {
				if !strings.HasSuffix(p, "word") {
					t.Errorf("lines: a part does not end at a line break: …%q", p[len(p)-10:])
				}
			}
		}
		if got := strings.Join(joined, ""); strings.ReplaceAll(strings.ReplaceAll(got, "\n", ""), " ", "") != strings.ReplaceAll(strings.ReplaceAll(text, "\n", ""), " ", "") {
			t.Errorf("%s: text lost in splitting", name)
		}
	}
	if parts := telegram.SplitText(" \n ", telegram.MaxMessage); len(parts) != 0 {
		t.Errorf("blank text: %q", parts)
	}
}

func utf16(s string) []uint16 {
	var out []uint16
	for _, r := range s {
		if r >= 0x10000 {
			out = append(out, 0, 0)
		} else {
			out = append(out, 0)
		}
	}
	return out
}

// TestDescribeKeepsSecretsOut: errors of the library can carry answer bodies (names) and
// URLs with the token; their descriptions must not.
func TestDescribeKeepsSecretsOut(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("error decode response body for method sendMessage, {\"first_name\":%q}, %w", canaryFirst, errors.New("bad json")),
		fmt.Errorf("error decode request body, {\"username\":%q}, %w", canaryUsername, errors.New("eof")),
		fmt.Errorf("error do request for method getUpdates, %w", &urlError{testToken}),
		fmt.Errorf("%w, Forbidden: bot was blocked by the user", tgbot.ErrorForbidden),
	} {
		d := telegram.Describe(err)
		for _, secret := range []string{canaryFirst, canaryUsername, testToken} {
			if strings.Contains(d, secret) {
				t.Errorf("describe(%v) = %q", err, d)
			}
		}
	}
	if d := telegram.Describe(fmt.Errorf("%w, Forbidden: bot was blocked by the user", tgbot.ErrorForbidden)); !strings.Contains(d, "blocked") {
		t.Errorf("Telegram's own description is lost: %q", d)
	}
}

// urlError stands for an error that prints a URL with the token in it.
type urlError struct{ token string }

func (e *urlError) Error() string {
	return "Post \"https://api.telegram.org/bot" + e.token + "/getUpdates\": EOF"
}
