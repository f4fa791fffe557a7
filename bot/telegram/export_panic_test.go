package telegram

import (
	"testing"

	"github.com/go-telegram/bot/models"
)

// SetBeforeQueue runs f with the id of each student's update just before it is queued on
// its chat's lane (in the library's worker), until the test ends; a panic in f is a
// panicking dispatch.
func SetBeforeQueue(t testing.TB, f func(updateID int64)) {
	h := func(u *models.Update) { f(u.ID) }
	beforeQueue.Store(&h)
	t.Cleanup(func() { beforeQueue.Store(nil) })
}
