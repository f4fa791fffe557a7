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
//
// DefaultLockTTL is also how long a student waits when the process running their turn was
// killed: its lock stays behind until it expires. Turns take milliseconds (intake bench:
// p99 0.2 s with 1,000 conversations at once on two cores), so 4 s is ample, and it is
// under the engine's 5 s wait for a lock: the update that comes again after a kill waits
// the dead lock out in one try, instead of failing busy and waiting for yet another
// delivery. A turn slower than the TTL loses its lock and is run again, never saved over
// the turn that took the lock after it (see Store.Save).
const (
	DefaultSessionTTL = bot.DefaultSessionTTL
	DefaultLockTTL    = 4 * time.Second
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
	// MaxCasesPerHour caps the new cases (handoffs and registrations) that all replicas
	// together store in one clock hour; CreateCase refuses more with bot.ErrTooManyCases.
	// Zero: no cap. See casecap.go.
	MaxCasesPerHour int
	// Now is the clock of the cap's hours and of how long a lock is surely held (see
	// Lock); time.Now when nil.
	Now func() time.Time
}

// Store keeps sessions, dedupe marks, flow versions, cases with their threads and registry
// records, announcements, outboxes and desk accounts in Redis.
// It is safe for concurrent use, also by several processes sharing one Redis.
type Store struct {
	c          goredis.UniversalClient
	prefix     string
	sessionTTL time.Duration
	lockTTL    time.Duration
	now        func() time.Time
	trips      *tripCounter
	cases      caseCap
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
	if o.Now == nil {
		o.Now = time.Now
	}
	trips := &tripCounter{}
	c.AddHook(trips)
	return &Store{c: c, prefix: o.Prefix, sessionTTL: o.SessionTTL, lockTTL: o.LockTTL, now: o.Now, trips: trips, cases: newCaseCap(o)}
}

// Open returns a client for a redis:// (or rediss://, unix://) URL or a bare host:port, or
// a cluster client for a Redis Cluster URL:
//
//	redis+cluster://[user:password@]host:port[?addr=host2:port2&addr=host3:port3]
//	rediss+cluster://...   (the same over TLS)
//
// The cluster form is go-redis's cluster URL (goredis.ParseClusterURL) with "+cluster"
// added to the scheme. The extra addr parameters are further seed nodes: the client learns
// the whole cluster from any one of them, so naming all masters only helps while some are
// down. The scheme, not the number of addresses, selects the cluster because one seed
// address is a valid cluster URL and the two clients fail differently when mixed up (a
// plain client gets MOVED for most keys, a cluster client on a plain server is refused), so
// the operator says which one is meant. A cluster has only database 0, so any other
// database number is refused rather than ignored.
//
// Open does not connect; use Store.Ping to check the server (every master of a cluster)
// is there. Its errors never repeat the password.
func Open(addr string) (goredis.UniversalClient, error) {
	if !strings.Contains(addr, "://") {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, errors.New("open redis: want a redis:// URL, a redis+cluster:// URL or host:port")
		}
		return goredis.NewClient(&goredis.Options{Addr: addr}), nil
	}
	u, err := url.Parse(addr)
	if err != nil {
		return nil, badURL(addr, nil, err)
	}
	scheme, cluster := strings.CutSuffix(u.Scheme, "+cluster")
	if !cluster {
		opt, err := goredis.ParseURL(addr)
		if err != nil {
			return nil, badURL(addr, u, err)
		}
		return goredis.NewClient(opt), nil
	}
	if u.Path != "" && u.Path != "/" && u.Path != "/0" {
		return nil, errors.New("open redis: bad URL: a Redis Cluster has only the first database; leave out the /database")
	}
	// url.Parse lowercased the scheme; its length is unchanged.
	opt, err := goredis.ParseClusterURL(scheme + addr[len(u.Scheme):])
	if err != nil {
		return nil, badURL(addr, u, err)
	}
	return goredis.NewClusterClient(opt), nil
}

// badURL reports a URL Open cannot use without repeating its password. url.Error repeats
// the whole URL, so only its cause is kept. The password, as parsed and as written, is
// blanked wherever the message repeats it. When the URL did not parse, or its user
// information did not parse as written (an unescaped '/', '?' or '#' in a password ends
// the host early and puts the rest of the password in the path or query, which errors
// quote), any part of the password may be in the message: a URL with user information
// then gets a fixed message instead.
func badURL(raw string, u *url.URL, err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	msg := err.Error()
	_, rest, _ := strings.Cut(raw, "://")
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return fmt.Errorf("open redis: bad URL: %s", msg)
	}
	if u == nil || strings.IndexAny(rest, "/?#") < at {
		return errors.New("open redis: bad URL (not repeated: it holds a password); check it, and percent-encode / ? # @ % in the password")
	}
	secrets := []string{}
	if p, ok := u.User.Password(); ok {
		secrets = append(secrets, p)
	}
	if _, written, ok := strings.Cut(rest[:at], ":"); ok {
		secrets = append(secrets, written)
	}
	for _, p := range secrets {
		if p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return fmt.Errorf("open redis: bad URL: %s", msg)
}

// Ping checks that Redis answers: the server, or every master of a cluster, since each
// master holds only part of the keys and one answering says little about the others.
func (s *Store) Ping(ctx context.Context) error {
	var err error
	if cc, ok := s.c.(*goredis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
			return node.Ping(ctx).Err()
		})
	} else {
		err = s.c.Ping(ctx).Err()
	}
	if err != nil {
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
