package discord

import (
	"time"

	"intake/bot/limit"
)

// Test hooks; set them before Run.

// SetLanes makes c limit its conversations by cfg (the rate, the backlog, a clock the test
// moves); zero fields get the defaults.
func SetLanes(c *Channel, cfg limit.LanesConfig) {
	c.lanes = limit.NewLanes(cfg)
}

// SetTimings shortens the lease's ttl and renewal interval and the blocking reads of the
// outbox and announcements.
func SetTimings(c *Channel, ttl, renew, read time.Duration) {
	c.leaseTTL, c.leaseRenew, c.readWait = ttl, renew, read
}

// OnTurnDone calls f after every turn's replies were sent.
func OnTurnDone(c *Channel, f func()) {
	c.mu.Lock()
	c.turnDone = f
	c.mu.Unlock()
}

// GatewayOpen reports whether c has a gateway connection.
func GatewayOpen(c *Channel) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gateway
}

// Split is the text splitter, escaping included.
var Split = split

// ErrorKind describes an error for the log.
var ErrorKind = errorKind
