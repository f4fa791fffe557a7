package redis_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"intake/bot"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// manualClock is a clock the test moves.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestCaseCap: with a cap of two, the third new case of the hour is refused and nothing of
// it is written; an intake that already has its case gets it back on a retry even when the
// cap is reached; registrations count too; in the next hour the refused intake gets in.
// Two stores stand for two replicas: they share the count.
func TestCaseCap(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	clock := &manualClock{now: time.Date(2026, 12, 5, 3, 10, 0, 0, time.UTC)}
	opts := redis.Options{Prefix: prefix, MaxCasesPerHour: 2, Now: clock.Now}
	a, b := redis.New(c, opts), redis.New(redistest.Another(t, c), opts)
	ctx := t.Context()

	first, r1 := newCase("AAAA-AAAA", "intake-1")
	if _, err := a.CreateCase(ctx, first, r1); err != nil {
		t.Fatalf("first case: %v", err)
	}
	reg, r2 := newCase("BBBB-BBBB", "intake-2")
	reg.Kind, reg.Status, r2.Kind = bot.CaseRegistration, bot.StatusRegistered, bot.CaseRegistration
	if _, err := b.CreateCase(ctx, reg, r2); err != nil {
		t.Fatalf("a registration on the other replica: %v", err)
	}
	third, r3 := newCase("CCCC-CCCC", "intake-3")
	if _, err := a.CreateCase(ctx, third, r3); !errors.Is(err, bot.ErrTooManyCases) {
		t.Fatalf("third case of the hour: %v, want ErrTooManyCases", err)
	}
	if got, err := a.GetCase(ctx, third.Code); got != nil || err != nil {
		t.Errorf("a refused case was stored: %+v %v", got, err)
	}
	if c.HExists(ctx, prefix+"{case}:reg:2025", recordField("intake-3")).Val() {
		t.Error("a refused case has a registry record")
	}
	if pending, _ := a.PendingCases(ctx); len(pending) != 1 {
		t.Errorf("pending %v, want only the first case", pending)
	}
	// A retried turn of the first intake draws a new code: it gets its case, not a refusal.
	retry, rr := newCase("ZZZZ-ZZZZ", "intake-1")
	if code, err := b.CreateCase(ctx, retry, rr); err != nil || code != first.Code {
		t.Errorf("retry of an intake with a case at the cap: %q %v, want %q", code, err, first.Code)
	}

	// The counter is one number in the {case} slot that expires by itself.
	keys := redistest.Keys(t, c, prefix+"{case}:cap:*")
	if len(keys) != 1 {
		t.Fatalf("cap counters %v, want one", keys)
	}
	if v := c.Get(ctx, keys[0]).Val(); v != "2" {
		t.Errorf("counter %q, want 2", v)
	}
	if ttl := c.PTTL(ctx, keys[0]).Val(); ttl <= 0 || ttl > 2*time.Hour {
		t.Errorf("counter TTL %v, want at most two hours", ttl)
	}
	if !strings.HasPrefix(keys[0], prefix+"{case}:") {
		t.Errorf("counter %q is not in the {case} slot", keys[0])
	}

	clock.advance(time.Hour)
	if code, err := a.CreateCase(ctx, third, r3); err != nil || code != third.Code {
		t.Fatalf("the refused intake in the next hour: %q %v", code, err)
	}
}

// TestCaseCapOff: without a cap nothing is counted and nothing refused.
func TestCaseCapOff(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	for i := range 5 {
		cs, r := newCase("DDDD-DDD"+string(rune('2'+i)), "intake-off-"+string(rune('a'+i)))
		if _, err := s.CreateCase(t.Context(), cs, r); err != nil {
			t.Fatalf("case %d: %v", i+1, err)
		}
	}
	if keys := redistest.Keys(t, c, prefix+"{case}:cap:*"); len(keys) != 0 {
		t.Errorf("counters without a cap: %v", keys)
	}
}
