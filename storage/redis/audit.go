package redis

import (
	"context"
	"encoding/json"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
)

// auditMax bounds the desk audit log: older entries are trimmed away.
const auditMax = 100000

func (s *Store) auditKey() string { return s.prefix + "{desk}:audit" }

// Audit appends e to the desk audit log (LPUSH and LTRIM in one MULTI), keeping the newest
// auditMax entries.
func (s *Store) Audit(ctx context.Context, e bot.AuditEntry) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit: encode: %w", err)
	}
	_, err = s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.LPush(ctx, s.auditKey(), raw)
		p.LTrim(ctx, s.auditKey(), 0, auditMax-1)
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditEntries returns the newest n entries of the desk audit log (all when n <= 0),
// oldest first.
func (s *Store) AuditEntries(ctx context.Context, n int) ([]bot.AuditEntry, error) {
	stop := int64(n) - 1
	if n <= 0 {
		stop = -1
	}
	raws, err := s.c.LRange(ctx, s.auditKey(), 0, stop).Result()
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	out := make([]bot.AuditEntry, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal([]byte(raw), &out[len(raws)-1-i]); err != nil {
			return nil, fmt.Errorf("audit entries: decode entry %d: %w", i, err)
		}
	}
	return out, nil
}
