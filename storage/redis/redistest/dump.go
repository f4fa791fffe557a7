package redistest

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// Dump returns every key under prefix with its whole value as text (strings as they are,
// hashes, lists and sets as their members, sorted sets as members with scores, streams as
// entries with their ids), for privacy tests that must see everything that is stored, on
// every master of a cluster.
func Dump(t testing.TB, c goredis.UniversalClient, prefix string) map[string]string {
	t.Helper()
	var mu sync.Mutex // a cluster's masters are read concurrently
	out := map[string]string{}
	err := Masters(context.Background(), c, func(ctx context.Context, node goredis.UniversalClient) error {
		keys, err := keysOn(ctx, node, prefix+"*")
		if err != nil {
			return err
		}
		for _, k := range keys {
			v, err := value(ctx, node, k)
			if err != nil {
				return fmt.Errorf("read %s: %w", k, err)
			}
			mu.Lock()
			out[k] = v
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("redistest: dump: %v", err)
	}
	return out
}

// Keys returns the keys matching pattern, sorted, on every master of a cluster (where
// KEYS or SCAN through the cluster client would see one node).
func Keys(t testing.TB, c goredis.UniversalClient, pattern string) []string {
	t.Helper()
	var mu sync.Mutex
	var out []string
	err := Masters(context.Background(), c, func(ctx context.Context, node goredis.UniversalClient) error {
		keys, err := keysOn(ctx, node, pattern)
		mu.Lock()
		out = append(out, keys...)
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatalf("redistest: keys: %v", err)
	}
	sort.Strings(out)
	return out
}

func value(ctx context.Context, c goredis.UniversalClient, k string) (string, error) {
	typ, err := c.Type(ctx, k).Result()
	if err != nil {
		return "", err
	}
	switch typ {
	case "string":
		return c.Get(ctx, k).Result()
	case "hash":
		m, err := c.HGetAll(ctx, k).Result()
		return joinMap(m), err
	case "list":
		l, err := c.LRange(ctx, k, 0, -1).Result()
		return strings.Join(l, "\n"), err
	case "set":
		l, err := c.SMembers(ctx, k).Result()
		sort.Strings(l)
		return strings.Join(l, "\n"), err
	case "zset":
		// Scores too: an index scored by a time would store that time.
		l, err := c.ZRangeWithScores(ctx, k, 0, -1).Result()
		var b strings.Builder
		for _, z := range l {
			fmt.Fprintf(&b, "%v %s\n", z.Member, strconv.FormatFloat(z.Score, 'f', -1, 64))
		}
		return b.String(), err
	case "stream":
		msgs, err := c.XRange(ctx, k, "-", "+").Result()
		var b strings.Builder
		for _, m := range msgs {
			fmt.Fprintf(&b, "%s %v\n", m.ID, m.Values)
		}
		return b.String(), err
	case "none":
		return "", nil // expired between SCAN and TYPE
	}
	return "", fmt.Errorf("unknown type %q", typ)
}

func joinMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, m[k])
	}
	return b.String()
}
