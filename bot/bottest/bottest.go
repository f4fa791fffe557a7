// Package bottest wires a real engine for tests of the engine and its channels: the
// embedded default content, fixed test keys, and a store on the test Redis (real when
// INTAKE_TEST_REDIS is set).
package bottest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"intake/bot"
	"intake/flows"
	"intake/locales"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// DefaultContent is the embedded scripts and texts; the test fails when they are invalid.
func DefaultContent(t testing.TB) *bot.Content {
	t.Helper()
	cat, err := locales.Load(locales.Default)
	if err != nil {
		t.Fatalf("load locales: %v", err)
	}
	fl, problems := flows.Load(flows.Default)
	if len(problems) > 0 {
		t.Fatalf("default flows:\n%s", problems.Error())
	}
	c, problems := bot.NewContent(fl, cat)
	if len(problems) > 0 {
		t.Fatalf("default content:\n%s", problems.Error())
	}
	crisis, problems := flows.LoadCrisis(flows.Default)
	if len(problems) > 0 {
		t.Fatalf("default crisis phrases:\n%s", problems.Error())
	}
	c.Crisis = crisis
	return c
}

// Keys is a keyring with a fixed test key.
func Keys(t testing.TB) *bot.Keyring {
	t.Helper()
	k, err := bot.NewKeyring(map[byte][]byte{1: []byte("0123456789abcdef0123456789abcdef")}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Engine returns an engine on a fresh store with the default content.
func Engine(t testing.TB) (*bot.Engine, *redis.Store) {
	t.Helper()
	store := redistest.New(t, redis.Options{})
	return EngineOn(t, store, DefaultContent(t)), store
}

// Night is a fixed moment for golden transcripts, whose texts depend on the clock (when a
// counsellor will read a report): 3 a.m. on a Saturday, when students write and nobody is
// at work.
var Night = time.Date(2026, 12, 5, 3, 0, 0, 0, bot.DefaultOfficeHours().Loc)

// EngineAt returns an engine on a fresh store whose clock stands still at now.
func EngineAt(t testing.TB, now time.Time) (*bot.Engine, *redis.Store) {
	t.Helper()
	store := redistest.New(t, redis.Options{})
	return engine(t, store, DefaultContent(t), func() time.Time { return now }), store
}

// EngineOn returns an engine on store serving c.
func EngineOn(t testing.TB, store *redis.Store, c *bot.Content) *bot.Engine {
	t.Helper()
	return engine(t, store, c, nil)
}

func engine(t testing.TB, store *redis.Store, c *bot.Content, now func() time.Time) *bot.Engine {
	t.Helper()
	e, err := bot.NewEngine(bot.Config{Sessions: store, Cases: store, Archive: store, Outbox: store, Accounts: store, Sent: store, Keys: Keys(t), Now: now}, c)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Desk returns a desk on the engine's store with a counsellor account per name in
// counsellors (password: name + "-password-1"), a support account "support" and an admin
// "admin" with the same rule.
func Desk(t testing.TB, e *bot.Engine, store *redis.Store, counsellors ...string) *bot.Desk {
	t.Helper()
	d := bot.NewDesk(bot.DeskConfig{Cases: store, Accounts: store, Outbox: store, Engine: e, Keys: Keys(t)})
	add := func(name, role string) {
		if err := d.AddAccount(context.Background(), name, role, Password(name)); err != nil {
			t.Fatalf("add account %s: %v", name, err)
		}
	}
	for _, name := range counsellors {
		add(name, bot.RoleCounsellor)
	}
	add("support", bot.RoleSupport)
	add("admin", bot.RoleAdmin)
	return d
}

// Password is the test password of an account made by Desk.
func Password(name string) string { return name + "-password-1" }

// Screen is an output that tests read while a channel writes to it from other goroutines.
type Screen struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *Screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
