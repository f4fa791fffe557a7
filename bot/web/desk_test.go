package web_test

import (
	"context"
	"log/slog"
	"net/http"
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
)

const story = "He waits outside my room every evening.\nYesterday he followed me to the station."

func TestLogin(t *testing.T) {
	f := newDesk(t, "anna")
	cases := []struct {
		name, user, password string
		status               int
		want                 string
	}{
		{"right password", "anna", bottest.Password("anna"), http.StatusOK, "Logged in as <strong>anna</strong>"},
		{"name in capitals", "  ANNA ", bottest.Password("anna"), http.StatusOK, "Logged in as <strong>anna</strong>"},
		{"wrong password", "anna", "not-the-password", http.StatusUnauthorized, "The name or password is wrong."},
		{"unknown name", "nobody", "whatever-password", http.StatusUnauthorized, "The name or password is wrong."},
		{"empty", "", "", http.StatusUnauthorized, "Enter your name and your password."},
		{"no password", "anna", "", http.StatusUnauthorized, "Enter your name and your password."},
		{"name too long", strings.Repeat("a", 100), "whatever-password", http.StatusUnauthorized, "The name or password is wrong."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := f.browser()
			status, body := b.loginAs(c.user, c.password, "")
			if status != c.status {
				t.Errorf("status %d, want %d", status, c.status)
			}
			mustContain(t, body, c.want)
			if c.status != http.StatusOK {
				if b.cookie("desk_login") != "" {
					t.Error("a failed login set a login cookie")
				}
				if c.user != "" {
					mustContain(t, body, `value="`+strings.TrimSpace(c.user)+`"`) // the name is kept
				}
			}
		})
	}
}

func TestLoginSlowsDown(t *testing.T) {
	f := newDesk(t, "anna")
	b := f.browser()
	var status int
	var body string
	for i := 0; i < 6; i++ {
		status, body = b.loginAs("anna", "guess-number-"+string(rune('a'+i)), "")
	}
	if status != http.StatusTooManyRequests {
		t.Fatalf("sixth wrong password: status %d, want 429\n%s", status, body)
	}
	mustContain(t, body, "Too many attempts. Wait 15 minutes")
	// Even the right password waits out the window.
	status, body = b.loginAs("anna", bottest.Password("anna"), "")
	if status != http.StatusTooManyRequests || b.cookie("desk_login") != "" {
		t.Fatalf("right password after too many failures: status %d, cookie %q", status, b.cookie("desk_login"))
	}
}

func TestLoginFormNeedsItsToken(t *testing.T) {
	f := newDesk(t, "anna")
	b := f.browser()
	status, body := b.post("/desk/login", url.Values{"name": {"anna"}, "password": {bottest.Password("anna")}})
	if status != http.StatusForbidden || b.cookie("desk_login") != "" {
		t.Fatalf("login without the form token: status %d, cookie %q", status, b.cookie("desk_login"))
	}
	mustContain(t, body, "The login form had expired")
	// The refusal hands out a fresh form that works.
	status, body = b.post("/desk/login", url.Values{"csrf": {formValue(t, body, "csrf")}, "name": {"anna"}, "password": {bottest.Password("anna")}})
	if status != http.StatusOK || !strings.Contains(body, "Log out") {
		t.Fatalf("login with the fresh form: status %d\n%s", status, body)
	}
}

func TestLoginCookie(t *testing.T) {
	for _, secure := range []bool{true, false} {
		f := newDesk(t, "anna")
		h := web.NewDesk(f.d, web.DeskOptions{Secure: secure, Logger: slog.New(slog.DiscardHandler)})
		get := httptest.NewRecorder()
		h.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/desk/login", nil))
		pre := get.Result().Cookies()[0]
		form := url.Values{"csrf": {pre.Value}, "name": {"anna"}, "password": {bottest.Password("anna")}}
		req := httptest.NewRequest(http.MethodPost, "/desk/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(pre)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("secure=%v: login status %d\n%s", secure, rec.Code, rec.Body)
		}
		var login *http.Cookie
		for _, c := range rec.Result().Cookies() {
			if strings.HasSuffix(c.Name, "desk_login") {
				login = c
			}
		}
		if login == nil {
			t.Fatalf("secure=%v: no login cookie in %v", secure, rec.Result().Header["Set-Cookie"])
		}
		if !login.HttpOnly || login.SameSite != http.SameSiteStrictMode || login.Path != "/desk/" || login.Secure != secure ||
			(secure && login.Name != "__Secure-desk_login") || len(login.Value) < 40 {
			t.Errorf("secure=%v: login cookie %q", secure, rec.Result().Header["Set-Cookie"])
		}
	}
}

func TestLogout(t *testing.T) {
	f := newDesk(t, "anna")
	b := f.login("anna")
	status, body := b.post("/desk/logout", url.Values{"csrf": {b.csrf}})
	if status != http.StatusOK {
		t.Fatalf("logout: status %d", status)
	}
	mustContain(t, body, "You are logged out.")
	if status, body := b.get("/desk/"); status != http.StatusOK || !strings.Contains(body, "Please log in") {
		t.Errorf("after logout the queue answers %d:\n%s", status, body)
	}
	// A link to a case without the login cookie (as from another site, where SameSite=Strict
	// keeps it back) offers to continue to the page, and keeps it as where to go.
	_, body = b.get("/desk/case/ABCD-EFGH")
	mustContain(t, body, "Please log in", `<a href="/desk/case/ABCD-EFGH">Continue to the page</a>`, `name="next" value="/desk/case/ABCD-EFGH"`)
}

// TestCSRF: a form without the login's token, with another login's token, or from another
// site changes nothing.
func TestCSRF(t *testing.T) {
	f := newDesk(t, "anna", "ben")
	code := newStudent(t, f.e).handoff(story)
	anna, ben := f.login("anna"), f.login("ben")
	if anna.csrf == ben.csrf {
		t.Fatal("two logins share a form token")
	}
	cases := []struct {
		name  string
		token string
		site  string
	}{
		{"no token", "", ""},
		{"forged token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ""},
		{"token of another login", ben.csrf, ""},
		{"from another site", anna.csrf, "cross-site"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			form := url.Values{"csrf": {c.token}}
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/desk/case/"+code+"/claim", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if c.site != "" {
				req.Header.Set("Sec-Fetch-Site", c.site)
			}
			resp, body := anna.do(req)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("status %d, want 403", resp.StatusCode)
			}
			mustContain(t, body, "nothing was done")
			if c.site == "" {
				mustContain(t, body, `<a href="/desk/case/`+code+`">Back to the page</a>`)
			}
			if st := f.caseState(code); st.Status != bot.StatusPending {
				t.Errorf("case is %s after a refused form", st.Status)
			}
		})
	}
	// Logging out also needs the token.
	if status, _ := anna.post("/desk/logout", url.Values{}); status != http.StatusForbidden {
		t.Errorf("logout without token: status %d", status)
	}
	if status, body := anna.get("/desk/"); status != http.StatusOK || !strings.Contains(body, "Log out") {
		t.Error("a logout without token logged out")
	}
}

// TestRefusals: every bad input gets a clear message and changes nothing.
func TestRefusals(t *testing.T) {
	f := newDesk(t, "anna", "ben")
	anna, ben := f.login("anna"), f.login("ben")
	s := newStudent(t, f.e)
	claimed := s.handoff(story)
	if status, _ := anna.act(claimed, "claim", nil); status != http.StatusOK {
		t.Fatalf("claim: %d", status)
	}
	closed := newStudent(t, f.e).handoff(story)
	anna.act(closed, "claim", nil)
	if status, body := anna.act(closed, "close", url.Values{"followup": {"advice"}}); status != http.StatusOK {
		t.Fatalf("close: %d\n%s", status, body)
	}
	pending := newStudent(t, f.e).handoff(story)
	s.delivered() // empty the outbox: the claim notice

	long := strings.Repeat("ä", bot.MaxThreadText+1)
	cases := []struct {
		name   string
		who    *browser
		code   string
		action string
		form   url.Values
		status int
		want   []string
	}{
		{"claim a claimed case", ben, claimed, "claim", nil, http.StatusConflict, []string{"Another counsellor has already claimed this case, so nothing was changed."}},
		{"claim a closed case", ben, closed, "claim", nil, http.StatusConflict, []string{"This case is closed or was withdrawn"}},
		{"claim own closed case again", anna, closed, "claim", nil, http.StatusConflict, []string{"This case is closed or was withdrawn"}},
		{"write in someone else's case", ben, claimed, "send", url.Values{"text": {"hello"}}, http.StatusForbidden, []string{"This case is not claimed by you"}},
		{"propose in someone else's case", ben, claimed, "propose", url.Values{"form1": {"teams"}, "start1": {"2099-01-05T10:00"}, "minutes1": {"45"}}, http.StatusForbidden, []string{"This case is not claimed by you"}},
		{"close someone else's case", ben, claimed, "close", url.Values{"followup": {"advice"}}, http.StatusForbidden, []string{"This case is not claimed by you"}},
		{"release someone else's case", ben, claimed, "release", nil, http.StatusForbidden, []string{"This case is not claimed by you"}},
		{"write in an unclaimed case", ben, pending, "send", url.Values{"text": {"hello"}}, http.StatusForbidden, []string{"This case is not claimed by you"}},
		{"close a closed case again", anna, closed, "close", url.Values{"followup": {"advice"}}, http.StatusConflict, []string{"This case is closed"}},
		{"forged code", anna, "ABCD-EFGH", "claim", nil, http.StatusNotFound, []string{"There is no such case"}},
		{"malformed code", anna, "..%2F..%2Fetc", "claim", nil, http.StatusNotFound, []string{"There is no such case"}},
		{"unknown action", anna, claimed, "delete", nil, http.StatusNotFound, []string{"There is no such page"}},
		{"message too long", anna, claimed, "send", url.Values{"text": {long}}, http.StatusUnprocessableEntity, []string{"longer than 4000 characters", "Nothing was sent or changed.", long}},
		{"empty message", anna, claimed, "send", url.Values{"text": {"  \n "}}, http.StatusUnprocessableEntity, []string{"The message is empty."}},
		{"body over 64 KB", anna, claimed, "send", url.Values{"text": {strings.Repeat("x", web.MaxFormBytes)}}, http.StatusRequestEntityTooLarge, []string{"The form was larger than 64 KB, so nothing was done."}},
		{"slot in the past", anna, claimed, "propose", url.Values{"form1": {"teams"}, "start1": {"2001-01-05T10:00"}, "minutes1": {"45"}}, http.StatusUnprocessableEntity, []string{"Time 1 is in the past.", `value="2001-01-05T10:00"`}},
		{"slot without form", anna, claimed, "propose", url.Values{"start1": {"2099-01-05T10:00"}, "minutes1": {"45"}}, http.StatusUnprocessableEntity, []string{"Time 1: choose how you will meet."}},
		{"slot unreadable", anna, claimed, "propose", url.Values{"form1": {"teams"}, "start1": {"tomorrow"}, "minutes1": {"45"}}, http.StatusUnprocessableEntity, []string{"Time 1: the date and time could not be read"}},
		{"no slot", anna, claimed, "propose", url.Values{}, http.StatusUnprocessableEntity, []string{"Propose one, two or three times."}},
		{"close without follow-up", anna, claimed, "close", url.Values{"followup": {""}}, http.StatusUnprocessableEntity, []string{"Choose the follow-up category."}},
		{"referral without where", anna, claimed, "close", url.Values{"followup": {"referral"}}, http.StatusUnprocessableEntity, []string{"Say where the student was referred to."}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := map[string]*bot.Case{}
			for _, code := range []string{claimed, closed, pending} {
				before[code] = f.caseState(code)
			}
			status, body := c.who.act(c.code, c.action, c.form)
			if status != c.status {
				t.Errorf("status %d, want %d", status, c.status)
			}
			mustContain(t, body, c.want...)
			for code, b := range before {
				if after := f.caseState(code); after.Rev != b.Rev || after.Status != b.Status {
					t.Errorf("case %s changed: %s rev %d -> %s rev %d", code, b.Status, b.Rev, after.Status, after.Rev)
				}
			}
			if got := s.delivered(); len(got) > 0 {
				t.Errorf("the student got %d messages", len(got))
			}
		})
	}
}

func TestNoSuchCasePage(t *testing.T) {
	f := newDesk(t, "anna")
	anna := f.login("anna")
	for _, path := range []string{"/desk/case/ABCD-EFGH", "/desk/case/not-a-code", "/desk/case/ABCD-EFGH/ics", "/desk/case/<script>"} {
		status, body := anna.get(path)
		if status != http.StatusNotFound {
			t.Errorf("%s: status %d", path, status)
		}
		mustContain(t, body, "<h1>No such case</h1>")
		mustNotContain(t, body, "<script>")
	}
	if status, body := anna.get("/desk/elsewhere"); status != http.StatusNotFound || !strings.Contains(body, "No such page") {
		t.Errorf("unknown page: %d", status)
	}
}

// TestExpiredLogin: a login that ended sends the counsellor to the login page with a
// message, and back to the page after logging in; a form sent meanwhile changes nothing.
func TestExpiredLogin(t *testing.T) {
	f := newDesk(t, "anna")
	code := newStudent(t, f.e).handoff(story)
	anna := f.login("anna")
	if err := f.d.Logout(context.Background(), anna.cookie("desk_login")); err != nil { // as if its TTL passed
		t.Fatal(err)
	}
	status, body := anna.act(code, "claim", nil)
	if status != http.StatusOK {
		t.Fatalf("claim with an expired login: status %d", status)
	}
	mustContain(t, body, "Your login has expired.", `name="next" value="/desk/case/`+code+`"`)
	if st := f.caseState(code); st.Status != bot.StatusPending {
		t.Errorf("case %s after a form with an expired login", st.Status)
	}
	status, body = anna.loginAs("anna", bottest.Password("anna"), "/desk/case/"+code)
	if status != http.StatusOK {
		t.Fatalf("login again: %d", status)
	}
	mustContain(t, body, "<h1>Case <span class=\"code\">"+code+"</span></h1>", "Claim case "+code)

	// A login cookie the store does not know (forged, or from before a restart of an
	// in-memory store) is the same as an expired one.
	u, _ := url.Parse(f.srv.URL + "/desk/")
	anna.c.Jar.SetCookies(u, []*http.Cookie{{Name: "desk_login", Value: "forged", Path: "/desk/"}})
	if _, body := anna.get("/desk/"); !strings.Contains(body, "Your login has expired.") {
		t.Errorf("forged login cookie:\n%s", body)
	}
	// The login page refuses to send anyone elsewhere after logging in.
	b := f.browser()
	if status, body := b.loginAs("anna", bottest.Password("anna"), "https://evil.example/"); status != http.StatusOK || !strings.Contains(body, "<h1>Queue</h1>") {
		t.Errorf("login with a foreign next: %d\n%s", status, body)
	}
}

// TestDoubleSubmit: the same form sent twice does its work once.
func TestDoubleSubmit(t *testing.T) {
	f := newDesk(t, "anna")
	s := newStudent(t, f.e)
	code := s.handoff(story)
	anna := f.login("anna")
	for i := 0; i < 2; i++ {
		if status, body := anna.act(code, "claim", nil); status != http.StatusOK || !strings.Contains(body, "You claimed this case.") {
			t.Fatalf("claim %d: %d\n%s", i+1, status, body)
		}
	}
	_, page := anna.get("/desk/case/" + code)
	form := url.Values{"once": {formValue(t, page, "once")}, "text": {"When would suit you for a call?"}}
	if status, body := anna.act(code, "send", form); status != http.StatusOK || !strings.Contains(body, "Your message is in the thread") {
		t.Fatalf("send: %d\n%s", status, body)
	}
	status, body := anna.act(code, "send", form)
	if status != http.StatusOK {
		t.Fatalf("send again: %d", status)
	}
	mustContain(t, body, "That form had already been sent; nothing was done twice.")
	if n := strings.Count(body, "When would suit you for a call?"); n != 1 {
		t.Errorf("the message is %d times in the thread", n)
	}
	msgs := s.delivered()
	sent := 0
	for _, m := range msgs {
		if strings.Contains(m.Text, "When would suit you for a call?") {
			sent++
		}
	}
	if sent != 1 {
		t.Errorf("the student got the message %d times: %+v", sent, msgs)
	}
}

// TestClaimRace: two counsellors press claim at the same moment; exactly one gets the case.
func TestClaimRace(t *testing.T) {
	f := newDesk(t, "anna", "ben")
	browsers := []*browser{f.login("anna"), f.login("ben")}
	for round := 0; round < 5; round++ {
		code := newStudent(t, f.e).handoff(story)
		var wg sync.WaitGroup
		bodies := make([]string, 2)
		statuses := make([]int, 2)
		start := make(chan struct{})
		for i, b := range browsers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				statuses[i], bodies[i] = b.act(code, "claim", nil)
			}()
		}
		close(start)
		wg.Wait()
		won, lost := 0, 0
		winner := ""
		for i := range browsers {
			switch {
			case statuses[i] == http.StatusOK && strings.Contains(bodies[i], "You claimed this case."):
				won++
				winner = []string{"anna", "ben"}[i]
			case statuses[i] == http.StatusConflict && strings.Contains(bodies[i], "Another counsellor has already claimed this case"):
				lost++
			default:
				t.Errorf("round %d: unexpected answer %d:\n%s", round, statuses[i], bodies[i])
			}
		}
		if won != 1 || lost != 1 {
			t.Fatalf("round %d: %d won, %d lost", round, won, lost)
		}
		if c := f.caseState(code); c.Counsellor != winner {
			t.Errorf("round %d: case claimed by %q, the page told %q", round, c.Counsellor, winner)
		}
	}
}

// TestStudentTextIsEscaped: markup in a story and in thread messages shows as text, line
// breaks kept.
func TestStudentTextIsEscaped(t *testing.T) {
	f := newDesk(t, "anna")
	s := newStudent(t, f.e)
	code := s.handoff("<script>alert(1)</script>\n**bold** and [a link](http://evil.example)")
	anna := f.login("anna")
	anna.act(code, "claim", nil)
	anna.act(code, "send", url.Values{"text": {`<script>alert(2)</script> "quoted" & <b>bold</b>`}})
	s.say("<script>alert(3)</script>\nsecond line")

	_, body := anna.get("/desk/case/" + code)
	mustContain(t, body,
		"&lt;script&gt;alert(1)&lt;/script&gt;<br>**bold** and [a link](http://evil.example)",
		"&lt;script&gt;alert(2)&lt;/script&gt; &#34;quoted&#34; &amp; &lt;b&gt;bold&lt;/b&gt;",
	)
	if !strings.Contains(body, "&lt;script&gt;alert(3)&lt;/script&gt;<br>second line") {
		t.Errorf("the student's thread message is not shown escaped (needs the engine's thread mode):\n%s", body)
	}
	mustNotContain(t, body, "<script", "<b>bold", `href="http://evil.example`)
}

func TestSecurityHeaders(t *testing.T) {
	f := newDesk(t, "anna")
	code := newStudent(t, f.e).handoff(story)
	anna := f.login("anna")
	anna.act(code, "claim", nil)
	for _, path := range []string{"/desk/login", "/desk/", "/desk/case/" + code, "/desk/case/ABCD-EFGH", "/desk/nothing", "/desk/desk.css", "/desk/case/" + code + "/ics"} {
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
		resp, _ := anna.do(req)
		want := map[string]string{
			"Content-Security-Policy": "default-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
			"Referrer-Policy":         "no-referrer",
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Cache-Control":           "no-store",
		}
		if path == "/desk/desk.css" {
			want["Cache-Control"] = "no-cache"
			want["Content-Type"] = "text/css; charset=utf-8"
		} else if !strings.HasSuffix(path, "/ics") {
			want["Content-Type"] = "text/html; charset=utf-8"
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", path, k, got, v)
			}
		}
	}
	// POST answers carry them too, and so do redirects.
	anna.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	form := url.Values{"csrf": {anna.csrf}, "text": {"hello"}}
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/desk/case/"+code+"/send", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ := anna.do(req)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("POST answer: %d %v", resp.StatusCode, resp.Header)
	}
	if loc := resp.Header.Get("Location"); loc != "/desk/case/"+code {
		t.Errorf("redirect to %q", loc)
	}
}

// TestNoCaseContentForOtherRoles: support and admin accounts see no case content.
func TestNoCaseContentForOtherRoles(t *testing.T) {
	f := newDesk(t, "anna")
	code := newStudent(t, f.e).handoff(story)
	anna := f.login("anna")
	anna.act(code, "claim", nil)
	anna.act(code, "send", url.Values{"text": {"Shall we talk on Monday?"}})
	for _, name := range []string{"support", "admin"} {
		t.Run(name, func(t *testing.T) {
			b := f.login(name)
			for _, path := range []string{"/desk/", "/desk/case/" + code, "/desk/case/" + code + "/ics"} {
				status, body := b.get(path)
				if path != "/desk/" && status != http.StatusForbidden {
					t.Errorf("%s: status %d", path, status)
				}
				mustContain(t, body, "Case content is for counsellors")
				mustNotContain(t, body, code, "station", "Monday", "Stalking")
			}
			for _, action := range []string{"claim", "send", "release", "close"} {
				status, body := b.act(code, action, url.Values{"text": {"hi"}, "followup": {"advice"}})
				if status != http.StatusForbidden {
					t.Errorf("%s: status %d", action, status)
				}
				mustNotContain(t, body, "station", "Monday")
			}
			if c := f.caseState(code); c.Counsellor != "anna" || c.Status != bot.StatusClaimed {
				t.Errorf("case changed: %s by %s", c.Status, c.Counsellor)
			}
		})
	}
}

func TestQueueAndCasePages(t *testing.T) {
	f := newDesk(t, "anna", "ben")
	first := newStudent(t, f.e).handoff(story)
	second := newStudent(t, f.e).handoff("")
	anna, ben := f.login("anna"), f.login("ben")

	_, body := anna.get("/desk/")
	mustContain(t, body, "Waiting for a counsellor (2)", "Stalking", "student – student", "Advice", "Chat", "English",
		`<th scope="col">Wished outcome</th>`, "My cases (0)")
	if strings.Index(body, first) > strings.Index(body, second) {
		t.Error("the queue is not oldest first")
	}
	// Others see coded fields and a claim button, never the story.
	_, body = anna.get("/desk/case/" + first)
	mustContain(t, body, "Waiting for a counsellor", "Claim case "+first, "Stalking")
	mustNotContain(t, body, "station")

	anna.act(first, "claim", nil)
	_, body = anna.get("/desk/")
	mustContain(t, body, "Waiting for a counsellor (1)", "My cases (1)")
	_, body = ben.get("/desk/case/" + first)
	mustContain(t, body, "This case is claimed by <strong>anna</strong>")
	mustNotContain(t, body, "station", "Claim case")

	_, body = anna.get("/desk/case/" + first)
	mustContain(t, body, "Claimed by you", "He waits outside my room every evening.<br>Yesterday he followed me",
		`<label for="text">Message</label>`, `<legend>Time 1</legend>`, `<legend>Time 3 (optional)</legend>`,
		`<option value="in_person_ssc">In person, Binnenstad (SSC)</option>`, `<option value="complaint">Formal complaint</option>`,
		`type="datetime-local"`, "A counsellor claimed the case.")
	// The thread is dated by the day: the store keeps no time of day for it.
	thread := body[strings.Index(body, `<ol class="thread">`):]
	thread = thread[:strings.Index(thread, "</ol>")]
	today := time.Now().In(f.d.Hours().Loc).Format(time.DateOnly)
	mustContain(t, thread, `<time datetime="`+today+`">today</time>`)
	if regexp.MustCompile(`\d{1,2}:\d{2}`).MatchString(thread) {
		t.Errorf("the thread shows a time of day:\n%s", thread)
	}

	status, body := anna.act(first, "release", nil)
	if status != http.StatusOK {
		t.Fatalf("release: %d", status)
	}
	mustContain(t, body, "The case is back in the queue", "Waiting for a counsellor (2)", "My cases (0)")
	_, body = anna.get("/desk/case/" + second)
	mustNotContain(t, body, "Story</h2>")
}

// TestAppointmentAndICS: a proposal shows as waiting; a booked slot offers its .ics.
func TestAppointmentAndICS(t *testing.T) {
	f := newDesk(t, "anna", "ben")
	s := newStudent(t, f.e)
	code := s.handoff(story)
	anna := f.login("anna")
	anna.act(code, "claim", nil)
	if status, body := anna.get("/desk/case/" + code + "/ics"); status != http.StatusUnprocessableEntity || !strings.Contains(body, "No appointment has been booked") {
		t.Errorf("ics before booking: %d\n%s", status, body)
	}
	loc := f.d.Hours().Loc
	start := time.Date(time.Now().Year()+1, 3, 3, 10, 30, 0, 0, loc)
	status, body := anna.act(code, "propose", url.Values{
		"form1": {"teams"}, "start1": {start.Format("2006-01-02T15:04")}, "minutes1": {"45"},
		"form2": {"in_person_phs"}, "start2": {start.AddDate(0, 0, 1).Format("2006-01-02T15:04")}, "minutes2": {"60"},
		"form3": {""}, "start3": {""}, "minutes3": {"45"},
	})
	if status != http.StatusOK {
		t.Fatalf("propose: %d\n%s", status, body)
	}
	mustContain(t, body, "The proposed times were sent", "waiting for the student to choose", "10:30–11:15 (45 min), Microsoft Teams",
		"10:30–11:30 (60 min), In person, Randwyck (PHS)")
	det, err := f.d.Case(context.Background(), f.account("anna"), code)
	if err != nil || det.Proposal == nil || len(det.Proposal.Slots) != 2 || !det.Proposal.Slots[0].Start.Equal(start) {
		t.Fatalf("stored proposal %+v, %v", det, err)
	}
	var buttons []bot.Button
	for _, m := range s.delivered() {
		buttons = append(buttons, m.Buttons...)
	}
	if len(buttons) != 3 {
		t.Fatalf("the student got %d buttons, want two slots and 'other times'", len(buttons))
	}

	// The student picks the first time.
	s.send(bot.Inbound{Data: buttons[0].Data})
	_, body = anna.get("/desk/case/" + code)
	mustContain(t, body, "Booked: <strong>", "Download the appointment", `href="/desk/case/`+code+`/ics"`)

	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/desk/case/"+code+"/ics", nil)
	resp, ics := anna.do(req)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="case-`+code+`.ics"` {
		t.Fatalf("ics: %d %v", resp.StatusCode, resp.Header)
	}
	for _, line := range []string{"BEGIN:VCALENDAR\r\n", "BEGIN:VEVENT\r\n", "DTSTART:" + start.UTC().Format("20060102T150405Z") + "\r\n",
		"DTEND:" + start.Add(45*time.Minute).UTC().Format("20060102T150405Z") + "\r\n", "SUMMARY:Case " + code + ": Microsoft Teams\r\n", "END:VCALENDAR\r\n"} {
		if !strings.Contains(ics, line) {
			t.Errorf("ics lacks %q:\n%s", line, ics)
		}
	}
	mustNotContain(t, ics, "station")
	// Another counsellor gets no calendar file.
	if status, _ := f.login("ben").get("/desk/case/" + code + "/ics"); status != http.StatusForbidden {
		t.Errorf("ics for another counsellor: %d", status)
	}

	// Once closed, the case keeps only the day of the appointment: no time, no calendar file.
	if status, body := anna.act(code, "close", url.Values{"followup": {"advice"}}); status != http.StatusOK {
		t.Fatalf("close: %d\n%s", status, body)
	}
	_, body = anna.get("/desk/case/" + code)
	mustContain(t, body, "Booked: <strong>"+start.Format("Mon 2 Jan 2006")+", Microsoft Teams</strong>")
	mustNotContain(t, body, "10:30", "Download the appointment")
	if status, body := anna.get("/desk/case/" + code + "/ics"); status != http.StatusUnprocessableEntity {
		t.Errorf("ics of a closed case: %d\n%s", status, body)
	}
}

func TestCloseLeavesMyCases(t *testing.T) {
	f := newDesk(t, "anna")
	s := newStudent(t, f.e)
	code := s.handoff(story)
	anna := f.login("anna")
	anna.act(code, "claim", nil)
	status, body := anna.act(code, "close", url.Values{"followup": {"referral"}, "referral": {"UM psychologists <b>"}})
	if status != http.StatusOK {
		t.Fatalf("close: %d\n%s", status, body)
	}
	mustContain(t, body, "The case is closed.", "My cases (0)", "Waiting for a counsellor (0)")
	c := f.caseState(code)
	if c.Status != bot.StatusClosed || c.FollowUp != "referral" || c.ReferredTo != "UM psychologists <b>" {
		t.Errorf("stored %s %s %q", c.Status, c.FollowUp, c.ReferredTo)
	}
	_, body = anna.get("/desk/case/" + code)
	mustContain(t, body, "Closed on", "follow-up <strong>Referral</strong> (referred to UM psychologists &lt;b&gt;)")
	mustNotContain(t, body, `action="/desk/case/`+code+`/send"`)
}

// TestQueueOverdue: a case unclaimed for a working day is marked, in words as well as
// colour, and waiting time counts office hours only.
func TestQueueOverdue(t *testing.T) {
	f := newDesk(t, "anna")
	code := newStudent(t, f.e).handoff("It happened last month.") // no crisis words: not urgent
	later := bot.NewDesk(bot.DeskConfig{
		Cases: f.store, Accounts: f.store, Outbox: f.store, Engine: f.e, Keys: bottest.Keys(t),
		Now: func() time.Time { return time.Now().AddDate(0, 0, 8) }, // always past a full working day
	})
	srv := httptest.NewServer(web.NewDesk(later, web.DeskOptions{Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	b := f.browser()
	b.f = &deskFixture{t: t, e: f.e, store: f.store, d: later, srv: srv}
	b.loginAs("anna", bottest.Password("anna"), "")
	_, body := b.get("/desk/")
	mustContain(t, body, `<tr class="overdue">`, `<a href="/desk/case/`+code+`">`+code+`</a> <strong class="badge">overdue</strong>`, "working days")
	_, body = f.login("anna").get("/desk/")
	mustNotContain(t, body, "overdue</strong>")
}

// TestQueueShowsUrgentFirstWithReason: an urgent case leads the queue page, marked in
// words with the rule that made it urgent, never the student's text.
func TestQueueShowsUrgentFirstWithReason(t *testing.T) {
	f := newDesk(t, "anna")
	first := newStudent(t, f.e).handoff("It was last month.")
	urgent := newStudent(t, f.e).handoff("I want to die")
	_, page := f.login("anna").get("/desk/")
	iu, i1 := strings.Index(page, urgent), strings.Index(page, first)
	if iu < 0 || i1 < 0 || iu > i1 {
		t.Fatalf("the urgent case must come first:\n%s", page)
	}
	if !strings.Contains(page, "crisis words in a message") || strings.Contains(page, "I want to die") {
		t.Fatalf("the reason, not the words, must show:\n%s", page)
	}
}

// TestStatisticsPageForTheSupportOfficer: the support officer sees the year's counts and
// charts on the desk, and never a case code or a story.
func TestStatisticsPageForTheSupportOfficer(t *testing.T) {
	f := newDesk(t, "anna")
	code := newStudent(t, f.e).handoff("It happened at the sports centre.")
	support := f.login("support")
	status, page := support.get("/desk/stats")
	if status != http.StatusOK {
		t.Fatalf("status %d:\n%s", status, page)
	}
	mustContain(t, page, "Statistics "+strconv.Itoa(time.Now().Year()), "<svg", `href="/desk/stats.css"`)
	mustNotContain(t, page, code, "sports centre")
	if status, css := support.get("/desk/stats.css"); status != http.StatusOK || !strings.Contains(css, "{") {
		t.Fatalf("stats.css: %d", status)
	}
	if status, _ := support.get("/desk/stats?year=1999"); status != http.StatusOK {
		t.Fatalf("an out-of-range year falls back to this year, got %d", status)
	}
}

// TestDeskLoginBodyCap: a login form over the body cap is refused with 413 before its
// name or password are looked at: no login, and no failed attempt counted against the
// account.
func TestDeskLoginBodyCap(t *testing.T) {
	f := newDesk(t, "anna")
	b := f.browser()
	_, page := b.get("/desk/login")
	status, body := b.post("/desk/login", url.Values{
		"csrf": {formValue(t, page, "csrf")}, "name": {"anna"}, "password": {bottest.Password("anna")},
		"padding": {strings.Repeat("x", web.MaxFormBytes)},
	})
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", status)
	}
	mustContain(t, body, "The form was larger than 64 KB, so nothing was done.")
	if status, body := b.get("/desk/"); status != http.StatusOK || strings.Contains(body, "Log out") {
		t.Errorf("after the refused login the desk is open: %d", status)
	}
	// Five wrong passwords would lock the name: the refused form was not one of them.
	for i := 0; i < 4; i++ {
		b.loginAs("anna", "wrong password number "+strconv.Itoa(i), "")
	}
	if status, body := b.loginAs("anna", bottest.Password("anna"), ""); status != http.StatusOK || !strings.Contains(body, "Log out") {
		t.Errorf("the refused form counted as a failed login: %d", status)
	}
}

// TestLoginIgnoresAPlantedSession: session fixation. An attacker who plants a login cookie
// (and a pre-login token of their choosing) in a counsellor's browser before she logs in
// must not share her login afterwards: the login gets a fresh token made by the server,
// and the planted values open nothing.
func TestLoginIgnoresAPlantedSession(t *testing.T) {
	f := newDesk(t, "anna")
	h := web.NewDesk(f.d, web.DeskOptions{Logger: slog.New(slog.DiscardHandler)})
	const planted = "attacker-chose-this-token-0123456789abcdefghijklmnop"
	get := httptest.NewRecorder()
	h.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/desk/login", nil))
	pre := get.Result().Cookies()[0]
	form := url.Values{"csrf": {pre.Value}, "name": {"anna"}, "password": {bottest.Password("anna")}}
	req := httptest.NewRequest(http.MethodPost, "/desk/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(pre)
	req.AddCookie(&http.Cookie{Name: "desk_login", Value: planted})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login status %d\n%s", rec.Code, rec.Body)
	}
	var login string
	for _, c := range rec.Result().Cookies() {
		if c.Name == "desk_login" {
			login = c.Value
		}
	}
	if login == "" || login == planted || login == pre.Value {
		t.Fatalf("login cookie %q: want a fresh token, neither the planted one nor the pre-login token", login)
	}
	// The planted token opens nothing, before or after her login.
	q := httptest.NewRequest(http.MethodGet, "/desk/", nil)
	q.AddCookie(&http.Cookie{Name: "desk_login", Value: planted})
	qr := httptest.NewRecorder()
	h.ServeHTTP(qr, q)
	if toLogin := strings.HasPrefix(qr.Header().Get("Location"), "/desk/login"); !toLogin && !strings.Contains(qr.Body.String(), "Please log in") {
		t.Errorf("the planted token reached the queue (status %d):\n%s", qr.Code, qr.Body)
	}
	// Her real token does.
	q = httptest.NewRequest(http.MethodGet, "/desk/", nil)
	q.AddCookie(&http.Cookie{Name: "desk_login", Value: login})
	qr = httptest.NewRecorder()
	h.ServeHTTP(qr, q)
	if qr.Code != http.StatusOK || strings.Contains(qr.Body.String(), "Please log in") {
		t.Errorf("her own fresh token does not open the queue (status %d):\n%s", qr.Code, qr.Body)
	}
}
