package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
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

// The fuzzers here send forged requests to the real chat and desk handlers on a real
// engine, in process (httptest), and check what must hold for any request: no panic, no
// 5xx, the security headers, a bounded answer, and nothing of the request in the log.

// maxPage bounds any answer; the largest page (a case with a long thread) is far smaller.
const maxPage = 1 << 20

// fuzzSite is the chat and the desk of one engine, as cmd/intake mounts them.
type fuzzSite struct {
	e     *bot.Engine
	store *redis.Store
	desk  *bot.Desk
	h     http.Handler
	logs  *bottest.Screen
	n     atomic.Int64
}

func newFuzzSite(f *testing.F) *fuzzSite {
	f.Helper()
	store := redistest.New(f, redis.Options{})
	log, logs := bottest.DebugLog()
	e := bottest.LoggedEngine(f, store, log)
	d := bottest.Desk(f, e, store, "anna")
	names, err := bot.NewPseudonyms([]byte("a pepper for the fuzz tests, 32+ bytes"))
	if err != nil {
		f.Fatal(err)
	}
	// Limits that never bite (the fuzzer is one address sending thousands of requests),
	// and short waits.
	wide := web.Limit{Burst: 1 << 30, Every: time.Nanosecond}
	mux := http.NewServeMux()
	mux.Handle("/desk/", web.NewDesk(d, web.DeskOptions{Logger: log, Records: store.Records}))
	mux.Handle("/", web.NewChat(e, names, web.ChatOptions{
		Logger: log, PerIP: wide, PerConversation: wide, Receipts: wide, ReceiptDelay: time.Microsecond,
		EventsBlock: 5 * time.Millisecond, EventsMaxAge: 20 * time.Millisecond,
	}))
	return &fuzzSite{e: e, store: store, desk: d, h: mux, logs: logs}
}

// serve sends req to the site and checks the answer; inputs are what the fuzzer made up,
// to be looked for in the log.
func (s *fuzzSite) serve(t *testing.T, req *http.Request, inputs ...string) (*http.Response, string) {
	t.Helper()
	logged := len(s.logs.String())
	ctx, cancel := context.WithTimeout(req.Context(), 10*time.Second)
	defer cancel()
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req.WithContext(ctx))
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		t.Fatalf("%s %s: status %d\n%s\nlog:\n%s", req.Method, req.URL, resp.StatusCode, body, s.logs.String()[logged:])
	}
	if len(body) > maxPage {
		t.Fatalf("%s %s: %d bytes", req.Method, req.URL, len(body))
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"} {
		// A 301 or 307 is the service's mux cleaning a path ("/a/../b") before any handler
		// of ours (ours redirect with 303).
		if resp.Header.Get(h) == "" && resp.StatusCode != http.StatusMovedPermanently && resp.StatusCode != http.StatusTemporaryRedirect {
			t.Fatalf("%s %s: no %s header", req.Method, req.URL, h)
		}
	}
	log := s.logs.String()[logged:]
	for _, in := range inputs {
		if len(strings.TrimSpace(in)) >= 8 && strings.Contains(log, in) {
			t.Fatalf("the request's %q is in the log:\n%s", in, log)
		}
	}
	return resp, string(body)
}

// request builds a request; ok is false for a target no HTTP client could send.
func request(method, target, body string) (*http.Request, bool) {
	u, err := url.Parse("http://intake.test" + target)
	if err != nil || !strings.HasPrefix(target, "/") {
		return nil, false
	}
	var r io.Reader
	if body != "" || method == http.MethodPost {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u.String(), r)
	if err != nil {
		return nil, false
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req, true
}

// chatVisitor is one conversation of the chat: its cookie and form token.
type chatVisitor struct {
	cookie, csrf string
}

func (s *fuzzSite) chatVisitor(f *testing.F) chatVisitor {
	f.Helper()
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	resp := rec.Result()
	var v chatVisitor
	for _, c := range resp.Cookies() {
		if c.Name == "chat" {
			v.cookie = c.Value
		}
	}
	v.csrf = formValue(f, rec.Body.String(), "csrf")
	if v.cookie == "" || v.csrf == "" {
		f.Fatal("the chat page set no conversation")
	}
	return v
}

// FuzzChatForms: any form to the chat (typed text, button data, a receipt, a raw body),
// any path, any cookie and any Accept-Language header is answered without a 5xx.
// mode picks the route (mode%8), whether the script's JSON is asked for (mode&8), and
// the cookie: the conversation's, none, or a made-up one (mode>>4 % 3).
func FuzzChatForms(f *testing.F) {
	for _, seed := range []struct {
		mode       uint8
		a, b, lang string
	}{
		{0, "hello", "", "en"}, {0, "/forget", "", "nl"}, {8, "/case", "", "de-DE"}, {1, "1:o:0", "", ""},
		{1, "g:urgent", "", "en"}, {1, "c:K7Q2-M9XD:abcd:0", "", ""}, {2, "K7Q2-M9XD", "abcd-efgh-jkmn-pqrs", "en"},
		{10, " k7q2-m9xd ", "", "*"}, {3, "text=a&text=b&data=", "", ""}, {3, "text=%ZZ", "", ""},
		{3, strings.Repeat("text=x&", 200), "", ""}, {4, "chat/receipt.txt", "", ""}, {4, "chat/events", "", ""},
		{4, "../desk/", "", ""}, {5, "", "m=1", "en;q=0.5,xx"}, {6, "", "", ""}, {16, "hi", "", ""},
		{32, "hi", "AAAA", ""}, {0, "\xff\xfe", "", "\xff"}, {7, "chat/privacy", "", "nl-BE,nl;q=0.9"},
	} {
		f.Add(seed.mode, seed.a, seed.b, seed.lang)
	}
	s := newFuzzSite(f)
	v := s.chatVisitor(f)
	f.Fuzz(func(t *testing.T, mode uint8, a, b, lang string) {
		once := "fuzz-" + strconv.FormatInt(s.n.Add(1), 10)
		form := url.Values{"csrf": {v.csrf}, "once": {once}}
		var req *http.Request
		ok := true
		switch mode % 8 {
		case 0:
			form.Set("text", a)
			req, ok = request(http.MethodPost, "/chat/say", form.Encode())
		case 1:
			form.Set("data", a)
			req, ok = request(http.MethodPost, "/chat/say", form.Encode())
		case 2:
			form.Set("code", a)
			form.Set("pass", b)
			req, ok = request(http.MethodPost, "/chat/receipt", form.Encode())
		case 3:
			req, ok = request(http.MethodPost, "/chat/say", form.Encode()+"&"+a)
		case 4, 7:
			req, ok = request(http.MethodGet, "/"+a, "")
		case 5:
			req, ok = request(http.MethodGet, "/chat/receipt.txt?"+b, "")
		case 6:
			req, ok = request(http.MethodPost, "/chat/exit", a)
		}
		if !ok {
			return
		}
		if mode&8 != 0 {
			req.Header.Set("Accept", "application/json")
		}
		req.Header.Set("Accept-Language", lang)
		switch mode >> 4 % 3 {
		case 0:
			req.AddCookie(&http.Cookie{Name: "chat", Value: v.cookie})
		case 2:
			req.Header.Set("Cookie", "chat="+b)
		}
		s.serve(t, req, a, b, lang)
	})
}

// deskCases are a case anna has claimed and one waiting in the queue; a forged form names
// them as {mine} and {queued}.
type deskCases struct {
	mine, queued string
}

// FuzzDeskForms: any form or query a logged-in counsellor's browser could send (login,
// case pages, every case action with any fields, the statistics page, any path) is
// answered without a 5xx. mode picks the route (mode%8) and, for case actions, the action
// (mode>>3).
func FuzzDeskForms(f *testing.F) {
	for _, seed := range []struct {
		mode    uint8
		code, a string
		b       string
	}{
		{0, "", "/desk/case/{mine}", "expired"}, {1, "", "anna", "wrong password"}, {2, "{mine}", "", ""},
		{2, "nope", "", ""}, {3, "{mine}", "", ""}, {4, "{mine}", "send", "text=Hello+there"},
		{4, "{mine}", "propose", "start1=2031-03-02T10:00&minutes1=30&form1=phone"},
		{4, "{mine}", "propose", "start1=2031-03-02T10:00:99&minutes1=-1&form1=x&start2=0000-01-01T00:00"},
		{4, "{mine}", "close", "followup=referral&referral=GP"}, {4, "{queued}", "claim", ""},
		{4, "{mine}", "release", ""}, {4, "{mine}", "frobnicate", ""}, {12, "{queued}", "", ""},
		{13, "{mine}", "2031-01-01T10:00", "45"}, {5, "{mine}", "", ""}, {6, "", "", "year=2026&from=2025-13"},
		{6, "", "", "year=-1&month=99999999999"}, {7, "", "case/%2e%2e/x", ""}, {2, "k7q2-m9xd", "", ""},
		{4, "{mine}", "send", "text=" + strings.Repeat("%F0%9F%98%A2", 3000)},
	} {
		f.Add(seed.mode, seed.code, seed.a, seed.b)
	}
	s := newFuzzSite(f)
	ctx := context.Background()
	token, _, err := s.desk.Login(ctx, "anna", bottest.Password("anna"))
	if err != nil {
		f.Fatal(err)
	}
	login := &http.Cookie{Name: "desk_login", Value: token}
	rec := httptest.NewRecorder()
	home := httptest.NewRequest(http.MethodGet, "/desk/", nil)
	home.AddCookie(login)
	s.h.ServeHTTP(rec, home)
	csrf := formValue(f, rec.Body.String(), "csrf")
	cases := deskCases{queued: s.handoff(f)}
	f.Fuzz(func(t *testing.T, mode uint8, code, a, b string) {
		cases.mine = s.claimedCase(t, cases.mine)
		code = strings.NewReplacer("{mine}", cases.mine, "{queued}", cases.queued).Replace(code)
		casePath := "/desk/case/" + url.PathEscape(code)
		form, _ := url.ParseQuery(b)
		if form == nil {
			form = url.Values{}
		}
		form.Set("csrf", csrf)
		form.Set("once", "fuzz-"+strconv.FormatInt(s.n.Add(1), 10))
		var req *http.Request
		ok := true
		switch mode % 8 {
		case 0:
			req, ok = request(http.MethodGet, "/desk/login?"+url.Values{"next": {a}, "m": {b}}.Encode(), "")
		case 1:
			if len(b) > 64 {
				return // every wrong login costs an Argon2id hash; long ones are refused before it
			}
			form := url.Values{"csrf": {"fuzz-prelogin"}, "name": {a}, "password": {b}, "next": {code}}
			req, ok = request(http.MethodPost, "/desk/login", form.Encode())
			if ok {
				req.AddCookie(&http.Cookie{Name: "desk_prelogin", Value: "fuzz-prelogin"})
			}
		case 2:
			req, ok = request(http.MethodGet, casePath, "")
		case 3:
			req, ok = request(http.MethodGet, casePath+"/ics", "")
		case 4:
			req, ok = request(http.MethodPost, casePath+"/"+url.PathEscape(a), form.Encode())
		case 5:
			action := []string{"claim", "release", "send", "propose", "close"}[mode>>3%5]
			for _, k := range []string{"text", "start1", "start2", "referral"} {
				form.Set(k, a)
			}
			for _, k := range []string{"minutes1", "minutes2", "form1", "followup"} {
				form.Set(k, b)
			}
			req, ok = request(http.MethodPost, casePath+"/"+action, form.Encode())
		case 6:
			req, ok = request(http.MethodGet, "/desk/stats?"+b, "")
		case 7:
			req, ok = request(http.MethodGet, "/desk/"+a, "")
		}
		if !ok {
			return
		}
		if mode%8 != 1 {
			req.AddCookie(login)
		}
		s.serve(t, req, a, b)
	})
}

// handoff runs a student's intake to a handoff and returns the case code.
func (s *fuzzSite) handoff(t testing.TB) string {
	t.Helper()
	return newStudent(t, s.e).handoff("The fuzzer's student story, sealed like any other.")
}

// claimedCase returns code while anna still has it claimed, else a new case she claims.
// The fuzzer closes and releases cases; the next input needs one to act on.
func (s *fuzzSite) claimedCase(t testing.TB, code string) string {
	t.Helper()
	ctx := context.Background()
	if code != "" {
		c, err := s.store.GetCase(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case c != nil && c.Status == bot.StatusClaimed:
			return code
		case c != nil && c.Status == bot.StatusPending:
			anna, err := s.desk.Account(ctx, "anna")
			if err == nil {
				err = s.desk.Claim(ctx, anna, code)
			}
			if err != nil {
				t.Fatal(err)
			}
			return code
		}
	}
	code = s.handoff(t)
	anna, err := s.desk.Account(ctx, "anna")
	if err == nil {
		err = s.desk.Claim(ctx, anna, code)
	}
	if err != nil {
		t.Fatal(err)
	}
	return code
}
