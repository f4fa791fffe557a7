package telegram

import (
	"errors"
	"testing"
)

// TestInHand: the offset stays at the oldest update not done, whatever order updates
// finish in; an update that asks to come again is taken again when Telegram brings it, and
// let go after maxTries; what Telegram no longer has is forgotten.
func TestInHand(t *testing.T) {
	var h inHand
	offset := func(want int64) {
		t.Helper()
		if got := h.offset(); got != want {
			t.Fatalf("offset %d, want %d", got, want)
		}
	}
	offset(0) // nothing fetched yet: confirm nothing
	for _, id := range []int64{10, 11, 12} {
		if !h.take(id) {
			t.Fatalf("new update %d not taken", id)
		}
	}
	if h.take(11) {
		t.Fatal("an update in hand taken twice")
	}
	h.finish(12, nil)
	h.finish(11, nil)
	offset(10)
	if h.idle() == nil {
		t.Fatal("idle with update 10 running")
	}
	h.finish(10, nil)
	offset(13)
	if h.idle() != nil {
		t.Fatal("not idle with nothing running")
	}

	// 13 fails each time Telegram brings it back, until it is let go.
	again := errors.New("deliver it again")
	for try := 1; try <= maxTries; try++ {
		if !h.take(13) {
			t.Fatalf("try %d: an update to be handled again was not taken", try)
		}
		gaveUp := h.finish(13, again)
		if gaveUp != (try == maxTries) {
			t.Fatalf("try %d: let go %v", try, gaveUp)
		}
		if try < maxTries {
			offset(13)
		}
	}
	if h.take(13) {
		t.Fatal("an update let go was taken again")
	}
	offset(14)

	// Another replica confirmed 15 meanwhile: Telegram answers from 16 on.
	h.take(15)
	h.finish(15, again)
	offset(15)
	h.forget(16, true)
	offset(16)
}
