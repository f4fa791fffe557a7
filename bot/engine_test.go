package bot_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"intake/bot"
)

// toCategory opens a conversation and asks to report: it then waits at "category".
func toCategory(t *testing.T, s *student) {
	t.Helper()
	s.open()
	s.tap("menu.report")
	if got := s.node(); got != "category" {
		t.Fatalf("after report: node %q, want category", got)
	}
}

// toStory answers up to the free-text question.
func toStory(t *testing.T, s *student) {
	t.Helper()
	toCategory(t, s)
	s.tap("category.stalking")
	s.tap("relation.student_student")
	s.tap("reporter.self")
	if got := s.node(); got != "story" {
		t.Fatalf("node %q, want story", got)
	}
}

// TestUnexpectedInput: anything a student can send that does not fit the step gets a short
// reply in their language, the same question again, and loses nothing.
func TestUnexpectedInput(t *testing.T) {
	long := strings.Repeat("a", 100*1024)
	cases := []struct {
		name  string
		at    func(*testing.T, *student)
		in    func(s *student) bot.Inbound
		reply string // message id the reply must contain
		data  map[string]any
	}{
		{"free text at a menu", toCategory, text("ik weet het niet"), "engine.choose", nil},
		{"emoji at a menu", toCategory, text("😢😢"), "engine.choose", nil},
		{"unknown command", toCategory, text("/frobnicate now"), "engine.unknown_command", map[string]any{"command": "/frobnicate"}},
		{"empty message", toCategory, text(""), "engine.empty", nil},
		{"only spaces", toCategory, text("   \n\t "), "engine.empty", nil},
		{"invalid utf-8", toCategory, text("\xff\xfe\xfd"), "engine.invalid_text", nil},
		{"100 KB at a menu", toCategory, text(long), "engine.choose", nil},
		{"100 KB story", toStory, text(long), "engine.too_long", map[string]any{"max": bot.DefaultMaxText}},
		{"invalid utf-8 story", toStory, text("ab\xc3"), "engine.invalid_text", nil},
		{"stale button", toCategory, func(s *student) bot.Inbound {
			return bot.Inbound{Data: "1:o:0"} // the menu's first button, an earlier question
		}, "engine.stale", nil},
		{"forged button", toCategory, func(s *student) bot.Inbound { return bot.Inbound{Data: "garbage"} }, "engine.stale", nil},
		{"option out of range", toCategory, func(s *student) bot.Inbound {
			return bot.Inbound{Data: fmt.Sprintf("%d:o:99", s.session().Seq)}
		}, "engine.stale", nil},
		{"skip where nothing is skippable", toCategory, func(s *student) bot.Inbound {
			return bot.Inbound{Data: fmt.Sprintf("%d:s", s.session().Seq)}
		}, "engine.stale", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, _ := newEngine(t)
			s := newStudent(t, e, "en")
			c.at(t, s)
			before := s.session()
			prevButtons := buttons(s.last)
			r := s.send(c.in(s))
			want, err := e.Content().Catalog.Text("en", c.reply, c.data)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(texts(r), want) {
				t.Errorf("reply does not say %s (%q):\n%s", c.reply, want, texts(r))
			}
			after := s.session()
			if after.Node != before.Node || !reflect.DeepEqual(after.Vars, before.Vars) {
				t.Errorf("state changed: node %q -> %q, vars %v -> %v", before.Node, after.Node, before.Vars, after.Vars)
			}
			if got := labels(buttons(r)); !reflect.DeepEqual(got, labels(prevButtons)) {
				t.Errorf("the question is not repeated with its buttons:\n got %v\nwant %v", got, labels(prevButtons))
			}
		})
	}
}

func text(s string) func(*student) bot.Inbound {
	return func(*student) bot.Inbound { return bot.Inbound{Text: s} }
}

func labels(b []bot.Button) []string {
	var out []string
	for _, x := range b {
		out = append(out, x.Label)
	}
	return out
}

// TestTypedLabelChoosesOption: a student who types a button's text instead of tapping it
// (any case, accents, trailing dot) is understood.
func TestTypedLabelChoosesOption(t *testing.T) {
	e, _ := newEngine(t)
	s := newStudent(t, e, "en")
	toCategory(t, s)
	label := s.text("category.stalking")
	s.say(strings.ToUpper(label) + ".")
	if got := s.session().Vars["category"]; got != "stalking" {
		t.Fatalf("category = %q after typing %q", got, label)
	}
}

// TestEmojiStoryIsKept: emoji are valid text; a story made of them is stored as typed.
func TestEmojiStoryIsKept(t *testing.T) {
	e, _ := newEngine(t)
	s := newStudent(t, e, "nl")
	toStory(t, s)
	s.say("😢 het was 💔")
	if got := s.session().Vars["story"]; got != "😢 het was 💔" {
		t.Fatalf("story = %q", got)
	}
}

func TestBackGoesOneStep(t *testing.T) {
	e, _ := newEngine(t)
	s := newStudent(t, e, "en")
	toCategory(t, s)
	s.tap("category.stalking")
	if s.node() != "relation" {
		t.Fatalf("node %q", s.node())
	}
	r := s.say("/back")
	if s.node() != "category" {
		t.Fatalf("after /back: node %q, want category", s.node())
	}
	if !strings.Contains(texts(r), s.text("engine.back.done")) || len(buttons(r)) == 0 {
		t.Errorf("back should say so and show the question with buttons:\n%s", texts(r))
	}
	// The answer is kept until it is answered again.
	if s.session().Vars["category"] != "stalking" {
		t.Errorf("back lost the answer")
	}
	s.say("/back")
	s.say("/back")
	r = s.say("/back")
	if !strings.Contains(texts(r), s.text("engine.back.start")) {
		t.Errorf("back at the start should say there is nothing before:\n%s", texts(r))
	}
}

// TestBrowsingDoesNotGrowTheSession: going back and forth between the menu and the team
// page for a long time keeps the session bounded, and /back still returns one step.
func TestBrowsingDoesNotGrowTheSession(t *testing.T) {
	e, _ := newEngine(t)
	s := newStudent(t, e, "en")
	s.open()
	for range 100 {
		s.tap("menu.team")
		s.tap("info.to_menu")
	}
	if n := len(s.session().History); n > 50 {
		t.Fatalf("after 200 steps the session keeps %d steps for /back; want at most 50", n)
	}
	s.tap("menu.team")
	s.say("/back")
	if s.node() != "menu" {
		t.Errorf("after /back from the team page: node %q, want menu", s.node())
	}
}

func TestStopErasesConversation(t *testing.T) {
	e, _ := newEngine(t)
	s := newStudent(t, e, "nl")
	toStory(t, s)
	r := s.say("/stop")
	if !strings.Contains(texts(r), s.text("engine.stopped")) {
		t.Errorf("stop reply:\n%s", texts(r))
	}
	if sess := s.session(); sess != nil {
		t.Fatalf("session kept after stop: %+v", sess)
	}
	// The next message starts over, greeted.
	s.say("hallo")
	if s.node() != "menu" {
		t.Errorf("after stop a message should start again at the menu, got %q", s.node())
	}
}

func TestLanguageSwitch(t *testing.T) {
	e, _ := newEngine(t)
	s := newStudent(t, e, "nl")
	toCategory(t, s)
	r := s.say("/language en")
	if s.session().Lang != "en" {
		t.Fatalf("lang = %q", s.session().Lang)
	}
	en, _ := e.Content().Catalog.Text("en", "category.ask", nil)
	if !strings.Contains(texts(r), en) {
		t.Errorf("question not repeated in English:\n%s", texts(r))
	}
	// Without an argument the student gets the choice as buttons.
	r = s.say("/language")
	if got := labels(buttons(r)); !reflect.DeepEqual(got, []string{"Nederlands", "English"}) {
		t.Fatalf("language buttons %v", got)
	}
	s.send(bot.Inbound{Data: buttons(r)[0].Data})
	if s.session().Lang != "nl" || s.node() != "category" {
		t.Errorf("after choosing Nederlands: lang %q node %q", s.session().Lang, s.node())
	}
}

func TestGermanGreetingOffersDutchAndEnglish(t *testing.T) {
	e, _ := newEngine(t)
	s := newStudent(t, e, "de-DE")
	r := s.open()
	de, err := e.Content().Catalog.Text("de", "engine.language.choose", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Before choosing, the student reads in German what is kept about them.
	privacy, err := e.Content().Catalog.Text("de", bot.MsgPrivacy, e.PrivacyData("de"))
	if err != nil {
		t.Fatal(err)
	}
	if texts(r) != de+"\n"+privacy+"\n" {
		t.Errorf("German greeting:\n%s", texts(r))
	}
	if got := labels(buttons(r)); !reflect.DeepEqual(got, []string{"Nederlands", "English"}) {
		t.Fatalf("buttons %v", got)
	}
	// Typing instead of tapping works too.
	s.say("english")
	if sess := s.session(); sess.Lang != "en" || sess.Node != "menu" {
		t.Errorf("after choosing English: lang %q node %q", sess.Lang, sess.Node)
	}
}

func TestUrgentShowsNumbersThenTheQuestion(t *testing.T) {
	e, _ := newEngine(t)
	s := newStudent(t, e, "en")
	toCategory(t, s)
	r := s.say("/urgent")
	out := texts(r)
	for _, n := range []string{"112", "0800-0188", "113", "0800-0113", "0900-0101", "0900-8844"} {
		if !strings.Contains(out, n) {
			t.Errorf("urgent reply lacks %s:\n%s", n, out)
		}
	}
	if len(buttons(r)) == 0 || s.node() != "category" {
		t.Errorf("the question should follow the numbers")
	}
}

// TestCorrectionReturnsToSummary: changing one answer from the summary asks only that
// question and comes straight back.
func TestCorrectionReturnsToSummary(t *testing.T) {
	e, _ := newEngine(t)
	s := newStudent(t, e, "en")
	toStory(t, s)
	s.tap("story.skip")
	s.tap("profile.no")
	s.tap("outcome.registration")
	if s.node() != "summary_register" {
		t.Fatalf("node %q, want summary_register", s.node())
	}
	s.tap("summary.change")
	s.tap("change.category")
	if s.node() != "category" {
		t.Fatalf("correction did not ask the category again: %q", s.node())
	}
	r := s.tap("category.sexual_violence")
	if s.node() != "sv_kind" {
		t.Fatalf("a new sub-question must be asked: %q", s.node())
	}
	s.tap("sv_kind.physical")
	if s.node() != "sv_when" {
		t.Fatalf("when it happened must be asked too: %q", s.node())
	}
	r = s.tap("sv_when.earlier")
	if s.node() != "summary_register" {
		t.Fatalf("after the correction: node %q, want summary_register", s.node())
	}
	sess := s.session()
	if sess.Vars["category"] != "sexual_violence" || sess.Vars["relation"] != "student_student" {
		t.Errorf("vars after correction: %v", sess.Vars)
	}
	if !strings.Contains(texts(r), s.text("value.category.sexual_violence")) {
		t.Errorf("summary does not show the corrected category:\n%s", texts(r))
	}
}

// TestHandoffStoresOneCase: the case exists (pending, sealed story) before the student is
// told its code, and answering the last step twice does not make a second case.
func TestHandoffStoresOneCase(t *testing.T) {
	e, store := newEngine(t)
	s := newStudent(t, e, "en")
	toStory(t, s)
	s.say("It happened after the lecture.")
	s.tap("profile.no")
	s.tap("outcome.advice")
	s.tap("contact.chat")
	s.tap("urgency.no")
	if s.node() != "summary_talk" {
		t.Fatalf("node %q", s.node())
	}
	confirm := buttons(s.last)[0]
	r := s.send(bot.Inbound{Data: confirm.Data})
	sess := s.session()
	if sess.CaseCode == "" || !strings.Contains(texts(r), sess.CaseCode) {
		t.Fatalf("handoff reply does not show the case code %q:\n%s", sess.CaseCode, texts(r))
	}
	c, err := store.GetCase(context.Background(), sess.CaseCode)
	if err != nil || c == nil {
		t.Fatalf("case not stored: %v", err)
	}
	if c.Kind != bot.CaseHandoff || c.Status != bot.StatusPending || c.Fields["category"] != "stalking" || c.Fields["contact"] != "chat" {
		t.Errorf("case = %+v", c)
	}
	if strings.Contains(string(c.Story), "lecture") || len(c.Story) == 0 {
		t.Errorf("story must be stored sealed, got %q", c.Story)
	}
	s.send(bot.Inbound{Data: confirm.Data}) // a double tap on the old button
	pending, _ := store.PendingCases(context.Background())
	if len(pending) != 1 {
		t.Errorf("pending cases %v, want exactly one", pending)
	}
}

func TestForgetWithdrawsTheCase(t *testing.T) {
	e, store := newEngine(t)
	s := newStudent(t, e, "nl")
	toStory(t, s)
	s.say("Het gebeurde gisteren.")
	s.tap("profile.no")
	s.tap("outcome.intervention")
	s.tap("contact.phone")
	s.tap("urgency.yes")
	s.tap("summary.confirm_talk")
	code := s.session().CaseCode
	r := s.say("/forget")
	if !strings.Contains(texts(r), s.text("engine.forgotten")) {
		t.Errorf("forget reply:\n%s", texts(r))
	}
	if s.session() != nil {
		t.Errorf("session kept after forget")
	}
	c, _ := store.GetCase(context.Background(), code)
	if c == nil || c.Status != bot.StatusWithdrawn || len(c.Story) != 0 {
		t.Errorf("case after forget: %+v", c)
	}
	if p, _ := store.PendingCases(context.Background()); len(p) != 0 {
		t.Errorf("withdrawn case still queued: %v", p)
	}
}

// TestConcurrentTurnsNeverInterleave sends updates for one conversation from many
// goroutines through two engines (two replicas) on one Redis: every update must be
// recorded, which a lost update (two turns saving over each other) would break.
func TestConcurrentTurnsNeverInterleave(t *testing.T) {
	e1, store := newEngine(t)
	e2 := engineOn(t, store, defaultContent(t))
	s := newStudent(t, e1, "en")
	toCategory(t, s)
	const updates = 16 // the number of update ids a session remembers
	var wg sync.WaitGroup
	errs := make(chan error, updates)
	for i := range updates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := []*bot.Engine{e1, e2}[i%2]
			_, err := e.Handle(context.Background(), bot.Inbound{
				Channel: "test", Key: s.key, UpdateID: fmt.Sprint("u", i), Text: "/help",
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, id := range s.session().Seen {
		seen[id] = true
	}
	if len(seen) != updates {
		t.Fatalf("%d of %d updates recorded: turns overwrote each other", len(seen), updates)
	}
}

// TestDuplicateUpdateHandledOnce: a platform delivering the same update twice gets one
// answer once its reply was delivered; the second is silent and changes nothing.
func TestDuplicateUpdateHandledOnce(t *testing.T) {
	e, _ := newEngine(t)
	s := newStudent(t, e, "en")
	toCategory(t, s)
	tap := bot.Inbound{UpdateID: "42", Data: buttons(s.last)[0].Data}
	first := s.send(tap)
	tap.Key = s.key
	e.Delivered(tap, first)
	node := s.node()
	r := s.send(tap)
	if len(r.Messages) != 0 || s.node() != node {
		t.Fatalf("redelivered update was handled again: %v, node %q", r.Messages, s.node())
	}
}

// TestFollowUpAnswerIsNeverStoredStale: a student who first chose sexual violence and then
// corrected the category to stalking must not have a "physical" sexual-violence kind in
// their summary, case or statistics; choosing sexual violence again asks the kind again.
func TestFollowUpAnswerIsNeverStoredStale(t *testing.T) {
	e, store := newEngine(t)
	s := newStudent(t, e, "en")
	toCategory(t, s)
	s.tap("category.sexual_violence")
	s.tap("sv_kind.physical")
	s.tap("sv_when.earlier")
	s.tap("relation.student_staff")
	s.tap("reporter.self")
	s.tap("story.skip")
	s.tap("profile.no")
	s.tap("outcome.registration")
	s.tap("summary.change")
	s.tap("change.category")
	r := s.tap("category.stalking")
	if s.node() != "summary_register" {
		t.Fatalf("node %q", s.node())
	}
	if strings.Contains(texts(r), s.text("value.sv_kind.physical")) {
		t.Errorf("summary still shows the old kind:\n%s", texts(r))
	}
	s.tap("summary.change")
	s.tap("change.category")
	s.tap("category.sexual_violence")
	if s.node() != "sv_kind" {
		t.Fatalf("the kind must be asked again after choosing sexual violence again, node %q", s.node())
	}
	s.tap("sv_kind.verbal_online")
	s.tap("sv_when.not_said")
	s.tap("summary.change")
	s.tap("change.category")
	s.tap("category.stalking")
	s.tap("summary.confirm_register")
	c, err := store.GetCase(context.Background(), s.session().CaseCode)
	if err != nil || c == nil {
		t.Fatalf("case: %v", err)
	}
	if _, ok := c.Fields["sv_kind"]; ok || c.Fields["category"] != "stalking" || c.Kind != bot.CaseRegistration {
		t.Errorf("stored fields %v (kind %s)", c.Fields, c.Kind)
	}
}
