package discord_test

import (
	"strings"
	"testing"

	"intake/bot/discord"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// TestReady: what /readyz reports for Discord. Not ready before Run; ready on both replicas
// once one holds the gateway and the other stands by; not ready on the holder when the
// gateway is gone (the one standing by is unaffected); not ready once stopped.
func TestReady(t *testing.T) {
	w := newWorld(t)
	other := redis.New(redistest.Another(t, w.client), redis.Options{Prefix: w.prefix})
	a := w.channel(w.config("replica-a"), w.deps(nil))
	b := w.channel(w.config("replica-b"), w.deps(other))
	if err := a.Ready(); err == nil {
		t.Error("a channel whose Run has not started says it is ready")
	}
	stopA, stopB := w.run(a), w.run(b)
	waitFor(t, "both replicas ready (one connected, one standing by)", func() bool {
		return a.Ready() == nil && b.Ready() == nil && (discord.GatewayOpen(a) || discord.GatewayOpen(b))
	})
	holder, standby, stopStandby := a, b, stopB
	if discord.GatewayOpen(b) {
		holder, standby, stopStandby = b, a, stopA
	}

	w.f.close() // Discord goes away
	waitFor(t, "the holder not ready", func() bool {
		err := holder.Ready()
		return err != nil && strings.Contains(err.Error(), "not connected")
	})
	if err := standby.Ready(); err != nil {
		t.Errorf("the replica standing by is not ready: %v", err)
	}

	stopStandby()
	if err := standby.Ready(); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("a stopped channel says %v, want not running", err)
	}
}
