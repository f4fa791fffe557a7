package redistest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// Dump returns every key under prefix with its whole value as text (strings as they are,
// hashes, lists, sets, sorted sets and streams as their members), for privacy tests that
// must see everything that is stored.
func Dump(t testing.TB, c goredis.UniversalClient, prefix string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, prefix+"*", 500).Result()
		if err != nil {
			t.Fatalf("redistest: scan: %v", err)
		}
		for _, k := range keys {
			v, err := value(ctx, c, k)
			if err != nil {
				t.Fatalf("redistest: read %s: %v", k, err)
			}
			out[k] = v
		}
		if next == 0 {
			return out
		}
		cursor = next
	}
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
		l, err := c.ZRange(ctx, k, 0, -1).Result()
		return strings.Join(l, "\n"), err
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
