package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
)

var _ bot.Leases = (*Store)(nil)

// leaseScript takes the lease when it is free or renews it when holder already has it, in
// one step, so two replicas can never both believe they hold it.
// KEYS: lease. ARGV: holder, ttl ms.
var leaseScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// releaseScript frees the lease only when holder has it.
var releaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

func (s *Store) leaseKey(name string) string { return s.prefix + "lease:" + name }

// Lease takes or renews the named lease for holder for ttl, and reports whether holder has
// it now.
func (s *Store) Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return false, errors.New("lease: name, holder and a positive ttl are required")
	}
	n, err := leaseScript.Run(ctx, s.c, []string{s.leaseKey(name)}, holder, ms(ttl)).Int()
	if err != nil {
		return false, fmt.Errorf("lease: %w", err)
	}
	return n == 1, nil
}

// ReleaseLease gives the lease up if holder has it, so another replica can take over at
// once instead of after the ttl.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if err := releaseScript.Run(ctx, s.c, []string{s.leaseKey(name)}, holder).Err(); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	return nil
}
