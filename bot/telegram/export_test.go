package telegram

import (
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"intake/bot/limit"
)

// SetLanes makes the channels created until the test ends limit their conversations by
// cfg (the rate, the backlog, a clock the test moves); zero fields get the defaults.
func SetLanes(t testing.TB, cfg limit.LanesConfig) {
	old := lanesConfig
	lanesConfig = func() limit.LanesConfig {
		c := cfg
		c.Parallel = old().Parallel
		return c
	}
	t.Cleanup(func() { lanesConfig = old })
}

// SetTiming shortens the lease and the stream reads, so tests wait less.
func SetTiming(c *Channel, leaseTTL, leaseEvery, block time.Duration) {
	c.leaseTTL, c.leaseEvery, c.block = leaseTTL, leaseEvery, block
}

// SetBeforeHandle runs f before each update is handled (nil: nothing); a panic in f is a
// panicking handler.
func SetBeforeHandle(f func(updateID int64)) {
	if f == nil {
		beforeHandle.Store(nil)
		return
	}
	h := func(u *models.Update) { f(u.ID) }
	beforeHandle.Store(&h)
}

var (
	SplitText = splitText
	Describe  = describe
)

// MaxMessage is Telegram's limit on one message, in UTF-16 code units.
const MaxMessage = maxMessage
