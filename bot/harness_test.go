package bot_test

import (
	"context"
	"strings"
	"testing"

	"intake/bot"
	"intake/bot/bottest"
	"intake/locales"
	"intake/storage/redis"
)

func defaultContent(t testing.TB) *bot.Content           { return bottest.DefaultContent(t) }
func testKeys(t testing.TB) *bot.Keyring                 { return bottest.Keys(t) }
func newEngine(t testing.TB) (*bot.Engine, *redis.Store) { return bottest.Engine(t) }
func engineOn(t testing.TB, store *redis.Store, c *bot.Content) *bot.Engine {
	return bottest.EngineOn(t, store, c)
}

// student talks to an engine the way a channel would.
type student struct {
	t    testing.TB
	e    *bot.Engine
	key  string
	lang string
	last bot.Reply
	cat  *locales.Catalog
	// reply is the address the student's channel gives (empty: unreachable later).
	reply bot.Address
}

func newStudent(t testing.TB, e *bot.Engine, lang string) *student {
	return &student{t: t, e: e, key: "student-" + t.Name(), lang: lang, cat: e.Content().Catalog}
}

func (s *student) send(in bot.Inbound) bot.Reply {
	s.t.Helper()
	in.Channel, in.Key, in.LangHint, in.Reply = "test", s.key, s.lang, s.reply
	r, err := s.e.Handle(context.Background(), in)
	if err != nil {
		s.t.Fatalf("turn %+v: %v", in, err)
	}
	s.last = r
	return r
}

func (s *student) open() bot.Reply           { return s.send(bot.Inbound{Open: true}) }
func (s *student) say(text string) bot.Reply { return s.send(bot.Inbound{Text: text}) }

// tap presses the button of the last reply whose label is the text of message id.
func (s *student) tap(id string) bot.Reply {
	s.t.Helper()
	want := s.text(id)
	for _, b := range buttons(s.last) {
		if b.Label == want {
			return s.send(bot.Inbound{Data: b.Data})
		}
	}
	s.t.Fatalf("no button %q (%s) in last reply; buttons: %v", want, id, buttons(s.last))
	return bot.Reply{}
}

func (s *student) text(id string) string {
	s.t.Helper()
	lang := s.lang
	if sess := s.session(); sess != nil {
		lang = sess.Lang
	}
	txt, err := s.cat.Text(lang, id, map[string]any{})
	if err != nil {
		s.t.Fatalf("text %s: %v", id, err)
	}
	return txt
}

func (s *student) session() *bot.Session {
	s.t.Helper()
	sess, err := s.e.Session(context.Background(), s.key)
	if err != nil {
		s.t.Fatal(err)
	}
	return sess
}

func (s *student) node() string {
	if sess := s.session(); sess != nil {
		return sess.Node
	}
	return ""
}

func buttons(r bot.Reply) []bot.Button {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if len(r.Messages[i].Buttons) > 0 {
			return r.Messages[i].Buttons
		}
	}
	return nil
}

func texts(r bot.Reply) string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString(m.Text)
		b.WriteString("\n")
	}
	return b.String()
}
