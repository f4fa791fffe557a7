package limit

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)

// step is one call on a limiter at t0+at: take (Take), charge (Charge of cost) or wait
// (Wait); want says what it must answer.
type step struct {
	at       time.Duration
	op       string
	key      string
	cost     float64
	ok       bool          // take
	first    bool          // take
	waitWant time.Duration // wait
}

func TestLimiter(t *testing.T) {
	second := Rate{Burst: 2, Every: time.Second}
	cases := []struct {
		name  string
		rate  Rate
		steps []step
	}{
		{"a burst, then refused", second, []step{
			{op: "take", key: "a", ok: true},
			{op: "take", key: "a", ok: true},
			{op: "take", key: "a", ok: false, first: true},
			{op: "wait", key: "a", waitWant: time.Second},
		}},
		{"told once until the bucket is full again", second, []step{
			{op: "take", key: "a", ok: true},
			{op: "take", key: "a", ok: true},
			{op: "take", key: "a", ok: false, first: true},
			{op: "take", key: "a", ok: false, first: false},
			{at: time.Second, op: "take", key: "a", ok: true},
			{at: time.Second, op: "take", key: "a", ok: false, first: false}, // not full in between
			{at: 4 * time.Second, op: "take", key: "a", ok: true},            // full again: cleared
			{at: 4 * time.Second, op: "take", key: "a", ok: true},
			{at: 4 * time.Second, op: "take", key: "a", ok: false, first: true},
		}},
		{"one token back per interval, never more than the burst", second, []step{
			{op: "take", key: "a", ok: true},
			{op: "take", key: "a", ok: true},
			{at: 500 * time.Millisecond, op: "wait", key: "a", waitWant: 500 * time.Millisecond},
			{at: time.Second, op: "take", key: "a", ok: true},
			{at: time.Hour, op: "take", key: "a", ok: true},
			{at: time.Hour, op: "take", key: "a", ok: true},
			{at: time.Hour, op: "take", key: "a", ok: false, first: true},
		}},
		{"keys are separate", second, []step{
			{op: "take", key: "a", ok: true},
			{op: "take", key: "a", ok: true},
			{op: "take", key: "a", ok: false, first: true},
			{op: "take", key: "b", ok: true},
			{op: "wait", key: "b", waitWant: 0},
		}},
		{"a penalty below zero waits longer", second, []step{
			{op: "charge", key: "a", cost: 3},
			{op: "wait", key: "a", waitWant: 2 * time.Second},
			{op: "take", key: "a", ok: false, first: true},
			{at: 2 * time.Second, op: "take", key: "a", ok: true},
		}},
		{"a refusal takes nothing", Rate{Burst: 1, Every: time.Minute}, []step{
			{op: "take", key: "a", ok: true},
			{at: 30 * time.Second, op: "take", key: "a", ok: false, first: true},
			{at: 30 * time.Second, op: "take", key: "a", ok: false},
			{at: time.Minute, op: "take", key: "a", ok: true},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := New(c.rate, 0)
			for i, s := range c.steps {
				now := t0.Add(s.at)
				switch s.op {
				case "take":
					ok, first := l.Take(s.key, now)
					if ok != s.ok || first != s.first {
						t.Fatalf("step %d (take %s at +%v): ok %v first %v, want ok %v first %v", i+1, s.key, s.at, ok, first, s.ok, s.first)
					}
				case "charge":
					l.Charge(s.key, now, s.cost)
				case "wait":
					if w := l.Wait(s.key, now); w != s.waitWant {
						t.Fatalf("step %d (wait %s at +%v): %v, want %v", i+1, s.key, s.at, w, s.waitWant)
					}
				}
			}
		})
	}
}

// TestLimiterMemory: the map stays bounded, a forgotten bucket is a full one, and keys are
// only held hashed with the limiter's own salt.
func TestLimiterMemory(t *testing.T) {
	l := New(Rate{Burst: 1, Every: time.Hour}, 3)
	const address = "192.0.2.7"
	if !l.Allow(address, t0) || l.Allow(address, t0) {
		t.Fatal("the first request must pass and the second wait")
	}
	for _, k := range []string{"c", "d", "e", "f", "g"} {
		l.Allow(k, t0.Add(time.Second))
	}
	if len(l.b) > 3 {
		t.Errorf("%d buckets, max 3", len(l.b))
	}
	for k := range l.b {
		if string(k[:len(address)]) == address {
			t.Error("a key is stored in clear")
		}
	}
	other := New(Rate{Burst: 1, Every: time.Hour}, 3)
	if l.id(address) == other.id(address) {
		t.Error("two limiters hash a key alike: the salt is not random")
	}
	// Full buckets are swept once a minute, so an idle address leaves no trace.
	idle := New(Rate{Burst: 2, Every: time.Second}, 0)
	idle.Allow(address, t0)
	idle.Allow("another", t0.Add(2*time.Minute))
	if _, ok := idle.b[idle.id(address)]; ok {
		t.Error("a bucket that filled up again was kept")
	}
}

func TestRateOr(t *testing.T) {
	def := Rate{Burst: 10, Every: time.Second}
	cases := map[Rate]Rate{
		{}:                                 def,
		{Burst: 3}:                         def,
		{Every: time.Second}:               def,
		{Burst: -1, Every: time.Second}:    def,
		{Burst: 3, Every: time.Minute}:     {Burst: 3, Every: time.Minute},
		{Burst: 1, Every: time.Nanosecond}: {Burst: 1, Every: time.Nanosecond},
	}
	for in, want := range cases {
		if got := in.Or(def); got != want {
			t.Errorf("%+v.Or = %+v, want %+v", in, got, want)
		}
	}
}

// BenchmarkAllow is one request's cost on a limiter shared by every request of a replica.
func BenchmarkAllow(b *testing.B) {
	l := New(PerConversation, 0)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "conversation-key-" + string(rune('a'+i%26)) + string(rune('a'+i/26%26))
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(keys[i%len(keys)], t0.Add(time.Duration(i)*time.Millisecond))
			i++
		}
	})
}
