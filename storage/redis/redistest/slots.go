package redistest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// Slot returns the Redis Cluster hash slot of key: CRC16 (XMODEM) of its hash tag, the part
// between the first '{' and the next '}' when that is not empty, else of the whole key,
// modulo 16384 (the cluster specification's HASH_SLOT).
func Slot(key string) int {
	if open := strings.IndexByte(key, '{'); open >= 0 {
		if end := strings.IndexByte(key[open+1:], '}'); end > 0 {
			key = key[open+1 : open+1+end]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % clusterSlots
}

// slotGuard is a go-redis hook for cluster test clients that notes every command, and every
// MULTI transaction, whose keys lie in more than one hash slot. The server refuses such
// scripts and transactions itself (CROSSSLOT), but go-redis quietly splits some multi-key
// commands (MGET, DEL) over the masters, which would cost a round trip per master and
// lose atomicity without any error; the guard catches those too. It asks a node for each
// command's keys with COMMAND GETKEYS, on a client of its own (outside the counted hooks).
type slotGuard struct {
	keys *goredis.Client

	mu    sync.Mutex
	wrong []string // what touched several slots: the command names and their slots
}

func (g *slotGuard) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (g *slotGuard) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		g.check(ctx, []goredis.Cmder{cmd})
		return next(ctx, cmd)
	}
}

func (g *slotGuard) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if len(cmds) > 0 && cmds[0].Name() == "multi" {
			// A transaction must stay on one slot as a whole; a plain pipeline may span nodes.
			g.check(ctx, cmds)
		} else {
			for _, c := range cmds {
				g.check(ctx, []goredis.Cmder{c})
			}
		}
		return next(ctx, cmds)
	}
}

// check notes cmds when their keys, together, lie in more than one slot.
func (g *slotGuard) check(ctx context.Context, cmds []goredis.Cmder) {
	var slots []int
	var names []string
	for _, c := range cmds {
		// Commands without keys (PING, MULTI, CLUSTER ...) make GETKEYS fail: nothing to check.
		keys, err := g.keys.CommandGetKeys(ctx, c.Args()...).Result()
		if err != nil {
			continue
		}
		names = append(names, c.Name())
		for _, k := range keys {
			slots = append(slots, Slot(k))
		}
	}
	slices.Sort(slots)
	if slots = slices.Compact(slots); len(slots) > 1 {
		g.mu.Lock()
		g.wrong = append(g.wrong, fmt.Sprintf("%s on slots %v", strings.Join(names, "+"), slots))
		g.mu.Unlock()
	}
}

// guardSlots adds a slotGuard to a cluster client c and, when t ends, fails t for every
// command or transaction that touched more than one slot.
func guardSlots(t testing.TB, c *goredis.ClusterClient) {
	t.Helper()
	o := c.Options()
	g := &slotGuard{keys: goredis.NewClient(&goredis.Options{
		Addr: o.Addrs[0], Username: o.Username, Password: o.Password, TLSConfig: o.TLSConfig,
	})}
	c.AddHook(g)
	t.Cleanup(func() {
		_ = g.keys.Close()
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, w := range g.wrong {
			t.Errorf("redistest: one command or transaction used keys of several cluster slots: %s", w)
		}
	})
}
