package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// This file is what `intake bench` needs beyond the store's own work: the floor a turn is
// compared with, what the store's keys cost in Redis memory, and removing every key of a
// throwaway prefix afterwards.

// scanBatch is the SCAN COUNT and the pipeline size of the walks over a prefix.
const scanBatch = 500

// floorKey is where ReadWrite reads and writes: under the prefix, apart from every key the
// service uses.
func (s *Store) floorKey(key string) string { return s.prefix + "floor:{" + key + "}" }

// ReadWrite reads the plain value at key and then writes value there with the session
// TTL: one GET and one SET, two round trips, like a turn's lock-and-load and save-and-unlock
// but without the scripts, the lock or anything the engine does in between. It is the
// floor `intake bench` compares turns with.
func (s *Store) ReadWrite(ctx context.Context, key string, value []byte) error {
	k := s.floorKey(key)
	if err := s.c.Get(ctx, k).Err(); err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("floor read: %w", err)
	}
	if err := s.c.Set(ctx, k, value, s.sessionTTL).Err(); err != nil {
		return fmt.Errorf("floor write: %w", err)
	}
	return nil
}

// KeyUsage is what a kind of key costs in Redis memory.
type KeyUsage struct {
	Keys  int
	Bytes int64 // MEMORY USAGE summed: the value, the key and Redis's overhead for both
}

// MemoryUsage sums MEMORY USAGE (every element counted, SAMPLES 0) of every key under the
// store's prefix, by kind: "sessions", "cases", "registry", ... (see keyKind). It walks the
// whole prefix, so it is for measuring, not for a running service on a large Redis.
func (s *Store) MemoryUsage(ctx context.Context) (map[string]KeyUsage, error) {
	out := map[string]KeyUsage{}
	err := s.eachKeys(ctx, "*", func(ctx context.Context, c goredis.Cmdable, keys []string) error {
		cmds := make([]*goredis.IntCmd, len(keys))
		_, err := c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.MemoryUsage(ctx, k, 0)
			}
			return nil
		})
		if err != nil && !errors.Is(err, goredis.Nil) {
			return err
		}
		for i, k := range keys {
			n, err := cmds[i].Result()
			if errors.Is(err, goredis.Nil) {
				continue // expired since the scan
			}
			if err != nil {
				return err
			}
			kind := keyKind(strings.TrimPrefix(k, s.prefix))
			u := out[kind]
			u.Keys++
			u.Bytes += n
			out[kind] = u
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory usage: %w", err)
	}
	return out, nil
}

// keyKind names the kind of a key (without the prefix), after the key layout in doc.go.
func keyKind(k string) string {
	switch {
	case strings.HasPrefix(k, "s:{") && strings.HasSuffix(k, ":lock"):
		return "session locks"
	case strings.HasPrefix(k, "s:{") && strings.HasSuffix(k, ":sent"):
		return "delivery marks"
	case strings.HasPrefix(k, "s:{"):
		return "sessions"
	case strings.HasPrefix(k, "d:"):
		return "dedupe marks"
	case strings.HasPrefix(k, "f:"):
		return "flow archive"
	case strings.HasPrefix(k, "{case}:c:"):
		return "cases"
	case strings.HasPrefix(k, "{case}:i:"):
		return "case by intake"
	case k == "{case}:pending" || k == "{case}:open" || k == "{case}:done":
		return "case indexes"
	case strings.HasPrefix(k, "{case}:t:"):
		return "case threads"
	case strings.HasPrefix(k, "{case}:reg:"):
		return "registry"
	case strings.HasPrefix(k, "{case}:cap:"):
		return "case cap"
	case k == "{case}:announce":
		return "announcements"
	case strings.HasPrefix(k, "{out:"):
		return "outboxes"
	case strings.HasPrefix(k, "{desk}:"):
		return "desk"
	case strings.HasPrefix(k, "lease:"):
		return "leases"
	case strings.HasPrefix(k, "floor:"):
		return "floor"
	}
	return "other"
}

// UsedMemory is Redis's used_memory (INFO memory), summed over the masters of a cluster:
// everything the server holds, other users' keys included.
func (s *Store) UsedMemory(ctx context.Context) (int64, error) {
	var total int64
	err := s.eachNode(ctx, func(ctx context.Context, c *goredis.Client) error {
		info, err := c.Info(ctx, "memory").Result()
		if err != nil {
			return err
		}
		for line := range strings.Lines(info) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return fmt.Errorf("used_memory %q: %w", v, err)
				}
				total += n
				return nil
			}
		}
		return errors.New("no used_memory in INFO memory")
	})
	if err != nil {
		return 0, fmt.Errorf("used memory: %w", err)
	}
	return total, nil
}

// DeleteAll removes every key under the store's prefix and returns how many it removed.
// It refuses a store without a prefix: that would be every key in the database.
func (s *Store) DeleteAll(ctx context.Context) (int, error) {
	if s.prefix == "" {
		return 0, errors.New("delete all: the store has no prefix; refusing to delete every key in Redis")
	}
	n := 0
	err := s.eachKeys(ctx, "*", func(ctx context.Context, c goredis.Cmdable, keys []string) error {
		// One UNLINK per key: keys of several cluster slots may not share a command.
		_, err := c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, k := range keys {
				p.Unlink(ctx, k)
			}
			return nil
		})
		n += len(keys)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("delete all: %w", err)
	}
	return n, nil
}

// eachKeys calls f with the keys under the prefix that match the glob pattern match after
// it ("*" for all), a batch at a time, and the client of the node that holds them.
func (s *Store) eachKeys(ctx context.Context, match string, f func(context.Context, goredis.Cmdable, []string) error) error {
	pattern := globEscape(s.prefix) + match
	return s.eachNode(ctx, func(ctx context.Context, c *goredis.Client) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, pattern, scanBatch).Result()
			if err != nil {
				return err
			}
			if len(keys) > 0 {
				if err := f(ctx, c, keys); err != nil {
					return err
				}
			}
			if next == 0 {
				return nil
			}
			cursor = next
		}
	})
}

// eachNode calls f with the client of every master: the one server, or each master of a
// Redis Cluster (SCAN and INFO see one node only). It calls f for one master at a time:
// ForEachMaster runs them all at once, which would make every caller's tally a data race.
func (s *Store) eachNode(ctx context.Context, f func(context.Context, *goredis.Client) error) error {
	switch c := s.c.(type) {
	case *goredis.Client:
		return f(ctx, c)
	case *goredis.ClusterClient:
		var one sync.Mutex
		return c.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
			one.Lock()
			defer one.Unlock()
			return f(ctx, node)
		})
	}
	return fmt.Errorf("unsupported redis client %T", s.c)
}
