package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// sentTTL is how long a delivery mark is kept. A platform delivers an update again within
// minutes of the first try; a mark older than that only keeps a trace of the conversation.
const sentTTL = time.Hour

// sentKey is the delivery mark of a conversation, in its session's slot.
func (s *Store) sentKey(conv string) string { return s.prefix + "s:{" + conv + "}:sent" }

// MarkSent records, per conversation key, the update whose reply reached the student. All
// marks go in one pipeline: one round trip for a whole batch of turns.
func (s *Store) MarkSent(ctx context.Context, marks map[string]string) error {
	if len(marks) == 0 {
		return nil
	}
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for conv, update := range marks {
			p.Set(ctx, s.sentKey(conv), update, sentTTL)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store delivery marks: %w", err)
	}
	return nil
}

// SentMark returns the conversation's delivery mark, "" when there is none.
func (s *Store) SentMark(ctx context.Context, conv string) (string, error) {
	v, err := s.c.Get(ctx, s.sentKey(conv)).Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read delivery mark: %w", err)
	}
	return v, nil
}
