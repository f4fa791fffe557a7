package web_test

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
	"intake/bot/bottest"
	"intake/bot/limit"
	"intake/bot/web"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// chatFixture is the web chat and the desk on a real engine and the test Redis, mounted as
// cmd/intake mounts them, served over httptest.
type chatFixture struct {
	t      *testing.T
	e      *bot.Engine
	store  *redis.Store
	client goredis.UniversalClient
	prefix string
	d      *bot.Desk
	srv    *httptest.Server
	logs   *syncBuffer
}

// syncBuffer is an output read while the channel writes to it.
type syncBuffer = bottest.Screen

// testIP lets a test speak from several addresses; the chat's rate limits count them.
const testIP = "X-Test-Client"

func newChat(t *testing.T, opts web.ChatOptions) *chatFixture {
	t.Helper()
	client, prefix := redistest.Client(t)
	store := redis.New(client, redis.Options{Prefix: prefix})
	e := bottest.EngineOn(t, store, bottest.DefaultContent(t))
	d := bottest.Desk(t, e, store, "anna")
	names, err := bot.NewPseudonyms([]byte("a pepper for the chat tests, 32+ bytes"))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.PerIP.Burst == 0 {
		opts.PerIP = limit.Rate{Burst: 1000, Every: time.Millisecond}
	}
	if opts.PerConversation.Burst == 0 {
		opts.PerConversation = limit.Rate{Burst: 1000, Every: time.Millisecond}
	}
	if opts.ReceiptDelay == 0 {
		opts.ReceiptDelay = time.Millisecond
	}
	if opts.EventsBlock == 0 {
		opts.EventsBlock = 100 * time.Millisecond
	}
	if opts.ClientIP == nil {
		opts.ClientIP = func(r *http.Request) string {
			if ip := r.Header.Get(testIP); ip != "" {
				return ip
			}
			return r.RemoteAddr[:strings.LastIndex(r.RemoteAddr, ":")]
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/desk/", web.NewDesk(d, web.DeskOptions{Logger: opts.Logger}))
	mux.Handle("/", web.NewChat(e, names, opts))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &chatFixture{t: t, e: e, store: store, client: client, prefix: prefix, d: d, srv: srv, logs: logs}
}

// visitor is one browser without JavaScript: a cookie jar, redirects checked by hand.
type visitor struct {
	t      testing.TB
	f      *chatFixture
	c      *http.Client
	lang   string
	ip     string
	page   string // the last chat page
	status int
}

func (f *chatFixture) visitor(lang string) *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{t: f.t, f: f, lang: lang, c: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (v *visitor) do(req *http.Request) (*http.Response, string) {
	v.t.Helper()
	if v.lang != "" {
		req.Header.Set("Accept-Language", v.lang)
	}
	if v.ip != "" {
		req.Header.Set(testIP, v.ip)
	}
	return fetch(v.t, v.c, req)
}

func (v *visitor) get(path string) (*http.Response, string) {
	v.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, v.f.srv.URL+path, nil)
	return v.do(req)
}

func (v *visitor) post(path string, form url.Values, header ...string) (*http.Response, string) {
	v.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, v.f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return v.do(req)
}

// open loads the chat page.
func (v *visitor) open() string {
	v.t.Helper()
	resp, body := v.get("/")
	if resp.StatusCode != http.StatusOK {
		v.t.Fatalf("GET /: status %d\n%s", resp.StatusCode, body)
	}
	v.page, v.status = body, resp.StatusCode
	return body
}

// send posts a form of the current page (its tokens added) and follows the 303 back to
// the page, as a browser without JavaScript does.
func (v *visitor) send(path string, form url.Values) string {
	v.t.Helper()
	if form.Get("csrf") == "" {
		form.Set("csrf", formValue(v.t, v.page, "csrf"))
	}
	if form.Get("once") == "" {
		form.Set("once", formValue(v.t, v.page, "once"))
	}
	resp, body := v.post(path, form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/#now" {
		v.t.Fatalf("POST %s: status %d, location %q, want 303 to /#now\n%s", path, resp.StatusCode, resp.Header.Get("Location"), body)
	}
	return v.open()
}

func (v *visitor) say(text string) string {
	v.t.Helper()
	return v.send("/chat/say", url.Values{"text": {text}})
}

// tap presses the page's button labelled with the text of message id.
func (v *visitor) tap(id string) string {
	v.t.Helper()
	return v.tapLabel(v.text(id))
}

func (v *visitor) tapLabel(label string) string {
	v.t.Helper()
	for _, b := range pageButtons(v.page) {
		if b.Label == label {
			return v.send("/chat/say", url.Values{"data": {b.Data}})
		}
	}
	v.t.Fatalf("no button %q on the page; buttons: %+v\n%s", label, pageButtons(v.page), v.page)
	return ""
}

// text is a message of the catalog in the visitor's language (English unless "nl").
func (v *visitor) text(id string) string {
	v.t.Helper()
	lang := "en"
	if strings.HasPrefix(v.lang, "nl") {
		lang = "nl"
	}
	s, err := v.f.e.Content().Catalog.Text(lang, id, map[string]any{})
	if err != nil {
		v.t.Fatalf("text %s: %v", id, err)
	}
	return s
}

// cookie is the session cookie's value in the jar.
func (v *visitor) cookie() string {
	u, _ := url.Parse(v.f.srv.URL + "/")
	for _, c := range v.c.Jar.Cookies(u) {
		if c.Name == "chat" {
			return c.Value
		}
	}
	return ""
}

// intake walks through a stalking report that asks a counsellor for advice in the chat,
// from the page's own buttons, and returns the page with the receipt.
func (v *visitor) intake(story string) string {
	v.t.Helper()
	v.open()
	for _, id := range []string{"menu.report", "category.stalking", "relation.student_student", "reporter.self"} {
		v.tap(id)
	}
	v.say(story)
	for _, id := range []string{"profile.no", "outcome.advice", "contact.chat", "urgency.no", "summary.confirm_talk"} {
		v.tap(id)
	}
	return v.page
}

// receipt returns the case code and passphrase of the receipt box on the page.
func receiptOf(t testing.TB, page string) (string, string) {
	t.Helper()
	m := regexp.MustCompile(`<dd class="code">([^<]+)</dd>\s*</div>\s*<div><dt>[^<]+</dt><dd class="code">([^<]+)</dd>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no receipt box on the page:\n%s", page)
	}
	return m[1], m[2]
}

type pageButton struct{ Data, Label string }

var buttonPattern = regexp.MustCompile(`<button type="submit"[^>]*? name="data" value="([^"]*)"[^>]*>([^<]*)</button>`)

func pageButtons(page string) []pageButton {
	var out []pageButton
	for _, m := range buttonPattern.FindAllStringSubmatch(page, -1) {
		out = append(out, pageButton{Data: html.UnescapeString(m[1]), Label: html.UnescapeString(m[2])})
	}
	return out
}

var bubblePattern = regexp.MustCompile(`(?s)<div class="bubble([^"]*)"[^>]*>\s*(?:<p class="text">(.*?)</p>)?`)

// bubbles returns the texts of the page's bubbles; team ones start with "team: ".
func bubbles(page string) []string {
	var out []string
	for _, m := range bubblePattern.FindAllStringSubmatch(page, -1) {
		text := html.UnescapeString(m[2])
		if strings.Contains(m[1], "team") {
			text = "team: " + text
		}
		out = append(out, text)
	}
	return out
}

// desk acts as counsellor anna on the fixture's desk.
func (f *chatFixture) anna() *bot.Account {
	f.t.Helper()
	acc, err := f.d.Account(context.Background(), "anna")
	if err != nil || acc == nil {
		f.t.Fatalf("account anna: %v", err)
	}
	return acc
}
