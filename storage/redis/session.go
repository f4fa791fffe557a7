package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
)

// Lock retry backoff: a turn takes milliseconds, so start short and stay short; the jitter
// keeps two waiting replicas from retrying in step.
const (
	minBackoff = time.Millisecond
	maxBackoff = 25 * time.Millisecond
)

// releaseTimeout bounds the clean-up release after a failed lock call, which may run after
// the caller's context has ended.
const releaseTimeout = time.Second

// saveScript stores the session and releases the lock, only while the token holds it.
// KEYS: session, lock. ARGV: token, session, session TTL in ms. Returns 1 when saved.
var saveScript = goredis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
	return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('DEL', KEYS[2])
return 1
`)

// deleteScript removes the session with its delivery mark and releases the lock, only
// while the token holds it. KEYS: session, lock, delivery mark. ARGV: token. Returns 1 when
// deleted.
var deleteScript = goredis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
	return 0
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 1
`)

// unlockScript releases the lock, only while the token holds it.
// KEYS: session, lock (the session is unused; passing it keeps every session script's
// keys alike). ARGV: token. Returns 1 when released.
var unlockScript = goredis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
	return 0
end
redis.call('DEL', KEYS[2])
return 1
`)

// sessionKeys returns the session, lock and delivery mark keys of a conversation (every
// session script gets all three; most use two). The hash tag puts them in one Redis
// Cluster slot, which a script touching several needs.
func (s *Store) sessionKeys(conv string) []string {
	k := s.prefix + "s:{" + conv + "}"
	return []string{k, k + ":lock", s.sentKey(conv)}
}

// Lock waits until the conversation's lock is free, takes it and returns the stored session
// (nil when there is none). It gives up with bot.ErrBusy when ctx ends first.
func (s *Store) Lock(ctx context.Context, key string) (bot.Lock, []byte, error) {
	if key == "" {
		// An empty hash tag would put the session and its lock in different slots.
		return bot.Lock{}, nil, errors.New("lock session: empty conversation key")
	}
	l := bot.Lock{Key: key, Token: newToken()}
	keys := s.sessionKeys(key)
	backoff := minBackoff
	for {
		if ctx.Err() != nil {
			// Checked first so an ended context costs no round trip.
			return bot.Lock{}, nil, fmt.Errorf("lock session: %w: %w", bot.ErrBusy, ctx.Err())
		}
		start := s.now()
		taken, data, err := s.tryLock(ctx, keys, l.Token)
		if err != nil {
			// The lock may have been set and only the reply been lost: give it back if it
			// is ours, so the conversation does not wait out the lock TTL.
			s.release(ctx, l)
			if ctx.Err() != nil {
				return bot.Lock{}, nil, fmt.Errorf("lock session: %w: %w", bot.ErrBusy, ctx.Err())
			}
			return bot.Lock{}, nil, fmt.Errorf("lock session: %w", err)
		}
		if taken {
			// The lock's expiry was set after start, so until start + TTL it is surely
			// ours; half of that leaves the other half for the turn's last write to
			// reach Redis after the check (see sure).
			l.Sure = start.Add(s.lockTTL / 2)
			return l, data, nil
		}

		wait := backoff/2 + mathrand.N(backoff/2+1)
		backoff = min(2*backoff, maxBackoff)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// tryLock sets the lock when it is free and reads the session, in one round trip of two
// plain commands (a Lua script doing the same costs Redis several times more per call).
// Redis runs a pipeline's commands in order, so the read comes after the lock is set: when
// the set succeeded, no other turn can have written the session since, because every
// writer holds the lock. When it failed the read is discarded.
func (s *Store) tryLock(ctx context.Context, keys []string, token string) (taken bool, data []byte, err error) {
	var set *goredis.BoolCmd
	var get *goredis.StringCmd
	_, _ = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		set = p.SetNX(ctx, keys[1], token, s.lockTTL)
		get = p.Get(ctx, keys[0])
		return nil
	})
	if taken, err = set.Result(); err != nil || !taken {
		return false, nil, err
	}
	data, err = get.Bytes()
	if errors.Is(err, goredis.Nil) {
		return true, nil, nil
	}
	return true, data, err
}

// release gives back l if it is still held, ignoring failure: the lock expires anyway.
func (s *Store) release(ctx context.Context, l bot.Lock) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	_ = unlockScript.Run(ctx, s.c, s.sessionKeys(l.Key), l.Token).Err()
}

// Save stores the session with the idle TTL and releases the lock; bot.ErrLockLost when the
// lock is no longer held by l's token (nothing is written then).
func (s *Store) Save(ctx context.Context, l bot.Lock, data []byte) error {
	keys := s.sessionKeys(l.Key)
	if s.sure(l) {
		return s.endSure(ctx, "save session", func(p goredis.Pipeliner) {
			p.Set(ctx, keys[0], data, s.sessionTTL)
			p.Del(ctx, keys[1])
		})
	}
	return s.runLocked(ctx, "save session", saveScript, l, data, ms(s.sessionTTL))
}

// Delete removes the session and releases the lock; bot.ErrLockLost when the lock is no
// longer held by l's token (nothing is deleted then).
func (s *Store) Delete(ctx context.Context, l bot.Lock) error {
	if s.sure(l) {
		return s.endSure(ctx, "delete session", func(p goredis.Pipeliner) {
			p.Del(ctx, s.sessionKeys(l.Key)...)
		})
	}
	return s.runLocked(ctx, "delete session", deleteScript, l)
}

// Unlock releases the lock without writing; bot.ErrLockLost when it is no longer held by
// l's token.
func (s *Store) Unlock(ctx context.Context, l bot.Lock) error {
	if s.sure(l) {
		return s.endSure(ctx, "unlock session", func(p goredis.Pipeliner) {
			p.Del(ctx, s.sessionKeys(l.Key)[1])
		})
	}
	return s.runLocked(ctx, "unlock session", unlockScript, l)
}

// sure reports whether l is still surely held (see bot.Lock.Sure), so the turn may end
// with plain commands instead of a script that first checks the token. Nearly every turn
// ends this way: turns take milliseconds and Sure is half the lock TTL away. The other
// half is the margin for the write to reach Redis after this check; a process stalled
// longer than that between the two (or a Redis that lost the lock key in a crash, which
// also loses the writes of that last second) is the case the check would catch — the
// same bound a lock service with a validity time gives (the Redlock argument).
func (s *Store) sure(l bot.Lock) bool {
	return !l.Sure.IsZero() && s.now().Before(l.Sure)
}

// endSure sends the commands that end a surely held turn in one round trip.
func (s *Store) endSure(ctx context.Context, op string, cmds func(goredis.Pipeliner)) error {
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		cmds(p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// runLocked runs one of the token-checked session scripts, which answer 1 when the token
// still held the lock.
func (s *Store) runLocked(ctx context.Context, op string, script *goredis.Script, l bot.Lock, args ...any) error {
	n, err := script.Run(ctx, s.c, s.sessionKeys(l.Key), append([]any{l.Token}, args...)...).Int()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n != 1 {
		return fmt.Errorf("%s: %w", op, bot.ErrLockLost)
	}
	return nil
}

// newToken returns 128 random bits in hex: unguessable, so only the turn that took the lock
// can save through it.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
