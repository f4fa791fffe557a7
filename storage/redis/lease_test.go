package redis_test

import (
	"context"
	"testing"
	"time"

	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// TestLeaseHasOneHolder: two replicas compete for the Telegram poll; only one holds it,
// the holder renews it, and after a release or expiry the other takes over.
func TestLeaseHasOneHolder(t *testing.T) {
	ctx := context.Background()
	c, prefix := redistest.Client(t)
	a := redis.New(c, redis.Options{Prefix: prefix})
	b := redis.New(redistest.Another(t, c), redis.Options{Prefix: prefix})
	steps := []struct {
		name   string
		store  *redis.Store
		holder string
		want   bool
	}{
		{"a takes the free lease", a, "replica-a", true},
		{"b cannot take a held lease", b, "replica-b", false},
		{"a renews its own lease", a, "replica-a", true},
		{"b still cannot", b, "replica-b", false},
	}
	for _, s := range steps {
		got, err := s.store.Lease(ctx, "telegram-poll", s.holder, 500*time.Millisecond)
		if err != nil || got != s.want {
			t.Fatalf("%s: got %v, %v", s.name, got, err)
		}
	}
	if err := b.ReleaseLease(ctx, "telegram-poll", "replica-b"); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Lease(ctx, "telegram-poll", "replica-b", time.Second); got {
		t.Fatal("a release by a non-holder must not free the lease")
	}
	if err := a.ReleaseLease(ctx, "telegram-poll", "replica-a"); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Lease(ctx, "telegram-poll", "replica-b", 300*time.Millisecond); !got {
		t.Fatal("after the holder's release the other replica takes over")
	}
	redistest.Advance(t, c, 400*time.Millisecond)
	if got, _ := a.Lease(ctx, "telegram-poll", "replica-a", time.Second); !got {
		t.Fatal("an expired lease (dead holder) is taken over")
	}
	if _, err := a.Lease(ctx, "", "x", time.Second); err == nil {
		t.Fatal("a lease without a name must be refused")
	}
}
