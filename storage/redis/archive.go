package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// FirstSeen records an update id of a channel for ttl and reports whether it was new.
func (s *Store) FirstSeen(ctx context.Context, channel, id string, ttl time.Duration) (bool, error) {
	if ttl < time.Millisecond {
		// Redis rejects a zero expiry, and a mark without one would be kept forever.
		return false, errors.New("dedupe: ttl must be at least 1ms")
	}
	isNew, err := s.c.SetNX(ctx, s.prefix+"d:"+channel+":"+id, 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("dedupe: %w", err)
	}
	return isNew, nil
}

// PutFlow archives the source of one published script version. It never expires: sources
// are small and a session may stay pinned to a version for as long as it lives.
func (s *Store) PutFlow(ctx context.Context, id, hash string, source []byte) error {
	if err := s.c.Set(ctx, s.flowKey(id, hash), source, 0).Err(); err != nil {
		return fmt.Errorf("put flow: %w", err)
	}
	return nil
}

// GetFlow returns the archived source of a script version, or nil, nil when it is unknown.
func (s *Store) GetFlow(ctx context.Context, id, hash string) ([]byte, error) {
	src, err := s.c.Get(ctx, s.flowKey(id, hash)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get flow: %w", err)
	}
	return src, nil
}

func (s *Store) flowKey(id, hash string) string {
	return s.prefix + "f:" + id + ":" + hash
}
