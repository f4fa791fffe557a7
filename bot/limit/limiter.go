// Package limit keeps one person from hurting others by flooding the bot. A Limiter holds a
// token bucket per key (an address, a conversation); Lanes run each conversation's
// messages of a chat platform in order, conversations in parallel, and hold back the
// messages of a conversation that goes over its rate instead of losing them.
//
// Both live in process memory only and know keys only hashed with a random salt drawn at
// start: not even a memory dump lists the addresses or conversations seen, and nothing of
// a limit reaches Redis or a log. Their maps are bounded. Each process counts for itself.
package limit

import (
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// Rate is a token bucket: Burst at once, then one more every Every.
type Rate struct {
	Burst int
	Every time.Duration
}

// Or returns r, or def when r is not a usable rate (a zero value).
func (r Rate) Or(def Rate) Rate {
	if r.Burst <= 0 || r.Every <= 0 {
		return def
	}
	return r
}

// full is how long an idle bucket takes to fill up from empty.
func (r Rate) full() time.Duration { return time.Duration(r.Burst) * r.Every }

// PerConversation is the limit on one conversation, on every channel. It is near
// GlobaLeaks' per-session limits: a short burst, then about one message a second. A person
// reads, thinks and types, so even quick taps through a menu or a message sent in pieces
// stay within ten at once and one a second after; a script sending hundreds a second is
// held to one a second, so it costs the service what a fast student costs.
var PerConversation = Rate{Burst: 10, Every: time.Second}

// DefaultMaxKeys bounds a limiter's map (about 100 bytes a key).
const DefaultMaxKeys = 100_000

// Limiter holds a token bucket per key. Buckets that filled up again are dropped, and the
// map never holds more than its maximum: when full, arbitrary buckets are forgotten. A
// forgotten bucket is a full one, so an attack with very many keys loosens the limit
// instead of locking everyone out. It is safe for concurrent use.
type Limiter struct {
	rate  Rate
	max   int
	salt  [16]byte
	mu    sync.Mutex
	b     map[id]*bucket
	swept time.Time
}

// id is a key hashed with the limiter's salt.
type id [16]byte

type bucket struct {
	tokens float64
	at     time.Time
	// told is set by the first refusal after the bucket was full, and cleared when it is
	// full again: a person over the limit is told once, not at every message.
	told bool
}

// New returns a limiter with rate r holding at most max keys (DefaultMaxKeys when 0).
func New(r Rate, max int) *Limiter {
	if max <= 0 {
		max = DefaultMaxKeys
	}
	l := &Limiter{rate: r, max: max, b: map[id]*bucket{}}
	rand.Read(l.salt[:]) // never fails (crypto/rand, Go 1.24+)
	return l
}

// Rate is the limiter's rate.
func (l *Limiter) Rate() Rate { return l.rate }

func (l *Limiter) id(key string) id {
	sum := sha256.Sum256(append(l.salt[:], key...))
	var k id
	copy(k[:], sum[:])
	return k
}

// Allow takes a token from key's bucket and reports whether there was one; a refusal
// takes nothing.
func (l *Limiter) Allow(key string, now time.Time) bool {
	ok, _ := l.Take(key, now)
	return ok
}

// Take is Allow that also reports, for a refusal, whether it is the first since key's
// bucket was last full: the moment to tell someone, once, to slow down.
func (l *Limiter) Take(key string, now time.Time) (ok, first bool) {
	return l.take(l.id(key), now)
}

func (l *Limiter) take(k id, now time.Time) (ok, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(k, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, false
	}
	first = !b.told
	b.told = true
	return false, first
}

// Charge takes cost tokens even when that leaves the bucket below zero: a penalty.
func (l *Limiter) Charge(key string, now time.Time, cost float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bucket(l.id(key), now).tokens -= cost
}

// Wait is how long key must wait for one token.
func (l *Limiter) Wait(key string, now time.Time) time.Duration {
	return l.wait(l.id(key), now)
}

func (l *Limiter) wait(k id, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(k, now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(l.rate.Every))
}

func (l *Limiter) bucket(k id, now time.Time) *bucket {
	b := l.b[k]
	if b == nil {
		l.sweep(now)
		b = &bucket{tokens: float64(l.rate.Burst), at: now}
		l.b[k] = b
		return b
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(float64(l.rate.Burst), b.tokens+float64(d)/float64(l.rate.Every))
		b.at = now
	}
	if b.tokens >= float64(l.rate.Burst) {
		b.told = false
	}
	return b
}

// sweep drops full buckets once a minute, or at once when the map is full.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute && len(l.b) < l.max {
		return
	}
	l.swept = now
	for k, b := range l.b {
		if now.Sub(b.at) >= l.rate.full() && b.tokens >= 0 {
			delete(l.b, k)
		}
	}
	for k := range l.b {
		if len(l.b) < l.max {
			break
		}
		delete(l.b, k)
	}
}
