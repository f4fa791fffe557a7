package bot

import "time"

// Meter counts what operators watch (the service exports it as Prometheus metrics). Every
// label it is given is a channel name or a fixed word of this package, never an id, a key or
// anything a student typed.
type Meter interface {
	// Turn is one engine turn on channel: how long it took and whether it failed.
	Turn(channel string, took time.Duration, failed bool)
	// Limited is one message or request refused by a rate limit; scope says which limit
	// ("conversation", "ip", "cases").
	Limited(channel, scope string)
	// Claimed is one case claimed by a counsellor.
	Claimed()
	// Delivered is one outbox message sent to a student on channel (failed: not sent).
	Delivered(channel string, failed bool)
}

// noMeter is the Meter of an engine configured without one.
type noMeter struct{}

func (noMeter) Turn(string, time.Duration, bool) {}
func (noMeter) Limited(string, string)           {}
func (noMeter) Claimed()                         {}
func (noMeter) Delivered(string, bool)           {}

// Meter returns what the engine counts with; channels count their rate-limit hits on it.
func (e *Engine) Meter() Meter { return e.cfg.Meter }
