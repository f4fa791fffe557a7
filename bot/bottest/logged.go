package bottest

import (
	"log/slog"
	"testing"

	"intake/bot"
)

// Stores is every store an engine works with: a *redis.Store, or a PanickyStore around one.
type Stores interface {
	bot.SessionStore
	bot.CaseStore
	bot.FlowArchive
	bot.Outbox
	bot.AccountStore
}

// DebugLog returns a logger at debug level writing to a Screen, for tests that prove what
// the log never says (ids, names, text).
func DebugLog() (*slog.Logger, *Screen) {
	logs := &Screen{}
	return slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), logs
}

// LoggedEngine returns an engine on store with the default content, logging to log.
func LoggedEngine(t testing.TB, store Stores, log *slog.Logger) *bot.Engine {
	t.Helper()
	e, err := bot.NewEngine(bot.Config{
		Sessions: store, Cases: store, Archive: store, Outbox: store, Accounts: store, Keys: Keys(t), Logger: log,
	}, DefaultContent(t))
	if err != nil {
		t.Fatal(err)
	}
	return e
}
