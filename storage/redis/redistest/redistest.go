// Package redistest gives tests a Redis: the Redis Cluster named by
// INTAKE_TEST_REDIS_CLUSTER when that is set, else the real Redis named by INTAKE_TEST_REDIS
// (CI sets it, and a test fails when that Redis is unreachable) or, on a machine without
// it, an in-process miniredis, which the test log says. Each test gets its own key prefix,
// and its keys are deleted when it ends. On a cluster, a test also fails when one of its
// commands or transactions used keys of more than one hash slot; StartCluster starts a
// local cluster for the tests that need one.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"intake/storage/redis"
)

// EnvVar names the real Redis to test against: host:port or a redis:// URL.
const EnvVar = "INTAKE_TEST_REDIS"

// fallbackOnce and clusterOnce make the miniredis and cluster notices appear once per test
// binary, not once per test.
var fallbackOnce, clusterOnce sync.Once

// backend is the server a test client talks to.
type backend struct {
	addr string               // a cluster URL, INTAKE_TEST_REDIS, or the miniredis address
	mini *miniredis.Miniredis // nil for a real Redis
}

// backends maps each client handed out to its server, for Another and Advance.
var backends sync.Map // goredis.UniversalClient -> backend

// Client returns a client and a key prefix unique to t. Every key under the prefix is
// deleted, and the client closed, when t ends.
func Client(t testing.TB) (goredis.UniversalClient, string) {
	t.Helper()
	if addr := os.Getenv(ClusterEnvVar); addr != "" {
		clusterOnce.Do(func() {
			t.Logf("%s is set: testing against a Redis Cluster", ClusterEnvVar)
		})
		return ClientOn(t, addr)
	}
	b := backend{addr: os.Getenv(EnvVar)}
	if b.addr == "" {
		fallbackOnce.Do(func() {
			t.Logf("%s is not set: testing against an in-process miniredis, not a real Redis", EnvVar)
		})
		b.mini = miniredis.RunT(t)
		b.addr = b.mini.Addr()
	}
	return clientOn(t, b)
}

// ClientOn is Client on the server or cluster at addr (host:port or a URL redis.Open takes),
// such as one StartCluster returned.
func ClientOn(t testing.TB, addr string) (goredis.UniversalClient, string) {
	t.Helper()
	return clientOn(t, backend{addr: addr})
}

func clientOn(t testing.TB, b backend) (goredis.UniversalClient, string) {
	t.Helper()
	c := connect(t, b)
	prefix := "intaketest:" + testName(t) + ":" + randomHex() + ":"
	t.Cleanup(func() {
		backends.Delete(c)
		// t.Context() is already cancelled while cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := deletePrefix(ctx, c, prefix); err != nil {
			t.Errorf("redistest: delete test keys: %v", err)
		}
		_ = c.Close()
	})
	return c, prefix
}

// Another returns a second client to the server c talks to, closed when t ends: two
// clients stand for two replicas.
func Another(t testing.TB, c goredis.UniversalClient) goredis.UniversalClient {
	t.Helper()
	b, ok := backends.Load(c)
	if !ok {
		t.Fatal("redistest: Another needs a client from Client")
	}
	c2 := connect(t, b.(backend))
	t.Cleanup(func() {
		backends.Delete(c2)
		_ = c2.Close()
	})
	return c2
}

// connect opens a client on b and checks that it answers: CI relies on a test failing,
// not skipping, when INTAKE_TEST_REDIS names a Redis that is not there.
func connect(t testing.TB, b backend) goredis.UniversalClient {
	t.Helper()
	c, err := redis.Open(b.addr)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ping := func(ctx context.Context, node goredis.UniversalClient) error { return node.Ping(ctx).Err() }
	if err := Masters(ctx, c, ping); err != nil {
		_ = c.Close()
		t.Fatalf("redistest: the Redis of %s or %s does not answer: %v", ClusterEnvVar, EnvVar, err)
	}
	if cc, ok := c.(*goredis.ClusterClient); ok {
		guardSlots(t, cc)
	}
	backends.Store(c, b)
	return c
}

// New returns a Store with o on a Client of its own, o.Prefix replaced by the test's prefix.
func New(t testing.TB, o redis.Options) *redis.Store {
	t.Helper()
	c, prefix := Client(t)
	o.Prefix = prefix
	return redis.New(c, o)
}

// maxAdvance bounds Advance, which sleeps against a real Redis: tests that need expiry use
// short TTLs.
const maxAdvance = 2 * time.Second

// Advance lets d pass for key expiry on c's server: it sleeps against a real Redis and
// fast-forwards a miniredis, whose TTLs do not run by themselves. d may be at most 2s.
func Advance(t testing.TB, c goredis.UniversalClient, d time.Duration) {
	t.Helper()
	if d > maxAdvance {
		t.Fatalf("redistest: Advance(%v): at most %v, it sleeps against a real Redis; use shorter TTLs", d, maxAdvance)
	}
	b, ok := backends.Load(c)
	if !ok {
		t.Fatal("redistest: Advance needs a client from Client")
	}
	if m := b.(backend).mini; m != nil {
		m.FastForward(d)
		return
	}
	time.Sleep(d)
}

// deletePrefix removes every key starting with prefix (which holds no glob characters), on
// every master of a cluster.
func deletePrefix(ctx context.Context, c goredis.UniversalClient, prefix string) error {
	return Masters(ctx, c, func(ctx context.Context, node goredis.UniversalClient) error {
		keys, err := keysOn(ctx, node, prefix+"*")
		if err != nil || len(keys) == 0 {
			return err
		}
		// One DEL per key, in one pipeline: a cluster node refuses a DEL of keys in
		// several slots.
		_, err = node.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, k := range keys {
				p.Del(ctx, k)
			}
			return nil
		})
		return err
	})
}

// testName keeps letters, digits, '-' and '_' of t's name (so the prefix has no glob or
// hash-tag characters), shortened.
func testName(t testing.TB) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, t.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	return name
}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
