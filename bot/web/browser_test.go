package web_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"intake/bot"
	"intake/bot/bottest"
)

// chromium is where Debian's package puts the browser (CI installs it).
const chromium = "/usr/bin/chromium"

// newBrowser starts headless Chromium for one test, or skips the test without
// INTAKE_TEST_BROWSER.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if os.Getenv("INTAKE_TEST_BROWSER") == "" {
		t.Skip("browser test: set INTAKE_TEST_BROWSER=1 to run it in headless Chromium (" + chromium + ")")
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("INTAKE_TEST_BROWSER is set but there is no Chromium: %v (apt-get install chromium)", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	// Start the browser now, so a broken install fails here. The first run must get the
	// tab's own context (a derived one would own the browser and end it with itself), so
	// the bound is a timer that ends the allocator.
	stop := time.AfterFunc(30*time.Second, cancelAlloc)
	err := chromedp.Do(ctx)
	if !stop.Stop() {
		t.Fatal("start Chromium: no answer within 30s")
	}
	if err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// within runs one browser step with a time bound.
func within[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// submit clicks a button that sends a form and waits for the page it leads to.
func submit(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
	if resp.Status != 200 {
		t.Fatalf("browser: %s: status %d", what, resp.Status)
	}
}

func mainText(t *testing.T, ctx context.Context) string {
	t.Helper()
	return within(t, ctx, "read the page", chromedp.Text(chromedp.CSS("main")))
}

// TestBrowserCaseJourney carries one case through the desk in a real browser: log in,
// claim, read, write, propose, the student books, .ics offered, close.
func TestBrowserCaseJourney(t *testing.T) {
	ctx := newBrowser(t)
	f := newDesk(t, "anna")
	s := newStudent(t, f.e)
	code := s.handoff(story + "\n<script>alert(1)</script>")
	base := f.srv.URL

	// Log in; the desk sends the browser to the login page first.
	submit(t, ctx, "open the desk", chromedp.Navigate(base+"/desk/"))
	if loc := within(t, ctx, "location", chromedp.Location()); !strings.Contains(loc, "/desk/login") {
		t.Fatalf("the desk did not ask for a login: %s", loc)
	}
	checkA11y(t, ctx, "desk login page")
	within(t, ctx, "type the name", chromedp.SendKeys(chromedp.ID("name"), "anna"))
	within(t, ctx, "type the password", chromedp.SendKeys(chromedp.ID("password"), bottest.Password("anna")))
	submit(t, ctx, "log in", chromedp.Click(chromedp.CSS(`form[action="/desk/login"] button`)))
	page := mainText(t, ctx)
	if !strings.Contains(page, "Waiting for a counsellor (1)") || !strings.Contains(page, code) {
		t.Fatalf("the queue does not show the case:\n%s", page)
	}
	checkA11y(t, ctx, "desk queue")
	readmeShot(t, ctx, "desk-queue", "body", "start", 1280, 560)

	// The queue on a phone: each case a card, nothing wider than the screen.
	within(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844))
	shot := within(t, ctx, "screenshot queue", chromedp.FullScreenshot(100))
	if err := os.WriteFile("/tmp/desk-queue.png", shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if w := within(t, ctx, "page width", chromedp.Evaluate[int]("document.documentElement.scrollWidth")); w > 390 {
		t.Errorf("the queue is %dpx wide on a 390px phone: it scrolls sideways", w)
	}
	within(t, ctx, "desktop viewport", chromedp.EmulateViewport(1280, 900))

	// Open and claim the case, read the story.
	submit(t, ctx, "open the case", chromedp.Click(chromedp.CSS(`a[href="/desk/case/`+code+`"]`)))
	submit(t, ctx, "claim", chromedp.Click(chromedp.CSS(`form[action$="/claim"] button`)))
	page = mainText(t, ctx)
	for _, want := range []string{"You claimed this case.", "He waits outside my room every evening.", "<script>alert(1)</script>"} {
		if !strings.Contains(page, want) {
			t.Errorf("case page lacks %q:\n%s", want, page)
		}
	}
	s.delivered() // the "a counsellor picked up your case" notice
	checkA11y(t, ctx, "desk case page (claimed)")

	// Write to the student; the message reaches their outbox.
	const hello = "Hello, I am one of the confidential counsellors. Thank you for telling us."
	within(t, ctx, "type a message", chromedp.SendKeys(chromedp.ID("text"), hello))
	submit(t, ctx, "send", chromedp.Click(chromedp.CSS(`form[action$="/send"] button`)))
	if page = mainText(t, ctx); !strings.Contains(page, "Your message is in the thread") {
		t.Errorf("no confirmation after sending:\n%s", page)
	}
	got := s.delivered()
	if len(got) != 1 || !strings.Contains(got[0].Text, hello) || !strings.Contains(got[0].Text, code) {
		t.Fatalf("the student got %+v, want the message with the case code", got)
	}

	// Propose a slot; the student picks it with the button of the delivered message.
	start := time.Date(time.Now().Year()+1, 3, 3, 10, 30, 0, 0, f.d.Hours().Loc)
	within(t, ctx, "choose the form", chromedp.SetValue(chromedp.ID("form1"), "teams"))
	within(t, ctx, "set the time", chromedp.SetValue(chromedp.ID("start1"), start.Format("2006-01-02T15:04")))
	submit(t, ctx, "propose", chromedp.Click(chromedp.CSS(`form[action$="/propose"] button`)))
	if page = mainText(t, ctx); !strings.Contains(page, "waiting for the student to choose") {
		t.Fatalf("no proposal on the page:\n%s", page)
	}
	var pick bot.Button
	for _, m := range s.delivered() {
		for _, b := range m.Buttons {
			if strings.HasSuffix(b.Data, ":0") {
				pick = b
			}
		}
	}
	if pick.Data == "" {
		t.Fatal("the student got no slot button")
	}
	s.send(bot.Inbound{Data: pick.Data})

	submit(t, ctx, "reload", chromedp.Reload())
	page = mainText(t, ctx)
	if !strings.Contains(page, "Booked:") || !strings.Contains(page, "10:30–11:15 (45 min), Microsoft Teams") {
		t.Errorf("the desk does not show the booking (the student's pick is the engine's part):\n%s", page)
	}
	if href := within(t, ctx, "ics link", chromedp.AttributeValue(chromedp.CSS(`a[download]`), "href")); href.Value != "/desk/case/"+code+"/ics" {
		t.Errorf("no .ics link: %+v", href)
	}

	checkA11y(t, ctx, "desk case page (booked)")
	readmeShot(t, ctx, "desk-case", "body", "start", 1280, 800)

	// Screenshots of the case page, at desktop width and on a phone.
	shot = within(t, ctx, "screenshot desktop", chromedp.FullScreenshot(100))
	if err := os.WriteFile("/tmp/desk-case-desktop.png", shot, 0o644); err != nil {
		t.Fatal(err)
	}
	within(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844))
	shot = within(t, ctx, "screenshot phone", chromedp.FullScreenshot(100))
	if err := os.WriteFile("/tmp/desk-case.png", shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if w := within(t, ctx, "page width", chromedp.Evaluate[int]("document.documentElement.scrollWidth")); w > 390 {
		t.Errorf("the case page is %dpx wide on a 390px phone: it scrolls sideways", w)
	}
	within(t, ctx, "desktop viewport", chromedp.EmulateViewport(1280, 900))

	// Close with a follow-up; the case leaves "my cases".
	within(t, ctx, "choose the follow-up", chromedp.SetValue(chromedp.ID("followup"), "advice"))
	submit(t, ctx, "close", chromedp.Click(chromedp.CSS(`form[action$="/close"] button`)))
	page = mainText(t, ctx)
	if !strings.Contains(page, "The case is closed.") || !strings.Contains(page, "My cases (0)") || strings.Contains(page, code) {
		t.Errorf("after closing:\n%s", page)
	}
	if c := f.caseState(code); c.Status != bot.StatusClosed || c.FollowUp != "advice" {
		t.Errorf("stored case: %s, follow-up %q", c.Status, c.FollowUp)
	}
}
