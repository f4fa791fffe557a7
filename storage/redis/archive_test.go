package redis_test

import (
	"testing"
	"time"

	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

func TestFirstSeen(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	const ttl = time.Minute

	steps := []struct {
		channel, id string
		want        bool
	}{
		{"telegram", "100", true},
		{"telegram", "100", false},
		{"discord", "100", true},
		{"telegram", "101", true},
		{"discord", "100", false},
	}
	for i, st := range steps {
		got, err := s.FirstSeen(t.Context(), st.channel, st.id, ttl)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got != st.want {
			t.Errorf("step %d: FirstSeen(%s, %s) = %v, want %v", i, st.channel, st.id, got, st.want)
		}
	}
	if pttl := c.PTTL(t.Context(), prefix+"d:telegram:100").Val(); pttl <= 0 || pttl > ttl {
		t.Errorf("dedupe PTTL = %v, want in (0, %v]", pttl, ttl)
	}

	// Once the mark expired, the id counts as new again.
	const short = 50 * time.Millisecond
	if got, err := s.FirstSeen(t.Context(), "web", "200", short); err != nil || !got {
		t.Fatalf("FirstSeen(web, 200) = %v, %v; want true", got, err)
	}
	redistest.Advance(t, c, 2*short)
	if got, err := s.FirstSeen(t.Context(), "web", "200", short); err != nil || !got {
		t.Errorf("after the TTL: FirstSeen = %v, %v; want true", got, err)
	}

	if _, err := s.FirstSeen(t.Context(), "telegram", "102", 0); err == nil {
		t.Error("zero ttl: want an error")
	}
}

func TestFlowArchive(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	src := []byte("id: intake\nversion: 3\n")

	if got, err := s.GetFlow(ctx, "intake", "aaaa"); got != nil || err != nil {
		t.Fatalf("unknown version: got %q, %v; want nil, nil", got, err)
	}
	if err := s.PutFlow(ctx, "intake", "aaaa", src); err != nil {
		t.Fatalf("put: %v", err)
	}
	if err := s.PutFlow(ctx, "intake", "bbbb", []byte("id: intake\nversion: 4\n")); err != nil {
		t.Fatalf("put: %v", err)
	}

	tests := []struct {
		id, hash string
		want     string // "" for unknown
	}{
		{"intake", "aaaa", string(src)},
		{"intake", "bbbb", "id: intake\nversion: 4\n"},
		{"intake", "cccc", ""},
		{"other", "aaaa", ""},
	}
	for _, tt := range tests {
		got, err := s.GetFlow(ctx, tt.id, tt.hash)
		if err != nil {
			t.Fatalf("get %s/%s: %v", tt.id, tt.hash, err)
		}
		if string(got) != tt.want || (got == nil) != (tt.want == "") {
			t.Errorf("get %s/%s = %q, want %q", tt.id, tt.hash, got, tt.want)
		}
	}
	// Sources never expire: PTTL answers -1 for a key without expiry.
	if pttl := c.PTTL(ctx, prefix+"f:intake:aaaa").Val(); pttl != -1 {
		t.Errorf("flow PTTL = %v, want -1 (no expiry)", pttl)
	}
}
