package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/limit"
	"intake/bot/web"
	"intake/storage/redis/redistest"
)

// TestChatIntakeWithoutJS runs a whole intake the way a browser without JavaScript does:
// GET the page, POST each answer (a button's value or typed text), follow the 303 back,
// and ends with the receipt box and its text file.
func TestChatIntakeWithoutJS(t *testing.T) {
	f := newChat(t, web.ChatOptions{})
	v := f.visitor("en-GB,en;q=0.9")

	resp, page := v.get("/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	v.page = page
	cookies := resp.Header.Values("Set-Cookie")
	if len(cookies) != 1 {
		t.Fatalf("Set-Cookie: %q, want exactly the session cookie", cookies)
	}
	ck := cookies[0]
	for _, want := range []string{"chat=", "Path=/", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(ck, want) {
			t.Errorf("session cookie %q lacks %s", ck, want)
		}
	}
	for _, not := range []string{"Max-Age", "Expires", "Domain", "Secure"} {
		if strings.Contains(ck, not) {
			t.Errorf("session cookie %q has %s (a session cookie over plain HTTP has none)", ck, not)
		}
	}
	if len(v.cookie()) != 43 {
		t.Errorf("cookie value %q is not 256 random bits", v.cookie())
	}
	mustContain(t, page, `<html lang="en">`, `role="log"`, `aria-live="polite"`, `name="text"`,
		`value="g:help"`, `value="g:back"`, `value="g:language"`, `value="g:urgent"`, `value="g:case"`,
		`value="g:stop"`, `value="g:forget"`, `action="/chat/receipt"`, `href="/chat/exit"`)
	mustNotContain(t, page, "<script>", "style=", "http://") // no inline script or style
	if n := strings.Count(page, "https://"); n != 1 || !strings.Contains(page, `data-exit="`+web.DefaultExitURL+`"`) {
		t.Errorf("the page names %d other sites; only the quick exit may", n)
	}
	if !strings.Contains(page, v.text("menu.report")) {
		t.Fatalf("the page does not open the conversation:\n%s", page)
	}

	page = v.intake("He waits outside my room every evening.\n<script>alert(1)</script>")
	code, pass := receiptOf(t, page)
	sess := f.session(v)
	if sess == nil || sess.CaseCode != code || sess.Pass != pass {
		t.Fatalf("receipt box %s / %s does not match the session %+v", code, pass, sess)
	}
	mustContain(t, page, "Your receipt", "cannot be recovered", `href="/chat/receipt.txt"`, `id="receipt-copy" hidden`)
	mustNotContain(t, page, `action="/chat/receipt"`) // no "I have a receipt" once there is a case
	if !strings.Contains(strings.Join(bubbles(page), "\n"), code) {
		t.Errorf("the handoff message is not on the page: %q", bubbles(page))
	}

	resp, file := v.get("/chat/receipt.txt")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("receipt file: %d %v", resp.StatusCode, resp.Header)
	}
	mustContain(t, file, "Case code: "+code, "Passphrase: "+pass)

	// The page after a reload shows the same (the last turn), still with the box.
	mustContain(t, v.open(), "Your receipt")

	// The story reached the counsellor as typed, and is shown escaped if echoed anywhere.
	acc := f.anna()
	if err := f.d.Claim(context.Background(), acc, code); err != nil {
		t.Fatal(err)
	}
	det, err := f.d.Case(context.Background(), acc, code)
	if err != nil || !strings.Contains(det.Story, "<script>alert(1)</script>") {
		t.Fatalf("story: %q %v", det.Story, err)
	}
}

func (f *chatFixture) session(v *visitor) *bot.Session {
	f.t.Helper()
	// The test knows the pepper; the key is what the chat derives from the cookie.
	names, _ := bot.NewPseudonyms([]byte("a pepper for the chat tests, 32+ bytes"))
	s, err := f.e.Session(context.Background(), names.Key("web", v.cookie()))
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// TestChatCounsellorMessage: what a counsellor sends shows on the student's next page
// load, once, and stays on the page when it is reloaded; an appointment slot is an
// ordinary button.
func TestChatCounsellorMessage(t *testing.T) {
	f := newChat(t, web.ChatOptions{})
	v := f.visitor("en")
	code, _ := receiptOf(t, v.intake("He follows me."))
	ctx, acc := context.Background(), f.anna()
	if err := f.d.Claim(ctx, acc, code); err != nil {
		t.Fatal(err)
	}
	const hello = "Hello, I am one of the counsellors. <b>Thank you</b> for writing."
	if err := f.d.Send(ctx, acc, code, hello); err != nil {
		t.Fatal(err)
	}
	page := v.open()
	got := strings.Join(bubbles(page), "\n")
	if !strings.Contains(got, "team: Message from your counsellor (case "+code+"):\n"+hello) {
		t.Fatalf("the counsellor's message is not on the page:\n%s", got)
	}
	mustContain(t, page, "&lt;b&gt;Thank you&lt;/b&gt;")
	if strings.Count(v.open(), "I am one of the counsellors") != 1 {
		t.Error("a reload does not show the message exactly once")
	}

	// A proposal: its slots are buttons like any other.
	start := time.Date(time.Now().Year()+1, 3, 3, 10, 30, 0, 0, f.d.Hours().Loc)
	if err := f.d.Propose(ctx, acc, code, []bot.Slot{{Form: "teams", Start: start, Minutes: 45}}); err != nil {
		t.Fatal(err)
	}
	v.open()
	var slot string
	for _, b := range pageButtons(v.page) {
		if strings.HasPrefix(b.Data, "c:"+code+":") && strings.HasSuffix(b.Data, ":0") {
			slot = b.Label
		}
	}
	if slot == "" {
		t.Fatalf("no slot button: %+v", pageButtons(v.page))
	}
	page = v.tapLabel(slot)
	mustContain(t, page, "Booked: ")
	if det, err := f.d.Case(ctx, acc, code); err != nil || det.Booked == nil {
		t.Fatalf("the booking did not reach the case: %+v %v", det, err)
	}

	// What the student types now goes to the counsellor.
	v.say("Tuesday is fine, thank you.")
	det, err := f.d.Case(ctx, acc, code)
	if err != nil {
		t.Fatal(err)
	}
	if last := det.Thread[len(det.Thread)-1]; last.From != bot.FromStudent || last.Text != "Tuesday is fine, thank you." {
		t.Errorf("last thread entry %+v", last)
	}
}

// TestChatReceiptFromAnotherDevice: with the receipt, a fresh browser (another device, or
// a student who began on Telegram) reads the thread, answers, and can withdraw.
func TestChatReceiptFromAnotherDevice(t *testing.T) {
	f := newChat(t, web.ChatOptions{})
	phone := f.visitor("en")
	code, pass := receiptOf(t, phone.intake("He follows me."))
	ctx, acc := context.Background(), f.anna()
	if err := f.d.Claim(ctx, acc, code); err != nil {
		t.Fatal(err)
	}
	if err := f.d.Send(ctx, acc, code, "Could we meet next week?"); err != nil {
		t.Fatal(err)
	}

	laptop := f.visitor("en")
	laptop.open()
	if laptop.cookie() == phone.cookie() {
		t.Fatal("two browsers share a cookie")
	}
	page := laptop.send("/chat/receipt", url.Values{"code": {" " + strings.ToLower(code) + " "}, "pass": {pass}})
	got := strings.Join(bubbles(page), "\n")
	if !strings.Contains(got, "Counsellor: Could we meet next week?") || !strings.Contains(got, code) {
		t.Fatalf("the thread is not shown after the receipt:\n%s", got)
	}
	mustContain(t, page, `data-events="1"`) // the script listens for live messages from now on

	laptop.say("Yes, Monday works.")
	det, err := f.d.Case(ctx, acc, code)
	if err != nil {
		t.Fatal(err)
	}
	if last := det.Thread[len(det.Thread)-1]; last.Text != "Yes, Monday works." || !det.Reachable {
		t.Errorf("last thread entry %+v, reachable %v", last, det.Reachable)
	}
	// The counsellor's next message goes to where the student is now.
	if err := f.d.Send(ctx, acc, code, "Monday at ten, then."); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(bubbles(laptop.open()), "\n"); !strings.Contains(got, "Monday at ten, then.") {
		t.Errorf("the laptop does not get the reply:\n%s", got)
	}

	// Withdraw from the laptop: the case is withdrawn, the cookie replaced.
	old := laptop.cookie()
	page = laptop.send("/chat/say", url.Values{"data": {"g:forget"}})
	mustContain(t, page, laptop.text("engine.forgotten"))
	if laptop.cookie() == old || laptop.cookie() == "" {
		t.Error("forget did not give the browser a new conversation")
	}
	if c, _ := f.store.GetCase(ctx, code); c == nil || c.Status != bot.StatusWithdrawn {
		t.Errorf("case after forget: %+v", c)
	}
}

// TestChatWrongReceipt: a wrong receipt links nothing and says so; after too many from one
// address the chat asks to wait.
func TestChatWrongReceipt(t *testing.T) {
	f := newChat(t, web.ChatOptions{Receipts: limit.Rate{Burst: 6, Every: time.Hour}})
	owner := f.visitor("en")
	code, pass := receiptOf(t, owner.intake("He follows me."))
	cases := []struct{ name, code, pass string }{
		{"wrong passphrase", code, "abcd-efgh-jkmn-pqrs"},
		{"unknown code", "ZZZZ-ZZZZ", pass},
		{"not a code", "<script>", pass},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := f.visitor("en")
			v.ip = "192.0.2.1"
			v.open()
			page := v.send("/chat/receipt", url.Values{"code": {c.code}, "pass": {c.pass}})
			mustContain(t, page, "do not match an open case")
			mustNotContain(t, page, "Could we meet", "&lt;script&gt;&lt;script")
			if s := f.session(v); s != nil && s.CaseCode != "" {
				t.Errorf("a wrong receipt linked case %s", s.CaseCode)
			}
		})
	}
	// Each wrong receipt cost two of the address's six tokens: the next is refused.
	v := f.visitor("nl")
	v.ip = "192.0.2.1"
	v.open()
	resp, body := v.post("/chat/receipt", url.Values{"code": {code}, "pass": {pass},
		"csrf": {formValue(t, v.page, "csrf")}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("receipt after too many wrong ones: %d %v", resp.StatusCode, resp.Header)
	}
	mustContain(t, body, "te vaak geprobeerd met een bewijs", `href="/chat/exit"`)
}

// TestChatRefusesForms: a form without the session's token, or from another site, does
// nothing and says so.
func TestChatRefusesForms(t *testing.T) {
	f := newChat(t, web.ChatOptions{})
	v := f.visitor("en")
	v.open()
	other := f.visitor("en")
	other.open()
	before := f.session(v)
	cases := []struct {
		name   string
		form   url.Values
		header []string
		jar    bool
		status int
		want   string
	}{
		{"no token", url.Values{"text": {"/forget"}}, nil, true, http.StatusForbidden, "could not be used"},
		{"wrong token", url.Values{"text": {"/forget"}, "csrf": {"x"}}, nil, true, http.StatusForbidden, "could not be used"},
		{"another session's token", url.Values{"text": {"/forget"}, "csrf": {formValue(t, other.page, "csrf")}}, nil, true, http.StatusForbidden, "could not be used"},
		{"another site", url.Values{"text": {"/forget"}, "csrf": {formValue(t, v.page, "csrf")}}, []string{"Sec-Fetch-Site", "cross-site"}, true, http.StatusForbidden, "could not be used"},
		{"no cookie", url.Values{"text": {"/forget"}, "csrf": {formValue(t, v.page, "csrf")}}, nil, false, http.StatusForbidden, "conversation on this device has ended"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client := v
			if !c.jar {
				client = f.visitor("en")
			}
			resp, body := client.post("/chat/say", c.form, c.header...)
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d", resp.StatusCode, c.status)
			}
			mustContain(t, body, c.want, `href="/chat/exit"`)
			if len(resp.Header.Values("Set-Cookie")) != 0 {
				t.Errorf("a refused form set a cookie: %q", resp.Header.Values("Set-Cookie"))
			}
		})
	}
	if after := f.session(v); after == nil || after.Seq != before.Seq || after.IntakeID != before.IntakeID {
		t.Errorf("a refused form changed the conversation: %+v -> %+v", before, after)
	}
}

// TestChatHeaders: every response carries the security headers; pages are not cached;
// the only cookie ever set is the session cookie.
func TestChatHeaders(t *testing.T) {
	f := newChat(t, web.ChatOptions{})
	v := f.visitor("en")
	v.open()
	tok := formValue(t, v.page, "csrf")
	reqs := []struct {
		method, path string
		form         url.Values
		page         bool // a conversation page: no-store
	}{
		{"GET", "/", nil, true},
		{"GET", "/chat/privacy", nil, true},
		{"GET", "/chat/nowhere", nil, true},
		{"GET", "/favicon.ico", nil, true},
		{"GET", "/chat/receipt.txt", nil, true},
		{"GET", "/chat/events", nil, true},
		{"GET", "/chat/chat.css", nil, false},
		{"GET", "/chat/chat.js", nil, false},
		{"POST", "/chat/say", url.Values{"text": {"hello"}, "csrf": {tok}}, true},
		{"POST", "/chat/say", url.Values{"text": {"hello"}}, true},
		{"POST", "/chat/receipt", url.Values{"code": {"AAAA-AAAA"}, "pass": {"x"}, "csrf": {tok}}, true},
		{"GET", "/chat/exit", nil, true},
	}
	for _, r := range reqs {
		var resp *http.Response
		if r.method == "GET" {
			resp, _ = v.get(r.path)
		} else {
			resp, _ = v.post(r.path, r.form)
		}
		h := resp.Header
		name := r.method + " " + r.path
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", name, csp, want)
			}
		}
		if strings.Contains(csp, "http") || strings.Contains(csp, "unsafe") || strings.Contains(csp, "*") {
			t.Errorf("%s: CSP %q allows another origin or inline code", name, csp)
		}
		for k, want := range map[string]string{"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"} {
			if h.Get(k) != want {
				t.Errorf("%s: %s = %q, want %q", name, k, h.Get(k), want)
			}
		}
		if cc := h.Get("Cache-Control"); r.page && cc != "no-store" || !r.page && cc != "no-cache" {
			t.Errorf("%s: Cache-Control %q", name, cc)
		}
		for _, c := range h.Values("Set-Cookie") {
			if !strings.HasPrefix(c, "chat=") {
				t.Errorf("%s sets a cookie other than the session cookie: %q", name, c)
			}
		}
	}
}

// TestChatSecureCookie: over TLS (or with Secure), the cookie is __Host- and Secure.
func TestChatSecureCookie(t *testing.T) {
	f := newChat(t, web.ChatOptions{Secure: true})
	v := f.visitor("en")
	resp, _ := v.get("/")
	ck := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"__Host-chat=", "Secure", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(ck, want) {
			t.Errorf("cookie %q lacks %s", ck, want)
		}
	}
}

// TestChatStoresNoSecret: the cookie value is nowhere in Redis, nor in the logs, nor is
// the address the requests came from.
func TestChatStoresNoSecret(t *testing.T) {
	f := newChat(t, web.ChatOptions{})
	v := f.visitor("en")
	code, _ := receiptOf(t, v.intake("He follows me."))
	ctx, acc := context.Background(), f.anna()
	if err := f.d.Claim(ctx, acc, code); err != nil {
		t.Fatal(err)
	}
	if err := f.d.Send(ctx, acc, code, "Hello"); err != nil {
		t.Fatal(err)
	}
	v.post("/chat/say", url.Values{"text": {"x"}}) // a refused form
	secret := v.cookie()
	dump := redistest.Dump(t, f.client, f.prefix)
	if len(dump) == 0 {
		t.Fatal("nothing stored: the dump is not looking at the right place")
	}
	for k, val := range dump {
		if strings.Contains(k, secret) || strings.Contains(val, secret) {
			t.Errorf("the session secret is stored in %s", k)
		}
		if strings.Contains(val, "127.0.0.1") {
			t.Errorf("an IP address is stored in %s", k)
		}
	}
	logs := f.logs.String()
	if strings.Contains(logs, secret) || strings.Contains(logs, "127.0.0.1") {
		t.Errorf("logs hold the secret or the address:\n%s", logs)
	}
}

// TestChatRateLimits: past its burst an address, or a conversation, gets a polite page in
// its language, and the conversation is untouched.
func TestChatRateLimits(t *testing.T) {
	t.Run("per address", func(t *testing.T) {
		f := newChat(t, web.ChatOptions{PerIP: limit.Rate{Burst: 3, Every: time.Hour}})
		v := f.visitor("nl-NL,nl;q=0.9")
		for i := 0; i < 3; i++ {
			if resp, _ := v.get("/"); resp.StatusCode != http.StatusOK {
				t.Fatalf("request %d: %d", i+1, resp.StatusCode)
			}
		}
		resp, body := v.get("/")
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("fourth request: %d %v", resp.StatusCode, resp.Header)
		}
		mustContain(t, body, `<html lang="nl">`, "iets te snel", "Bel 112", `href="/chat/exit"`)
		// Another address is not held up.
		w := f.visitor("en")
		w.ip = "198.51.100.7"
		w.open()
	})
	t.Run("per conversation", func(t *testing.T) {
		f := newChat(t, web.ChatOptions{PerConversation: limit.Rate{Burst: 2, Every: time.Hour}})
		v := f.visitor("en")
		v.open()
		v.tap("menu.report")
		v.tap("category.stalking") // page loads do not count: two turns so far
		resp, body := v.post("/chat/say", url.Values{"text": {"hello"}, "csrf": {formValue(t, v.page, "csrf")}}, "Accept", "application/json")
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var j struct{ Error string }
		if err := json.Unmarshal([]byte(body), &j); err != nil || !strings.Contains(j.Error, "a bit fast") {
			t.Errorf("JSON refusal %q: %v", body, err)
		}
	})
	t.Run("help in danger is never limited away", func(t *testing.T) {
		f := newChat(t, web.ChatOptions{PerConversation: limit.Rate{Burst: 1, Every: time.Hour}})
		v := f.visitor("en")
		v.open()
		v.tap("menu.report") // the conversation's only token
		before := f.session(v)
		csrf := formValue(t, v.page, "csrf")
		resp, body := v.post("/chat/say", url.Values{"text": {"i want to die"}, "csrf": {csrf}})
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("status %d", resp.StatusCode)
		}
		mustContain(t, body, "What you write worries me", "0800-0113", "0800-0188", "a bit fast")
		resp, body = v.post("/chat/say", url.Values{"data": {"g:urgent"}, "csrf": {csrf}}, "Accept", "application/json")
		var j struct{ Error string }
		if err := json.Unmarshal([]byte(body), &j); resp.StatusCode != http.StatusTooManyRequests || err != nil ||
			!strings.Contains(j.Error, "0900-0101") || !strings.Contains(j.Error, "a bit fast") {
			t.Errorf("the urgent button over the limit: %d %q", resp.StatusCode, body)
		}
		// An ordinary message over the limit gets only the refusal, and nothing was run.
		_, body = v.post("/chat/say", url.Values{"text": {"hello"}, "csrf": {csrf}})
		if strings.Contains(body, "0800-0113") || !strings.Contains(body, "a bit fast") {
			t.Errorf("an ordinary message over the limit:\n%s", body)
		}
		if after := f.session(v); after.Node != before.Node || len(after.Urgent) != 0 {
			t.Errorf("a refused message changed the conversation: node %s -> %s, urgent %v", before.Node, after.Node, after.Urgent)
		}
	})
}

// TestChatQuickExit: every page has the exit; it forgets the cookie and leaves for the
// neutral site; a link from another site cannot end a conversation.
func TestChatQuickExit(t *testing.T) {
	f := newChat(t, web.ChatOptions{ExitURL: "https://example.org/weather"})
	v := f.visitor("en")
	v.open()
	for _, path := range []string{"/", "/chat/privacy", "/chat/nowhere", "/chat/receipt.txt"} {
		_, body := v.get(path)
		mustContain(t, body, `<a class="exit" id="exit" href="/chat/exit" rel="noreferrer" data-exit="https://example.org/weather">`)
	}
	_, body := v.post("/chat/say", url.Values{"text": {"hi"}})
	mustContain(t, body, `href="/chat/exit"`)

	resp, _ := v.get("/chat/exit")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "https://example.org/weather" {
		t.Fatalf("exit: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if v.cookie() != "" {
		t.Error("the exit left the session cookie")
	}

	w := f.visitor("en")
	w.open()
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/chat/exit", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, _ := w.do(req); resp.StatusCode != http.StatusSeeOther || w.cookie() == "" {
		t.Errorf("a cross-site exit link ended the conversation: %d, cookie %q", resp.StatusCode, w.cookie())
	}
}

// TestChatBadInput: oversized bodies, replayed forms, stale buttons, forged cookies and
// markup get clear answers and change nothing.
func TestChatBadInput(t *testing.T) {
	f := newChat(t, web.ChatOptions{})
	v := f.visitor("en")
	v.open()
	v.tap("menu.report")
	v.tap("category.stalking")
	v.tap("relation.student_student")
	v.tap("reporter.self")

	t.Run("too long for the engine", func(t *testing.T) {
		page := v.say(strings.Repeat("a", bot.DefaultMaxText+1))
		mustContain(t, page, "longer than 4000 characters")
	})
	t.Run("over the body cap", func(t *testing.T) {
		form := url.Values{"text": {strings.Repeat("ä", web.MaxFormBytes)}, "csrf": {formValue(t, v.page, "csrf")}}
		resp, body := v.post("/chat/say", form)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d", resp.StatusCode)
		}
		mustContain(t, body, "longer than 4000 characters", `name="text"`) // the chat, with the engine's answer
	})
	t.Run("replayed form", func(t *testing.T) {
		v.open()
		form := url.Values{"text": {"He waits at the station."}, "csrf": {formValue(t, v.page, "csrf")}, "once": {formValue(t, v.page, "once")}}
		for i := 0; i < 2; i++ {
			if resp, _ := v.post("/chat/say", form); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("post %d: %d", i+1, resp.StatusCode)
			}
		}
		page := v.open()
		if s := f.session(v); s.Vars["story"] != "He waits at the station." || s.Node != "profile" && !strings.Contains(page, v.text("profile.no")) {
			t.Errorf("after a replay: node %s, story %q", s.Node, s.Vars["story"])
		}
	})
	t.Run("stale button", func(t *testing.T) {
		page := v.send("/chat/say", url.Values{"data": {"1:o:0"}})
		mustContain(t, page, v.text("engine.stale"))
	})
	t.Run("forged cookie", func(t *testing.T) {
		w := f.visitor("en")
		u, _ := url.Parse(f.srv.URL)
		w.c.Jar.SetCookies(u, []*http.Cookie{{Name: "chat", Value: "forged", Path: "/"}})
		resp, page := w.get("/")
		if resp.StatusCode != http.StatusOK || w.cookie() == "forged" || len(w.cookie()) != 43 {
			t.Fatalf("forged cookie: %d, cookie %q", resp.StatusCode, w.cookie())
		}
		mustContain(t, page, w.text("menu.report"))
	})
	t.Run("markup is text", func(t *testing.T) {
		page := v.say("/<script>alert(1)</script>")
		mustNotContain(t, page, "<script>alert")
		mustContain(t, page, "&lt;script&gt;")
	})
}

// TestChatJSON: the script's path is the same turn, answered with the new bubbles as HTML
// from the page's templates and fresh tokens.
func TestChatJSON(t *testing.T) {
	f := newChat(t, web.ChatOptions{})
	v := f.visitor("en")
	v.open()
	var report pageButton
	for _, b := range pageButtons(v.page) {
		if b.Label == v.text("menu.report") {
			report = b
		}
	}
	form := url.Values{"data": {report.Data}, "csrf": {formValue(t, v.page, "csrf")}, "once": {formValue(t, v.page, "once")}}
	resp, body := v.post("/chat/say", form, "Accept", "application/json")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var j struct {
		HTML, Once, CSRF, Lang string
		Case, Reload, Again    bool
	}
	if err := json.Unmarshal([]byte(body), &j); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(j.HTML, v.text("category.stalking")) || j.Once == "" || j.Once == form.Get("once") || j.CSRF != form.Get("csrf") || j.Lang != "en" || j.Case {
		t.Errorf("answer %+v", j)
	}
	// The same form again does nothing and says so.
	_, body = v.post("/chat/say", form, "Accept", "application/json")
	if err := json.Unmarshal([]byte(body), &j); err != nil || !j.Again {
		t.Errorf("replay: %s", body)
	}
}

// TestChatEvents: with a case, counsellor messages arrive on the event stream; without
// one, the stream says there is nothing to listen to (204).
func TestChatEvents(t *testing.T) {
	f := newChat(t, web.ChatOptions{})
	v := f.visitor("en")
	v.open()
	if resp, _ := v.get("/chat/events"); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("events without a case: %d", resp.StatusCode)
	}
	code, _ := receiptOf(t, v.intake("He follows me."))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/chat/events", nil)
	stream := &http.Client{Jar: v.c.Jar}
	resp, err := stream.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events: %d %v", resp.StatusCode, resp.Header)
	}
	acc := f.anna()
	if err := f.d.Claim(ctx, acc, code); err != nil {
		t.Fatal(err)
	}
	if err := f.d.Send(ctx, acc, code, "Live from the desk."); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		var all strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			all.Write(buf[:n])
			if strings.Contains(all.String(), "Live from the desk.") || err != nil {
				got <- all.String()
				return
			}
		}
	}()
	select {
	case s := <-got:
		if !strings.Contains(s, "event: turn") || !strings.Contains(s, "Live from the desk.") {
			t.Fatalf("stream: %q", s)
		}
	case <-ctx.Done():
		t.Fatal("no event within 20s")
	}
	cancel()
	// Delivered once: the page does not show it again as new, but keeps it for a reload.
	page := v.open()
	if n := strings.Count(page, "Live from the desk."); n != 1 {
		t.Errorf("the page shows the live message %d times", n)
	}
}

// TestChatLanguage: the page's language follows the conversation; a German browser is
// greeted in German on an English page.
func TestChatLanguage(t *testing.T) {
	f := newChat(t, web.ChatOptions{})
	cases := []struct{ accept, html, first string }{
		{"nl-NL,nl;q=0.9,en;q=0.8", `<html lang="nl">`, "Snel weg"},
		{"fr-FR,fr;q=0.9,en;q=0.5", `<html lang="en">`, "Quick exit"},
		{"de-DE,de;q=0.9", `<html lang="en">`, `lang="de"`},
		{"", `<html lang="nl">`, "Snel weg"},
	}
	for _, c := range cases {
		t.Run(c.accept, func(t *testing.T) {
			v := f.visitor(c.accept)
			mustContain(t, v.open(), c.html, c.first)
		})
	}
	v := f.visitor("en")
	v.open()
	page := v.send("/chat/say", url.Values{"data": {"g:language"}})
	page = v.tapLabel("Nederlands")
	mustContain(t, page, `<html lang="nl">`, "Snel weg")
}

// TestChatStop: stop erases the conversation and the browser gets a new one.
func TestChatStop(t *testing.T) {
	f := newChat(t, web.ChatOptions{})
	v := f.visitor("en")
	v.open()
	v.tap("menu.report")
	old := v.cookie()
	page := v.send("/chat/say", url.Values{"data": {"g:stop"}})
	mustContain(t, page, v.text("engine.stopped"))
	if v.cookie() == old {
		t.Error("the cookie was not replaced")
	}
	names, _ := bot.NewPseudonyms([]byte("a pepper for the chat tests, 32+ bytes"))
	if s, _ := f.e.Session(context.Background(), names.Key("web", old)); s != nil {
		t.Error("the old conversation is still stored")
	}
	if !slices.ContainsFunc(bubbles(page), func(s string) bool { return strings.Contains(s, "Stopped") }) {
		t.Errorf("bubbles: %q", bubbles(page))
	}
}
