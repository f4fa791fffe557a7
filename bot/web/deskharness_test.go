package web_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/bottest"
	"intake/bot/web"
	"intake/storage/redis"
)

// deskFixture is a real engine and desk on the test store, served over httptest.
type deskFixture struct {
	t     *testing.T
	e     *bot.Engine
	store *redis.Store
	d     *bot.Desk
	srv   *httptest.Server
}

func newDesk(t *testing.T, counsellors ...string) *deskFixture {
	t.Helper()
	e, store := bottest.Engine(t)
	d := bottest.Desk(t, e, store, counsellors...)
	mux := http.NewServeMux()
	mux.Handle("/desk/", web.NewDesk(d, web.DeskOptions{Logger: slog.New(slog.DiscardHandler), Records: store.Records}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &deskFixture{t: t, e: e, store: store, d: d, srv: srv}
}

// student talks to the engine the way a channel would, with a reachable outbox.
type student struct {
	t    testing.TB
	e    *bot.Engine
	key  string
	last bot.Reply
}

var studentSeq struct {
	sync.Mutex
	n int
}

func newStudent(t testing.TB, e *bot.Engine) *student {
	studentSeq.Lock()
	studentSeq.n++
	n := studentSeq.n
	studentSeq.Unlock()
	return &student{t: t, e: e, key: "student-" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + strconv.Itoa(n)}
}

func (s *student) outbox() string { return "test:" + s.key }

func (s *student) send(in bot.Inbound) bot.Reply {
	s.t.Helper()
	in.Channel, in.Key, in.LangHint = "test", s.key, "en"
	in.Reply = bot.Address{Outbox: s.outbox()}
	r, err := s.e.Handle(context.Background(), in)
	if err != nil {
		s.t.Fatalf("student turn: %v", err)
	}
	s.last = r
	return r
}

func (s *student) say(text string) bot.Reply { return s.send(bot.Inbound{Text: text}) }

// tap presses the button of the last reply labelled with the text of message id.
func (s *student) tap(id string) {
	s.t.Helper()
	want, err := s.e.Content().Catalog.Text("en", id, map[string]any{})
	if err != nil {
		s.t.Fatalf("text %s: %v", id, err)
	}
	for i := len(s.last.Messages) - 1; i >= 0; i-- {
		for _, b := range s.last.Messages[i].Buttons {
			if b.Label == want {
				s.send(bot.Inbound{Data: b.Data})
				return
			}
		}
	}
	s.t.Fatalf("no button %q (%s) in the last reply %+v", want, id, s.last.Messages)
}

// handoff walks the student through a stalking report that asks for advice in the chat,
// and returns the case code.
func (s *student) handoff(story string) string {
	s.t.Helper()
	s.send(bot.Inbound{Open: true})
	for _, id := range []string{"menu.report", "category.stalking", "relation.student_student", "reporter.self"} {
		s.tap(id)
	}
	if story == "" {
		s.tap("story.skip")
	} else {
		s.say(story)
	}
	for _, id := range []string{"profile.no", "outcome.advice", "contact.chat", "urgency.no", "summary.confirm_talk"} {
		s.tap(id)
	}
	sess, err := s.e.Session(context.Background(), s.key)
	if err != nil || sess == nil || sess.CaseCode == "" {
		s.t.Fatalf("no case after the handoff: session %+v, err %v", sess, err)
	}
	return sess.CaseCode
}

// delivered returns the messages waiting in the student's outbox (and acknowledges them).
func (s *student) delivered() []bot.Message {
	s.t.Helper()
	var got []bot.Message
	_, err := s.e.Deliver(context.Background(), s.outbox(), "test", 0, func(_ context.Context, _ string, msgs []bot.Message) error {
		got = append(got, msgs...)
		return nil
	})
	if err != nil {
		s.t.Fatalf("deliver: %v", err)
	}
	return got
}

// browser is a counsellor's browser: a cookie jar, following redirects.
type browser struct {
	t    testing.TB
	f    *deskFixture
	c    *http.Client
	csrf string
}

func (f *deskFixture) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: f.t, f: f, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// login logs in as name with its test password and fails the test unless it worked.
func (f *deskFixture) login(name string) *browser {
	f.t.Helper()
	b := f.browser()
	status, body := b.loginAs(name, bottest.Password(name), "")
	if status != http.StatusOK || !strings.Contains(body, "Log out") {
		f.t.Fatalf("login %s: status %d\n%s", name, status, body)
	}
	b.csrf = formValue(b.t, body, "csrf")
	return b
}

// loginAs fills in the login form (from GET /desk/login?next=next) and sends it.
func (b *browser) loginAs(name, password, next string) (int, string) {
	b.t.Helper()
	path := "/desk/login"
	if next != "" {
		path += "?next=" + url.QueryEscape(next)
	}
	_, page := b.get(path)
	return b.post("/desk/login", url.Values{
		"csrf": {formValue(b.t, page, "csrf")}, "next": {formValue(b.t, page, "next")},
		"name": {name}, "password": {password},
	})
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	return fetch(b.t, b.c, req)
}

// fetch sends req with c and returns the response with its whole body.
func fetch(t testing.TB, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", req.Method, req.URL.Path, err)
	}
	return resp, string(body)
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.f.srv.URL+path, nil)
	resp, body := b.do(req)
	return resp.StatusCode, body
}

func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body := b.do(req)
	return resp.StatusCode, body
}

// act sends a case form with the login's CSRF token.
func (b *browser) act(code, action string, form url.Values) (int, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	return b.post("/desk/case/"+code+"/"+action, form)
}

// cookie returns the value of a desk cookie in the jar.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.f.srv.URL + "/desk/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// formValue returns the value of the first input named name in page.
func formValue(t testing.TB, page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `"[^>]*value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no input %q in page:\n%s", name, page)
	}
	return html.UnescapeString(m[1])
}

// caseState reads a case as its store has it.
func (f *deskFixture) caseState(code string) *bot.Case {
	f.t.Helper()
	c, err := f.store.GetCase(context.Background(), code)
	if err != nil || c == nil {
		f.t.Fatalf("get case: %v %v", c, err)
	}
	return c
}

func (f *deskFixture) account(name string) *bot.Account {
	f.t.Helper()
	acc, err := f.store.GetAccount(context.Background(), name)
	if err != nil || acc == nil {
		f.t.Fatalf("account %s: %v", name, err)
	}
	return acc
}

func mustContain(t testing.TB, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q:\n%s", w, body)
		}
	}
}

func mustNotContain(t testing.TB, body string, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(body, n) {
			t.Errorf("page contains %q:\n%s", n, body)
		}
	}
}
