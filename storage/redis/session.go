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

// lockScript takes the lock and, in the same round trip, loads the session.
// KEYS: session, lock. ARGV: token, lock TTL in ms.
// Returns {0} when the lock is held by another turn, {1} when taken and there is no
// session, {1, session} when taken.
var lockScript = goredis.NewScript(`
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
	return {0}
end
local s = redis.call('GET', KEYS[1])
if s then
	return {1, s}
end
return {1}
`)

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
		res, err := lockScript.Run(ctx, s.c, keys, l.Token, ms(s.lockTTL)).Slice()
		if err != nil {
			// The script may have run and only its reply been lost: give back the lock
			// if it is ours, so the conversation does not wait out the lock TTL.
			s.release(ctx, l)
			if ctx.Err() != nil {
				return bot.Lock{}, nil, fmt.Errorf("lock session: %w: %w", bot.ErrBusy, ctx.Err())
			}
			return bot.Lock{}, nil, fmt.Errorf("lock session: %w", err)
		}
		taken, data, err := lockReply(res)
		if err != nil {
			s.release(ctx, l)
			return bot.Lock{}, nil, fmt.Errorf("lock session: %w", err)
		}
		if taken {
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

// lockReply decodes lockScript's answer.
func lockReply(res []any) (taken bool, data []byte, err error) {
	if len(res) == 0 {
		return false, nil, errors.New("empty script reply")
	}
	flag, ok := res[0].(int64)
	if !ok {
		return false, nil, fmt.Errorf("script reply: unexpected %T", res[0])
	}
	if flag == 0 {
		return false, nil, nil
	}
	if len(res) < 2 {
		return true, nil, nil
	}
	str, ok := res[1].(string)
	if !ok {
		return true, nil, fmt.Errorf("script reply: unexpected session %T", res[1])
	}
	return true, []byte(str), nil
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
	return s.runLocked(ctx, "save session", saveScript, l, data, ms(s.sessionTTL))
}

// Delete removes the session and releases the lock; bot.ErrLockLost when the lock is no
// longer held by l's token (nothing is deleted then).
func (s *Store) Delete(ctx context.Context, l bot.Lock) error {
	return s.runLocked(ctx, "delete session", deleteScript, l)
}

// Unlock releases the lock without writing; bot.ErrLockLost when it is no longer held by
// l's token.
func (s *Store) Unlock(ctx context.Context, l bot.Lock) error {
	return s.runLocked(ctx, "unlock session", unlockScript, l)
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
