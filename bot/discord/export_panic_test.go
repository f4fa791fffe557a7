package discord

import (
	"testing"

	"intake/bot"
)

// SetBeforeAdmit runs f with the text or button data of each student's event just before
// the event handler queues its turn, until the test ends; a panic in f is a panicking
// event handler.
func SetBeforeAdmit(t testing.TB, f func(textOrData string)) {
	h := func(in bot.Inbound) { f(in.Text + in.Data) }
	beforeAdmit.Store(&h)
	t.Cleanup(func() { beforeAdmit.Store(nil) })
}
