// Package bottest wires a real engine for tests of the engine and its channels: the
// embedded default content, fixed test keys, and a store on the test Redis (real when
// INTAKE_TEST_REDIS is set).
package bottest

import (
	"context"
	"testing"

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

// EngineOn returns an engine on store serving c.
func EngineOn(t testing.TB, store *redis.Store, c *bot.Content) *bot.Engine {
	t.Helper()
	e, err := bot.NewEngine(bot.Config{Sessions: store, Cases: store, Archive: store, Outbox: store, Keys: Keys(t)}, c)
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
