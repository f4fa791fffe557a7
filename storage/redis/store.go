package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
)

// The store is every storage interface the engine needs.
var (
	_ bot.SessionStore  = (*Store)(nil)
	_ bot.Deduper       = (*Store)(nil)
	_ bot.FlowArchive   = (*Store)(nil)
	_ bot.CaseStore     = (*Store)(nil)
	_ bot.Announcements = (*Store)(nil)
	_ bot.Outbox        = (*Store)(nil)
	_ bot.AccountStore  = (*Store)(nil)
)

// Default durations used when Options leaves them zero.
const (
	DefaultSessionTTL = 24 * time.Hour
	DefaultLockTTL    = 10 * time.Second
)

// Options configures a Store.
type Options struct {
	// Prefix starts every key, so several deployments (or tests) can share one Redis. It
	// should hold no '{' or '}': a brace pair in it would become the Redis Cluster hash tag
	// of every key, putting them all in one slot.
	Prefix string
	// SessionTTL is how long an idle session is kept; DefaultSessionTTL when zero.
	SessionTTL time.Duration
	// LockTTL bounds how long a turn may hold a conversation lock before another turn may
	// take it; DefaultLockTTL when zero. A turn must finish well within it.
	LockTTL time.Duration
}

// Store keeps sessions, dedupe marks, flow versions, cases with their threads and registry
// records, announcements, outboxes and desk accounts in Redis.
// It is safe for concurrent use, also by several processes sharing one Redis.
type Store struct {
	c          goredis.UniversalClient
	prefix     string
	sessionTTL time.Duration
	lockTTL    time.Duration
	trips      *tripCounter
	// groups remembers the stream consumer groups this Store has made sure of, so a read
	// does not send XGROUP CREATE every time.
	groups sync.Map // stream + "\x00" + group -> struct{}
}

// New returns a Store on c. It adds a hook to c that counts round trips (see RoundTrips).
func New(c goredis.UniversalClient, o Options) *Store {
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.LockTTL <= 0 {
		o.LockTTL = DefaultLockTTL
	}
	trips := &tripCounter{}
	c.AddHook(trips)
	return &Store{c: c, prefix: o.Prefix, sessionTTL: o.SessionTTL, lockTTL: o.LockTTL, trips: trips}
}

// Open returns a client for a redis:// (or rediss://, unix://) URL or a bare host:port.
// It does not connect; use Store.Ping to check the server is there.
func Open(addr string) (goredis.UniversalClient, error) {
	if strings.Contains(addr, "://") {
		opt, err := goredis.ParseURL(addr)
		if err != nil {
			// url.Error repeats the whole URL, password included: keep only its cause.
			if ue, ok := errors.AsType[*url.Error](err); ok {
				err = ue.Err
			}
			return nil, fmt.Errorf("open redis: bad URL: %w", err)
		}
		return goredis.NewClient(opt), nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, errors.New("open redis: want a redis:// URL or host:port")
	}
	return goredis.NewClient(&goredis.Options{Addr: addr}), nil
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// RoundTrips returns how many commands and pipelines were sent through the client since
// New: a pipeline or a script call (EVALSHA) counts one; a script the server did not know
// yet counts two (EVALSHA, then EVAL). It counts every user of the client, not only this
// Store, so benchmarks compare it before and after.
func (s *Store) RoundTrips() int64 {
	return s.trips.n.Load()
}

// tripCounter is a go-redis hook counting round trips.
type tripCounter struct {
	n atomic.Int64
}

func (t *tripCounter) DialHook(next goredis.DialHook) goredis.DialHook {
	return next
}

func (t *tripCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		t.n.Add(1)
		return next(ctx, cmd)
	}
}

func (t *tripCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		t.n.Add(1)
		return next(ctx, cmds)
	}
}

// ms renders d as whole milliseconds for PX, at least 1 (PX 0 is an error).
func ms(d time.Duration) int64 {
	return max(d.Milliseconds(), 1)
}
