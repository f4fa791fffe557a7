package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"intake/bot/web"
)

// neutralSite stands in for the quick exit's website: the tests never leave this machine.
func neutralSite(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>Weather</title><h1>Weather %s</h1>", r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// button is the visible button with this label.
func button(label string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//button[normalize-space(.)=%q]`, label))
}

// clickAndWait clicks the button labelled label and waits for the button labelled next.
func clickAndWait(t *testing.T, ctx context.Context, label, next string) {
	t.Helper()
	within(t, ctx, "click "+label, chromedp.Click(button(label)))
	within(t, ctx, "wait for "+next, chromedp.WaitVisible(button(next)))
}

func screenshot(t *testing.T, ctx context.Context, name string, width, height int64) {
	t.Helper()
	within(t, ctx, "viewport", chromedp.EmulateViewport(width, height))
	shot := within(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile("/tmp/chat-"+name+".png", shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if w := within(t, ctx, "page width", chromedp.Evaluate[int]("document.documentElement.scrollWidth")); w > int(width) {
		t.Errorf("%s: the page is %dpx wide on a %dpx screen: it scrolls sideways", name, w, width)
	}
}

// viewShot takes what the screen shows after scrolling to sel (a phone's view).
func viewShot(t *testing.T, ctx context.Context, name, sel string, width, height int64) {
	t.Helper()
	within(t, ctx, "viewport", chromedp.EmulateViewport(width, height))
	within(t, ctx, "scroll", chromedp.Evaluate[bool](fmt.Sprintf(`(document.querySelector(%q).scrollIntoView({block: "start"}), true)`, sel)))
	shot := within(t, ctx, "screenshot "+name, chromedp.CaptureScreenshot())
	if err := os.WriteFile("/tmp/chat-"+name+".png", shot, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitLocation waits until the tab is at url (a navigation away ends any script, so this
// asks the browser, not the page).
func waitLocation(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	var loc string
	for i := 0; i < 100; i++ {
		lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		loc, _ = chromedp.Run(lctx, chromedp.Location())
		cancel()
		if loc == url {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the tab is at %q, not %q", loc, url)
}

// TestBrowserChatWithJS: an intake by clicks without a single page load, the receipt, a
// counsellor message arriving live, and a quick exit that leaves nothing to go back to.
func TestBrowserChatWithJS(t *testing.T) {
	ctx := newBrowser(t)
	neutral := neutralSite(t)
	f := newChat(t, web.ChatOptions{ExitURL: neutral.URL + "/weather"})
	en := f.visitor("en") // for the catalog's texts
	label := en.text

	// A page before the chat, so Back has somewhere to go.
	submit(t, ctx, "open a page before", chromedp.Navigate(neutral.URL+"/before"))
	submit(t, ctx, "open the chat", chromedp.Navigate(f.srv.URL+"/"))
	within(t, ctx, "script ran", chromedp.Poll[bool](`document.documentElement.classList.contains("js")`))
	// A mark on the window: it survives only if no page is loaded from here on.
	within(t, ctx, "mark the page", chromedp.Evaluate[bool](`window.__same_page = true`))
	lang := within(t, ctx, "page language", chromedp.Evaluate[string](`document.documentElement.lang`))
	if lang != "en" {
		// The browser's language decides the greeting; this test reads English.
		within(t, ctx, "language", chromedp.Click(button("Language · Taal")))
		within(t, ctx, "wait for English", chromedp.WaitVisible(button("English")))
		within(t, ctx, "English", chromedp.Click(button("English")))
		within(t, ctx, "reloaded in English", chromedp.Poll[bool](`document.documentElement.lang === "en" && document.readyState === "complete"`))
		within(t, ctx, "mark the page", chromedp.Evaluate[bool](`window.__same_page = true`))
	}
	within(t, ctx, "menu", chromedp.WaitVisible(button(label("menu.report"))))
	checkA11y(t, ctx, "chat start page")

	steps := []string{"menu.report", "category.stalking", "relation.student_student", "reporter.self"}
	for i := 0; i+1 < len(steps); i++ {
		clickAndWait(t, ctx, label(steps[i]), label(steps[i+1]))
	}
	within(t, ctx, "click reporter", chromedp.Click(button(label("reporter.self"))))
	within(t, ctx, "story question", chromedp.WaitVisible(button(label("story.skip"))))
	// The student's own bubble appears as they send.
	within(t, ctx, "type the story", chromedp.SendKeys(chromedp.ID("text"), "He waits outside my room every evening."+kb.Enter))
	within(t, ctx, "my bubble", chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"me")]/p[contains(.,"He waits outside")]`)))
	within(t, ctx, "profile question", chromedp.WaitVisible(button(label("profile.no"))))
	checkA11y(t, ctx, "chat question with buttons")
	readmeShot(t, ctx, "chat-question", "#log .bubble:last-child", "end", 390, 844)
	steps = []string{"profile.no", "outcome.advice", "contact.chat", "urgency.no", "summary.confirm_talk"}
	for i := 0; i+1 < len(steps); i++ {
		clickAndWait(t, ctx, label(steps[i]), label(steps[i+1]))
	}
	within(t, ctx, "hand off", chromedp.Click(button(label("summary.confirm_talk"))))
	within(t, ctx, "receipt box", chromedp.WaitVisible(chromedp.ID("receipt")))
	within(t, ctx, "copy button shown", chromedp.WaitVisible(chromedp.ID("receipt-copy")))
	if !within(t, ctx, "same page", chromedp.Evaluate[bool](`window.__same_page === true`)) {
		t.Fatal("the intake loaded a page: the script did not take over the forms")
	}
	if n := within(t, ctx, "live region", chromedp.Evaluate[int](`document.querySelectorAll('[role=log][aria-live=polite] .bubble').length`)); n < 10 {
		t.Errorf("the log holds %d bubbles; the conversation should grow in place", n)
	}
	code := within(t, ctx, "case code", chromedp.Text(chromedp.CSS("#receipt dd.code")))
	checkA11y(t, ctx, "chat receipt box")
	readmeShot(t, ctx, "chat-receipt", "#receipt", "center", 390, 844)
	screenshot(t, ctx, "js-receipt-phone", 390, 844)
	viewShot(t, ctx, "view-receipt-phone", "#receipt", 390, 844)
	viewShot(t, ctx, "view-compose-phone", "#compose", 390, 844)
	viewShot(t, ctx, "view-receipt-desktop", "#receipt", 1280, 900)
	screenshot(t, ctx, "js-receipt-desktop", 1280, 900)

	// A counsellor writes; the message appears without a reload.
	acc := f.anna()
	if err := f.d.Claim(context.Background(), acc, code); err != nil {
		t.Fatal(err)
	}
	if err := f.d.Send(context.Background(), acc, code, "Hello, I read your report. Shall we talk on Monday?"); err != nil {
		t.Fatal(err)
	}
	within(t, ctx, "live message", chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"team")]/p[contains(.,"Shall we talk on Monday?")]`)))
	if !within(t, ctx, "same page", chromedp.Evaluate[bool](`window.__same_page === true`)) {
		t.Fatal("the counsellor's message came with a page load, not live")
	}
	screenshot(t, ctx, "js-live-phone", 390, 844)
	viewShot(t, ctx, "view-live-phone", "#log .team", 390, 844)
	within(t, ctx, "desktop", chromedp.EmulateViewport(1280, 900))

	// Nothing in the browser's storage.
	if n := within(t, ctx, "storage", chromedp.Evaluate[int](`localStorage.length + sessionStorage.length`)); n != 0 {
		t.Errorf("the page stored %d items", n)
	}

	// Quick exit with Esc: the chat's history entry is replaced, Back goes to the page
	// before, and the chat opens empty again.
	before := within(t, ctx, "history", chromedp.Evaluate[int](`history.length`))
	within(t, ctx, "press Esc", chromedp.KeyEvent(kb.Escape))
	waitLocation(t, ctx, neutral.URL+"/weather")
	if after := within(t, ctx, "history", chromedp.Evaluate[int](`history.length`)); after != before {
		t.Errorf("history grew from %d to %d: the exit left an entry", before, after)
	}
	within(t, ctx, "back", chromedp.Evaluate[bool](`(history.back(), true)`))
	waitLocation(t, ctx, neutral.URL+"/before") // not the chat: its entry is gone
	submit(t, ctx, "open the chat again", chromedp.Navigate(f.srv.URL+"/"))
	page := within(t, ctx, "page", chromedp.Text(chromedp.CSS("main")))
	if strings.Contains(page, "Shall we talk") || strings.Contains(page, code) {
		t.Error("after the quick exit, the chat shows the old conversation")
	}

	submit(t, ctx, "open the privacy page", chromedp.Navigate(f.srv.URL+"/chat/privacy"))
	checkA11y(t, ctx, "privacy page")
}

// TestBrowserChatWithoutJS: with scripts off, the same chat works with forms, one page per
// answer.
func TestBrowserChatWithoutJS(t *testing.T) {
	ctx := newBrowser(t)
	f := newChat(t, web.ChatOptions{})
	label := f.visitor("en").text
	within(t, ctx, "scripts off", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	submit(t, ctx, "open the chat", chromedp.Navigate(f.srv.URL+"/"))
	viewShot(t, ctx, "view-start-phone", "body", 390, 844)
	viewShot(t, ctx, "view-start-narrow", "body", 360, 640)
	within(t, ctx, "desktop", chromedp.EmulateViewport(1280, 900))
	if within(t, ctx, "no script", chromedp.Evaluate[bool](`document.documentElement.classList.contains("js")`)) {
		t.Fatal("the script ran although scripts are off")
	}
	if lang := within(t, ctx, "lang", chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "en" {
		submit(t, ctx, "language", chromedp.Click(button("Language · Taal")))
		submit(t, ctx, "English", chromedp.Click(button("English")))
	}
	for _, id := range []string{"menu.report", "category.stalking", "relation.student_student", "reporter.self"} {
		submit(t, ctx, "tap "+id, chromedp.Click(button(label(id))))
	}
	within(t, ctx, "type the story", chromedp.SendKeys(chromedp.ID("text"), "He follows me to the station."))
	submit(t, ctx, "send", chromedp.Click(chromedp.CSS(`#compose button[type=submit]`)))
	within(t, ctx, "next question", chromedp.WaitVisible(button(label("profile.no"))))
	if loc := within(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, "/#now") {
		t.Errorf("after a form the page is %s, want the latest messages (/#now)", loc)
	}
	screenshot(t, ctx, "nojs-phone", 390, 844)
	screenshot(t, ctx, "nojs-narrow", 360, 740)
	within(t, ctx, "desktop", chromedp.EmulateViewport(1280, 900))
	// Help is a visible control, answered on the next page.
	submit(t, ctx, "help", chromedp.Click(button("Help")))
	if page := within(t, ctx, "page", chromedp.Text(chromedp.CSS("#log"))); !strings.Contains(page, "/forget") {
		t.Errorf("help did not answer:\n%s", page)
	}
	// The exit is a plain link there, and the privacy page says how to clear the session.
	submit(t, ctx, "privacy", chromedp.Click(chromedp.CSS(`a[href="/chat/privacy"]`)))
	if page := within(t, ctx, "privacy", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(page, "close the browser") {
		t.Errorf("privacy page:\n%s", page)
	}
	screenshot(t, ctx, "privacy-phone", 390, 844)
}

// TestBrowserChatReceipt: the receipt brings a student back in a fresh browser profile to
// read their counsellor's reply and answer it.
func TestBrowserChatReceipt(t *testing.T) {
	f := newChat(t, web.ChatOptions{})
	phone := f.visitor("en")
	code, pass := receiptOf(t, phone.intake("He follows me."))
	acc := f.anna()
	if err := f.d.Claim(context.Background(), acc, code); err != nil {
		t.Fatal(err)
	}
	if err := f.d.Send(context.Background(), acc, code, "Thank you for writing. Could we meet on Monday?"); err != nil {
		t.Fatal(err)
	}

	ctx := newBrowser(t) // a profile of its own: no cookie of the phone's
	submit(t, ctx, "open the chat", chromedp.Navigate(f.srv.URL+"/"))
	within(t, ctx, "open the receipt form", chromedp.Click(chromedp.CSS("#have-receipt summary")))
	within(t, ctx, "code", chromedp.SendKeys(chromedp.ID("code"), code))
	within(t, ctx, "pass", chromedp.SendKeys(chromedp.ID("pass"), pass))
	within(t, ctx, "continue", chromedp.Click(chromedp.CSS(`form[action="/chat/receipt"] button`)))
	within(t, ctx, "the thread", chromedp.WaitVisible(chromedp.Search(`//p[contains(.,"Could we meet on Monday?")]`)))
	within(t, ctx, "answer", chromedp.SendKeys(chromedp.ID("text"), "Monday is good."+kb.Enter))
	within(t, ctx, "sent", chromedp.WaitVisible(chromedp.Search(`//p[contains(.,"Sent to your counsellor")]`)))
	det, err := f.d.Case(context.Background(), acc, code)
	if err != nil {
		t.Fatal(err)
	}
	if last := det.Thread[len(det.Thread)-1]; last.Text != "Monday is good." {
		t.Errorf("last thread entry %+v", last)
	}
	screenshot(t, ctx, "receipt-return-phone", 390, 844)
}
