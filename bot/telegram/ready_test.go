package telegram_test

import (
	"strings"
	"testing"

	"intake/bot/bottest"
	"intake/bot/telegram"
	"intake/storage/redis"
)

// TestReady: what /readyz reports for Telegram in poll mode. Not ready before Run; ready on
// both replicas once one polls and the other stands by; not ready on the poller when the
// Bot API stops answering (the one standing by is unaffected); not ready once stopped.
func TestReady(t *testing.T) {
	w := newWorld(t)
	store := redis.New(w.client, redis.Options{Prefix: w.prefix})
	e := bottest.EngineOn(t, store, bottest.DefaultContent(t))
	idle, err := telegram.New(telegram.Config{Token: testToken, Mode: telegram.ModePoll, ServerURL: w.api.ReplicaURL("idle"), Replica: "idle"},
		telegram.Deps{Engine: e, Names: w.names, Leases: store, Logger: w.log})
	if err != nil {
		t.Fatal(err)
	}
	if err := idle.Ready(); err == nil {
		t.Error("a channel whose Run has not started says it is ready")
	}

	r1, r2 := w.replica("r1"), w.replica("r2")
	eventually(t, "both replicas ready (one polling, one standing by)", func() bool {
		return r1.ch.Ready() == nil && r2.ch.Ready() == nil
	})
	holder, standby := r1, r2
	w.wait("a replica polling", func() bool { return w.api.Polls("r1")+w.api.Polls("r2") >= 1 })
	if w.api.Polls("r2") > 0 {
		holder, standby = r2, r1
	}

	// Telegram goes away: the poller's calls fail.
	w.api.Close()
	eventually(t, "the poller not ready", func() bool {
		err := holder.ch.Ready()
		return err != nil && strings.Contains(err.Error(), "does not answer")
	})
	if err := standby.ch.Ready(); err != nil {
		t.Errorf("the replica standing by is not ready: %v", err)
	}

	standby.stop(t)
	if err := standby.ch.Ready(); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("a stopped channel says %v, want not running", err)
	}
}
