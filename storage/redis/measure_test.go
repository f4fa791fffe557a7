package redis_test

import (
	"context"
	"os"
	"testing"

	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// TestDeleteAllRemovesOnlyItsPrefix: `intake bench` may run on a production Redis; its
// clean-up must take every key it wrote and nothing of anyone else's.
func TestDeleteAllRemovesOnlyItsPrefix(t *testing.T) {
	ctx := context.Background()
	bench := redistest.New(t, redis.Options{})
	bystander := redistest.New(t, redis.Options{})
	for _, s := range []*redis.Store{bench, bystander} {
		l, _, err := s.Lock(ctx, "conv")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Save(ctx, l, []byte("sealed session")); err != nil {
			t.Fatal(err)
		}
		if err := s.ReadWrite(ctx, "1-0", []byte("floor value")); err != nil {
			t.Fatal(err)
		}
	}

	n, err := bench.DeleteAll(ctx)
	if err != nil || n != 2 {
		t.Fatalf("DeleteAll = %d, %v; want the 2 keys written (a session and a floor key)", n, err)
	}
	if n, err := bench.DeleteAll(ctx); err != nil || n != 0 {
		t.Errorf("second DeleteAll = %d, %v; want nothing left", n, err)
	}
	_, data, err := bystander.Lock(ctx, "conv")
	if err != nil || string(data) != "sealed session" {
		t.Errorf("the other prefix's session is %q, %v after DeleteAll; want it untouched", data, err)
	}
}

// TestDeleteAllRefusesWithoutPrefix: a store without a prefix would delete the whole
// database.
func TestDeleteAllRefusesWithoutPrefix(t *testing.T) {
	ctx := context.Background()
	c, prefix := redistest.Client(t)
	kept := redis.New(c, redis.Options{Prefix: prefix})
	if err := kept.ReadWrite(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := redis.New(c, redis.Options{}).DeleteAll(ctx); err == nil {
		t.Fatal("DeleteAll without a prefix: want a refusal")
	}
	if n, err := kept.DeleteAll(ctx); err != nil || n != 1 {
		t.Errorf("after the refused DeleteAll the test's key count is %d, %v; want 1", n, err)
	}
}

// TestMemoryUsageByKind: the bench's per-session and per-case figures come from these
// sums, so a session must land under "sessions" and cost at least its bytes.
func TestMemoryUsageByKind(t *testing.T) {
	if os.Getenv(redistest.EnvVar) == "" {
		t.Skip("MEMORY USAGE ... SAMPLES and INFO memory need a real Redis; set " + redistest.EnvVar)
	}
	ctx := context.Background()
	s := redistest.New(t, redis.Options{})
	session := make([]byte, 400)
	for _, conv := range []string{"a", "b", "c"} {
		l, _, err := s.Lock(ctx, conv)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Save(ctx, l, session); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ReadWrite(ctx, "1-0", []byte("v")); err != nil {
		t.Fatal(err)
	}
	usage, err := s.MemoryUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := usage["sessions"]; got.Keys != 3 || got.Bytes < 3*int64(len(session)) {
		t.Errorf("sessions: %+v; want 3 keys of at least %d bytes each", got, len(session))
	}
	if got := usage["floor"]; got.Keys != 1 {
		t.Errorf("floor: %+v; want 1 key", got)
	}
	if len(usage) != 2 {
		t.Errorf("kinds %v; want only sessions and floor (locks are released by Save)", usage)
	}
	used, err := s.UsedMemory(ctx)
	if err != nil || used <= 0 {
		t.Errorf("UsedMemory = %d, %v", used, err)
	}
}
