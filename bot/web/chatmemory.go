package web

import (
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"

	"intake/bot"
)

// --- rate limits -----------------------------------------------------------------------

// Receipt attempts, the arithmetic that makes guessing one infeasible:
//
// A receipt is a case code (8 symbols of 32: 40 bits) and a passphrase (16 symbols of 32:
// 80 bits), both drawn at random. The engine allows each case code 5 wrong passphrases an
// hour from anywhere (bot.Engine's receipt limit), so even an attacker who knows a code
// needs 2^80 / 5 ≈ 2.4·10^23 hours for an even chance; it also means a code under attack
// is locked for its owner, who is told to wait an hour. Without a code, a guess must hit
// one of the N open cases in 2^120 pairs: with N = 1000 about 2^-110 per guess. This chat
// adds, per address, 5 attempts at once and then one a minute (Receipts), and every wrong
// one waits ReceiptDelay and costs a second token: about 720 guesses a day per address.
// Even a million addresses (2^20) guessing for a year (2^18 guesses each, 2^38 in all)
// reach about 2^-72 of a chance. The attacker's cheapest path is the student's own device, which is
// why the page says to keep the receipt private and offers no way to look one up.

// limiter holds a token bucket per key (an address or a conversation), in process memory
// only. Keys are hashed with a random per-process salt, so not even a memory dump lists
// the addresses seen; buckets that refilled are dropped, and the map never holds more
// than max buckets (when full, arbitrary ones are forgotten: a forgotten bucket is full
// again, so an attack with very many addresses loosens the limit instead of locking
// everyone out).
type limiter struct {
	lim   Limit
	max   int
	salt  [16]byte
	mu    sync.Mutex
	b     map[[16]byte]*bucket
	swept time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxBuckets bounds each limiter's memory (about 100 bytes a bucket).
const maxBuckets = 100_000

func newLimiter(lim Limit, max int) *limiter {
	l := &limiter{lim: lim, max: max, b: map[[16]byte]*bucket{}}
	rand.Read(l.salt[:]) // never fails (crypto/rand, Go 1.24+)
	return l
}

func (l *limiter) id(key string) [16]byte {
	sum := sha256.Sum256(append(l.salt[:], key...))
	var id [16]byte
	copy(id[:], sum[:])
	return id
}

// full is how long an idle bucket takes to fill up again.
func (l *limiter) full() time.Duration { return time.Duration(l.lim.Burst) * l.lim.Every }

// allow takes cost tokens from key's bucket and reports whether there were enough; a
// refused request takes nothing.
func (l *limiter) allow(key string, now time.Time, cost float64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, now)
	if b.tokens < cost {
		return false
	}
	b.tokens -= cost
	return true
}

// charge takes cost tokens even when that leaves the bucket below zero: a penalty.
func (l *limiter) charge(key string, now time.Time, cost float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bucket(key, now).tokens -= cost
}

// wait is how long key must wait for one token.
func (l *limiter) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(l.lim.Every))
}

func (l *limiter) bucket(key string, now time.Time) *bucket {
	id := l.id(key)
	b := l.b[id]
	if b == nil {
		l.sweep(now)
		b = &bucket{tokens: float64(l.lim.Burst), at: now}
		l.b[id] = b
		return b
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(float64(l.lim.Burst), b.tokens+float64(d)/float64(l.lim.Every))
		b.at = now
	}
	return b
}

// sweep drops full buckets once a minute, or at once when the map is full.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute && len(l.b) < l.max {
		return
	}
	l.swept = now
	for id, b := range l.b {
		if now.Sub(b.at) >= l.full() && b.tokens >= 0 {
			delete(l.b, id)
		}
	}
	for id := range l.b {
		if len(l.b) < l.max {
			break
		}
		delete(l.b, id)
	}
}

// --- what the page shows ---------------------------------------------------------------

// shown is what a conversation's page shows: the messages of its last turn and the
// counsellor messages delivered since. It lives only in process memory, for the redirect
// after a form (POST, 303, GET) and a reload; there is no stored history, so a person who
// picks up the device later finds at most the latest exchange, and after recentTTL not
// even that. When the GET lands on another replica, or after a restart, the page falls
// back to opening the conversation, which shows the waiting question again.
type shown struct {
	lang     string
	messages []shownMessage
	receipt  bool // the turn handed off or asked for the receipt: show the receipt box
	at       time.Time
}

type shownMessage struct {
	bot.Message
	team bool // delivered from the counsellor's side, outside the student's turn
	note bool // a hint of the page itself, not the bot's
}

const (
	recentTTL = 30 * time.Minute
	maxRecent = 50_000
)

// recentReplies maps conversation keys to what their page shows.
type recentReplies struct {
	ttl   time.Duration
	max   int
	mu    sync.Mutex
	m     map[string]*shown
	swept time.Time
}

func newRecentReplies(ttl time.Duration, max int) *recentReplies {
	return &recentReplies{ttl: ttl, max: max, m: map[string]*shown{}}
}

// get returns a copy of what key's page shows, or nil.
func (rr *recentReplies) get(key string, now time.Time) *shown {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	s := rr.m[key]
	if s == nil || now.Sub(s.at) > rr.ttl {
		delete(rr.m, key)
		return nil
	}
	c := *s
	c.messages = append([]shownMessage(nil), s.messages...)
	return &c
}

// put replaces what key's page shows.
func (rr *recentReplies) put(key string, s *shown) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if s.at.Sub(rr.swept) > time.Minute || len(rr.m) >= rr.max {
		rr.swept = s.at
		for k, v := range rr.m {
			if s.at.Sub(v.at) > rr.ttl {
				delete(rr.m, k)
			}
		}
		for k := range rr.m {
			if len(rr.m) < rr.max {
				break
			}
			delete(rr.m, k)
		}
	}
	rr.m[key] = s
}

// add appends delivered messages to what key's page shows (creating it in lang).
func (rr *recentReplies) add(key, lang string, msgs []shownMessage, now time.Time) {
	rr.mu.Lock()
	s := rr.m[key]
	if s != nil && now.Sub(s.at) <= rr.ttl {
		s.messages = append(s.messages, msgs...)
		s.at = now
		rr.mu.Unlock()
		return
	}
	rr.mu.Unlock()
	rr.put(key, &shown{lang: lang, messages: msgs, at: now})
}

func (rr *recentReplies) drop(key string) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	delete(rr.m, key)
}
