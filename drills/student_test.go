package drills

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"intake/bot/telegram/telegramtest"
	"intake/locales"
)

// step is one thing a student does and what the bot answers to it.
type step struct {
	tap  string // message id of the label of the button to tap; "" when typing
	text string // what the student types: a command or free text
	// says lists the message ids of the reply, one per message ("" for one whose words
	// depend on the clock).
	says []string
}

// The story typed in the handoff path: free text, never a crisis phrase.
const story = "In our project group they keep making jokes about my headscarf and leave me out of meetings."

// handoffPath reports discrimination and asks for help talking with the other person in
// the chat: it ends in a handoff with a case code and passphrase.
var handoffPath = []step{
	{text: "/start", says: []string{"welcome.hello", "welcome.privacy", "menu.ask"}},
	{tap: "menu.report", says: []string{"category.ask"}},
	{tap: "category.discrimination", says: []string{"relation.ask"}},
	{tap: "relation.student_student", says: []string{"reporter.ask"}},
	{tap: "reporter.self", says: []string{"story.ask"}},
	{text: story, says: []string{"profile.ask"}},
	{tap: "profile.no", says: []string{"outcome.ask"}},
	{tap: "outcome.intervention", says: []string{"contact.ask"}},
	{tap: "contact.chat", says: []string{"urgency.ask"}},
	{tap: "urgency.no", says: []string{"summary.talk"}},
	{tap: "summary.confirm_talk", says: []string{"done.handoff.code", "", "done.bye"}},
}

// registrationPath reports stalking by a staff member for a fellow student, answers the
// profile questions and only records it.
var registrationPath = []step{
	{text: "/start", says: []string{"welcome.hello", "welcome.privacy", "menu.ask"}},
	{tap: "menu.report", says: []string{"category.ask"}},
	{tap: "category.stalking", says: []string{"relation.ask"}},
	{tap: "relation.student_staff", says: []string{"reporter.ask"}},
	{tap: "reporter.third_student", says: []string{"story.ask"}},
	{tap: "story.skip", says: []string{"profile.ask"}},
	{tap: "profile.yes", says: []string{"faculty.ask"}},
	{tap: "faculty.law", says: []string{"gender.ask"}},
	{tap: "gender.not_said", says: []string{"outcome.ask"}},
	{tap: "outcome.registration", says: []string{"summary.register"}},
	{tap: "summary.confirm_register", says: []string{"done.registered", "done.later", "done.bye"}},
}

var catalog = sync.OnceValues(func() (*locales.Catalog, error) { return locales.Load(locales.Default) })

// text renders message id in English, cut where the first template value would go and at
// the first line break: enough to recognise the message. An id that does not render gives
// a text no message has, so the check that uses it fails; checkTexts says why first.
func text(id string) string {
	s, err := renderText(id)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return s
}

func renderText(id string) (string, error) {
	cat, err := catalog()
	if err != nil {
		return "", fmt.Errorf("load the texts: %w", err)
	}
	// A value holding "<no value>" makes the catalog render a text with values missing.
	s, err := cat.Text("en", id, map[string]any{"": "<no value>"})
	if err != nil {
		return "", err
	}
	s, _, _ = strings.Cut(s, "<no value>")
	s, _, _ = strings.Cut(s, "\n")
	if s = strings.TrimSpace(s); s == "" {
		return "", fmt.Errorf("text %s starts with a value: nothing to recognise it by", id)
	}
	return s, nil
}

// checkTexts fails the test unless every text a drill looks for renders.
func checkTexts(t *testing.T, paths ...[]step) {
	t.Helper()
	ids := []string{"engine.error", "case.claimed", "case.sent", "case.from_counsellor"}
	for _, p := range paths {
		for _, st := range p {
			ids = append(ids, st.says...)
			if st.tap != "" {
				ids = append(ids, st.tap)
			}
		}
	}
	for _, id := range ids {
		if id == "" {
			continue
		}
		if _, err := renderText(id); err != nil {
			t.Fatalf("the drill's script needs text %s: %v", id, err)
		}
	}
}

var codePattern = regexp.MustCompile(`\b[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\b`)

// student is a scripted Telegram user in a private chat with the bot.
type student struct {
	api  *telegramtest.Server
	user telegramtest.User
	path []step
	// next is the step to do; seen how many of the chat's messages the checks have read.
	next, seen int
	// last is the reply to the latest step; code the case code of the receipt.
	last []telegramtest.Message
	code string
	// cut counts the steps whose delivery a kill cut while the service had it; down those
	// that found the service down; busy those answered 503 at first; repeated the messages
	// that came twice (see reply). In poll mode, early counts the updates confirmed before
	// their reply was complete.
	cut, down, busy, repeated, early int
	// allowErrors lets the calm error reply appear before a reply (an outage drill).
	allowErrors bool
}

func newStudent(api *telegramtest.Server, id int64, path []step) *student {
	return &student{api: api, user: telegramtest.User{ID: id, Lang: "en"}, path: path}
}

func (s *student) done() bool { return s.next >= len(s.path) }

// update is the Telegram update for step st: typed text, or a tap on the button with st's
// label in the last reply.
func (s *student) update(st step) (telegramtest.Update, error) {
	if st.tap == "" {
		return s.api.TextUpdate(s.user, st.text), nil
	}
	label := text(st.tap)
	if len(s.last) > 0 {
		m := s.last[len(s.last)-1]
		for _, b := range m.Buttons {
			if b.Text == label {
				return s.api.TapUpdate(s.user, m, b.Data), nil
			}
		}
	}
	return nil, fmt.Errorf("no button %q on the last message", label)
}

// step does the next step: it posts the update to one of urls (several Posts at once when
// copies is more than one, each to its own address) and checks the reply. With a webhook
// answered only after the reply went out, the reply is complete once a Post succeeds.
func (s *student) step(ctx context.Context, urls ...[]string) error {
	st := s.path[s.next]
	u, err := s.update(st)
	if err != nil {
		return s.fail(st, err.Error())
	}
	if len(urls) == 0 {
		urls = [][]string{nil}
	}
	deliveries := make([]telegramtest.Delivery, len(urls))
	errs := make([]error, len(urls))
	var wg sync.WaitGroup
	for i, to := range urls {
		wg.Go(func() { deliveries[i], errs[i] = s.api.Post(ctx, u, to...) })
	}
	wg.Wait()
	var cut, down, busy bool
	for i, d := range deliveries {
		if errs[i] != nil {
			return s.fail(st, fmt.Sprintf("update not taken: %v after %d attempts (%s)", errs[i], d.Attempts, strings.Join(d.Failed, "; ")))
		}
		for _, f := range d.Failed {
			switch {
			case strings.HasPrefix(f, "status "):
				busy = true
			case strings.Contains(f, "connection refused"):
				down = true
			default: // the connection broke while the service had the update
				cut = true
			}
		}
	}
	s.cut, s.down, s.busy = s.cut+count(cut), s.down+count(down), s.busy+count(busy)
	return s.check(st, cut)
}

// check reads the reply to step st, which must be complete by now, and moves on to the
// next step. cut says whether a kill cut the handling of the step's update, so that (part
// of) its reply may have gone out twice.
func (s *student) check(st step, cut bool) error {
	msgs := s.api.Messages(s.user.ID)
	reply, problem := s.reply(st, msgs[s.seen:], cut)
	if problem != "" {
		return s.fail(st, problem)
	}
	s.seen, s.last = len(msgs), reply
	s.next++
	if s.done() {
		for _, m := range reply {
			if code := codePattern.FindString(m.Text); code != "" {
				s.code = code
			}
		}
	}
	return nil
}

// reply checks what arrived for one step: the whole reply, at the end, each of its
// messages the one expected. In front of it may stand only copies of its beginning, and only when a
// delivery attempt was cut: the process was killed while it had the update, so the reply
// may have been (partly) out; Telegram delivered the update again (or handed it out again,
// in poll mode), and the reply kept in the session went out once more. An outage drill
// also allows the calm error reply there.
func (s *student) reply(st step, got []telegramtest.Message, cut bool) ([]telegramtest.Message, string) {
	n := len(st.says)
	if len(got) < n {
		return nil, fmt.Sprintf("the reply has %d of its %d messages", len(got), n)
	}
	reply, before := got[len(got)-n:], got[:len(got)-n]
	for i, id := range st.says {
		if want := text(id); id != "" && !strings.Contains(reply[i].Text, want) {
			return nil, fmt.Sprintf("message %d of the reply is %q, want %s (%q)", i+1, reply[i].Text, id, want)
		}
	}
	calm := text("engine.error")
	for len(before) > 0 {
		if s.allowErrors && strings.HasPrefix(before[0].Text, calm) {
			before = before[1:]
			continue
		}
		k := 0
		for k < len(before) && k < len(reply) && before[k].Text == reply[k].Text {
			k++
		}
		if k == 0 {
			return nil, fmt.Sprintf("a message that is not part of the reply: %q", before[0].Text)
		}
		if !cut {
			return nil, fmt.Sprintf("%d message(s) of the reply came twice, though no delivery of its update was cut", k)
		}
		s.repeated += k
		before = before[k:]
	}
	return reply, ""
}

func count(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *student) fail(st step, problem string) error {
	what := st.text
	if st.tap != "" {
		what = "tap " + st.tap
	}
	return fmt.Errorf("student %d, step %d (%s): %s\nchat:\n%s", s.user.ID, s.next+1, what, problem, s.chat())
}

// chat is the student's chat as the fake Telegram recorded it.
func (s *student) chat() string {
	var b strings.Builder
	for _, m := range s.api.Messages(s.user.ID) {
		line, _, _ := strings.Cut(m.Text, "\n")
		fmt.Fprintf(&b, "  #%d %q", m.ID, line)
		if len(m.Buttons) > 0 {
			fmt.Fprintf(&b, " (%d buttons)", len(m.Buttons))
		}
		b.WriteString("\n")
	}
	return b.String()
}
