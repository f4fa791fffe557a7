package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"intake/bot"
	"intake/bot/bottest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// TestHandoffAndClaimOnRedisCluster is the engine's part of the Redis Cluster drill: on a
// three-master cluster (started on loopback ports, or INTAKE_TEST_REDIS_CLUSTER), a student
// goes from the greeting to a handed-off case, the case reaches the queue and the
// announcements, counsellors on two replicas race to claim it and one wins, and the
// student gets the winner's message through the outbox. redistest fails the test when any
// command or transaction on the way used keys of more than one slot.
func TestHandoffAndClaimOnRedisCluster(t *testing.T) {
	ctx := context.Background()
	client, prefix := redistest.ClientOn(t, redistest.Cluster(t))
	store := redis.New(client, redis.Options{Prefix: prefix})
	other := redis.New(redistest.Another(t, client), redis.Options{Prefix: prefix})
	e := engineOn(t, store, defaultContent(t))
	names := []string{"c0", "c1", "c2", "c3", "c4", "c5"}
	d1 := bottest.Desk(t, e, store, names...)
	d2 := bot.NewDesk(bot.DeskConfig{Cases: other, Accounts: other, Outbox: other, Engine: e, Keys: bottest.Keys(t)})

	s := newStudent(t, e, "en")
	code := handoff(t, s, "He waits for me after every lecture.")

	open, err := other.OpenCases(ctx)
	if err != nil || len(open) != 1 || open[0].Code != code {
		t.Fatalf("the other replica's queue = %v, %v; want case %s", open, err, code)
	}
	anns, err := other.ReadAnnouncements(ctx, "cluster", "r2", 10, 0)
	if err != nil || len(anns) != 1 || anns[0].Code != code || anns[0].Reason != "new" {
		t.Fatalf("announcements = %+v, %v; want case %s as new", anns, err, code)
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	var winners []*bot.Account
	for i, n := range names {
		acc := account(t, d1, n)
		wg.Go(func() {
			err := []*bot.Desk{d1, d2}[i%2].Claim(ctx, acc, code)
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, acc)
				mu.Unlock()
			case !errors.Is(err, bot.ErrAlreadyClaimed):
				t.Errorf("claim: %v", err)
			}
		})
	}
	wg.Wait()
	c, err := other.GetCase(ctx, code)
	if err != nil || len(winners) != 1 || c.Counsellor != winners[0].Name {
		t.Fatalf("winners %d, case %+v, %v; want one winner holding the case", len(winners), c, err)
	}

	if got := s.inbox(); len(got) != 1 || !strings.Contains(got[0].Text, code) {
		t.Fatalf("student not told the case was picked up: %v", got)
	}
	if err := d2.Send(ctx, winners[0], code, "Thank you for telling us. Are you safe right now?"); err != nil {
		t.Fatal(err)
	}
	if got := s.inbox(); len(got) != 1 || !strings.Contains(got[0].Text, "Are you safe right now?") {
		t.Fatalf("counsellor message not delivered: %v", got)
	}
	if got := s.inbox(); len(got) != 0 {
		t.Fatalf("a delivered message came again: %v", got)
	}
}
